/**
 * Day-2 operations on the real engine (the e2e stack, 2 client hosts): Prometheus metrics on the
 * debug port (published on 127.0.0.1 of the Docker host only), a webhook receiver that gets the
 * push notification with our secret header, a password rotation (`users[].rotate`) while another
 * user pulls in a loop, and a pull-through cache of a second local registry that keeps serving once
 * that upstream is stopped. The webhook receiver listens on the test network's gateway address, so
 * only the test's containers reach it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { hostKeyOf, isolate, NETWORK, REGISTRY, REGISTRY_IMAGE, sshExec, startInfra, stopInfra, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { api, e2eLog as log, pushRandomImage, type RegistryTarget, timed } from "../e2e/support";
import { createE2eStack, setStackConfig, StepLog, type TestStack, withConfigRestored } from "./engine";

let infra: TestInfra;
let ts: TestStack;
let hostA: TestHost;
let hostB: TestHost;
let target: RegistryTarget;
let passwords: Record<string, string>;
const events: { auth?: string; body: { events?: { action: string; target?: { repository?: string } }[] } }[] = [];
let receiver: http.Server;
const TOKEN = `Bearer ${crypto.randomBytes(12).toString("hex")}`;
const UPSTREAM = { container: "pr-e2e-upstream", ip: "10.231.77.30", port: 5000 };
const image = `${REGISTRY.name}:${REGISTRY.port}/day2/app:1`;
let pushed = "";

async function up(): Promise<StepLog> {
    const steps = new StepLog();
    const res = await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    target = { host: "127.0.0.1", port: REGISTRY.port, servername: REGISTRY.name, ca: String(res.outputs.caCertPem.value) };
    passwords = res.outputs.passwords.value as Record<string, string>;
    isolate(REGISTRY.container);
    return steps;
}

const setConfig = (key: string, value: unknown, secret = false) => setStackConfig(ts.stack, key, value, secret);

const registryConfig = (receiverPort: number, extra: Record<string, unknown> = {}) => ({
    deleteEnabled: true,
    logLevel: "info",
    debugPort: 5001,
    prometheus: true,
    notifications: [{ name: "audit", url: `http://${NETWORK.gateway}:${receiverPort}/events`, headers: { Authorization: [TOKEN] }, timeout: "2s" }],
    ...extra,
});

before(async () => {
    await timed("infrastructure: network and 2 client hosts", async () => {
        infra = await startInfra(2, log);
    });
    [hostA, hostB] = infra.hosts;
    receiver = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => {
            body += c;
        });
        req.on("end", () => {
            try {
                events.push({ auth: req.headers.authorization, body: JSON.parse(body) });
            } catch {
                // not a notification envelope
            }
            res.writeHead(200).end();
        });
    });
    await new Promise<void>((resolve) => receiver.listen(0, NETWORK.gateway, resolve));
    ts = await createE2eStack({ name: "day2", sshPrivateKeyPem: infra.sshKey.privateKeyPem, log });
    await setConfig("clients", [
        { name: "host-a", host: hostA.ip, hostKey: hostKeyOf(hostA), login: "pusher" },
        { name: "host-b", host: hostB.ip, hostKey: hostKeyOf(hostB), user: "deploy", login: "puller" },
    ]);
    await setConfig("registry", registryConfig((receiver.address() as { port: number }).port), true);
});

after(async () => {
    if (ts) await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    receiver?.close();
    try {
        execFileSync("docker", ["rm", "-f", "-v", UPSTREAM.container], { stdio: "ignore" });
    } catch {
        // absent
    }
    stopInfra();
});

describe("day-2 operations on the real engine", () => {
    it("metrics on 127.0.0.1 of the Docker host show the push; the webhook receiver gets it with our header", async () => {
        await timed("up with metrics and a notification endpoint", () => up());
        pushed = await timed("push", async () => {
            const r = await sshExec(
                infra,
                hostA,
                `set -e; d=$(mktemp -d); head -c 100000 /dev/urandom > $d/b; tar -C $d -c . | docker import - ${image} >/dev/null; docker push ${image}`,
            );
            assert.equal(r.code, 0, r.stdout);
            return /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1] ?? "";
        });
        const metrics = await new Promise<string>((resolve, reject) =>
            http
                .get("http://127.0.0.1:5001/metrics", (res) => {
                    let b = "";
                    res.on("data", (c) => {
                        b += c;
                    });
                    res.on("end", () => resolve(b));
                })
                .on("error", reject),
        );
        assert.match(metrics, /registry_http_requests_total\{[^}]*method="put"[^}]*\} [1-9]/, "a PUT (the manifest) is counted");
        const ports = execFileSync("docker", ["port", REGISTRY.container]).toString();
        assert.match(ports, /^5001\/tcp -> 127\.0\.0\.1:5001$/m, "the debug port is published on loopback only");
        for (let i = 0; i < 40 && !events.some((e) => e.body.events?.some((x) => x.action === "push" && x.target?.repository === "day2/app")); i++) {
            await new Promise((r) => setTimeout(r, 250));
        }
        const push = events.find((e) => e.body.events?.some((x) => x.action === "push" && x.target?.repository === "day2/app"));
        assert.ok(push, `a push event reached the receiver (${events.length} envelopes)`);
        assert.equal(push.auth, TOKEN, "with our Authorization header");
        // The state file as the backend keeps it (an export would show secrets decrypted).
        const state = fs.readFileSync(ts.stateFile, "utf8");
        assert.ok(state.includes("ciphertext"), "the state holds secrets, encrypted");
        assert.ok(!state.includes(TOKEN.slice(7)), "the header's token is not in the state in plaintext");
    });

    it("a password rotated with users[].rotate: the new one works, the old one is refused, host A is logged in with it, and a puller's loop sees 0 errors", async () => {
        const old = passwords.pusher;
        let stop = false;
        const results: number[] = [];
        const loop = (async () => {
            while (!stop) {
                const r = await api(target, "GET", `/v2/day2/app/manifests/${pushed}`, {
                    user: "puller",
                    password: passwords.puller,
                    headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
                }).catch(() => ({ status: 0 }));
                results.push(r.status);
            }
        })();
        try {
            await setConfig("users", [{ name: "pusher", rotate: 1 }, { name: "puller" }]);
            const steps = await timed("up with pusher's password rotated", () => up());
            assert.ok(
                steps.changes().includes("replace random:index/randomPassword:RandomPassword::registry-users-password-pusher"),
                steps.changes().join("\n"),
            );
        } finally {
            stop = true;
            await loop;
        }
        assert.notEqual(passwords.pusher, old);
        assert.ok(results.length >= 10, `the loop ran (${results.length} requests)`);
        assert.deepEqual(
            results.filter((s) => s !== 200),
            [],
        );
        assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: old })).status, 401, "the old password is refused");
        assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: passwords.pusher })).status, 200);
        const again = await sshExec(infra, hostA, `docker push ${image}`);
        assert.equal(again.code, 0, `host A pushes with the rotated password: ${again.stdout}`);
    });

    it("a pull-through cache of a second registry: the first pull fetches from it, a second pull is served from the cache with it stopped", () =>
        // A pull-through cache refuses pushes: the tests after this one need the plain registry back.
        withConfigRestored(ts.stack, ["registry"], async () => {
            // The upstream: the same registry image, plain HTTP, no auth, on the test network.
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-upstream-"));
            fs.writeFileSync(
                path.join(dir, "config.yml"),
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n",
            );
            fs.chmodSync(dir, 0o755);
            execFileSync("docker", [
                "run",
                "-d",
                "--name",
                UPSTREAM.container,
                "--label",
                "private-registry-e2e",
                "--network",
                NETWORK.name,
                "--ip",
                UPSTREAM.ip,
                "--dns",
                "127.0.0.1",
                "-v",
                `${dir}/config.yml:/etc/docker/registry/config.yml:ro`,
                REGISTRY_IMAGE,
                "serve",
                "/etc/docker/registry/config.yml",
            ]);
            isolate(UPSTREAM.container);
            const upstreamTag = `${UPSTREAM.ip}:${UPSTREAM.port}/library/cached:1`;
            // Host A pushes to the upstream directly (plain HTTP: allowed for this one address only here).
            const seed = await sshExec(
                infra,
                hostA,
                `set -e; d=$(mktemp -d); head -c 200000 /dev/urandom > $d/b; tar -C $d -c . | docker import - ${upstreamTag} >/dev/null; ` +
                    `curl -sf -o /dev/null http://${UPSTREAM.ip}:${UPSTREAM.port}/v2/ && echo upstream-up`,
            );
            assert.equal(seed.code, 0, seed.stdout);
            // dockerd pushes to a plain-HTTP registry only when told it is insecure: a copy through the API instead.
            const copy = await sshExec(
                infra,
                hostA,
                `set -e; d=$(mktemp -d); docker save ${upstreamTag} | tar -C $d -x; cd $d; ` +
                    // A docker save archive: manifest.json names the config and the layer tars.
                    `cfg=$(sed -n 's/.*"Config":"\\([^"]*\\)".*/\\1/p' manifest.json); layer=$(sed -n 's/.*"Layers":\\["\\([^"]*\\)".*/\\1/p' manifest.json); ` +
                    `gzip -n < $layer > layer.gz; up() { loc=$(curl -sf -X POST -D - -o /dev/null http://${UPSTREAM.ip}:${UPSTREAM.port}/v2/library/cached/blobs/uploads/ | tr -d '\\r' | sed -n 's/^Location: //Ip'); ` +
                    `curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @$1 "$loc&digest=sha256:$(sha256sum $1 | cut -d' ' -f1)" -o /dev/null; }; up $cfg; up layer.gz; ` +
                    `printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%s,"digest":"sha256:%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%s,"digest":"sha256:%s"}]}' ` +
                    `$(stat -c %s $cfg) $(sha256sum $cfg | cut -d' ' -f1) $(stat -c %s layer.gz) $(sha256sum layer.gz | cut -d' ' -f1) > m.json; ` +
                    `curl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary @m.json http://${UPSTREAM.ip}:${UPSTREAM.port}/v2/library/cached/manifests/1 -o /dev/null; ` +
                    `sha256sum m.json | cut -d' ' -f1`,
            );
            assert.equal(copy.code, 0, copy.stdout);
            const manifestDigest = `sha256:${copy.stdout.trim().split("\n").pop()}`;
            const registry = JSON.parse(String((await ts.stack.getConfig("private-registry:registry")).value));
            await setConfig("registry", { ...registry, proxy: { remoteUrl: `http://${UPSTREAM.ip}:${UPSTREAM.port}` } }, true);
            await timed("up as a pull-through cache", () => up());
            const tag = `${REGISTRY.name}:${REGISTRY.port}/library/cached:1`;
            const pull = () =>
                sshExec(
                    infra,
                    hostB,
                    `docker rmi -f ${tag} >/dev/null 2>&1; docker pull ${tag} >/dev/null && docker inspect --format '{{index .RepoDigests 0}}' ${tag}`,
                );
            const first = await pull();
            assert.equal(first.code, 0, first.stdout);
            assert.ok(first.stdout.trim().endsWith(`@${manifestDigest}`), `${first.stdout} is the upstream's ${manifestDigest}`);
            execFileSync("docker", ["stop", UPSTREAM.container]);
            const second = await pull();
            assert.equal(second.code, 0, `served from the cache with the upstream stopped: ${second.stdout}`);
            assert.ok(second.stdout.trim().endsWith(`@${manifestDigest}`));
        }));

    it("air-gapped: with the image only in a docker save archive, up loads it onto the Docker host; a second up loads nothing", async () => {
        const tag = "private-registry-test/registry:2.8-airgap";
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-airgap-"));
        const archive = path.join(dir, "registry.tar");
        execFileSync("docker", ["tag", REGISTRY_IMAGE, tag]);
        execFileSync("docker", ["save", "-o", archive, tag]);
        execFileSync("docker", ["rmi", tag]);
        assert.throws(() => execFileSync("docker", ["image", "inspect", tag], { stdio: "ignore" }), "the Docker host has no such image");
        try {
            await setConfig("image", tag);
            await setConfig("imageArchive", archive);
            const steps = await timed("up from the archive", () => up());
            assert.ok(steps.changes().includes("create command:local:Command::registry-registry-image-load"), steps.changes().join("\n"));
            execFileSync("docker", ["image", "inspect", tag], { stdio: "ignore" });
            const running = execFileSync("docker", ["inspect", "-f", "{{.Config.Image}}", REGISTRY.container]).toString().trim();
            assert.match(running, /^sha256:/);
            assert.equal(execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", tag]).toString().trim(), running, "the registry runs the loaded image");
            const again = await up();
            assert.deepEqual(again.changes(), [], "a second up loads nothing");
        } finally {
            // The image stays on the Docker host; the archive goes, and with it the key naming it.
            await ts.stack.removeConfig("private-registry:imageArchive");
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("imports: two archives (both docker save layouts) and an image of the Docker host pull by digest on a client; a second up copies nothing; a removed entry stays", () =>
        withConfigRestored(ts.stack, ["registry", "imports"], async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-imports-"));
            const local = (name: string, bytes: number) => {
                const src = path.join(dir, name);
                fs.mkdirSync(src);
                fs.writeFileSync(path.join(src, "data"), crypto.randomBytes(bytes));
                execFileSync("sh", ["-c", `tar -C ${src} -c . | docker import - private-registry-test/${name}:1 >/dev/null`]);
                return `private-registry-test/${name}:1`;
            };
            const [app, tool, base] = [local("app", 3_000_000), local("tool", 1_500_000), local("base", 800_000)];
            const dockerSave = path.join(dir, "app.tar");
            const ociArchive = path.join(dir, "tool-oci.tar");
            try {
                execFileSync("docker", ["save", "-o", dockerSave, app]);
                execFileSync("skopeo", ["copy", "-q", `docker-daemon:${tool}`, `oci-archive:${ociArchive}:${tool}`]);
                execFileSync("docker", ["rmi", app, tool], { stdio: "ignore" });
                const imports = [
                    { archive: dockerSave, to: "airgap/app:1" },
                    { archive: ociArchive, to: "airgap/tool:1" },
                    { image: base, to: "airgap/base:1" },
                ];
                await setConfig("imports", imports);
                const steps = await timed("up with 3 imports", () => up());
                const copies = steps.changes().filter((c) => c.includes("ImageCopy"));
                assert.equal(copies.length, 3, steps.changes().join("\n"));
                assert.ok(
                    steps.info.some((m) => /airgap\/app:1: blob [0-9a-f]{12} copied/.test(m)),
                    `progress is shown as the blobs go: ${steps.info.join(" | ")}`,
                );
                const outputs = await ts.stack.outputs();
                const imported = outputs.imported.value as Record<string, string>;
                assert.deepEqual(Object.keys(imported).sort(), ["airgap/app:1", "airgap/base:1", "airgap/tool:1"]);
                const ociManifest = execFileSync("skopeo", ["inspect", "--raw", `oci-archive:${ociArchive}`]);
                const ociDigest = `sha256:${crypto.createHash("sha256").update(ociManifest).digest("hex")}`;
                assert.equal(imported["airgap/tool:1"], ociDigest, "the OCI archive's manifest digest is kept");
                const pullByDigest = async (repo: string) => {
                    const ref = `${REGISTRY.name}:${REGISTRY.port}/${repo}@${imported[`${repo}:1`]}`;
                    const r = await sshExec(
                        infra,
                        hostB,
                        `docker pull -q ${ref} >/dev/null && docker image inspect -f '{{.Id}}' ${ref} && docker rmi -f ${ref} >/dev/null`,
                    );
                    assert.equal(r.code, 0, `${ref}: ${r.stdout}`);
                    return r.stdout.trim();
                };
                for (const repo of ["airgap/app", "airgap/tool", "airgap/base"]) await pullByDigest(repo);

                const again = await timed("up again", () => up());
                assert.deepEqual(again.changes(), [], "a second up copies nothing");

                await setConfig("imports", imports.slice(1));
                const removed = await up();
                assert.deepEqual(
                    removed.changes().filter((c) => c.includes("ImageCopy")),
                    ["delete pulumi-nodejs:dynamic/private-registry:ImageCopy::registry-import-airgap/app:1-copy"],
                );
                await pullByDigest("airgap/app");
            } finally {
                // The archives go, and with them (withConfigRestored) the entries naming them; the images stay.
                execFileSync("docker", ["rmi", "-f", base], { stdio: "ignore" });
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }));

    it("scheduled garbage collection: a run (USR1) frees a deleted image's layer, keeps the others, and leaves the registry read-write", async () => {
        const scheduler = `${REGISTRY.container}-gc`;
        await setConfig("gcSchedule", { intervalHours: 24, image: "private-registry-test/client-host:bookworm" });
        const steps = await timed("up with the scheduler", () => up());
        assert.ok(steps.changes().includes("create docker:index/container:Container::registry-registry-gc-container"), steps.changes().join("\n"));
        const used = () =>
            Number(
                execFileSync("docker", ["run", "--rm", "-v", `${REGISTRY.volume}:/d`, "--entrypoint", "/bin/busybox", REGISTRY_IMAGE, "du", "-sk", "/d"])
                    .toString()
                    .split(/\s+/)[0],
            );
        const pusher = { user: "pusher", password: passwords.pusher };
        const doomed = await pushRandomImage(target, pusher, "day2/doomed", "1", 4_000_000);
        const kept = await pushRandomImage(target, pusher, "day2/kept", "1", 100_000);
        const del = await api(target, "DELETE", `/v2/day2/doomed/manifests/${doomed}`, pusher);
        assert.equal(del.status, 202, del.body);
        const before = used();
        execFileSync("docker", ["kill", "--signal", "USR1", scheduler]);
        const logs = () => execFileSync("sh", ["-c", `docker logs ${scheduler} 2>&1`]).toString();
        const t0 = Date.now();
        while (!/gc-scheduler: done at/.test(logs())) {
            assert.ok(Date.now() - t0 < 120_000, `no run finished in 120 s:\n${logs()}`);
            await new Promise((r) => setTimeout(r, 500));
        }
        isolate(REGISTRY.container);
        const after = used();
        log(`scheduled gc freed ${before - after} KiB:\n${logs()}`);
        assert.ok(before - after >= 3900, `the deleted image's 4 MB layer is gone (${before} KiB before, ${after} after)`);
        assert.match(logs(), /gc-scheduler: read-only\n(.*\n)*gc-scheduler: garbage-collect\n(.*\n)*gc-scheduler: read-write/);
        const m = await api(target, "GET", `/v2/day2/kept/manifests/${kept}`, { ...pusher, headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
        assert.equal(m.status, 200, "the image still tagged is intact");
        await pushRandomImage(target, pusher, "day2/after-gc", "1", 1000);
        assert.ok(!logs().includes("did not come back healthy"));
    });
});
