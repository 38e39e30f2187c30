/**
 * A random walk of config changes on the real engine (issue 20): the e2e stack with two client
 * hosts (host-a runs Docker, host-b containerd alone) and filesystem storage. Each step applies one
 * change drawn from the config space (walk/space.ts), some invalid on purpose. After each step:
 * an invalid one is refused naming its key and changes nothing (containers and client files as
 * they were, a preview with no changes); a valid one converges, every image pushed before pulls
 * by digest, a preview shows no changes, and each client's files parse, its runtime runs and it
 * pulls the newest image through the files the program installed. At the end, destroy leaves
 * both hosts' files byte-identical to before and keeps the data volume (keepOnDestroy).
 *
 * Faults (PRIVATE_REGISTRY_WALK_FAULTS=0 turns them off): host-b unreachable during a step's up, or
 * that up's engine killed part way; the step's next up must converge with nothing lost.
 *
 * `npm test` walks one short seed. Longer: PRIVATE_REGISTRY_WALK_SEEDS=1,2,3
 * PRIVATE_REGISTRY_WALK_STEPS=70 node --import tsx --test test/engine/walk.engine.test.ts
 * A failure names its seed, the step and the sequence up to it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { parse as parseToml } from "smol-toml";
import { hostKeyOf, isolate, REGISTRY, sshExec, startInfra, stopInfra, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { api, e2eLog as log, pushRandomImage, type RegistryTarget, timed } from "../e2e/support";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { recoverInterrupted } from "../../scripts/recover";
import { createE2eStack, StepLog, type TestStack } from "./engine";
import { START, type Step, type WalkConfig, walk } from "./walk/space";

const SEEDS = (process.env.PRIVATE_REGISTRY_WALK_SEEDS ?? "59").split(",").map((s) => Number(s.trim()));
const STEPS = Number(process.env.PRIVATE_REGISTRY_WALK_STEPS ?? 7);
const ALIAS = "registry-alias.test";
const OCI = { accept: "application/vnd.oci.image.manifest.v1+json" };

let infra: TestInfra;
let hostA: TestHost;
let hostB: TestHost;
const keys: Record<"a" | "b", string> = { a: "", b: "" };
/** Each host's managed files before the first step. */
const pristine: Record<"a" | "b", string> = { a: "", b: "" };
const FAULTS = process.env.PRIVATE_REGISTRY_WALK_FAULTS !== "0";
const totals = { seeds: 0, steps: 0, invalid: 0, refused: 0, faults: 0, killed: 0, imagesChecked: 0, lost: 0, clientPulls: 0 };

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const running = (c: string) => {
    try {
        return docker("inspect", "-f", "{{.State.Running}}", c) === "true";
    } catch {
        return false;
    }
};

/** Every file, folder and link a client run may touch on a host, with mode, owner and content hash; read without SSH. */
function managedFiles(h: TestHost): string {
    const script = [
        "for d in /etc/docker /etc/containerd /etc/containers /etc/rancher /etc/buildkit /root/.docker /home/deploy/.docker /var/lib/private-registry; do",
        '  [ -e "$d" ] && find "$d" -xdev',
        "done | sort | while read -r f; do",
        '  if [ -L "$f" ]; then echo "$f link $(readlink "$f")";',
        '  elif [ -d "$f" ]; then echo "$f dir $(stat -c %a:%u:%g "$f")";',
        '  else echo "$f file $(stat -c %a:%u:%g "$f") $(sha256sum < "$f" | cut -c1-64)"; fi',
        "done",
    ].join("\n");
    return docker("exec", h.container, "sh", "-c", script);
}

