/**
 * The provider realizations behave like the providers' upstream code, checked
 * against real OpenSSL, a throwaway sshd on 127.0.0.1 and the local Docker engine with an image
 * imported from busybox-static. Nothing here depends on test/e2e; everything created is named with
 * one unique prefix and removed at the end.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import bcrypt from "bcryptjs";
import { copyToRemote } from "../../stand-ins/realizers/copy";
import { dockerApi, sshDialArgs } from "../../stand-ins/realizers/docker";
import type { FailContext, FailReport } from "./failCase";
import { runLocal } from "../../stand-ins/realizers/local";
import { Realizer, type HarnessOptions } from "../../stand-ins/realizers/realizer";
import { runRemote, type Connection } from "../../stand-ins/realizers/ssh";
import { freePort } from "../support/net";
import { cleanupDocker, importBusybox, PREFIX, startSshd, type Sshd } from "./testEnv";

const SOCKET = "/var/run/docker.sock";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "prh-test-"));
const IMAGE = `${PREFIX}/busybox:1`;
let sshd: Sshd;
let conn: Connection;
const logs: string[] = [];

/** The value of an Output (the resource must have been realized). */
function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** A fresh `pulumi up`: a Realizer whose mocks are installed. */
async function up(opts: HarnessOptions = {}): Promise<Realizer> {
    const realizer = new Realizer({ log: (m) => logs.push(m), commandTimeoutMs: 30_000, ...opts });
    await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
    return realizer;
}

const text = (f: string) => execFileSync("openssl", ["x509", "-in", f, "-noout", "-text"]).toString();
const write = (name: string, content: string) => {
    const f = path.join(scratch, name);
    fs.writeFileSync(f, content, { mode: 0o600 });
    return f;
};

let failReports: Map<string, FailReport>;

before(async () => {
    sshd = await startSshd(path.join(scratch, "sshd"));
    conn = { host: "127.0.0.1", port: sshd.port, privateKey: sshd.privateKey };
    importBusybox(IMAGE);
    // The failing cases run in a child process (see failCase.ts), started now and awaited later.
    const ctx: FailContext = { image: IMAGE, prefix: PREFIX, connection: { host: "127.0.0.1", port: sshd.port, privateKey: sshd.privateKey } };
    const ctxFile = write("fail-context.json", JSON.stringify(ctx));
    const cases = [
        "missing-image",
        "wait-without-healthcheck",
        "wait-timeout",
        "exited-immediately",
        "ca-without-subject",
        "password-min-rules",
        "nonzero-exit",
        "env-refused",
    ];
    // Its exit status is not looked at: the SDK reports the outputs a failed resource left pending.
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "failCase.ts"), ctxFile, ...cases], {
        encoding: "utf8",
        timeout: 120_000,
    });
    failReports = new Map(
        child.stdout
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as FailReport)
            .map((r) => [r.case, r]),
    );
});

after(() => {
    sshd?.stop();
    cleanupDocker(PREFIX);
    fs.rmSync(scratch, { recursive: true, force: true });
});

const failure = (name: string) => {
    const r = failReports.get(name);
    assert.ok(r, `case ${name} reported`);
    return r;
};

