/**
 * What the real docker provider's lifecycle does to the dev stack, and the program's answers (issue
 * 19): a hard memory limit raised and lowered by large factors in place with nothing left to update; a
 * registry whose storage is unreachable (named, with the container's last log lines), or that never
 * becomes healthy, fails the `up` that made it and every `up` after it, until the config is put
 * right. Runs on the real plugins where built, the stand-ins elsewhere (plugins.ts).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { api, pushRandomImage, type RegistryTarget, timed } from "../e2e/support";
import { unhealthyLogLines } from "../../scripts/unhealthyLogs";
import { createStack, setStackConfig, StepLog, type TestStack } from "./engine";

let ts: TestStack;
let volumeExisted = false;
const VOLUME = "private-registry-data";
const CONTAINER = "private-registry";
const REGISTRY_CONTAINER = "update docker:index/container:Container::registry-registry-container";

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const setConfig = (key: string, value: unknown, secret = false) => setStackConfig(ts.stack, key, value, secret);

async function up(): Promise<StepLog> {
    const steps = new StepLog();
    await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    return steps;
}

/** The dev stack's filesystem storage, as Pulumi.dev.yaml has it. */
async function backOnFilesystem(): Promise<void> {
    await setConfig("storage", { driver: "filesystem" });
    await setConfig("data", { volumeName: VOLUME, keepOnDestroy: true });
}

/** An `up` that must fail: its error text. */
async function failingUp(what: string): Promise<string> {
    const err = await timed(what, () => ts.stack.up({ color: "never" })).then(
        () => undefined,
        (e: Error) => e,
    );
    assert.ok(err, `${what}: the up failed`);
    return err.message;
}

before(async () => {
    try {
        docker("volume", "inspect", VOLUME);
        volumeExisted = true;
    } catch {
        volumeExisted = false;
    }
    const { main } = await import("../../program");
    ts = await timed("engine and stack", () => createStack({ from: "dev", name: "lifecycle", program: () => ({ ...main() }) }));
    await timed("first up", () => ts.stack.up({ color: "never" }));
});

after(async () => {
    if (!ts) return;
    await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    if (!volumeExisted) docker("volume", "rm", "-f", VOLUME);
});

