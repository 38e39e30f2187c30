/**
 * Several replicas behind one endpoint, end to end on the real engine: the e2e stack with
 * `replicas: 2` on a real Ceph RADOS Gateway (S3, then Swift), the program's Redis as their shared
 * blob-descriptor cache, an HAProxy load balancer (Debian's, built into
 * a local image) on the endpoint's address and port, TLS passed through. Host A pushes through the
 * endpoint, each replica serves the image directly; a chunked upload moves between replicas; one
 * replica stopped in the middle of a pull loop costs no pull; radosgw restarted takes the replicas
 * out and back without a restart; destroy leaves the bucket and nothing on the Docker host.
 *
 * Every container the program starts loses its default route (only the test's networks and this
 * machine's address on the test network, where the gateway listens, stay reachable).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as net from "node:net";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { type Ceph, cephSwiftStorage } from "../e2e/infra/ceph";
import { isolate, NETWORK, REGISTRY, sshExec, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { api, e2eLog as log, type RegistryTarget, timed } from "../e2e/support";
import { ageCertificate, setStackConfig, StepLog, type TestStack } from "./engine";
import { type OnCeph, pullOnB as pullB, startOnCeph, stopOnCeph } from "./onCeph";
import { chunkedUploadAcross, digestAt, layersFrom, lbSays as says, pullLoop as loopOn, pushRandomFrom, until } from "./replicaChecks";

const fixture: Partial<OnCeph> = {};
let infra: TestInfra;
let ceph: Ceph;
let s3: S3Client;
let ts: TestStack;
let hostA: TestHost;
let hostB: TestHost;
let ca = "";
let passwords: Record<string, string> = {};
const BUCKET = "pr-e2e-replicas";
const REPLICAS = [REGISTRY.container, `${REGISTRY.container}-2`];
const LB = `${REGISTRY.container}-lb`;
const REDIS = `${REGISTRY.container}-redis`;
const image = `${REGISTRY.name}:${REGISTRY.port}/e2e/replicated:1`;
let pushed = "";

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim();
const running = (c: string) => docker("ps", "-q", "--filter", `name=^${c}$`) !== "";
const health = (c: string) => docker("inspect", "-f", "{{.State.Health.Status}}", c);
const startedAt = (c: string) => docker("inspect", "-f", "{{.State.StartedAt}}", c);
/** A replica's address on the replica network: this machine reaches it directly. */
const replicaIp = (c: string) => docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${REGISTRY.container}-replicas").IPAddress}}`, c);
const direct = (c: string): RegistryTarget => ({ host: replicaIp(c), port: REGISTRY.port, servername: REGISTRY.name, ca });

const setConfig = (key: string, value: unknown, secret = false) => setStackConfig(ts.stack, key, value, secret);

function isolateAll(): void {
    for (const c of [...REPLICAS, LB, REDIS]) if (running(c)) isolate(c, NETWORK.gateway);
}

async function up(): Promise<StepLog> {
    const steps = new StepLog();
    const res = await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    ca = String(res.outputs.caCertPem.value);
    passwords = res.outputs.passwords.value as Record<string, string>;
    isolateAll();
    return steps;
}

const pullOnB = (tag: string) => pullB(fixture as OnCeph, tag);
const lbSays = (replica: string) => says(LB, replica);
const pullLoop = (host: TestHost) => loopOn(infra, host, image);

/** How many keys the program's Redis holds, asked over RESP with the password from its own config. */
async function redisKeys(): Promise<number> {
    const password = /^requirepass (\S+)$/m.exec(docker("exec", REDIS, "cat", "/usr/local/etc/redis/redis.conf"))?.[1] ?? "";
    const ip = docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${REGISTRY.container}-replicas").IPAddress}}`, REDIS);
    return new Promise((resolve, reject) => {
        let got = "";
        const sock = net.connect({ host: ip, port: 6379 }, () => sock.write(`AUTH ${password}\r\nDBSIZE\r\n`));
        sock.on("data", (c) => {
            got += c;
            const m = /\+OK\r\n:(\d+)\r\n/.exec(got);
            if (m) {
                resolve(Number(m[1]));
                sock.end();
            } else if (got.startsWith("-")) reject(new Error(got.trim()));
        });
        sock.on("error", reject);
    });
}

