/**
 * The realization mocks behave like the providers (shared/reference/provider-fidelity.md): the
 * claims the end-to-end suite relies on, checked against real OpenSSL, sshd and Docker.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import bcrypt from "bcryptjs";
import { createString, DEFAULT_SPECIAL, randomPassword } from "../../scripts/offline/random";
import { certRequest, locallySignedCert, privateKey, selfSignedCert } from "../../scripts/offline/tls";
import { REGISTRY_IMAGE, startInfra, stopInfra, type TestInfra } from "../e2e/infra/hosts";
import * as command from "@pulumi/command";
import { copyToRemote } from "./copy";
import { dockerApi } from "./docker";
import { runLocal } from "./local";
import { Realizer } from "./realizer";
import { runRemote } from "./ssh";

const SOCKET = "/var/run/docker.sock";

/** Runs test/harness/failCase.ts in its own process. */
function failCase(which: string): { error: string | null; ms: number } {
    const out = execFileSync(process.execPath, ["--import", "tsx", path.join(__dirname, "failCase.ts"), which], { encoding: "utf8", timeout: 120_000 });
    return JSON.parse(out.trim().split("\n").pop()!);
}
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pr-harness-"));
let infra: TestInfra;
const conn = () => ({ host: infra.hosts[0].ip, privateKey: infra.sshKey.privateKeyPem });

before(async () => {
    infra = await startInfra(1);
});
after(() => {
    stopInfra();
    fs.rmSync(scratch, { recursive: true, force: true });
    for (const n of ["pr-harness-c1", "pr-harness-c2"]) {
        try {
            execFileSync("docker", ["rm", "-f", n], { stdio: "ignore" });
        } catch {
            /* gone */
        }
    }
});