describe("the registry's lifecycle on the real engine", () => {
    it("container.memoryLimitMb raised 4x then lowered 8x: each an in-place update, memory+swap equal to it, nothing left to update", async () => {
        const started = docker("inspect", "-f", "{{.State.StartedAt}}", CONTAINER);
        for (const mb of [16384, 2048]) {
            await setConfig("container", { memoryLimitMb: mb });
            const steps = await timed(`up with memoryLimitMb ${mb}`, () => up());
            assert.deepEqual(steps.changes(), [REGISTRY_CONTAINER]);
            assert.equal(docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", CONTAINER), `${mb * 1048576} ${mb * 1048576}`);
            await ts.stack.preview({ expectNoChanges: true, color: "never" });
        }
        assert.equal(docker("inspect", "-f", "{{.State.StartedAt}}", CONTAINER), started, "updated in place, not restarted");
        await ts.stack.removeConfig("private-registry:container");
        assert.deepEqual((await up()).changes(), [REGISTRY_CONTAINER]);
    });

    it("S3 storage on a closed port: the container starts healthy, and the up fails naming the storage, with its log lines; so does the next up; filesystem again converges", async () => {
        // Nothing listens on port 9 of the container's own loopback: every storage call is refused.
        await setConfig(
            "storage",
            { driver: "s3", region: "us-east-1", bucket: "nowhere", regionEndpoint: "http://127.0.0.1:9", accessKey: "AK", secretKey: "SK", secure: false },
            true,
        );
        await setConfig("objectStore", { ensureBucket: false });
        await ts.stack.removeConfig("private-registry:data");
        for (const what of ["up onto an unreachable S3", "the next up, nothing changed"]) {
            const message = await failingUp(what);
            assert.doesNotMatch(message, /invalid stack configuration/, message);
            assert.match(message, /the registry does not serve as a client needs it/, message);
            assert.match(message, /the endpoint localhost:5000 \(127\.0\.0\.1:5000\) cannot reach its storage: /, message);
            assert.match(message, /last log lines of private-registry:/, message);
        }
        await backOnFilesystem();
        await ts.stack.removeConfig("private-registry:objectStore");
        const steps = await timed("up back on the filesystem", () => up());
        assert.ok(
            steps.info.some((m) => m.startsWith("registry checked as a client: the endpoint localhost:5000 ok")),
            steps.info.join(" | "),
        );
        await ts.stack.preview({ expectNoChanges: true, color: "never" });
    });

    it("registry.debugPort: health answers on 127.0.0.1 of the Docker host, and a container on Docker's default bridge cannot reach the debug server (issue 20, item 8)", async () => {
        await setConfig("registry", { deleteEnabled: true, logLevel: "info", debugPort: 5001 });
        await timed("up with a debug port", () => up());
        const health = await fetch("http://127.0.0.1:5001/debug/health");
        assert.equal(health.status, 200, "the debug server is published on the Docker host's loopback");
        const addresses = docker("inspect", "-f", "{{range $n, $e := .NetworkSettings.Networks}}{{$n}}={{$e.IPAddress}} {{end}}", CONTAINER).split(" ");
        assert.deepEqual(
            addresses.map((a) => a.split("=")[0]),
            [`${CONTAINER}-private`],
            "on a network of its own, not the default bridge",
        );
        const ip = addresses[0].split("=")[1];
        // An HTTP request by busybox nc from the test's own registry image, once on each network.
        const probe = (network: string) => {
            const request = `printf 'GET /debug/health HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 5001`;
            try {
                const answer = docker(
                    "run",
                    "--rm",
                    `--network=${network}`,
                    "--entrypoint",
                    "/bin/busybox",
                    "private-registry-test/registry:2.8",
                    "sh",
                    "-c",
                    request,
                );
                return /^HTTP\/1\.[01] 200/.test(answer) ? "reached" : `answered ${answer.split("\n")[0]}`;
            } catch {
                return "refused";
            }
        };
        assert.equal(probe(`${CONTAINER}-private`), "reached", "the probe itself reaches the debug server from the registry's own network");
        assert.equal(probe("bridge"), "refused", "a container on the default bridge does not reach pprof, /debug/vars or metrics");
        await ts.stack.preview({ expectNoChanges: true, color: "never" });
        await setConfig("registry", { deleteEnabled: true, logLevel: "info" });
        await timed("up without the debug port", () => up());
        assert.throws(() => docker("network", "inspect", `${CONTAINER}-private`), /No such network|not found/i, "the network goes with the debug port");
    });

    it("containerName renamed with the volume name following it, keepOnDestroy false: the registry keeps its volume, the image pulls, the up warns naming data.volumeName (issue 20, item 7)", async () => {
        // The default volume name follows containerName (<containerName>-data): the dev stack's own.
        await ts.stack.removeConfig("private-registry:data");
        await setConfig("data", { keepOnDestroy: false });
        await timed("up with the default volume name, not kept on destroy", () => up());
        const out = await ts.stack.outputs();
        const target: RegistryTarget = { host: "127.0.0.1", port: 5000, servername: "localhost", ca: String(out.caCertPem.value) };
        const auth = { user: "admin", password: (out.passwords.value as Record<string, string>).admin };
        const digest = await pushRandomImage(target, auth, "lifecycle/kept", "1", 200_000);
        const accept = { accept: "application/vnd.oci.image.manifest.v1+json" };
        const pull = async () => (await api(target, "GET", `/v2/lifecycle/kept/manifests/${digest}`, { ...auth, headers: accept })).status;
        const renamed = "pr-lifecycle-renamed";
        await setConfig("containerName", renamed);
        try {
            const steps = await timed("up with containerName renamed", () => up());
            assert.equal(await pull(), 200, "the image pushed before the rename still pulls by digest");
            assert.ok(
                steps.diagnostics.some((d) => /^warning: .*data\.volumeName .*"pr-lifecycle-renamed-data".* keeps the volume "private-registry-data"/s.test(d)),
                steps.diagnostics.join("\n"),
            );
            assert.equal(docker("inspect", "-f", '{{range .Mounts}}{{if eq .Destination "/var/lib/registry"}}{{.Name}}{{end}}{{end}}', renamed), VOLUME);
            assert.equal(docker("volume", "ls", "-q", "--filter", `name=^${renamed}-data$`), "", "no new, empty volume");
            await ts.stack.preview({ expectNoChanges: true, color: "never" });
        } finally {
            await ts.stack.removeConfig("private-registry:containerName");
            await backOnFilesystem();
        }
        await timed("up with the dev config again", () => up());
        assert.equal(await pull(), 200);
    });

    it("a registry that exits at start (2.8 on Swift whose auth URL is refused) fails the up that created it and every up after; the config put right converges", async () => {
        await setConfig("image", "private-registry-test/registry:2.8");
        await setConfig(
            "storage",
            { driver: "swift", authUrl: "http://127.0.0.1:9/auth/v1", username: "u:swift", password: "p", container: "c", authVersion: 1 },
            true,
        );
        await ts.stack.removeConfig("private-registry:data");
        // The docker provider records a failed health wait as a partial create; on the next up its
        // diff replaces that container (the partial state lacks computed keys) and waits again.
        for (const what of ["up with a registry that never becomes healthy", "the next up, nothing changed"]) {
            const message = await failingUp(what);
            assert.doesNotMatch(message, /invalid stack configuration/, message);
            assert.match(message, /container failed to be in healthy state/, message);
            // What npm run up adds after that error: the failed container's own last lines.
            const [block] = unhealthyLogLines(message, {
                containerName: CONTAINER,
                replicas: 1,
                replicaHosts: [],
                docker: { host: "unix:///var/run/docker.sock", sshOpts: [] },
            });
            assert.match(block, /^last log lines of private-registry on unix:\/\/\/var\/run\/docker\.sock:\n/, block);
            assert.match(block, /127\.0\.0\.1:9|connection refused/i, `the lines say why: ${block}`);
        }
        await ts.stack.removeConfig("private-registry:image");
        await backOnFilesystem();
        await timed("up with the config put right", () => up());
        await ts.stack.preview({ expectNoChanges: true, color: "never" });
        assert.equal(docker("inspect", "-f", "{{.State.Health.Status}}", CONTAINER), "healthy");
    });
});
