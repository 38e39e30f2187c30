/**
 * The rendered v2 config against the real registry: Debian's distribution 2.8.2 at
 * /usr/bin/docker-registry. It catches what the registry silently ignores (a misspelt TLS key
 * serves plain HTTP, a camelCase key falls back to a default), which golden files cannot.
 *
 * Everything runs in a temp dir and talks to 127.0.0.1 only. Skipped only when the binary is absent.
 *
 * Run: node --import tsx --test test/components/registryConfig/registryBinary.test.ts
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import bcrypt from "bcryptjs";
import { renderRegistryConfig } from "../../../components/registryConfig";
import type { RegistryConfigModel } from "../../../components/registryConfig/model";
import { freePort } from "../../support/net";
import { makePki, type Pki } from "../../support/pki";
import { request, type Reply } from "../../support/registryHttp";

const BINARY = "/usr/bin/docker-registry";
const USER = "alice";
const PASSWORD = "correct horse battery staple";
const REALM = "Test Registry";
const START_TIMEOUT_MS = 10_000;

/** A bcrypt htpasswd file: `htpasswd -B` when installed, else bcryptjs (`$2a$`, which the registry accepts). */
function makeHtpasswd(file: string): void {
    try {
        execFileSync("htpasswd", ["-B", "-b", "-c", file, USER, PASSWORD], { stdio: "pipe" });
    } catch {
        const hash = bcrypt.hashSync(PASSWORD, bcrypt.genSaltSync(10)).replace(/^\$2b\$/, "$2a$");
        fs.writeFileSync(file, `${USER}:${hash}\n`);
    }
}

interface Running {
    proc: ChildProcess;
    port: number;
    debugPort: number;
    log: () => string;
}

/** The environment without anything that changes the registry's config or makes it panic. */
function registryEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (!k.startsWith("REGISTRY_") && k !== "AWS_CA_BUNDLE") {
            env[k] = v;
        }
    }
    return env;
}

async function stop(r: Running): Promise<void> {
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) {
        return;
    }
    const exited = new Promise<void>((resolve) => r.proc.once("exit", () => resolve()));
    r.proc.kill("SIGTERM");
    const timer = setTimeout(() => r.proc.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
}

function httpGet(port: number, urlPath: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: urlPath, agent: false, timeout: 5000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("error", reject);
    });
}

/** Renders `model` into `dir/<name>.yml`, starts the registry on it and waits until `/v2/` answers over TLS. */
async function startRegistry(
    t: TestContext,
    dir: string,
    name: string,
    pki: Pki,
    build: (port: number, debugPort: number) => RegistryConfigModel,
): Promise<Running> {
    const port = await freePort();
    const debugPort = await freePort();
    const configPath = path.join(dir, `${name}.yml`);
    fs.writeFileSync(configPath, renderRegistryConfig(build(port, debugPort)));

    let output = "";
    const proc = spawn(BINARY, ["serve", configPath], { cwd: dir, env: registryEnv(), stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    const running: Running = { proc, port, debugPort, log: () => output };
    t.after(() => stop(running));

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
        if (proc.exitCode !== null || proc.signalCode !== null) {
            assert.fail(`the registry exited at start (${proc.exitCode ?? proc.signalCode}):\n${output}`);
        }
        try {
            await request(port, pki.caPem, { path: "/v2/" });
            return running;
        } catch (e) {
            if (Date.now() > deadline) {
                assert.fail(`the registry did not answer within ${START_TIMEOUT_MS} ms (${String(e)}):\n${output}`);
            }
            await new Promise((r) => setTimeout(r, 100));
        }
    }
}

function tlsHandshake(port: number, caPem: string, options: tls.ConnectionOptions): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port, ca: caPem, servername: "localhost", ...options }, () => {
            const protocol = socket.getProtocol() ?? "";
            socket.end();
            resolve(protocol);
        });
        socket.setTimeout(5000, () => socket.destroy(new Error("handshake timed out")));
        socket.on("error", reject);
    });
}

const UNKNOWN_DIGEST = `sha256:${"0".repeat(64)}`;

