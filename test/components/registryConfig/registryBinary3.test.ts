/**
 * The dev stack, rendered as `npm run render` renders it, run in the real distribution v3: the image
 * test/e2e/infra/setup.sh builds from Go modules (test/e2e/infra/registry3/go.mod) and tags as the
 * dev stack's own image (`registry:3.1.2`). As the program does it: the installer container's script
 * puts the rendered files (config.yml, certificate, key, htpasswd) on a files volume, then the
 * registry container runs as the program's Container resource says: its user, read-only root, tmpfs,
 * memory and nproc limits, command, envs, dropped capabilities, no-new-privileges and healthcheck.
 * Only the published host port differs (a free one, on 127.0.0.1 as rendered).
 *
 * It catches what the v3 binary refuses or silently ignores in the rendered config, which the 2.8
 * test (registryBinary.test.ts) and golden files cannot. Talks to 127.0.0.1 and its own container
 * only. Fails when docker or the image is absent (`bash test/e2e/infra/setup.sh` provides them).
 *
 * Run: node --import tsx --test test/components/registryConfig/registryBinary3.test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { freePort } from "../../support/net";
import { request } from "../../support/registryHttp";

const root = path.resolve(__dirname, "..", "..", "..");
const START_TIMEOUT_MS = 30_000;
const UNKNOWN_DIGEST = `sha256:${"0".repeat(64)}`;

/** The distribution version test/e2e/infra/registry3/go.mod pins, as the image tags it (3.1.2). */
function pinnedVersion(): string {
    const mod = fs.readFileSync(path.join(root, "test/e2e/infra/registry3/go.mod"), "utf8");
    const m = /^\s*github\.com\/distribution\/distribution\/v3 v(\S+)/m.exec(mod);
    assert.ok(m, "registry3/go.mod requires github.com/distribution/distribution/v3");
    return m[1];
}

function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
}

function tlsHandshake(port: number, ca: string, options: tls.ConnectionOptions): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost", ...options }, () => {
            const protocol = socket.getProtocol() ?? "";
            socket.end();
            resolve(protocol);
        });
        socket.setTimeout(5000, () => socket.destroy(new Error("handshake timed out")));
        socket.on("error", reject);
    });
}

interface Upload {
    file: string;
    content: string;
    permissions?: string;
}

interface ContainerInputs {
    uploads: Upload[];
    entrypoints: string[];
    command: string[];
    user: string;
    readOnly: boolean;
    tmpfs: Record<string, string>;
    memory: number;
    ulimits: { name: string; soft: number; hard: number }[];
    volumes: { volumeName?: string; hostPath?: string; containerPath: string; readOnly?: boolean }[];
    envs: string[];
    ports: { internal: number; external: number; ip: string }[];
    capabilities: { drops: string[]; adds?: string[] };
    securityOpts: string[];
    healthcheck: { tests: string[] };
}