describe("tls (terraform-provider-tls 4.x) through the mocks", () => {
    it("writes each algorithm's PEM types, RSA 2048 by default, P224 by default for ECDSA with empty OpenSSH outputs, and secret private keys", async () => {
        const realizer = await up();
        const rsa = new tls.PrivateKey("rsa", { algorithm: "RSA" });
        const ec = new tls.PrivateKey("ec", { algorithm: "ECDSA", ecdsaCurve: "P256" });
        const p224 = new tls.PrivateKey("p224", { algorithm: "ECDSA" });
        const ed = new tls.PrivateKey("ed", { algorithm: "ED25519" });
        await realizer.settled(30_000);
        assert.match(await outputValue(rsa.privateKeyPem), /^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
        assert.match(await outputValue(ec.privateKeyPem), /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.match(await outputValue(ed.privateKeyPem), /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(await outputValue(rsa.privateKeyPemPkcs8), /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(await outputValue(rsa.publicKeyPem), /^-----BEGIN PUBLIC KEY-----\n/);
        assert.equal(crypto.createPrivateKey(await outputValue(rsa.privateKeyPem)).asymmetricKeyDetails?.modulusLength, 2048);
        // ECDSA defaults to P224, which SSH cannot express.
        assert.equal(crypto.createPrivateKey(await outputValue(p224.privateKeyPem)).asymmetricKeyDetails?.namedCurve, "secp224r1");
        assert.equal(await outputValue(p224.publicKeyOpenssh), "");
        assert.equal(await outputValue(p224.privateKeyOpenssh), "");
        assert.equal(await outputValue(p224.publicKeyFingerprintSha256), "");
        // authorized_keys form, no comment, trailing newline; the OpenSSH private key matches it.
        const pub = await outputValue(rsa.publicKeyOpenssh);
        assert.match(pub, /^ssh-rsa AAAA\S+\n$/);
        const keyFile = write("rsa_openssh", await outputValue(rsa.privateKeyOpenssh));
        assert.equal(execFileSync("ssh-keygen", ["-y", "-f", keyFile]).toString().trim(), pub.trim());
        assert.match(await outputValue(ed.publicKeyOpenssh), /^ssh-ed25519 AAAA\S+\n$/);
        assert.match(await outputValue(rsa.publicKeyFingerprintMd5), /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
        assert.match(await outputValue(rsa.publicKeyFingerprintSha256), /^SHA256:[A-Za-z0-9+/]{43}$/);
        // ID: hex SHA-1 of the PKIX DER public key.
        const spki = crypto.createPublicKey(await outputValue(rsa.publicKeyPem)).export({ type: "spki", format: "der" });
        assert.equal(await outputValue(rsa.id), crypto.createHash("sha1").update(spki).digest("hex"));
        for (const k of [rsa.privateKeyPem, rsa.privateKeyPemPkcs8, rsa.privateKeyOpenssh]) assert.equal(await pulumi.isSecret(k), true);
        assert.equal(await pulumi.isSecret(rsa.publicKeyPem), false);
        realizer.close();
    });

    it("issues a CA and a leaf: SANs from the CSR, AKID = the CA's SKID, critical basic constraints, the allowedUses mapping; openssl verifies", async () => {
        const realizer = await up();
        const caKey = new tls.PrivateKey("ca-key", { algorithm: "RSA", rsaBits: 2048 });
        const ca = new tls.SelfSignedCert("ca", {
            privateKeyPem: caKey.privateKeyPem,
            isCaCertificate: true,
            maxPathLength: 0,
            subject: { commonName: "Harness CA", organization: "PR" },
            validityPeriodHours: 2,
            allowedUses: ["cert_signing", "crl_signing"],
        });
        const key = new tls.PrivateKey("leaf-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
        const csr = new tls.CertRequest("csr", {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: "registry.test" },
            dnsNames: ["registry.test"],
            ipAddresses: ["10.1.2.3"],
        });
        const leaf = new tls.LocallySignedCert("leaf", {
            certRequestPem: csr.certRequestPem,
            caCertPem: ca.certPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            validityPeriodHours: 1,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        });
        const t0 = Date.now();
        await realizer.settled(30_000);
        const caFile = write("ca.pem", await outputValue(ca.certPem));
        const leafFile = write("leaf.pem", await outputValue(leaf.certPem));
        assert.match(execFileSync("openssl", ["verify", "-CAfile", caFile, leafFile]).toString(), /: OK/);
        const caText = text(caFile);
        const leafText = text(leafFile);
        assert.match(caText, /Basic Constraints: critical\s*\n\s+CA:TRUE\s*\n/, "maxPathLength 0 sets no pathlen");
        assert.match(caText, /Key Usage: critical\s*\n\s+Certificate Sign, CRL Sign/);
        assert.match(leafText, /Basic Constraints: critical\s*\n\s+CA:FALSE/);
        assert.match(leafText, /Key Usage: critical\s*\n\s+Digital Signature, Key Encipherment/);
        assert.match(leafText, /Extended Key Usage:\s*\n\s+TLS Web Server Authentication/);
        assert.match(leafText, /DNS:registry\.test, IP Address:10\.1\.2\.3/);
        assert.match(leafText, /Subject: CN ?= ?registry\.test/);
        assert.match(leafText, /Issuer: O ?= ?PR, CN ?= ?Harness CA/);
        const skid = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(caText)![1];
        assert.match(leafText, new RegExp(`Authority Key Identifier:\\s*\\n\\s*(keyid:)?${skid}`));
        assert.doesNotMatch(leafText, /Subject Key Identifier/, "no SKID on a leaf without setSubjectKeyId");
        // SKID per the provider: SHA-1 of the PKCS#1 RSAPublicKey.
        const pkcs1 = crypto.createPublicKey(await outputValue(caKey.publicKeyPem)).export({ type: "pkcs1", format: "der" });
        assert.equal(skid.replace(/:/g, "").toLowerCase(), crypto.createHash("sha1").update(pkcs1).digest("hex"));
        // Serial < 2^128 is the ID, validity from now, not ready for renewal, RFC 3339 times.
        const serial = BigInt(`0x${new crypto.X509Certificate(await outputValue(leaf.certPem)).serialNumber}`);
        assert.ok(serial < 2n ** 128n);
        assert.equal(await outputValue(leaf.id), serial.toString(10));
        const start = Date.parse(await outputValue(leaf.validityStartTime));
        assert.ok(start >= t0 - 1000 && start <= Date.now(), "NotBefore = now");
        assert.equal(Date.parse(await outputValue(leaf.validityEndTime)) - start, 3600_000);
        assert.equal(await outputValue(leaf.readyForRenewal), false);
        assert.equal(await outputValue(ca.keyAlgorithm), "RSA");
        assert.equal(await outputValue(leaf.caKeyAlgorithm), "RSA");
        assert.match(await outputValue(csr.certRequestPem), /^-----BEGIN CERTIFICATE REQUEST-----\n/);
        realizer.close();
    });

    it("refuses a CA without a subject with the provider's message", () => {
        assert.match(
            String(failure("ca-without-subject").error),
            /^failed to register new resource ca \[tls:index\/selfSignedCert:SelfSignedCert\]: Must contain at least one Distinguished Name when creating Certificate Authority \(CA\)$/,
        );
    });
});

describe("random (terraform-provider-random 3.9) through the mocks", () => {
    it("draws from the provider's alphabet, min* even from a disabled class, hashes $2a$10$, and keeps result and hash secret", async () => {
        const realizer = await up();
        const pw = new random.RandomPassword("pw", { length: 40 });
        const noSpecial = new random.RandomPassword("pw-min", { length: 12, special: false, minSpecial: 2, upper: false, numeric: false });
        const override = new random.RandomPassword("pw-override", {
            length: 64,
            overrideSpecial: "-_",
            minUpper: 1,
            minLower: 1,
            minNumeric: 1,
            minSpecial: 1,
        });
        await realizer.settled(30_000);
        assert.match(await outputValue(pw.result), /^[A-Za-z0-9!@#$%&*()\-_=+[\]{}<>:?]{40}$/);
        const min = await outputValue(noSpecial.result);
        assert.match(min, /^[a-z!@#$%&*()\-_=+[\]{}<>:?]{12}$/);
        assert.equal([...min].filter((c) => "!@#$%&*()-_=+[]{}<>:?".includes(c)).length, 2);
        const o = await outputValue(override.result);
        assert.match(o, /^[A-Za-z0-9_-]{64}$/);
        assert.match(o, /[A-Z]/);
        assert.match(o, /[-_]/);
        const hash = await outputValue(pw.bcryptHash);
        assert.match(hash, /^\$2a\$10\$/);
        assert.ok(bcrypt.compareSync(await outputValue(pw.result), hash));
        assert.equal(await pulumi.isSecret(pw.result), true);
        assert.equal(await pulumi.isSecret(pw.bcryptHash), true);
        assert.equal(await outputValue(pw.id), "none");
        realizer.close();
    });

    it("fails length < sum(min*) with the provider's check", () => {
        assert.match(
            String(failure("password-min-rules").error),
            /failed to register new resource pw \[random:index\/randomPassword:RandomPassword\]: length \(3\) must be >= minUpper \+ minLower \+ minNumeric \+ minSpecial/,
        );
    });
});

describe("command.remote.Command (pulumi-command 1.2.1) against a throwaway sshd", () => {
    it("strips exactly one trailing newline, keeps stdout and stderr apart, passes stdin, runs without a PTY, sends LANG; connection is secret", async () => {
        const realizer = await up();
        const out = new command.remote.Command("out", { connection: conn, create: "printf 'a\\n\\n'; printf 'e\\r\\n' >&2", triggers: ["t1"] });
        const stdin = new command.remote.Command("stdin", { connection: conn, create: "cat", stdin: pulumi.secret("in\n") });
        const eof = new command.remote.Command("eof", { connection: conn, create: "cat; echo done" });
        const tty = new command.remote.Command("tty", { connection: conn, create: "tty || true" });
        const lang = new command.remote.Command("lang", { connection: conn, create: "echo $LANG", environment: { LANG: "C.UTF-8" } });
        await realizer.settled(30_000);
        assert.equal(await outputValue(out.stdout), "a\n", "one of two newlines stripped");
        assert.equal(await outputValue(out.stderr), "e\r", "\\r\\n keeps its \\r");
        assert.deepEqual(await outputValue(out.triggers), ["t1"]);
        assert.equal(await outputValue(stdin.stdout), "in");
        assert.equal(await outputValue(eof.stdout), "done", "no stdin: EOF at once");
        assert.equal(await outputValue(tty.stdout), "not a tty");
        assert.equal(await outputValue(lang.stdout), "C.UTF-8", "LANG is in Debian's AcceptEnv");
        assert.equal(await pulumi.isSecret(out.connection), true);
        assert.equal(await pulumi.isSecret(out.stdout), false);
        assert.equal(await pulumi.isSecret(stdin.stdin), true, "a secret input is echoed as a secret");
        assert.equal(await outputValue(stdin.stdin), "in\n");
        const rec = realizer.records.find((r) => r.name === "out")!;
        assert.match(rec.id, /^out[0-9a-f]{8}$/);
        assert.equal(rec.inputs.connection.port, sshd.port);
        assert.equal(rec.inputs.connection.user, "root", "the SDK's connection defaults");
        assert.equal(rec.inputs.connection.dialErrorLimit, 10);
        realizer.close();
    });

    it("fails a non-zero exit with the provider's text (command and combined output) and an env var outside AcceptEnv before running anything", async () => {
        assert.equal(
            failure("nonzero-exit").error,
            'failed to register new resource fails [command:remote:Command]: Process exited with status 3: running "echo out; echo err >&2; exit 3":\nout\nerr\n',
        );
        assert.deepEqual(failure("nonzero-exit").records, [], "a failed create is not in state");
        assert.match(String(failure("env-refused").error), /: could not set environment variable "FOO": ssh: setenv failed$/);
        // The same through the runner directly, with want-reply setenv (sshd says no to FOO, yes to LC_ALL).
        await assert.rejects(runRemote(conn, "true", { environment: { FOO: "x" } }), /^Error: could not set environment variable "FOO": ssh: setenv failed$/);
        assert.equal((await runRemote(conn, "echo $LC_ALL", { environment: { LC_ALL: "C" } })).stdout, "C");
        await assert.rejects(runRemote(conn, "kill -TERM $$"), /^Error: Process exited with status 143 from signal TERM: running "kill -TERM \$\$":\n$/);
    });

    it("dials like the provider: retries dialErrorLimit times, Go's error wording, auth failures retried, hostKey pinned", async () => {
        const closed = await freePort();
        const t0 = Date.now();
        await assert.rejects(
            runRemote({ ...conn, port: closed, dialErrorLimit: 2 }, "true"),
            new RegExp(`^Error: after 2 failed attempts: dial tcp 127\\.0\\.0\\.1:${closed}: connect: connection refused$`),
        );
        assert.ok(Date.now() - t0 >= 250, "100 ms then 150 ms between the three dials");
        const otherRsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        await assert.rejects(
            runRemote({ ...conn, privateKey: otherRsa, dialErrorLimit: 0 }, "true"),
            /^Error: after 0 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods \[none publickey\], no supported methods remain$/,
        );
        assert.equal((await runRemote({ ...conn, hostKey: sshd.hostKey }, "echo pinned")).stdout, "pinned");
        const wrongHost = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), crypto.randomBytes(32)]).toString("base64")}`;
        await assert.rejects(runRemote({ ...conn, hostKey: wrongHost, dialErrorLimit: 0 }, "true"), /ssh: handshake failed: ssh: host key mismatch/);
        await assert.rejects(
            runRemote({ ...conn, agentSocketPath: path.join(scratch, "no-agent.sock") }, "true"),
            /^Error: dial unix .*no-agent\.sock: connect: no such file or directory$/,
        );
    });

    it("runs the stored delete on destroy with the old connection, stored stdin, and PULUMI_COMMAND_STDOUT (refused by AcceptEnv: a warning)", async () => {
        const marker = path.join(scratch, "deleted.txt");
        const realizer = await up();
        new command.remote.Command("with-delete", {
            connection: conn,
            create: "echo created",
            delete: `cat > ${marker}; echo "[$PULUMI_COMMAND_STDOUT]" >> ${marker}`,
            stdin: "from stdin\n",
        });
        await realizer.settled(30_000);
        assert.equal(fs.existsSync(marker), false);
        logs.length = 0;
        await realizer.destroy();
        assert.equal(fs.readFileSync(marker, "utf8"), "from stdin\n[]\n", "stdin re-sent; PULUMI_COMMAND_STDOUT refused by sshd");
        assert.ok(logs.some((l) => /warning: Unable to set 'PULUMI_COMMAND_STDOUT'/.test(l)));
    });
});

describe("command.remote.CopyToRemote (1.2.1) over SFTP", () => {
    it("follows the path table, creates parents, ignores the local mode, keeps an existing file's mode, and deletes nothing on destroy", async () => {
        const local = path.join(scratch, "tree");
        fs.mkdirSync(path.join(local, "sub"), { recursive: true });
        fs.writeFileSync(path.join(local, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
        fs.writeFileSync(path.join(local, "sub", "b.txt"), "b");
        const r = path.join(scratch, "remote");
        fs.mkdirSync(path.join(r, "existing-dir"), { recursive: true });
        fs.writeFileSync(path.join(r, "existing-file"), "old", { mode: 0o600 });
        const realizer = await up();
        const connection = conn;
        new command.remote.CopyToRemote("text", { connection, source: new pulumi.asset.StringAsset("hello"), remotePath: `${r}/a/b/text.txt` });
        new command.remote.CopyToRemote("file-into-dir", {
            connection,
            source: new pulumi.asset.FileAsset(path.join(local, "run.sh")),
            remotePath: `${r}/existing-dir`,
        });
        new command.remote.CopyToRemote("file-new", {
            connection,
            source: new pulumi.asset.FileAsset(path.join(local, "run.sh")),
            remotePath: `${r}/x/y/renamed.sh`,
        });
        new command.remote.CopyToRemote("file-over-file", { connection, source: new pulumi.asset.StringAsset("new"), remotePath: `${r}/existing-file` });
        new command.remote.CopyToRemote("dir", { connection, source: new pulumi.asset.FileArchive(local), remotePath: `${r}/d1` });
        new command.remote.CopyToRemote("dir-slash", { connection, source: new pulumi.asset.FileArchive(`${local}/`), remotePath: `${r}/d2` });
        const copied = new command.remote.CopyToRemote("into-existing", {
            connection,
            source: new pulumi.asset.FileArchive(local),
            remotePath: `${r}/existing-dir`,
        });
        await realizer.settled(30_000);
        const mode = (p: string) => (fs.statSync(path.join(r, p)).mode & 0o777).toString(8);
        assert.equal(fs.readFileSync(path.join(r, "a/b/text.txt"), "utf8"), "hello");
        assert.equal(mode("a/b/text.txt"), "644");
        assert.equal(mode("existing-dir/run.sh"), "644", "the executable bit is not preserved");
        assert.equal(mode("x/y/renamed.sh"), "644");
        assert.equal(fs.readFileSync(path.join(r, "existing-file"), "utf8"), "new");
        assert.equal(mode("existing-file"), "600", "an existing file keeps its mode");
        assert.equal(fs.readFileSync(path.join(r, "d1/tree/sub/b.txt"), "utf8"), "b", "dir without slash: dest/<dirname>/…");
        assert.equal(fs.readFileSync(path.join(r, "d2/sub/b.txt"), "utf8"), "b", "dir/: dest/<children>");
        assert.equal(fs.readFileSync(path.join(r, "existing-dir/tree/run.sh"), "utf8"), "#!/bin/sh\n");
        assert.equal(await pulumi.isSecret(copied.connection), true);
        assert.match(realizer.records.find((x) => x.name === "text")!.id, /^[0-9a-f]{8}$/);
        await realizer.destroy();
        assert.equal(fs.readFileSync(path.join(r, "a/b/text.txt"), "utf8"), "hello", "destroy leaves copied files");
    });

    it("refuses a text asset onto a directory, a directory onto a file, and sources v1.2.1 does not take", async () => {
        const r = path.join(scratch, "remote");
        await assert.rejects(
            copyToRemote(conn, new pulumi.asset.StringAsset("x"), r),
            new RegExp(`^Error: remote path ${r} is a directory; when using a text asset, remotePath must be a file path$`),
        );
        await assert.rejects(
            copyToRemote(conn, new pulumi.asset.FileArchive(`${path.join(scratch, "tree")}/`), `${r}/existing-file`),
            new RegExp(`remote path ${r}/existing-file exists but is not a directory`),
        );
        await assert.rejects(
            copyToRemote(conn, new pulumi.asset.FileArchive(path.join(scratch, "tree")), `${r}/existing-file`),
            /failed to create remote directory .*existing-file\/tree: sftp: /,
        );
        await assert.rejects(
            copyToRemote(conn, new pulumi.asset.AssetArchive({ a: new pulumi.asset.StringAsset("a") }), "/tmp/x"),
            /^Error: archive must be a path to a file or directory$/,
        );
        await assert.rejects(
            copyToRemote(conn, new pulumi.asset.RemoteAsset("http://127.0.0.1:1/x"), "/tmp/x"),
            /^Error: asset must be a path-based file asset or a text asset$/,
        );
    });
});

describe("command.local.Command (1.2.1)", () => {
    it("runs /bin/sh -c with the inherited environment plus its own, in dir, stdin, one newline stripped, the provider's error text", async () => {
        process.env.PRH_INHERITED = "yes";
        const r = await runLocal('printf "%s %s %s\\n\\n" "$PRH_INHERITED" "$OWN" "$(pwd)"; cat', { environment: { OWN: "own" }, dir: scratch, stdin: "in" });
        assert.equal(r.stdout, `yes own ${fs.realpathSync(scratch)}\n\nin`);
        await assert.rejects(runLocal("echo oops; exit 4"), /^Error: exit status 4: running "echo oops; exit 4":\noops\n$/);
    });
});

describe("docker (terraform-provider-docker 4.x) on the local engine", () => {
    it("a Container with uploads, a healthcheck and wait on its own network and volume really runs; destroy removes what it created", async () => {
        const hostPort = await freePort();
        const realizer = await up({ retain: (r) => r.name === `${PREFIX}-kept` });
        const base = new docker.RemoteImage("base", { name: IMAGE, keepLocally: true });
        execFileSync("docker", ["tag", IMAGE, `${PREFIX}/busybox:throwaway`]);
        const throwaway = new docker.RemoteImage("throwaway", { name: `${PREFIX}/busybox:throwaway` });
        const net = new docker.Network(`${PREFIX}-net`, { ipamConfigs: [{ subnet: "10.231.199.0/24", gateway: "10.231.199.1" }] });
        const vol = new docker.Volume(`${PREFIX}-vol`, {});
        const kept = new docker.Volume(`${PREFIX}-kept`, {});
        const c = new docker.Container(`${PREFIX}-web`, {
            image: base.imageId,
            entrypoints: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"],
            uploads: [
                { file: "/www/index.html", content: "hello from the harness\n" },
                { file: "/etc/x/secret.txt", contentBase64: Buffer.from("s3cr3t").toString("base64"), permissions: "0600" },
                { file: "/usr/local/bin/tool", content: "#!/bin/sh\necho tool\n", executable: true },
            ],
            healthcheck: { tests: ["CMD", "/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], interval: "1s", timeout: "2s", retries: 3 },
            wait: true,
            waitTimeout: 30,
            ports: [{ internal: 8080, external: hostPort, ip: "127.0.0.1" }],
            networksAdvanced: [{ name: net.name, ipv4Address: "10.231.199.10", aliases: ["web"] }],
            volumes: [
                { volumeName: vol.name, containerPath: "/data" },
                { volumeName: kept.name, containerPath: "/kept", readOnly: true },
            ],
            envs: ["A=1", "A=1", "B=2"],
            labels: [{ label: "prh", value: "1" }],
            restart: "on-failure",
            maxRetryCount: 2,
        });
        void throwaway;
        await realizer.settled(90_000);
        const name = await outputValue(c.name);
        assert.match(name, new RegExp(`^${PREFIX}-web-[0-9a-f]{7}$`), "autonamed <logical>-<7 hex>");
        assert.match(await outputValue(net.name), new RegExp(`^${PREFIX}-net-[0-9a-f]{7}$`));
        assert.match(await outputValue(c.id), /^[0-9a-f]{64}$/);
        const body = await new Promise<string>((resolve, reject) =>
            http
                .get({ host: "127.0.0.1", port: hostPort, path: "/" }, (res) => {
                    let b = "";
                    res.on("data", (d) => (b += d));
                    res.on("end", () => resolve(b));
                })
                .on("error", reject),
        );
        assert.equal(body, "hello from the harness\n");
        const ls = execFileSync("docker", ["exec", name, "ls", "-ln", "/etc/x/secret.txt", "/usr/local/bin/tool", "/www/index.html"]).toString();
        assert.match(ls, /^-rw------- +1 0 +0 .* \/etc\/x\/secret\.txt$/m);
        assert.match(ls, /^-rwxr--r-- +1 0 +0 .* \/usr\/local\/bin\/tool$/m, "executable: 0744");
        assert.match(ls, /^-rw-r--r-- +1 0 +0 .* \/www\/index\.html$/m);
        const info = await dockerApi(SOCKET, "GET", `/containers/${name}/json`);
        assert.equal(info.State.Health.Status, "healthy");
        assert.deepEqual(info.Config.Env.filter((e: string) => /^[AB]=/.test(e)).sort(), ["A=1", "B=2"], "envs is a set");
        assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [await outputValue(net.name)], "left bridge for networksAdvanced");
        const datas = await outputValue(c.networkDatas);
        assert.equal(datas![0].ipAddress, "10.231.199.10");
        assert.deepEqual((await outputValue(c.ports))![0], { internal: 8080, external: hostPort, ip: "127.0.0.1", protocol: "tcp" });
        assert.equal((await outputValue(c.healthcheck))!.interval, "1s");
        assert.equal(await outputValue(c.restart), "on-failure");
        assert.equal(await outputValue(c.mustRun), true);
        assert.equal(await outputValue(base.repoDigest), "", "an imported image has no repo digest");
        assert.equal(await outputValue(base.id), `${await outputValue(base.imageId)}${IMAGE}`);
        const recs = realizer.records.map((r) => r.name);
        assert.ok(recs.indexOf(`${PREFIX}-web`) > recs.indexOf(`${PREFIX}-net`), "created after its dependencies");

        await realizer.destroy();
        await assert.rejects(dockerApi(SOCKET, "GET", `/containers/${name}/json`), /No such container/);
        await assert.rejects(dockerApi(SOCKET, "GET", `/networks/${await outputValue(net.name)}`), /not found/);
        await assert.rejects(dockerApi(SOCKET, "GET", `/volumes/${await outputValue(vol.name)}`), /no such volume/);
        await dockerApi(SOCKET, "GET", `/volumes/${await outputValue(kept.name)}`); // retained
        await assert.rejects(
            dockerApi(SOCKET, "GET", `/images/${encodeURIComponent(`${PREFIX}/busybox:throwaway`)}/json`),
            /No such image/,
            "keepLocally unset: untagged",
        );
        await dockerApi(SOCKET, "GET", `/images/${encodeURIComponent(IMAGE)}/json`); // keepLocally
    });

    it("fails like the provider: wait without a healthcheck, wait timeout, a container that exits at once, a missing image (promptly, no pull)", async () => {
        const noHc = failure("wait-without-healthcheck");
        assert.match(
            String(noHc.error),
            /\[docker:index\/container:Container\]: you have supplied a 'wait' argument, but the container does not have a healthcheck defined$/,
        );
        assert.deepEqual(noHc.records, ["nohc"], "the created container stays in state (partial) ...");
        assert.equal(noHc.destroyError, null, "... and destroy removes it");
        await assert.rejects(dockerApi(SOCKET, "GET", `/containers/${PREFIX}-nohc/json`), /No such container/);
        const timeout = failure("wait-timeout");
        assert.match(String(timeout.error), /: container failed to be in healthy state$/);
        assert.ok(timeout.ms >= 3000 && timeout.ms < 15_000, `unhealthy keeps polling until waitTimeout (${timeout.ms} ms)`);
        assert.match(String(failure("exited-immediately").error), /: container exited immediately$/);
        await assert.rejects(dockerApi(SOCKET, "GET", `/containers/${PREFIX}-exits/json`), /No such container/, "the provider deletes it");
        const missing = failure("missing-image");
        assert.match(
            String(missing.error),
            /\[docker:index\/remoteImage:RemoteImage\]: Unable to read Docker image into resource: unable to pull image private-registry-test\/does-not-exist:1: error pulling image/,
        );
        assert.ok(missing.ms < 5000, `reported in ${missing.ms} ms`);
    });

    it("reaches an ssh:// host through `ssh … docker system dial-stdio` with docker/cli's argv", async () => {
        assert.deepEqual(sshDialArgs("ssh://me@h:2222", ["-i", "k"]), [
            "-i",
            "k",
            "-o ConnectTimeout=30",
            "-T",
            "-l",
            "me",
            "-p",
            "2222",
            "--",
            "h",
            "docker",
            "system",
            "dial-stdio",
        ]);
        assert.deepEqual(sshDialArgs("ssh://h/run/d.sock", ["-o", "ConnectTimeout=5", "-T"]), [
            "-o",
            "ConnectTimeout=5",
            "-T",
            "--",
            "h",
            "docker",
            "--host=unix:///run/d.sock",
            "system",
            "dial-stdio",
        ]);
        const realizer = await up();
        const remote = new docker.Provider("remote", {
            host: `ssh://root@127.0.0.1:${sshd.port}`,
            sshOpts: ["-i", sshd.keyFile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
        });
        const v = new docker.Volume(`${PREFIX}-over-ssh`, { name: `${PREFIX}-over-ssh` }, { provider: remote });
        await realizer.settled(60_000);
        assert.equal(await outputValue(v.name), `${PREFIX}-over-ssh`);
        const rec = realizer.records.find((r) => r.name === `${PREFIX}-over-ssh`)!;
        assert.equal(rec.docker?.kind, "ssh");
        assert.match(rec.provider, /::pulumi:providers:docker::remote::[0-9a-f-]{36}$/);
        await dockerApi(SOCKET, "GET", `/volumes/${PREFIX}-over-ssh`); // this machine is the "remote" host
        await realizer.destroy();
        await assert.rejects(dockerApi(SOCKET, "GET", `/volumes/${PREFIX}-over-ssh`), /no such volume/);
    });
});