describe("random (terraform-provider-random 3.9)", () => {
    it("draws min* characters even from a disabled class, from the provider's default specials", () => {
        for (let i = 0; i < 20; i++) {
            const s = createString({ length: 12, special: false, minSpecial: 2, upper: false, numeric: false });
            assert.equal([...s].filter((c) => DEFAULT_SPECIAL.includes(c)).length, 2);
            assert.match(s, /^[a-z!@#$%&*()\-_=+[\]{}<>:?]{12}$/);
        }
        const safe = createString({ length: 64, overrideSpecial: "-_", minUpper: 1, minLower: 1, minNumeric: 1 });
        assert.match(safe, /^[A-Za-z0-9_-]{64}$/);
        assert.throws(() => createString({ length: 3, minUpper: 2, minLower: 2 }), /must be >= minUpper/);
    });

    it("hashes with the $2a$10$ prefix of Go's bcrypt, and marks result and hash secret", () => {
        const r = randomPassword({ length: 20, special: false });
        assert.match(String(r.outputs.bcryptHash), /^\$2a\$10\$/);
        assert.ok(bcrypt.compareSync(String(r.outputs.result), String(r.outputs.bcryptHash)));
        assert.deepEqual(r.secretOutputs.sort(), ["bcryptHash", "result"]);
        assert.equal(r.id, "none");
    });
});

describe("tls (terraform-provider-tls 4.x)", () => {
    it("writes the provider's PEM types and leaves the OpenSSH outputs empty for P224", () => {
        assert.match(String(privateKey({ algorithm: "RSA" }).outputs.privateKeyPem), /^-----BEGIN RSA PRIVATE KEY-----\n/);
        assert.match(String(privateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" }).outputs.privateKeyPem), /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.match(String(privateKey({ algorithm: "ED25519" }).outputs.privateKeyPem), /^-----BEGIN PRIVATE KEY-----\n/);
        const p224 = privateKey({ algorithm: "ECDSA" });
        assert.equal(p224.outputs.ecdsaCurve, "P224", "the provider's default curve");
        assert.equal(p224.outputs.publicKeyOpenssh, "");
        assert.equal(p224.outputs.privateKeyOpenssh, "");
        const rsa = privateKey({ algorithm: "RSA", rsaBits: 2048 });
        const f = path.join(scratch, "k");
        fs.writeFileSync(f, String(rsa.outputs.privateKeyOpenssh), { mode: 0o600 });
        assert.equal(execFileSync("ssh-keygen", ["-y", "-f", f]).toString().trim(), String(rsa.outputs.publicKeyOpenssh).trim());
        assert.match(String(rsa.outputs.publicKeyOpenssh), /^ssh-rsa AAAA\S+\n$/);
    });

    it("refuses a CA without a subject with the provider's message", async () => {
        const k = privateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        await assert.rejects(
            selfSignedCert({ privateKeyPem: k.outputs.privateKeyPem, isCaCertificate: true, validityPeriodHours: 1, allowedUses: ["cert_signing"] }),
            /Must contain at least one Distinguished Name when creating Certificate Authority \(CA\)/,
        );
    });

    it("copies SANs from the CSR, sets AKID to the CA's SKID, and verifies with openssl", async () => {
        const caKey = privateKey({ algorithm: "RSA", rsaBits: 2048 });
        const ca = await selfSignedCert({ privateKeyPem: caKey.outputs.privateKeyPem, isCaCertificate: true, subject: { commonName: "CA" }, validityPeriodHours: 2, allowedUses: ["cert_signing"] });
        const k = privateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        const csr = await certRequest({ privateKeyPem: k.outputs.privateKeyPem, subject: { commonName: "r" }, dnsNames: ["r.test"], ipAddresses: ["10.1.2.3"] });
        const leaf = await locallySignedCert({ certRequestPem: csr.outputs.certRequestPem, caCertPem: ca.outputs.certPem, caPrivateKeyPem: caKey.outputs.privateKeyPem, validityPeriodHours: 1, allowedUses: ["server_auth"] });
        fs.writeFileSync(path.join(scratch, "ca.pem"), String(ca.outputs.certPem));
        fs.writeFileSync(path.join(scratch, "leaf.pem"), String(leaf.outputs.certPem));
        assert.match(execFileSync("openssl", ["verify", "-CAfile", path.join(scratch, "ca.pem"), path.join(scratch, "leaf.pem")]).toString(), /OK/);
        const text = (f: string) => execFileSync("openssl", ["x509", "-in", path.join(scratch, f), "-noout", "-text"]).toString();
        assert.match(text("leaf.pem"), /DNS:r\.test, IP Address:10\.1\.2\.3/);
        const skid = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text("ca.pem"))![1];
        assert.match(text("leaf.pem"), new RegExp(`Authority Key Identifier:\\s*\\n\\s*(keyid:)?${skid}`));
        const otherKey = privateKey({ algorithm: "RSA", rsaBits: 2048 });
        await assert.rejects(
            locallySignedCert({ certRequestPem: csr.outputs.certRequestPem, caCertPem: ca.outputs.certPem, caPrivateKeyPem: otherKey.outputs.privateKeyPem, validityPeriodHours: 1, allowedUses: [] }),
            /doesn't match parent's PublicKey/,
        );
    });
});

describe("command.remote.Command (pulumi-command 1.2.1) over real SSH", () => {
    it("strips exactly one trailing newline from stdout and stderr, and passes stdin", async () => {
        const r = await runRemote(conn(), "printf 'a\\n\\n'; printf 'e\\r\\n' >&2");
        assert.equal(r.stdout, "a\n", "one of two newlines stripped");
        assert.equal(r.stderr, "e\r", "\\r\\n keeps its \\r");
        assert.equal((await runRemote(conn(), "cat", { stdin: "in\n" })).stdout, "in");
        const noStdin = await runRemote(conn(), "cat; echo done");
        assert.equal(noStdin.stdout, "done", "no stdin: EOF at once");
    });

    it("fails a non-zero exit with the provider's text, including the command and its output", async () => {
        await assert.rejects(runRemote(conn(), "echo out; echo err >&2; exit 3"), (e: Error) => {
            assert.match(e.message, /^Process exited with status 3: running "echo out; echo err >&2; exit 3":\n/);
            assert.match(e.message, /out\n/);
            assert.match(e.message, /err\n/);
            return true;
        });
    });

    it("runs without a PTY", async () => {
        const r = await runRemote(conn(), "tty || true");
        assert.equal(r.stdout, "not a tty");
    });

    it("fails on an environment variable sshd's AcceptEnv refuses, as the provider does; LANG is accepted", async () => {
        const acceptEnv = execFileSync("docker", ["exec", infra.hosts[0].container, "sshd", "-T"]).toString();
        assert.match(acceptEnv, /^acceptenv LANG$/m, "Debian's default AcceptEnv LANG LC_*");
        assert.equal((await runRemote(conn(), "echo $LANG", { environment: { LANG: "C.UTF-8" } })).stdout, "C.UTF-8");
        await assert.rejects(runRemote(conn(), "true", { environment: { FOO: "bar" } }), /could not set environment variable "FOO": ssh: setenv failed/);
    });

    it("gives up dialling after dialErrorLimit attempts with the provider's message", async () => {
        await assert.rejects(
            runRemote({ ...conn(), privateKey: String(privateKey({ algorithm: "RSA", rsaBits: 2048 }).outputs.privateKeyPem), dialErrorLimit: 1 }, "true"),
            /^Error: after 1 failed attempts: All configured authentication methods failed/,
        );
    });
});

describe("docker (terraform-provider-docker 4.x) on the local engine", () => {
    it("uploads before start with the given mode, waits for health, and errors like the provider without a healthcheck", async () => {
        const realizer = new Realizer();
        await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
        new docker.Container("c1", {
            name: "pr-harness-c1",
            image: REGISTRY_IMAGE,
            entrypoints: ["/bin/sh", "-c", "touch /tmp/ready; exec sleep 60"],
            uploads: [{ file: "/etc/x/secret.txt", content: "s3cr3t", permissions: "0600" }],
            healthcheck: { tests: ["CMD", "cat", "/tmp/ready"], interval: "1s", retries: 3 },
            wait: true,
            waitTimeout: 20,
        });
        await realizer.settled(60_000);
        const ls = execFileSync("docker", ["exec", "pr-harness-c1", "ls", "-l", "/etc/x/secret.txt"]).toString();
        assert.match(ls, /^-rw------- /);
        assert.equal(execFileSync("docker", ["exec", "pr-harness-c1", "cat", "/etc/x/secret.txt"]).toString(), "s3cr3t");
        await realizer.destroy();
        assert.throws(() => execFileSync("docker", ["inspect", "pr-harness-c1"], { stdio: "ignore" }), "destroy removed the container");

        const noHc = failCase("wait-without-healthcheck");
        assert.match(String(noHc.error), /you have supplied a 'wait' argument, but the container does not have a healthcheck defined/);
    });

    it("fails promptly on an image that is not local and cannot be pulled, with the provider's error", async () => {
        const r = failCase("missing-image");
        assert.match(String(r.error), /Unable to read Docker image into resource: unable to pull image private-registry-test\/does-not-exist:1/);
        assert.ok(r.ms < 10_000, `reported in ${r.ms} ms`);
        await dockerApi(SOCKET, "GET", "/_ping");
    });
});

describe("command.remote.CopyToRemote (1.2.1) over SFTP", () => {
    it("follows the provider's path table, creates parents, never preserves the local mode, and deletes nothing", async () => {
        const local = path.join(scratch, "tree");
        fs.mkdirSync(path.join(local, "sub"), { recursive: true });
        fs.writeFileSync(path.join(local, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
        fs.writeFileSync(path.join(local, "sub", "b.txt"), "b");
        const realizer = new Realizer();
        await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
        const connection = conn();
        new command.remote.CopyToRemote("text", { connection, source: new pulumi.asset.StringAsset("hello"), remotePath: "/srv/a/b/text.txt" });
        new command.remote.CopyToRemote("file-into-dir", { connection, source: new pulumi.asset.FileAsset(path.join(local, "run.sh")), remotePath: "/tmp" });
        new command.remote.CopyToRemote("dir", { connection, source: new pulumi.asset.FileArchive(local), remotePath: "/srv/d1" });
        new command.remote.CopyToRemote("dir-slash", { connection, source: new pulumi.asset.FileArchive(`${local}/`), remotePath: "/srv/d2" });
        await realizer.settled(60_000);
        const ls = await runRemote(connection, "stat -c '%a %n' /srv/a/b/text.txt /tmp/run.sh /srv/d1/tree/run.sh /srv/d1/tree/sub/b.txt /srv/d2/run.sh /srv/d2/sub/b.txt; cat /srv/a/b/text.txt");
        assert.equal(
            ls.stdout,
            ["644 /srv/a/b/text.txt", "644 /tmp/run.sh", "644 /srv/d1/tree/run.sh", "644 /srv/d1/tree/sub/b.txt", "644 /srv/d2/run.sh", "644 /srv/d2/sub/b.txt", "hello"].join("\n"),
        );
        await realizer.destroy();
        assert.equal((await runRemote(connection, "cat /srv/a/b/text.txt")).stdout, "hello", "destroy leaves copied files in place");
    });

    it("refuses a text asset onto a directory, a directory onto a file, and asset archives", async () => {
        await assert.rejects(copyToRemote(conn(), new pulumi.asset.StringAsset("x"), "/tmp", () => undefined), /is a directory/);
        await assert.rejects(copyToRemote(conn(), new pulumi.asset.FileArchive(scratch), "/srv/a/b/text.txt", () => undefined), /is a file/);
        await assert.rejects(
            copyToRemote(conn(), new pulumi.asset.AssetArchive({ a: new pulumi.asset.StringAsset("a") }), "/tmp/x", () => undefined),
            /archive must be a path to a file or directory/,
        );
        await assert.rejects(copyToRemote(conn(), new pulumi.asset.RemoteAsset("http://127.0.0.1/x"), "/tmp/x", () => undefined), /asset must be a path-based file asset or a text asset/);
    });
});

describe("command.local.Command (1.2.1)", () => {
    it("runs /bin/sh -c with the inherited environment plus its own, in dir, stripping one newline", async () => {
        process.env.PR_HARNESS_INHERITED = "yes";
        const r = await runLocal('printf "%s %s %s\\n\\n" "$PR_HARNESS_INHERITED" "$OWN" "$(pwd)"; cat', { environment: { OWN: "own" }, dir: scratch, stdin: "in" });
        assert.equal(r.stdout, `yes own ${fs.realpathSync(scratch)}\n\nin`);
        await assert.rejects(runLocal("echo oops; exit 4"), /^Error: exit status 4: running "echo oops; exit 4":\noops\n$/);
    });

    it("runs create through the realizer and delete on destroy with PULUMI_COMMAND_STDOUT", async () => {
        const marker = path.join(scratch, "deleted");
        const realizer = new Realizer();
        await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
        const c = new command.local.Command("local", { create: "echo created", delete: `printf '%s' "$PULUMI_COMMAND_STDOUT" > ${marker}` });
        await realizer.settled(30_000);
        assert.equal(realizer.records.find((r) => r.name === "local")!.outputs.stdout, "created");
        void c;
        await realizer.destroy();
        assert.equal(fs.readFileSync(marker, "utf8"), "created");
    });
});

describe("docker.Network", () => {
    it("creates a bridge network with its subnet and removes it on destroy", async () => {
        const realizer = new Realizer();
        await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
        new docker.Network("net", { name: "pr-harness-net", ipamConfigs: [{ subnet: "10.231.78.0/24", gateway: "10.231.78.1" }] });
        await realizer.settled(30_000);
        const info = await dockerApi(SOCKET, "GET", "/networks/pr-harness-net");
        assert.equal(info.IPAM.Config[0].Subnet, "10.231.78.0/24");
        await realizer.destroy();
        await assert.rejects(dockerApi(SOCKET, "GET", "/networks/pr-harness-net"), /not found/);
    });
});

describe("docker.Provider with an ssh:// host", () => {
    it("reaches the remote engine through `ssh … docker system dial-stdio`, with sshOpts as the provider passes them", async () => {
        const keyFile = path.join(scratch, "id_rsa");
        fs.writeFileSync(keyFile, infra.sshKey.privateKeyPem, { mode: 0o600 });
        const realizer = new Realizer();
        await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
        const remote = new docker.Provider("remote", {
            host: `ssh://root@${infra.hosts[0].ip}`,
            sshOpts: ["-i", keyFile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
        });
        new docker.Volume("remote-vol", { name: "pr-harness-remote-vol" }, { provider: remote });
        await realizer.settled(60_000);
        const ls = await runRemote(conn(), "docker volume ls --format '{{.Name}}'");
        assert.match(ls.stdout, /^pr-harness-remote-vol$/m, "the volume is on the remote host's engine");
        assert.throws(() => execFileSync("docker", ["volume", "inspect", "pr-harness-remote-vol"], { stdio: "ignore" }), "not on the local one");
        await realizer.destroy();
        assert.doesNotMatch((await runRemote(conn(), "docker volume ls --format '{{.Name}}'")).stdout, /pr-harness-remote-vol/);
    });
});