/** The stack config of a walk state (the keys the walk manages), as setAllConfig takes it. */
function configOf(c: WalkConfig, raw: Record<string, unknown> = {}): Record<string, { value: string; secret?: boolean }> {
    const host = (x: WalkConfig["clients"][number]) =>
        x.host === "a"
            ? { name: x.name, host: hostA.ip, hostKey: keys.a, login: "pusher", ...(x.runtimes ? { runtimes: x.runtimes } : {}) }
            : { name: x.name, host: hostB.ip, hostKey: keys.b, user: "deploy", login: false, runtimes: x.runtimes };
    const values: Record<string, unknown> = {
        users: c.users.map((u) => ({ name: u.name, ...(u.rotate > 0 ? { rotate: u.rotate } : {}) })),
        tls: { minimumTls: c.minimumTls },
        containerName: c.containerName,
        data: { volumeName: c.volumeName, keepOnDestroy: true },
        port: c.port,
        hostnames: c.alias ? [REGISTRY.name, ALIAS] : [REGISTRY.name],
        replicas: c.replicas,
        ...(c.replicas > 1 ? { loadBalancer: { image: "private-registry-test/haproxy:2.6", checkIntervalMs: 500 } } : {}),
        clients: c.clients.map(host),
        daemonJson: { debug: true, maxConcurrentDownloads: c.maxConcurrentDownloads },
        ...raw,
    };
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [`private-registry:${k}`, { value: typeof v === "string" ? v : JSON.stringify(v) }]));
}

/** The registry's containers of a config (replicas and balancer), running ones only. */
function registryContainers(c: WalkConfig): string[] {
    return [c.containerName, `${c.containerName}-2`, `${c.containerName}-lb`].filter(running);
}

const containerIds = (c: WalkConfig) => registryContainers(c).map((n) => `${n}=${docker("inspect", "-f", "{{.Id}}", n)}`);

/**
 * The step's fault during a first up: host-b paused (unreachable), or the up's CLI killed part way.
 * That up may fail (naming host-b, for the first); the step's own up that follows must converge.
 */
async function inject(step: Step, seed: number, ts: TestStack): Promise<void> {
    const fault = step.fault;
    if (!fault) return;
    if (fault.kind === "host-b unreachable") {
        docker("pause", hostB.container);
        try {
            const err = await timed(`${step.name}: up with host-b paused`, () => ts.stack.up({ color: "never" })).then(
                () => undefined,
                (e: Error) => e.message,
            );
            if (err) assert.ok(err.includes(hostB.ip), `the failed up names the unreachable host: ${err.slice(0, 1500)}`);
        } finally {
            docker("unpause", hostB.container);
        }
        return;
    }
    // Killed once the engine has begun changing resources, part way into the first change.
    let killer: NodeJS.Timeout | undefined;
    const kill = () => {
        try {
            // The engine itself, as a lost terminal or a crash would end it; its plugins go with it.
            execFileSync("pkill", ["-KILL", "-f", `pulumi up .*--stack walk-${seed}( |$)`]);
        } catch {
            // already finished
        }
    };
    const onEvent = (e: EngineEvent) => {
        const op = e.resourcePreEvent?.metadata.op;
        if (killer === undefined && op !== undefined && op !== "same" && op !== "read") killer = setTimeout(kill, fault.killAfterMs % 1500);
    };
    const outcome = await ts.stack.up({ onEvent, color: "never" }).then(
        () => "finished before the kill",
        (e: Error) => e.message,
    );
    clearTimeout(killer);
    console.log(`    [walk] ${step.name}: the killed up: ${outcome.split("\n").slice(0, 2).join(" ").slice(0, 300)}`);
    if (outcome === "finished before the kill") return;
    totals.killed++;
    // What `npm run up` does first: the lock of the engine that no longer runs goes, and so do
    // the containers and networks it created without recording them.
    const recovered = recoverInterrupted(`file://${ts.dir}/state`, "private-registry", `walk-${seed}`);
    console.log(`    [walk] recovered: ${recovered.join("; ")}`);
    assert.ok(recovered[0]?.startsWith("removed the lock"), "the killed engine's lock is found stale and removed");
}

