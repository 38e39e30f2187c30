/**
 * The minimal example (examples/minimal) on the real engine: another program's use of the
 * component, with no stack file behind it. Up, the registry answers over TLS verified against
 * its CA output (401 anonymously, 200 as `ci`), an image pushed and read back, a no-change up,
 * destroy leaving no container and, as that example asks, no volume.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { api, pushRandomImage, timed, type RegistryTarget } from "../e2e/support";
import { createStack, StepLog, type TestStack } from "./engine";

const EXAMPLE = path.resolve(__dirname, "..", "..", "examples", "minimal", "index.ts");
const CONTAINER = "example-registry";
const VOLUME = "example-registry-data";

let ts: TestStack;

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const exists = (kind: "container" | "volume", name: string) => {
    try {
        docker(kind, "inspect", name);
        return true;
    } catch {
        return false;
    }
};

/** The example as the engine runs a program: its module evaluated afresh on every run, its exports the stack outputs. */
function example(): Record<string, unknown> {
    delete require.cache[require.resolve(EXAMPLE)];
    return { ...(require(EXAMPLE) as Record<string, unknown>) };
}

before(async () => {
    assert.ok(!exists("container", CONTAINER) && !exists("volume", VOLUME), `no ${CONTAINER} container or ${VOLUME} volume is left from before`);
    ts = await timed("engine and stack", () => createStack({ from: "dev", name: "example", program: example }));
    // The example reads no stack config: an empty one shows it needs none.
    for (const key of Object.keys(await ts.stack.getAllConfig())) await ts.stack.removeConfig(key);
});

after(async () => {
    if (!ts) return;
    await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
});

describe("examples/minimal on the real engine", () => {
    it("up with no stack config: the registry answers as a client needs it, as the example's user", async () => {
        const res = await timed("up", () => ts.stack.up({ color: "never" }));
        assert.equal(res.outputs.endpoint.value, "localhost:5055");
        assert.equal(res.outputs.password.secret, true);
        const target: RegistryTarget = { host: "127.0.0.1", port: 5055, servername: "localhost", ca: String(res.outputs.caCertPem.value) };
        const auth = { user: "ci", password: String(res.outputs.password.value) };
        assert.equal((await api(target, "GET", "/v2/")).status, 401);
        assert.equal((await api(target, "GET", "/v2/", auth)).status, 200);
        const digest = await pushRandomImage(target, auth, "example/app", "1", 200_000);
        const manifest = await api(target, "HEAD", "/v2/example/app/manifests/1", {
            ...auth,
            headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
        });
        assert.equal(manifest.status, 200);
        assert.equal(manifest.headers["docker-content-digest"], digest);
        assert.match(String(res.outputs.loginCommand.value), /docker login --username 'ci' --password-stdin 'localhost:5055'$/);
    });

    it("a second up changes nothing", async () => {
        const steps = new StepLog();
        await timed("no-change up", () => ts.stack.up({ onEvent: steps.onEvent, color: "never" }));
        assert.deepEqual(steps.changes(), []);
    });

    it("destroy leaves neither the container nor the volume", async () => {
        await timed("destroy", () => ts.stack.destroy({ color: "never" }));
        assert.equal(exists("container", CONTAINER), false);
        assert.equal(exists("volume", VOLUME), false);
    });
});
