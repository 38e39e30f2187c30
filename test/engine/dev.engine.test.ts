/**
 * The default stack (Pulumi.dev.yaml) on the real engine and this machine's Docker engine, with
 * the distribution 3.x test image as `registry:3.1.2` (test/e2e/infra/setup.sh builds it from the
 * Go module proxy): preview, up, the registry answering over TLS, a no-change up, destroy.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { api, timed, type RegistryTarget } from "../e2e/support";
import { createStack, StepLog, type TestStack } from "./engine";

let ts: TestStack;
let volumeExisted = false;
const VOLUME = "private-registry-data";

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

before(async () => {
    volumeExisted = (() => {
        try {
            docker("volume", "inspect", VOLUME);
            return true;
        } catch {
            return false;
        }
    })();
    const { main } = await import("../../program");
    ts = await timed("engine and stack", () => createStack({ from: "dev", name: "dev", program: () => ({ ...main() }) }));
});

after(async () => {
    if (!ts) return;
    await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    if (!volumeExisted) docker("volume", "rm", "-f", VOLUME);
});

describe("the dev stack on the real engine", () => {
    it("preview --diff from nothing plans every resource and reports no error", async () => {
        const steps = new StepLog();
        const p = await timed("preview", () => ts.stack.preview({ diff: true, onEvent: steps.onEvent, color: "never" }));
        assert.deepEqual(
            steps.diagnostics.filter((d) => d.startsWith("error")),
            [],
        );
        assert.deepEqual(Object.keys(p.changeSummary), ["create"]);
        const types = new Set(steps.steps.map((s) => s.type));
        for (const t of [
            "tls:index/privateKey:PrivateKey",
            "tls:index/locallySignedCert:LocallySignedCert",
            "random:index/randomPassword:RandomPassword",
            "docker:index/container:Container",
            "docker:index/volume:Volume",
        ]) {
            assert.ok(types.has(t), `${t} is in the plan`);
        }
    });

    it("up: /v2/ answers 401 anonymously and 200 with the stack's password, over TLS verified against caCertPem; the image runs distribution 3", async () => {
        const res = await timed("up", () => ts.stack.up({ color: "never" }));
        const target: RegistryTarget = { host: "127.0.0.1", port: 5000, servername: "localhost", ca: String(res.outputs.caCertPem.value) };
        const pw = res.outputs.passwords.value as Record<string, string>;
        assert.equal(res.outputs.passwords.secret, true, "passwords is a secret output");
        assert.equal((await api(target, "GET", "/v2/")).status, 401);
        const ok = await api(target, "GET", "/v2/", { user: "admin", password: pw.admin });
        assert.equal(ok.status, 200);
        const version = docker("exec", String(res.outputs.containerName.value), "/bin/registry", "--version");
        assert.match(version, /distribution\/v3 v?3\.\d+\.\d+/);
    });

    it("a second up changes nothing", async () => {
        const steps = new StepLog();
        const res = await timed("no-change up", () => ts.stack.up({ onEvent: steps.onEvent, color: "never" }));
        assert.deepEqual(steps.changes(), []);
        assert.deepEqual(Object.keys(res.summary.resourceChanges ?? {}), ["same"]);
    });

    it("destroy removes the container and keeps the data volume (keepOnDestroy)", async () => {
        const res = await timed("destroy", () => ts.stack.destroy({ color: "never" }));
        assert.ok((res.summary.resourceChanges?.delete ?? 0) > 0);
        assert.throws(() => docker("inspect", "private-registry"));
        docker("volume", "inspect", VOLUME);
    });
});