test("distribution v3 (built from Go modules) runs the rendered dev stack: TLS, htpasswd, storage", async (t) => {
    const version = pinnedVersion();
    // npm test's setup provides both: their absence is a failure, not a skip.
    assert.equal(spawnSync("docker", ["info"], { stdio: "ignore" }).status, 0, "no Docker engine answers (run bash test/e2e/infra/setup.sh)");
    assert.equal(
        spawnSync("docker", ["image", "inspect", `registry:${version}`], { stdio: "ignore" }).status,
        0,
        `image registry:${version} is absent (run bash test/e2e/infra/setup.sh)`,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-binary3-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));

    // Render exactly as a user would; the secrets are needed to run it.
    const out = path.join(dir, "render");
    const r = spawnSync("npm", ["run", "-s", "render", "--", "--stack", "dev", "--out", out, "--include-secrets"], {
        cwd: root,
        encoding: "utf8",
        timeout: 120_000,
    });
    assert.equal(r.status, 0, `render failed: ${r.stderr}${r.stdout}`);
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
        type: string;
        name: string;
        inputs: Record<string, unknown>;
    }[];
    const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8")) as { passwords: Record<string, string>; usernames: string[] };
    const ca = fs.readFileSync(path.join(out, "registry/certs/ca.crt"), "utf8");
    const image = resources.find((x) => x.type === "docker:index/remoteImage:RemoteImage")?.inputs.name;
    const container = (suffix: string) =>
        resources.find((x) => x.type === "docker:index/container:Container" && x.name.endsWith(suffix))?.inputs as unknown as ContainerInputs;
    const inputs = container("-registry-container");
    const installer = container("-files-installer");
    assert.ok(inputs && installer, "the dev stack renders the registry container and its files installer");
    const [user] = outputs.usernames;
    const password = outputs.passwords[user];
    assert.ok(password && password !== "[secret]", "outputs.json holds the generated password (--include-secrets)");

    await t.test("the dev stack's image is the v3 built here, and its config goes where v3 reads it", () => {
        assert.equal(image, `registry:${version}`, "Pulumi.dev.yaml's image is the version registry3/go.mod pins");
        const labels = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Labels}}", `registry:${version}`));
        assert.match(labels["org.opencontainers.image.description"] ?? "", /local test build of github\.com\/distribution\/distribution\/v3/);
        const entrypoint = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Entrypoint}}", `registry:${version}`));
        assert.deepEqual(entrypoint, ["/bin/registry"]);
        assert.deepEqual(inputs.command, ["serve", "/etc/private-registry/config.yml"], "the container names its config path");
        assert.ok(
            installer.uploads.some((u) => u.file === "/staging/config.yml"),
            "config.yml is staged for the installer",
        );
        const v = docker("run", "--rm", "--network", "none", `registry:${version}`, "--version");
        assert.match(v, new RegExp(` github\\.com/distribution/distribution/v3 ${version.replace(/\./g, "\\.")}\\n$`));
    });

    // The files volume, filled by the installer's own script from the staged uploads (the provider
    // copies them in as root with their permissions before the installer starts).
    const staging = path.join(dir, "staging");
    for (const u of installer.uploads) {
        const host = path.join(staging, u.file.slice("/staging/".length));
        fs.mkdirSync(path.dirname(host), { recursive: true });
        fs.writeFileSync(host, u.content, { mode: parseInt(u.permissions ?? "0644", 8) });
    }
    const name = `pr-registry3-test-${process.pid}`;
    const filesVolume = `${name}-files`;
    const dataVolume = `${name}-data`;
    const installerName = `${name}-installer`;
    // Both containers before the volumes: a volume still mounted by the installer is not removed
    // (the volumes of every run had been left behind so).
    const cleanup = () => {
        spawnSync("docker", ["rm", "-f", "-v", name, installerName], { stdio: "ignore" });
        spawnSync("docker", ["volume", "rm", "-f", filesVolume, dataVolume], { stdio: "ignore" });
    };
    cleanup();
    t.after(cleanup);
    const volumeFor = (v: ContainerInputs["volumes"][number]) => (v.containerPath === "/var/lib/registry" ? dataVolume : filesVolume);
    // Created, then the uploads copied in, then started and waited for: what the provider does.
    docker(
        "create",
        "--name",
        installerName,
        "--network",
        "none",
        "--user",
        installer.user,
        ...installer.capabilities.drops.flatMap((c) => ["--cap-drop", c]),
        ...(installer.capabilities.adds ?? []).flatMap((c) => ["--cap-add", c]),
        ...installer.volumes.flatMap((v) => ["--mount", `type=volume,source=${volumeFor(v)},target=${v.containerPath}`]),
        "--entrypoint",
        installer.entrypoints[0],
        `registry:${version}`,
        ...installer.entrypoints.slice(1),
    );
    docker("cp", `${staging}/.`, `${installerName}:/staging`);
    const installed = spawnSync("docker", ["start", "-a", installerName], { encoding: "utf8", timeout: 60_000 });
    assert.equal(installed.status, 0, `the installer failed: ${installed.stdout}${installed.stderr}`);

    // The registry container, as the Container resource describes it.
    assert.equal(inputs.ports.length, 1);
    const [published] = inputs.ports;
    assert.equal(published.ip, "127.0.0.1", "the dev stack publishes on loopback only");
    const port = await freePort();
    const [kind, ...health] = inputs.healthcheck.tests;
    assert.equal(kind, "CMD");
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--publish",
        `127.0.0.1:${port}:${published.internal}`,
        "--user",
        inputs.user,
        ...(inputs.readOnly ? ["--read-only"] : []),
        ...Object.entries(inputs.tmpfs).flatMap(([p, o]) => ["--tmpfs", `${p}:${o}`]),
        "--memory",
        `${inputs.memory}m`,
        ...inputs.ulimits.flatMap((u) => ["--ulimit", `${u.name}=${u.soft}:${u.hard}`]),
        ...inputs.volumes.flatMap((v) => ["--mount", `type=volume,source=${volumeFor(v)},target=${v.containerPath}${v.readOnly ? ",readonly" : ""}`]),
        ...inputs.envs.flatMap((e) => ["--env", e]),
        ...inputs.capabilities.drops.flatMap((c) => ["--cap-drop", c]),
        ...inputs.securityOpts.flatMap((o) => ["--security-opt", o]),
        // --health-cmd is a shell command line; the rendered test is an exec list of plain words.
        "--health-cmd",
        health.join(" "),
        "--health-interval",
        "1s",
        "--health-timeout",
        "3s",
        "--health-retries",
        "3",
        `registry:${version}`,
        ...inputs.command,
    );
    const logs = () => {
        const l = spawnSync("docker", ["logs", name], { encoding: "utf8" });
        return `${l.stdout}${l.stderr}`;
    };
    const state = () => docker("inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", name).trim();

    // Up when /v2/ answers over TLS; a container that exited fails with its log (a refused key).
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
        const s = state();
        if (!s.startsWith("running")) {
            assert.fail(`the registry container is ${s} at start:\n${logs()}`);
        }
        try {
            await request(port, ca, { path: "/v2/" });
            break;
        } catch (e) {
            if (Date.now() > deadline) {
                assert.fail(`the registry did not answer within ${START_TIMEOUT_MS} ms (${String(e)}):\n${logs()}`);
            }
            await new Promise((res) => setTimeout(res, 200));
        }
    }

    await t.test("it starts as v3 with TLS and without falling back to defaults", () => {
        const log = logs();
        assert.match(log, new RegExp(`version=${version.replace(/\./g, "\\.")}`));
        assert.match(log, /listening on \[::\]:5000, tls/);
        assert.match(log, /restricting TLS version to tls1\.2 or higher/);
        assert.doesNotMatch(log, /No HTTP secret provided/, "http.secret was read");
        assert.match(log, /using inmemory blob descriptor cache/);
        assert.doesNotMatch(log, /level=(error|fatal|panic)/, "no error at start");
    });

    await t.test("GET /v2/ without credentials → 401 with the realm", async () => {
        const res = await request(port, ca, { path: "/v2/" });
        assert.equal(res.status, 401);
        assert.equal(res.headers["www-authenticate"], 'Basic realm="private-registry"');
        assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
    });

    await t.test("GET /v2/ with a wrong password → 401", async () => {
        const res = await request(port, ca, { path: "/v2/", auth: `${user}:${password}x` });
        assert.equal(res.status, 401);
    });

    await t.test("GET /v2/ with the rendered user's password → 200, with the rendered headers", async () => {
        const res = await request(port, ca, { path: "/v2/", auth: `${user}:${password}` });
        assert.equal(res.status, 200);
        assert.equal(res.headers["x-content-type-options"], "nosniff");
    });

    await t.test("minimumtls tls1.2: a TLS 1.1 handshake is refused, TLS 1.2 and 1.3 are accepted", async () => {
        await assert.rejects(tlsHandshake(port, ca, { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" }), /alert protocol version/i);
        assert.equal(await tlsHandshake(port, ca, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" }), "TLSv1.2");
        assert.equal(await tlsHandshake(port, ca, { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" }), "TLSv1.3");
    });

    await t.test("delete.enabled: true → DELETE of an unknown manifest is 404, not 405", async () => {
        const res = await request(port, ca, { method: "DELETE", path: `/v2/test/image/manifests/${UNKNOWN_DIGEST}`, auth: `${user}:${password}` });
        assert.equal(res.status, 404, res.body);
    });

    await t.test("a pushed blob is stored under /var/lib/registry (dropped capabilities) and reads back", async () => {
        const auth = `${user}:${password}`;
        const blob = Buffer.from(`registry v3 rendered config test blob ${process.pid}\n`);
        const hex = createHash("sha256").update(blob).digest("hex");
        const start = await request(port, ca, { method: "POST", path: "/v2/test/image/blobs/uploads/", auth });
        assert.equal(start.status, 202, start.body);
        const location = new URL(String(start.headers.location), `https://127.0.0.1:${port}`);
        location.searchParams.set("digest", `sha256:${hex}`);
        const put = await request(port, ca, { method: "PUT", path: `${location.pathname}${location.search}`, auth, body: blob });
        assert.equal(put.status, 201, put.body);
        const stored = docker("exec", name, "cat", `/var/lib/registry/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`);
        assert.equal(stored, blob.toString());
        const get = await request(port, ca, { path: `/v2/test/image/blobs/sha256:${hex}`, auth });
        assert.equal(get.status, 200);
        assert.equal(get.body, blob.toString());
    });

    await t.test("the rendered healthcheck (busybox wget on the debug port) turns healthy", async () => {
        const until = Date.now() + 15_000;
        let s = state();
        while (s !== "running healthy" && Date.now() < until) {
            await new Promise((res) => setTimeout(res, 250));
            s = state();
        }
        assert.equal(s, "running healthy", logs());
    });
});