/** The serial number of the certificate a replica serves, verified against `trusted` only. */
function servedSerial(c: string, trusted: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const s = tls.connect({ host: replicaIp(c), port: REGISTRY.port, servername: REGISTRY.name, ca: trusted }, () => {
            resolve(s.getPeerX509Certificate()?.serialNumber ?? "");
            s.end();
        });
        s.on("error", reject);
    });
}

before(async () => {
    ({ infra, ceph, s3, ts, hostA, hostB } = await startOnCeph(fixture, "replicas", BUCKET));
    await setConfig("replicas", "2");
    await setConfig("loadBalancer", { image: "private-registry-test/haproxy:2.6", checkIntervalMs: 500 });
    await setConfig("redisCache", { image: "private-registry-test/redis:7.0" });
});

after(() => stopOnCeph(fixture, BUCKET));

describe("two replicas behind one endpoint on Ceph RGW, on the real engine", () => {
    it("host A pushes through the endpoint; host B pulls it; each replica serves the manifest and layers directly", async () => {
        const steps = await timed("up with 2 replicas and the load balancer", () => up());
        assert.ok(steps.changes().includes("create docker:index/container:Container::registry-registry-lb-container"), steps.changes().join("\n"));
        for (const c of REPLICAS) assert.equal(health(c), "healthy", c);
        const ports = docker("port", LB);
        assert.match(ports, /^5000\/tcp -> 127\.0\.0\.1:5000$/m, "the balancer holds the endpoint's port");
        for (const c of REPLICAS) assert.equal(docker("port", c), "", `${c} publishes nothing`);
        pushed = await pushRandomFrom(infra, hostA, image);
        assert.equal(await pullOnB(image), pushed);
        for (const c of REPLICAS) {
            for (const b of await layersFrom(direct(c), "e2e/replicated", pushed, { user: "puller", password: passwords.puller })) {
                // By default a layer is a redirect to a pre-signed URL of the store (docs: redirects).
                assert.equal(b.status, 307, `${c} serves the layer: ${b.body}`);
                assert.match(String(b.headers.location), new RegExp(`^http://${NETWORK.gateway.replace(/\./g, "\\.")}:${ceph.port}/${BUCKET}/`));
            }
        }
        assert.ok(((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0) > 0, "the data is in the bucket");
        assert.ok((await redisKeys()) > 0, "the replicas share their blob descriptors in the program's Redis");
        assert.equal(docker("port", REDIS), "", "Redis publishes nothing");
    });

    it("a chunked upload started on one replica, continued on the other and finished on the first completes (one http.secret, one store)", async () => {
        const auth = { user: "pusher", password: passwords.pusher };
        const [one, two] = REPLICAS.map(direct);
        const digest = await chunkedUploadAcross(one, two, auth, "e2e/chunked");
        const got = await api(one, "GET", `/v2/e2e/chunked/blobs/${digest}`, auth);
        assert.equal(got.status, 307, "the other replica serves the finished blob (from the store)");
        assert.equal(await digestAt(String(got.headers.location)), digest);
    });

    it("one replica stopped during a pull loop through the endpoint: no pull fails once the balancer has taken it out; started again, it rejoins", async () => {
        const stopped = REPLICAS[1];
        const loop = sshExec(
            infra,
            hostB,
            `ok=0; end=$(($(date +%s) + 40)); while [ $(date +%s) -lt $end ]; do docker rmi -f ${image} >/dev/null 2>&1; ` +
                `if docker pull -q ${image} >/dev/null 2>/tmp/pull.err; then ok=$((ok+1)); else echo "failed at $(date +%s%3N): $(cat /tmp/pull.err)"; fi; done; echo "ok=$ok"`,
        );
        await new Promise((r) => setTimeout(r, 8000));
        const t0 = Date.now();
        docker("stop", "-t", "10", stopped);
        const downAfter = await until("the balancer takes the stopped replica out", () => lbSays(stopped) === "DOWN", 30_000);
        const outAt = Date.now();
        const stoppedFor = Date.now() - t0;
        await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - stoppedFor)));
        docker("start", stopped);
        isolate(stopped, NETWORK.gateway);
        const upAfter = await until("the replica rejoins", () => lbSays(stopped) === "UP", 60_000);
        const result = await loop;
        const ok = Number(/ok=(\d+)/.exec(result.stdout)?.[1] ?? 0);
        const failures = [...result.stdout.matchAll(/failed at (\d+)/g)].map((m) => Number(m[1]));
        const during = failures.filter((t) => t < outAt);
        console.log(
            `  [e2e] pull loop through the endpoint: ${ok + failures.length} pulls; the stopped replica was out of the pool ${(downAfter / 1000).toFixed(1)} s after the stop ` +
                `(${during.length} pull(s) failed in that switch), back ${(upAfter / 1000).toFixed(1)} s after its start`,
        );
        assert.ok(ok > 5, `the loop pulled: ${result.stdout}`);
        assert.deepEqual(
            failures.filter((t) => t >= outAt),
            [],
            `no pull failed once the balancer had taken the replica out: ${result.stdout}`,
        );
    });

    it("radosgw restarted: every replica turns unhealthy and recovers without a restart; no image lost", async () => {
        const before = REPLICAS.map(startedAt);
        await ceph.stopGateway();
        try {
            const down = await until("unhealthy without the gateway", () => REPLICAS.every((c) => health(c) === "unhealthy"));
            log(`unhealthy ${(down / 1000).toFixed(0)} s after radosgw stopped`);
        } finally {
            await ceph.startGateway();
        }
        const back = await until("healthy again", () => REPLICAS.every((c) => health(c) === "healthy"));
        log(`healthy ${(back / 1000).toFixed(0)} s after radosgw came back`);
        assert.deepEqual(REPLICAS.map(startedAt), before, "no replica was restarted");
        await until("the balancer has them back", () => REPLICAS.every((c) => lbSays(c) === "UP"), 30_000);
        assert.equal(await pullOnB(image), pushed, "no image lost");
    });

    it("a server certificate inside its early-renewal window is renewed by a plain up, the replicas rolled one at a time while host B pulls in a loop: no pull fails, the balancer stays", async () => {
        const before = await Promise.all(REPLICAS.map((c) => servedSerial(c, ca)));
        const lbStarted = startedAt(LB);
        // As if the certificate had aged to an hour before its end (the early-renewal window is 720 h):
        // the tls provider's own plan decides to renew.
        assert.equal(await ageCertificate(ts.stack, "registry-cert-cert", new Date(Date.now() + 3_600_000)), 1);
        const loop = await pullLoop(hostB);
        const steps = await timed("up inside the renewal window", () => up());
        assert.ok(steps.changes().includes("replace tls:index/locallySignedCert:LocallySignedCert::registry-cert-cert"), steps.changes().join("\n"));
        await new Promise((r) => setTimeout(r, 3000));
        const result = await loop.stop();
        const replaced = steps.changes().filter((c) => c.includes("Container::registry-registry-container"));
        assert.deepEqual(
            replaced.sort(),
            [
                "replace docker:index/container:Container::registry-registry-container",
                "replace docker:index/container:Container::registry-registry-container-2",
            ],
            steps.changes().join("\n"),
        );
        assert.equal(startedAt(LB), lbStarted, "the balancer was not touched");
        const after = await Promise.all(REPLICAS.map((c) => servedSerial(c, ca)));
        for (const [i, c] of REPLICAS.entries()) assert.notEqual(after[i], before[i], `${c} serves the new certificate`);
        console.log(`  [e2e] pull loop during the renewal: ${result.ok} pulls, ${result.failures.length} failed`);
        assert.ok(result.ok > 3, JSON.stringify(result));
        assert.deepEqual(result.failures, [], "no pull failed");
    });

    it("a CA rollover in three ups (trust both, serve from the new, drop the old) with pull loops on both hosts: no pull fails", async () => {
        const oldCa = ca;
        const certsOnA = async () => {
            const r = await sshExec(infra, hostA, `cat /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port}/ca.crt`);
            return r.stdout;
        };
        const count = (pem: string) => (pem.match(/BEGIN CERTIFICATE/g) ?? []).length;
        const loops = [await pullLoop(hostA), await pullLoop(hostB)];

        await setConfig("tls", { certificate: { validityHours: 4000 }, ca: { generation: 2, rollover: "trust" } });
        await timed("rollover: trust both CAs", () => up());
        assert.equal(count(ca), 2, "the stack's caCertPem holds both");
        assert.ok(ca.startsWith(oldCa.trimEnd()), "the old CA first");
        const newCa = `${ca.slice(oldCa.trimEnd().length).trim()}\n`;
        assert.equal(count(await certsOnA()), 2, "host A trusts both");
        for (const c of REPLICAS) await servedSerial(c, oldCa);

        await setConfig("tls", { certificate: { validityHours: 4000 }, ca: { generation: 2, rollover: "serve" } });
        await timed("rollover: serve from the new CA", () => up());
        for (const c of REPLICAS) {
            await servedSerial(c, newCa);
            await assert.rejects(servedSerial(c, oldCa), /unable to verify|self.signed|certificate/i, `${c} no longer serves from the old CA`);
        }

        await setConfig("tls", { certificate: { validityHours: 4000 }, ca: { generation: 2 } });
        await timed("rollover: drop the old CA", () => up());
        assert.equal(ca, newCa, "the stack's caCertPem is the new CA alone");
        assert.equal((await certsOnA()).trim(), newCa.trim(), "host A trusts the new CA alone");

        await new Promise((r) => setTimeout(r, 3000));
        const results = await Promise.all(loops.map((l) => l.stop()));
        console.log(
            `  [e2e] pull loops during the CA rollover: host A ${results[0].ok} pulls, host B ${results[1].ok}; ${results[0].failures.length + results[1].failures.length} failed`,
        );
        for (const r of results) {
            assert.ok(r.ok > 3, JSON.stringify(r));
            assert.deepEqual(r.failures, [], "no pull failed");
        }
    });

    it("Swift (distribution 2.8, v1 auth): host A pushes through the endpoint, host B pulls, each replica serves the manifest", async () => {
        const objects = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0;
        await setConfig("storage", cephSwiftStorage(ceph, "pr-e2e-swift-replicas", NETWORK.gateway), true);
        await timed("up on Swift", () => up());
        const tag = `${REGISTRY.name}:${REGISTRY.port}/e2e/on-swift:1`;
        const digest = await pushRandomFrom(infra, hostA, tag);
        assert.equal(await pullOnB(tag), digest);
        for (const c of REPLICAS) {
            const m = await api(direct(c), "HEAD", `/v2/e2e/on-swift/manifests/${digest}`, {
                user: "puller",
                password: passwords.puller,
                headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
            });
            assert.equal(m.status, 200, `${c} serves it`);
        }
        assert.ok(((await s3.send(new ListObjectsV2Command({ Bucket: "pr-e2e-swift-replicas" }))).KeyCount ?? 0) > 0, "the Swift container holds the data");
        assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0, objects, "the S3 bucket is left as it was");
    });

    it("destroy removes both replicas, the balancer and their network, and keeps the bucket with its data", async () => {
        const objects = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0;
        await timed("destroy", () => ts.stack.destroy({ color: "never" }));
        for (const c of [...REPLICAS, LB, REDIS]) assert.equal(docker("ps", "-aq", "--filter", `name=^${c}$`), "", `${c} is gone`);
        assert.equal(docker("network", "ls", "-q", "--filter", `name=^${REGISTRY.container}-replicas$`), "", "the replica network is gone");
        assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0, objects, "the bucket keeps every object");
    });
});