/** One seed's walk on its own stack: returns when destroy has left both hosts as they were. */
async function walkSeed(seed: number, steps: Step[]): Promise<void> {
    const ts: TestStack = await createE2eStack({ name: `walk-${seed}`, sshPrivateKeyPem: infra.sshKey.privateKeyPem, log });
    const pushed: { digest: string; repo: string; tag: string }[] = [];
    let c: WalkConfig = START;
    let kept = START.volumeName;
    let target: RegistryTarget = { host: "127.0.0.1", port: c.port, servername: REGISTRY.name, ca: "" };
    let passwords: Record<string, string> = {};
    const removeLoadBalancer = async (cfg: WalkConfig) => {
        if (cfg.replicas === 1) await ts.stack.removeConfig("private-registry:loadBalancer");
    };

    /** up, then the checks every valid step ends with. */
    const converge = async (what: string, n: number) => {
        const stepLog = new StepLog();
        const res = await timed(`seed ${seed} step ${n}: ${what}`, () => ts.stack.up({ onEvent: stepLog.onEvent, color: "never" }));
        for (const name of registryContainers(c)) isolate(name);
        target = { host: "127.0.0.1", port: c.port, servername: REGISTRY.name, ca: String(res.outputs.caCertPem.value) };
        passwords = res.outputs.passwords.value as Record<string, string>;
        if (c.volumeName !== kept) {
            assert.ok(
                stepLog.diagnostics.some((d) => d.startsWith("warning:") && d.includes("data.volumeName") && d.includes(kept)),
                `a volume name other than the kept ${kept} is warned about: ${stepLog.diagnostics.join("\n")}`,
            );
        }
        const auth = { user: "pusher", password: passwords.pusher };
        for (const p of pushed) {
            const r = await api(target, "GET", `/v2/${p.repo}/manifests/${p.digest}`, { ...auth, headers: OCI });
            totals.imagesChecked++;
            if (r.status !== 200) totals.lost++;
            assert.equal(r.status, 200, `${p.repo}@${p.digest} (pushed before) pulls by digest`);
        }
        const tag = `s${n}`;
        pushed.push({ repo: "walk/app", tag, digest: await pushRandomImage(target, auth, "walk/app", tag, 50_000) });
        await ts.stack.preview({ expectNoChanges: true, color: "never" });
        const newest = pushed[pushed.length - 1];
        for (const client of c.clients) {
            if (client.host === "a") {
                const daemonJson = JSON.parse((await sshExec(infra, hostA, "cat /etc/docker/daemon.json")).stdout);
                assert.equal(daemonJson["max-concurrent-downloads"], c.maxConcurrentDownloads, "host-a's daemon.json parses and has the step's value");
                const pull = await sshExec(infra, hostA, `docker pull -q ${REGISTRY.name}:${c.port}/walk/app@${newest.digest}`);
                assert.equal(pull.code, 0, `host-a pulls through its certs.d and login: ${pull.stdout}`);
            } else {
                const toml = (await sshExec(infra, hostB, "cat /etc/containerd/config.toml")).stdout;
                assert.doesNotThrow(() => parseToml(toml), "host-b's config.toml parses");
                const cri = await sshExec(infra, hostB, 'ctr plugins ls | awk \'$1 == "io.containerd.grpc.v1" && $2 == "cri" { print $NF }\'');
                assert.equal(cri.stdout.trim(), "ok", "host-b's containerd serves CRI");
                const fetch = await sshExec(
                    infra,
                    hostB,
                    `ctr -n walk content fetch --hosts-dir /etc/containerd/certs.d --user puller:"$(cat)" ${REGISTRY.name}:${c.port}/walk/app:${newest.tag} >/dev/null`,
                    { stdin: passwords.puller },
                );
                assert.equal(fetch.code, 0, `host-b's containerd pulls through its hosts.toml and CA: ${fetch.stdout}`);
            }
            totals.clientPulls++;
        }
        for (const h of ["a", "b"] as const) {
            if (!c.clients.some((x) => x.host === h))
                assert.equal(managedFiles(h === "a" ? hostA : hostB), pristine[h], `host-${h}, no longer a client, is as it was`);
        }
    };

    const done: string[] = [];
    try {
        await ts.stack.setAllConfig(configOf(c));
        await converge("the start", 0);
        for (const [i, step] of steps.entries()) {
            const n = i + 1;
            done.push(step.name);
            totals.steps++;
            if (step.refusedKey) {
                totals.invalid++;
                const ids = containerIds(c);
                const files = { a: managedFiles(hostA), b: managedFiles(hostB) };
                await ts.stack.setAllConfig(configOf(c, step.raw));
                const err = await ts.stack.up({ color: "never" }).then(
                    () => undefined,
                    (e: Error) => e.message,
                );
                assert.ok(err, `${step.name}: the up is refused`);
                assert.ok(
                    err.includes(`private-registry:${step.refusedKey}`),
                    `${step.name}: the error names private-registry:${step.refusedKey}: ${err.slice(0, 2000)}`,
                );
                totals.refused++;
                await ts.stack.setAllConfig(configOf(c));
                await removeLoadBalancer(c);
                assert.deepEqual(containerIds(c), ids, `${step.name}: no container touched`);
                assert.deepEqual({ a: managedFiles(hostA), b: managedFiles(hostB) }, files, `${step.name}: no client file touched`);
                await ts.stack.preview({ expectNoChanges: true, color: "never" });
                continue;
            }
            c = step.next;
            await ts.stack.setAllConfig(configOf(c));
            await removeLoadBalancer(c);
            if (step.fault) {
                totals.faults++;
                await inject(step, seed, ts);
            }
            await converge(step.name, n);
        }
        await timed(`seed ${seed}: destroy`, () => ts.stack.destroy({ color: "never" }));
        assert.equal(managedFiles(hostA), pristine.a, "host-a is byte-identical to before the walk");
        assert.equal(managedFiles(hostB), pristine.b, "host-b is byte-identical to before the walk");
        // keepOnDestroy: the volume the stack kept outlives it, with the images.
        assert.equal(docker("volume", "ls", "-q", "--filter", `name=^${kept}$`), kept, "the data volume is kept on destroy");
        totals.seeds++;
    } catch (e) {
        const replay = `PRIVATE_REGISTRY_WALK_SEEDS=${seed} PRIVATE_REGISTRY_WALK_STEPS=${steps.length} node --import tsx --test test/engine/walk.engine.test.ts`;
        (e as Error).message =
            `walk seed ${seed}, step ${done.length} of ${steps.length} (${done[done.length - 1] ?? "the start"}): ${(e as Error).message}\nsteps: ${done.join(" → ")}\nreplay: ${replay}`;
        await ts.stack.destroy({ color: "never" }).catch((d) => log(`destroy after the failure: ${(d as Error).message}`));
        throw e;
    } finally {
        for (const v of [START.volumeName, "pr-e2e-walk-data"]) {
            try {
                docker("volume", "rm", "-f", v);
            } catch {
                // in use or absent
            }
        }
        kept = START.volumeName;
    }
}

