/**
 * The files `npm run render --include-secrets` writes for the dev stack (config.yml, certificate,
 * key, htpasswd) start Debian's real distribution 2.8 binary in a private mount namespace, at the
 * in-container paths the config names. Needs root and the binary (npm test's setup).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../../support/net";
import { request } from "../../support/registryHttp";

const root = path.resolve(__dirname, "..", "..", "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pr-render-binary-"));
const children: ChildProcess[] = [];
after(() => {
    for (const c of children) c.kill("SIGKILL");
    fs.rmSync(scratch, { recursive: true, force: true });
});

/** Runs `npm run render` exactly as a user would. */
function render(args: string[]): void {
    const r = spawnSync("npm", ["run", "-s", "render", "--", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `render failed: ${r.stderr}${r.stdout}`);
}

const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), "utf8");

describe("the files npm run render writes for the dev stack", () => {
    const devSecrets = path.join(scratch, "dev-secrets");

    it("start Debian's distribution 2.8: 401 without, 200 with credentials", async () => {
        // npm test runs as root after its setup installed the binary: anything else is a failure.
        assert.ok(fs.existsSync("/usr/bin/docker-registry"), "Debian's docker-registry is not installed (bash test/e2e/infra/setup.sh)");
        assert.equal(process.getuid?.(), 0, "needs root (a private mount namespace)");
        const port = await freePort();
        render(["--stack", "dev", "--out", devSecrets, "--include-secrets", "--config", `port=${port}`]);
        const files = path.join(devSecrets, "registry");
        assert.ok(fs.existsSync(path.join(files, "certs/registry.key")));
        // The config names in-container paths: give the binary exactly that tree in a private
        // mount namespace (tmpfs over /etc and /var/lib there only), as the container would.
        const script = [
            "set -eu",
            "mount -t tmpfs none /etc",
            "mount -t tmpfs none /var/lib",
            "mkdir -p /etc/private-registry/tls /etc/private-registry/auth /etc/distribution /var/lib/registry",
            `cp "$1/config.yml" /etc/distribution/config.yml`,
            `cp "$1/certs/registry.crt" "$1/certs/registry.key" /etc/private-registry/tls/`,
            `cp "$1/htpasswd" /etc/private-registry/auth/htpasswd`,
            "exec /usr/bin/docker-registry serve /etc/distribution/config.yml",
        ].join("\n");
        const child = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script, "sh", files], { stdio: ["ignore", "pipe", "pipe"] });
        children.push(child);
        let log = "";
        child.stderr!.on("data", (d) => (log += d));
        child.stdout!.on("data", (d) => (log += d));
        const ca = read(files, "certs/ca.crt");
        const deadline = Date.now() + 15_000;
        let status = 0;
        while (Date.now() < deadline) {
            status = await request(port, ca, { path: "/v2/" }).then(
                (r) => r.status,
                () => 0,
            );
            if (status !== 0) break;
            await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(status, 401, `registry did not answer 401: ${log}`);
        const password = JSON.parse(read(devSecrets, "outputs.json")).passwords.admin as string;
        assert.equal((await request(port, ca, { path: "/v2/", auth: `admin:${password}` })).status, 200);
        assert.equal((await request(port, ca, { path: "/v2/", auth: `admin:${password}x` })).status, 401);
        assert.match(log, /listening on .*, tls/);
        child.kill("SIGTERM");
    });
});
