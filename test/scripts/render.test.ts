import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { EncryptedSecretError, readStackConfig } from "../../scripts/stackFile";

const root = path.resolve(__dirname, "..", "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pr-render-"));
after(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
});

/** Runs `npm run render` exactly as a user would. */
function render(args: string[]): string {
    const r = spawnSync("npm", ["run", "-s", "render", "--", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `render failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
}

const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), "utf8");
const json = (dir: string, rel: string) => JSON.parse(read(dir, rel));

describe("npm run render", () => {
    const dev = path.join(scratch, "dev");

    it("writes the registry's files, resources.json and outputs.json for the dev stack, secrets redacted", () => {
        assert.match(render(["--stack", "dev", "--out", dev]), /rendered stack dev/);
        for (const f of [
            "registry/config.yml",
            "registry/htpasswd",
            "registry/certs/ca.crt",
            "registry/certs/registry.crt",
            "resources.json",
            "outputs.json",
        ]) {
            assert.ok(fs.existsSync(path.join(dev, f)), `${f} is written`);
        }
        assert.equal(fs.existsSync(path.join(dev, "registry/certs/registry.key")), false, "no key without --include-secrets");
        const config = parseYaml(read(dev, "registry/config.yml"));
        assert.equal(config.http.secret, "<redacted>");
        assert.equal(config.http.tls.certificate, "/etc/private-registry/tls/registry.crt");
        assert.equal(config.auth.htpasswd.path, "/etc/private-registry/auth/htpasswd");
        assert.equal(read(dev, "registry/htpasswd"), "admin:<redacted>\n", "no hash without --include-secrets");
        assert.equal(json(dev, "outputs.json").passwords, "[secret]");

        const resources = json(dev, "resources.json") as { type: string; name: string; parent?: string; inputs: Record<string, any> }[];
        const container = resources.find((r) => r.name === "registry-registry-files-installer")!;
        assert.deepEqual(container.inputs.uploads.map((u: { file: string }) => u.file).sort(), [
            "/staging/auth/htpasswd",
            "/staging/config.yml",
            "/staging/tls/registry.crt",
            "/staging/tls/registry.key",
        ]);
        const key = container.inputs.uploads.find((u: { file: string }) => u.file.endsWith("registry.key"));
        assert.equal(key.content, "<redacted>");
        // uploads is secret (it holds the key): every content is redacted, the htpasswd's hash too.
        for (const u of container.inputs.uploads) assert.equal(u.content, "<redacted>", u.file);
        assert.ok(
            resources.every((r) => r.type === "private-registry:index:PrivateRegistry" || r.parent),
            "every resource has a parent",
        );
        const text = read(dev, "resources.json");
        assert.doesNotMatch(text, /PRIVATE KEY-----/);
    });

    it("issues a real chain: the server certificate verifies against the CA with the configured SANs and usages", () => {
        const out = execFileSync("openssl", [
            "verify",
            "-CAfile",
            path.join(dev, "registry/certs/ca.crt"),
            path.join(dev, "registry/certs/registry.crt"),
        ]).toString();
        assert.match(out, /: OK/);
        const text = execFileSync("openssl", ["x509", "-in", path.join(dev, "registry/certs/registry.crt"), "-noout", "-text"]).toString();
        assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
        assert.match(text, /Digital Signature, Key Encipherment/);
        assert.match(text, /TLS Web Server Authentication/);
        assert.match(text, /CA:FALSE/);
        const caText = execFileSync("openssl", ["x509", "-in", path.join(dev, "registry/certs/ca.crt"), "-noout", "-text"]).toString();
        assert.match(caText, /CA:TRUE/);
        assert.match(caText, /Public-Key: \(4096 bit\)/);
    });

    it("writes each client host's scripts, stdin and merged daemon.json for the prod stack", () => {
        const prod = path.join(scratch, "prod");
        const key = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
        const keyFile = path.join(scratch, "id_ed25519");
        fs.writeFileSync(keyFile, key, { mode: 0o600 });
        render([
            "--stack",
            "prod",
            "--out",
            prod,
            "--secret",
            `sshPrivateKey=@${keyFile}`,
            "--secret",
            `storage={"driver":"s3","region":"us-east-1","bucket":"registry-prod","regionEndpoint":"http://rgw.prod.example.internal:7480","accessKey":"AKIAEXAMPLE","secretKey":"rgw-secret-key"}`,
        ]);
        assert.deepEqual(fs.readdirSync(path.join(prod, "clients")).sort(), ["app-01", "build-01", "build-02"]);
        const build = path.join(prod, "clients", "build-01");
        assert.deepEqual(fs.readdirSync(build).sort(), ["ca.crt", "changes.json", "connection.json", "daemon.json"]);
        assert.equal(json(build, "connection.json").privateKey, "<redacted>");
        assert.deepEqual(json(build, "daemon.json"), { "max-concurrent-downloads": 6, "max-concurrent-uploads": 3, "live-restore": true });
        const changes = json(build, "changes.json");
        assert.deepEqual(changes.runtimes, ["docker"]);
        assert.equal(changes.detected, true, "no runtimes in the stack: up uses those it finds");
        const paths = changes.items.map((i: { path: string | string[]; file?: string }) => i.file ?? i.path);
        assert.ok(paths.includes("/etc/docker/certs.d/registry.prod.example.internal:5000/ca.crt"), paths.join(", "));
        const login = changes.items.find((i: { path: unknown }) => Array.isArray(i.path) && i.path[0] === "auths");
        assert.equal(login.value, "<redacted>", "the credential is redacted");
        assert.match(json(path.join(prod, "clients", "app-01"), "connection.json").sudo ? "sudo" : "", /sudo/);
        const config = read(prod, "registry/config.yml");
        assert.doesNotMatch(config, /rgw-secret-key|AKIAEXAMPLE/);
        assert.match(config, /forcepathstyle: true/);
        assert.doesNotMatch(read(prod, "resources.json"), /rgw-secret-key|PRIVATE KEY-----/);
    });

    it("refuses a secret the stack file holds encrypted (only the CLI can decrypt it), naming the key", () => {
        const text = "config:\n  private-registry:sshPrivateKey:\n    secure: v1:AAAA:BBBB\n";
        assert.throws(
            () => readStackConfig(text, { namespace: "private-registry" }),
            (e: unknown) => {
                assert.ok(e instanceof EncryptedSecretError);
                assert.match((e as Error).message, /private-registry:sshPrivateKey is encrypted.*--secret sshPrivateKey=/);
                return true;
            },
        );
        const overridden = readStackConfig(text, { namespace: "private-registry", setSecret: { sshPrivateKey: "KEY" } });
        assert.deepEqual(overridden, { values: { "private-registry:sshPrivateKey": "KEY" }, secretKeys: ["private-registry:sshPrivateKey"] });
    });

    it("fails on a bad value before rendering anything, naming the key", () => {
        const r = spawnSync("npm", ["run", "-s", "render", "--", "--stack", "dev", "--out", path.join(scratch, "x"), "--config", "port=88a"], {
            cwd: root,
            encoding: "utf8",
        });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /private-registry:port must be an integer 1-65535, got "88a"/);
    });
});