before(async () => {
    await timed("infrastructure: network, host-a (Docker) and host-b (containerd alone)", async () => {
        infra = await startInfra(2, log, { containerdOnly: ["host-b"] });
    });
    [hostA, hostB] = infra.hosts;
    keys.a = hostKeyOf(hostA);
    keys.b = hostKeyOf(hostB);
    pristine.a = managedFiles(hostA);
    pristine.b = managedFiles(hostB);
});

after(() => {
    for (const n of ["pr-e2e-walk", "pr-e2e-walk-2", "pr-e2e-walk-lb", "pr-e2e-walk-installer"]) {
        try {
            docker("rm", "-f", "-v", n);
        } catch {
            // absent
        }
    }
    stopInfra();
});

describe("a random walk of config changes on the real engine", () => {
    for (const seed of SEEDS) {
        const steps = walk(seed, STEPS, FAULTS);
        it(`seed ${seed}, ${STEPS} steps: ${steps.map((s) => s.name).join(" → ")}`, () => walkSeed(seed, steps));
    }
    it("checked what it says: every step counted, every invalid step refused, no image lost", () => {
        console.log(
            `    [walk] totals: ${totals.seeds} seeds, ${totals.steps} steps (${totals.invalid} invalid, ${totals.refused} refused), ${totals.faults} faults (${totals.killed} ups killed part way), ${totals.imagesChecked} image pulls checked, ${totals.lost} lost, ${totals.clientPulls} client pulls`,
        );
        assert.equal(totals.seeds, SEEDS.length);
        assert.equal(totals.steps, SEEDS.length * STEPS);
        assert.equal(totals.refused, totals.invalid);
        assert.ok(totals.imagesChecked > 0);
        assert.equal(totals.lost, 0);
    });
});