test("distribution 2.8 accepts the rendered v2 config and serves TLS with htpasswd", async (t) => {
    assert.ok(fs.existsSync(BINARY), `${BINARY} is not installed (Debian package docker-registry; npm test's setup installs it)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-binary-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    const htpasswdPath = path.join(dir, "htpasswd");
    makeHtpasswd(htpasswdPath);

    const model =
        (deleteEnabled: boolean, rootName: string) =>
        (port: number, debugPort: number): RegistryConfigModel => ({
            version: 2,
            log: { level: "info", formatter: "text", fields: { service: "registry-test" } },
            storage: { driver: "filesystem", rootDirectory: path.join(dir, rootName) },
            storageOptions: {
                deleteEnabled,
                blobDescriptorCache: "inmemory",
                uploadPurging: { enabled: true },
                readOnly: false,
            },
            http: {
                addr: `127.0.0.1:${port}`,
                secret: "test-http-secret",
                headers: { "X-Frame-Options": ["DENY"] },
                tls: { certificatePath: pki.certPath, keyPath: pki.keyPath, minimumTls: "tls1.2" },
                debugAddr: `127.0.0.1:${debugPort}`,
                prometheusPath: "/metrics",
            },
            auth: { htpasswd: { realm: REALM, path: htpasswdPath } },
            health: { storageDriver: { enabled: true, interval: "10s", threshold: 3 } },
        });

    const reg = await startRegistry(t, dir, "config", pki, model(true, "data"));
    const ca = pki.caPem;

    await t.test("the log says it listens with TLS", () => {
        assert.match(reg.log(), new RegExp(`listening on 127\\.0\\.0\\.1:${reg.port}, tls`));
        assert.match(reg.log(), /restricting TLS version to tls1\.2 or higher/);
    });

    await t.test("the config's values took effect (no silent defaults)", () => {
        const log = reg.log();
        assert.doesNotMatch(log, /No HTTP secret provided/, "http.secret was read");
        assert.match(log, /using inmemory blob descriptor cache/);
        assert.match(log, /Starting upload purge/);
        assert.match(log, /service=registry-test/, "log.fields were read");
        assert.ok(fs.readFileSync(htpasswdPath, "utf8").startsWith(`${USER}:$2`), "the htpasswd file was not replaced");
    });

    await t.test("GET /v2/ without credentials → 401 with the realm", async () => {
        const r = await request(reg.port, ca, { path: "/v2/" });
        assert.equal(r.status, 401);
        assert.equal(r.headers["www-authenticate"], `Basic realm="${REALM}"`);
        assert.equal(r.headers["docker-distribution-api-version"], "registry/2.0");
    });

    await t.test("GET /v2/ with a wrong password → 401", async () => {
        const r = await request(reg.port, ca, { path: "/v2/", auth: `${USER}:wrong` });
        assert.equal(r.status, 401);
    });

    await t.test("GET /v2/ with the right password → 200, with our response headers", async () => {
        const r = await request(reg.port, ca, { path: "/v2/", auth: `${USER}:${PASSWORD}` });
        assert.equal(r.status, 200);
        assert.equal(r.headers["x-content-type-options"], "nosniff");
        assert.equal(r.headers["x-frame-options"], "DENY");
    });

    await t.test("the certificate verifies for the DNS name localhost too", async () => {
        const r = await request(reg.port, ca, { path: "/v2/", servername: "localhost", auth: `${USER}:${PASSWORD}` });
        assert.equal(r.status, 200);
    });

    await t.test("a TLS 1.1 handshake is refused, TLS 1.2 is accepted", async () => {
        // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal comes from the server.
        await assert.rejects(tlsHandshake(reg.port, ca, { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" }), (e: Error) => {
            // "tlsv1 alert protocol version": the server refused (a client-side refusal would not be an alert).
            assert.match(e.message, /alert protocol version/i);
            return true;
        });
        assert.equal(await tlsHandshake(reg.port, ca, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" }), "TLSv1.2");
    });

    await t.test("storage.delete.enabled: true → DELETE of an unknown manifest is 404, not 405", async () => {
        const r = await request(reg.port, ca, {
            method: "DELETE",
            path: `/v2/test/image/manifests/${UNKNOWN_DIGEST}`,
            auth: `${USER}:${PASSWORD}`,
        });
        assert.equal(r.status, 404, r.body);
    });

    await t.test("a pushed blob lands under our rootdirectory and reads back", async () => {
        const blob = Buffer.from("registry config renderer test blob\n");
        const hex = createHash("sha256").update(blob).digest("hex");
        const auth = `${USER}:${PASSWORD}`;
        const start = await request(reg.port, ca, { method: "POST", path: "/v2/test/image/blobs/uploads/", auth });
        assert.equal(start.status, 202, start.body);
        const location = new URL(String(start.headers.location), `https://127.0.0.1:${reg.port}`);
        location.searchParams.set("digest", `sha256:${hex}`);
        const put = await request(reg.port, ca, { method: "PUT", path: `${location.pathname}${location.search}`, auth, body: blob });
        assert.equal(put.status, 201, put.body);
        const stored = path.join(dir, "data", "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
        assert.deepEqual(fs.readFileSync(stored), blob);
        const get = await request(reg.port, ca, { path: `/v2/test/image/blobs/sha256:${hex}`, auth: `${USER}:${PASSWORD}` });
        assert.equal(get.status, 200);
        assert.equal(get.body, blob.toString());
    });

    await t.test("Prometheus metrics on the debug address", async () => {
        const r = await httpGet(reg.debugPort, "/metrics");
        assert.equal(r.status, 200);
        assert.match(r.body, /registry_/);
    });

    await t.test("deleteEnabled: false → DELETE is 405 UNSUPPORTED", async (st) => {
        const off = await startRegistry(st, dir, "config-nodelete", pki, model(false, "data-nodelete"));
        assert.match(off.log(), new RegExp(`listening on 127\\.0\\.0\\.1:${off.port}, tls`));
        const r = await request(off.port, ca, {
            method: "DELETE",
            path: `/v2/test/image/manifests/${UNKNOWN_DIGEST}`,
            auth: `${USER}:${PASSWORD}`,
        });
        assert.equal(r.status, 405, r.body);
        assert.match(r.body, /UNSUPPORTED/);
    });
});
