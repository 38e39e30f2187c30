/**
 * One replica on each of two Docker hosts behind one endpoint, end to end on the real engine: the
 * e2e stack on a real Ceph RADOS Gateway (S3) with `replicaHosts` naming hosts C and D, whose own
 * Docker engines the program reaches over SSH (the `ssh` binary, a key and a known_hosts file of
 * the test's), and the HAProxy balancer on this machine's engine, on the endpoint's address and port.
 * The hosts have no image to start with: `imageArchive` loads it onto each over ssh. Host A pushes
 * through the endpoint; each replica host serves the image directly; a chunked upload moves
 * between the hosts; `npm run gc` collects on the first host over ssh with its sshOpts; a
 * replica stopped on its host, then a whole host lost, during pull loops through the endpoint;
 * destroy leaves both replica hosts exactly as they were.
 *
 * Hosts C and D are test containers whose Docker daemon runs containers (test/e2e/infra/hosts.ts):
 * no default route, so the replicas reach only the test network, where the gateway listens.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { blobKey, bucketKeys, type Ceph, cephSwiftStorage } from "../e2e/infra/ceph";
import { hostKeyOf, isolate, NETWORK, REGISTRY, REGISTRY_IMAGE, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { api, e2eLog as log, type RegistryTarget, timed } from "../e2e/support";
import { setStackConfig, StepLog, type TestStack } from "./engine";
import { type OnCeph, pullOnB, startOnCeph, stopOnCeph } from "./onCeph";
import { chunkedUploadAcross, digestAt, layersFrom, lbSays, pullLoop, pushRandomFrom, until } from "./replicaChecks";

const fixture: Partial<OnCeph> = {};
let infra: TestInfra;
let ts: TestStack;
let hostA: TestHost;
let hostB: TestHost;
let replicaHosts: TestHost[] = [];
let ca = "";
let passwords: Record<string, string> = {};
let sshDir = "";
const BUCKET = "pr-e2e-replica-hosts";
const LB = `${REGISTRY.container}-lb`;
const LB_IMAGE = "private-registry-test/haproxy:2.6";
const image = `${REGISTRY.name}:${REGISTRY.port}/e2e/spread:1`;
let pushed = "";
/** The blob the chunked upload made: no manifest refers to it, so a collection sweeps it. */
let chunked = "";
/** Each replica host's containers, volumes, networks and images before the first up. */
const before0: Record<string, string> = {};

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim();
/** A command in a replica host's own Docker engine, read without the program. */
const inHost = (h: TestHost, ...args: string[]) => docker("exec", h.container, "docker", ...args);
const direct = (h: TestHost): RegistryTarget => ({ host: h.ip, port: REGISTRY.port, servername: REGISTRY.name, ca });
/** What a replica host holds: every container, volume, network and image of its Docker engine. */
const holdings = (h: TestHost) =>
    [
        inHost(h, "ps", "-a", "--format", "{{.Names}} {{.Image}}"),
        inHost(h, "volume", "ls", "-q"),
        inHost(h, "network", "ls", "--format", "{{.Name}} {{.Driver}}"),
        inHost(h, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"),
    ].join("\n--\n");
const health = (h: TestHost) => inHost(h, "inspect", "-f", "{{.State.Health.Status}}", REGISTRY.container);

async function up(): Promise<StepLog> {
    const steps = new StepLog();
    const res = await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    ca = String(res.outputs.caCertPem.value);
    passwords = res.outputs.passwords.value as Record<string, string>;
    isolate(LB, NETWORK.gateway);
    return steps;
}

before(async () => {
    ({ infra, ts, hostA, hostB } = await startOnCeph(fixture, "replica-hosts", BUCKET, { servers: 2 }));
    replicaHosts = infra.hosts.filter((h) => h.serves);
    assert.equal(replicaHosts.length, 2);
    for (const h of replicaHosts) before0[h.name] = holdings(h);
    // How the machine that runs up reaches the replica hosts' engines: its own key and known hosts.
    sshDir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-replica-ssh-"));
    // The hosts have no registry to pull from: the program loads the image from an archive onto each
    // (the docker CLI over ssh with the hosts' sshOpts), and removes it on destroy (keepImage false).
    const archive = path.join(sshDir, "registry.tar");
    execFileSync("docker", ["save", "-o", archive, REGISTRY_IMAGE]);
    await setStackConfig(ts.stack, "imageArchive", archive);
    await setStackConfig(ts.stack, "keepImage", false);
    fs.writeFileSync(path.join(sshDir, "id"), infra.sshKey.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(sshDir, "known_hosts"), replicaHosts.map((h) => `${h.ip} ${hostKeyOf(h)}\n`).join(""));
    const sshOpts = [
        "-i",
        path.join(sshDir, "id"),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `UserKnownHostsFile=${path.join(sshDir, "known_hosts")}`,
        "-o",
        "StrictHostKeyChecking=yes",
    ];
    await setStackConfig(
        ts.stack,
        "replicaHosts",
        replicaHosts.map((h) => ({ dockerHost: `ssh://root@${h.ip}`, sshOpts })),
    );
    await setStackConfig(ts.stack, "loadBalancer", { image: LB_IMAGE, checkIntervalMs: 500 });
    // keepImage false removes the balancer's image from this machine's engine on destroy too: it is
    // a test image the later tests use, so a copy puts it back (after()).
    execFileSync("docker", ["save", "-o", path.join(sshDir, "lb.tar"), LB_IMAGE]);
});

after(async () => {
    try {
        docker("image", "inspect", LB_IMAGE);
    } catch {
        if (sshDir) docker("load", "-q", "-i", path.join(sshDir, "lb.tar"));
    }
    await stopOnCeph(fixture, BUCKET);
    if (sshDir) fs.rmSync(sshDir, { recursive: true, force: true });
});

describe("one replica on each of two Docker hosts behind one endpoint, on Ceph RGW, on the real engine", () => {
    it("the image loaded from its archive onto each host over ssh; host A pushes through the endpoint; host B pulls it; each replica host serves the manifest and layers directly", async () => {
        for (const h of replicaHosts) assert.equal(inHost(h, "images", "-q", REGISTRY_IMAGE), "", `${h.name} lacks the image before`);
        const steps = await timed("up with a replica on hosts C and D", () => up());
        for (const h of replicaHosts) {
            assert.ok(
                steps.changes().includes(`create command:local:Command::registry-registry-replica-ssh://root@${h.ip}-image-load`),
                steps.changes().join("\n"),
            );
            assert.notEqual(inHost(h, "images", "-q", REGISTRY_IMAGE), "", `${h.name} has the image from the archive`);
            assert.ok(
                steps.changes().includes(`create docker:index/container:Container::registry-registry-replica-ssh://root@${h.ip}-container`),
                steps.changes().join("\n"),
            );
            assert.equal(health(h), "healthy", h.name);
            assert.match(inHost(h, "port", REGISTRY.container), /^5000\/tcp -> 0\.0\.0\.0:5000$/m, `${h.name} publishes the replica`);
        }
        assert.equal(docker("ps", "-q", "--filter", `name=^${REGISTRY.container}$`), "", "no replica on the balancer's host");
        assert.match(docker("port", LB), /^5000\/tcp -> 127\.0\.0\.1:5000$/m, "the balancer holds the endpoint's port");
        pushed = await pushRandomFrom(infra, hostA, image);
        assert.equal(await pullOnB(fixture as OnCeph, image), pushed);
        for (const h of replicaHosts) {
            for (const b of await layersFrom(direct(h), "e2e/spread", pushed, { user: "puller", password: passwords.puller })) {
                assert.equal(b.status, 307, `${h.name} serves the layer: ${b.body}`);
            }
        }
    });

    it("a chunked upload whose requests land on the two hosts completes (one http.secret, one store)", async () => {
        const auth = { user: "pusher", password: passwords.pusher };
        const [c, d] = replicaHosts.map(direct);
        const digest = await chunkedUploadAcross(c, d, auth, "e2e/spread-chunked");
        chunked = digest;
        const got = await api(c, "GET", `/v2/e2e/spread-chunked/blobs/${digest}`, auth);
        assert.equal(got.status, 307, got.body);
        assert.equal(await digestAt(String(got.headers.location)), digest);
    });

    it("npm run gc reaches the first replica host over ssh with its sshOpts: the chunked upload's unreferenced blob is swept from the bucket, the pushed image still pulls", async () => {
        const stored = async () => [...(await bucketKeys(fixture.s3 as S3Client, BUCKET)).keys()].some((k) => k.endsWith(blobKey(chunked)));
        assert.ok(chunked, "the chunked upload ran first");
        assert.ok(await stored(), "the chunked upload's blob is in the bucket before");
        const { garbageCollect } = await import("../../scripts/operations/gc");
        // The docker CLI reaches host C with the stack's sshOpts (key, known_hosts): this machine's own ssh config knows neither.
        const r = await timed("gc on the replica hosts", () => garbageCollect(ts.stack, { log }));
        log(`gc: ${r.report.join(" | ")}`);
        assert.ok(!(await stored()), "the unreferenced blob is swept");
        assert.equal(docker("volume", "ls", "-q", "--filter", `name=^${REGISTRY.container}-files$`), "", "nothing ran on the balancer's host");
        for (const h of replicaHosts) assert.equal(health(h), "healthy", `${h.name} is back, read-write`);
        assert.equal(await pullOnB(fixture as OnCeph, image), pushed, "the pushed image still pulls");
        assert.ok(!JSON.stringify(await ts.stack.getAllConfig()).includes("readOnly"), "the stack file is as it was");
    });

    it("the replica stopped on host D during a pull loop: no pull fails; started again, it rejoins", async () => {
        const d = replicaHosts[1];
        const loop = await pullLoop(infra, hostB, image);
        await new Promise((r) => setTimeout(r, 4000));
        const t0 = Date.now();
        inHost(d, "stop", "-t", "10", REGISTRY.container);
        const out = await until("the balancer takes replica 2 out", () => lbSays(LB, "replica-2") === "DOWN", 30_000);
        await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - t0))));
        inHost(d, "start", REGISTRY.container);
        const back = await until("replica 2 rejoins", () => lbSays(LB, "replica-2") === "UP", 60_000);
        await new Promise((r) => setTimeout(r, 3000));
        const result = await loop.stop();
        console.log(
            `  [e2e] replica stopped on host D: ${result.ok} pulls, ${result.failures.length} failed; out of the pool ${(out / 1000).toFixed(1)} s after the stop, back ${(back / 1000).toFixed(1)} s after its start`,
        );
        assert.ok(result.ok > 3, JSON.stringify(result));
        assert.deepEqual(result.failures, [], "no pull failed");
    });

    it("host D lost (its container killed, Docker engine and all) during a pull loop: pulls started after the balancer took it out all succeed; the host back, its replica rejoins", async () => {
        const d = replicaHosts[1];
        const loop = await pullLoop(infra, hostB, image);
        await new Promise((r) => setTimeout(r, 4000));
        const t0 = Date.now();
        docker("kill", d.container);
        const out = await until("the balancer takes replica 2 out", () => lbSays(LB, "replica-2") === "DOWN", 30_000);
        const outAt = t0 + out;
        // npm run status names the lost host while the endpoint still answers.
        const { registryStatus } = await import("../../scripts/operations/status");
        const lost = await registryStatus(ts.stack, { connect: "127.0.0.1", timeout: 3 });
        const line = (name: string) => lost.checks.find((c) => c.name === name);
        assert.equal(line("registry")?.ok, true, JSON.stringify(lost.checks));
        assert.equal(line(`replica ${replicaHosts[0].ip}:${REGISTRY.port}`)?.ok, true, JSON.stringify(lost.checks));
        assert.equal(line(`replica ${d.ip}:${REGISTRY.port}`)?.ok, false, JSON.stringify(lost.checks));
        assert.equal(lost.ok, false);
        await new Promise((r) => setTimeout(r, Math.max(0, 25_000 - (Date.now() - t0))));
        docker("start", d.container);
        isolate(d.container);
        const back = await until("replica 2 rejoins once host D's engine has restarted it", () => lbSays(LB, "replica-2") === "UP", 120_000);
        await new Promise((r) => setTimeout(r, 3000));
        const result = await loop.stop();
        const inSwitch = result.failedAt.filter((t) => t < outAt);
        console.log(
            `  [e2e] host D lost: ${result.ok} pulls; out of the pool ${(out / 1000).toFixed(1)} s after the kill (${inSwitch.length} pull(s) started before that failed), ` +
                `back ${(back / 1000).toFixed(1)} s after the host's start; longest pull ${(result.longestMs / 1000).toFixed(1)} s` +
                result.failures.map((f) => `\n  [e2e]   ${f}`).join(""),
        );
        assert.ok(result.ok > 3, JSON.stringify(result));
        assert.deepEqual(
            result.failures.filter((_, i) => result.failedAt[i] >= outAt),
            [],
            "no pull started after the balancer took the host out failed",
        );
        assert.equal(health(d), "healthy");
        assert.equal(await pullOnB(fixture as OnCeph, image), pushed, "no image lost");
        const back2 = await registryStatus(ts.stack, { connect: "127.0.0.1", timeout: 3 });
        assert.deepEqual(
            back2.checks.filter((c) => c.name.startsWith("replica ")).map((c) => [c.name, c.ok]),
            replicaHosts.map((h) => [`replica ${h.ip}:${REGISTRY.port}`, true]),
        );
    });

    it("Swift (distribution 2.8, v1 auth): host A pushes through the endpoint, host B pulls, each replica host serves the manifest", async () => {
        await setStackConfig(ts.stack, "storage", cephSwiftStorage(fixture.ceph as Ceph, "pr-e2e-swift-replica-hosts", NETWORK.gateway), true);
        await timed("up on Swift", () => up());
        const tag = `${REGISTRY.name}:${REGISTRY.port}/e2e/spread-on-swift:1`;
        const digest = await pushRandomFrom(infra, hostA, tag);
        assert.equal(await pullOnB(fixture as OnCeph, tag), digest);
        for (const h of replicaHosts) {
            for (const b of await layersFrom(direct(h), "e2e/spread-on-swift", digest, { user: "puller", password: passwords.puller })) {
                // Swift's temporary URLs need a key the stack does not set: the registry streams the layer itself.
                assert.equal(b.status, 200, `${h.name} serves the layer`);
            }
        }
        const objects = (await (fixture.s3 as S3Client).send(new ListObjectsV2Command({ Bucket: "pr-e2e-swift-replica-hosts" }))).KeyCount ?? 0;
        assert.ok(objects > 0, "the Swift container holds the data");
    });

    it("destroy removes the replicas, their files and the balancer, and leaves both replica hosts exactly as they were", async () => {
        await timed("destroy", () => ts.stack.destroy({ color: "never" }));
        for (const h of replicaHosts) assert.equal(holdings(h), before0[h.name], `${h.name} is as it was`);
        assert.equal(docker("ps", "-aq", "--filter", `name=^${LB}$`), "", "the balancer is gone");
        assert.equal(docker("images", "-q", LB_IMAGE), "", "its image too (keepImage false)");
        log("both replica hosts hold exactly what they held before the first up");
    });
});
