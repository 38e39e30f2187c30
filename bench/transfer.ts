/**
 * The transfer section of `npm run bench`: push and pull throughput of a 512 MiB image, and the
 * wall time of ten concurrent pulls of it, through the registry as the program deploys it (a stack
 * `pulumi up` makes: TLS with the program's CA, htpasswd basic auth with a generated user) and
 * through the same image run bare (`docker run`: its default config, plain HTTP, no auth), in one
 * run, each step on both sides back to back; medians and deployed/bare ratios against the goals.
 * A third side, the same image bare but serving TLS (a throw-away certificate), splits the gap:
 * deployed/bare-TLS is what the deployment costs beyond TLS itself.
 *
 * The client (benchClient.ts, in Go) speaks the registry HTTP API v2 like Docker: an anonymous
 * `GET /v2/` ping, then basic auth on every request (the registry checks the bcrypt hash each
 * time), one keep-alive connection per push or pull. A push is, per blob, HEAD, POST, one streamed
 * PATCH, PUT `?digest=` and HEAD, then the manifest PUT; a pull is the manifest's HEAD and GET and
 * the config's and the layer's GET, all digests verified (in the concurrent pulls, the layer's of
 * one). The image is one uncompressed tar layer of fresh random bytes per push, so no push is ever
 * deduplicated. No host configuration is touched; all traffic goes to 127.0.0.1.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildClient, type ClientResult, type ClientTarget, runClient } from "./client";
import { makePki, type Pki } from "../test/support/pki";
import { type Cpu, cpuMeter } from "./cpu";
import { beyondMemory, CONCURRENT, FILE_BYTES, type Figures, firstRoundBeyondMemory, MIB, SIDES, type Side, transferReport } from "./transferReport";
import { createStack, type TestStack } from "../test/engine/engine";
import { REGISTRY_DEFAULTS } from "../components/defaults";

/** Every Docker object and stack this section creates: its names only, and its ports only. */
const OWN = {
    stack: "bench-transfer",
    deployed: { container: "bench-registry", volume: "bench-registry-data", port: 5111 },
    bare: { container: "bench-registry-bare", volume: "bench-registry-bare-data", port: 5112 },
    bareTls: { container: "bench-registry-bare-tls", volume: "bench-registry-bare-tls-data", port: 5113 },
};
/** The prefix of every container and volume name this section makes (directly or through the stack). */
const PREFIX = "bench-registry";
const IMAGE = "registry:3.1.2";
const log = (m: string) => console.error(`[bench] ${m}`);
/** One registry under test. */
interface Target extends ClientTarget {
    side: Side;
    /** CPU spent by the registry container and its docker-proxy. */
    meter: ReturnType<typeof cpuMeter>;
}

/** Runs the client and returns its result with the CPU the registry, its proxy and the client spent. */
async function metered(bin: string, target: Target, mode: "push" | "pull", flags: Record<string, string>): Promise<[ClientResult, Cpu]> {
    const c0 = target.meter.sample();
    const r = await runClient(bin, mode, target, flags);
    return [r, { ...target.meter.since(c0), client: r.cpu }];
}

/** An image pushed in a round: its tag and the manifest digest the tag must resolve to. */
type Pushed = { tag: string; manifest: string };

/** Pulls each image in turn, one client at a time: their bytes, the seconds of it all and the CPU spent. */
async function pullEach(bin: string, target: Target, images: Pushed[]): Promise<[ClientResult, Cpu]> {
    const c0 = target.meter.sample();
    let bytes = 0;
    let seconds = 0;
    let cpu = 0;
    for (const { tag, manifest } of images) {
        const r = await runClient(bin, "pull", target, { tag, manifest, n: "1" });
        bytes += r.bytes;
        seconds += r.seconds;
        cpu += r.cpu;
    }
    return [
        { bytes, seconds, cpu, requests: 0 },
        { ...target.meter.since(c0), client: cpu },
    ];
}

/**
 * How many pairs of samples, deployed and bare TLS back to back, each step takes per round at least
 * (`BENCH_REPEATS` where that is more). Two identical bare TLS registries, pulled alternately here,
 * differed by 6–9 % (standard deviation) from one pair to the next, whether through the published
 * port or the containers' own addresses: the verdict needs many pairs, most where they are cheap.
 */
const PAIRS = { push: 5, pull: 15, concurrent: 5, workingSet: 5 };
/**
 * The working set's pairs in a round whose working set is larger than the registry's memory: the
 * verdict judges the working set on those rounds alone (transferReport.ts, `tlsVerdict`), so they
 * need as many pairs as the other steps have over the whole run.
 */
const WORKING_SET_JUDGED_PAIRS = 15;

/**
 * Writes back every dirty page before a sample, so that no sample pays for the one before it: a
 * push leaves up to 512 MiB to write back, on the disk and on the flusher's CPU, which the two
 * cores here share with whatever runs next.
 */
function settle(): void {
    execFileSync("sync");
}

/**
 * One round. Each step runs on every side back to back (their order alternating), `repeats` times,
 * each sample from a settled machine ({@link settle}). Each side keeps its fastest for the tables
 * against bare, and every sample for the verdict against bare TLS, which pairs the samples taken
 * back to back (transferReport.ts, `tlsVerdict`). `pushed` holds each side's kept image of the
 * earlier rounds, and gets this round's: the working-set step pulls them all, so round r reads r
 * images; `memoryMb`, the deployed registry's memory, decides whether this round's working set is
 * one the verdict judges.
 */
async function round(
    bin: string,
    r: number,
    repeats: number,
    targets: Record<Side, Target>,
    pushed: Record<Side, Pushed[]>,
    memoryMb: number,
): Promise<Record<Side, Figures>> {
    type Sample = [ClientResult, ...unknown[]];
    const mib = (x: ClientResult) => x.bytes / MIB / x.seconds;
    /**
     * Each side's fastest sample of the step, and all of them in run order: `repeats` on every
     * side, then more on the judged two alone until they have `pairs`.
     */
    const fastest = async <T extends Sample>(
        step: keyof typeof PAIRS,
        f: (t: Target, i: number) => Promise<T>,
        speed: (x: T) => number,
        pairs = PAIRS[step],
    ): Promise<Record<Side, T> & { all: Record<Side, T[]> }> => {
        const show = ([x]: T) => (step === "concurrent" ? `${x.seconds.toFixed(2)} s` : `${mib(x).toFixed(0)} MiB/s`);
        const all: Record<Side, T[]> = { bare: [], bareTls: [], deployed: [] };
        const shown: string[] = [];
        for (let i = 0; i < Math.max(repeats, pairs); i++) {
            const sides = i < repeats ? SIDES : SIDES.filter((s) => s !== "bare");
            // Bare TLS in the middle either way: the judged pair, it and deployed, always back to back.
            for (const side of (r + i) % 2 ? [...sides] : [...sides].reverse()) {
                settle();
                const x = await f(targets[side], i);
                all[side].push(x);
                shown.push(`${side} ${show(x)}`);
            }
        }
        log(`round ${r} ${step}, every sample in run order: ${shown.join(", ")}`);
        const best = (xs: T[]) => xs.reduce((a, b) => (speed(b) > speed(a) ? b : a));
        return { bare: best(all.bare), bareTls: best(all.bareTls), deployed: best(all.deployed), all };
    };
    const once = async <T>(f: (t: Target) => Promise<T>): Promise<Record<Side, T>> => {
        const out: Partial<Record<Side, T>> = {};
        for (const side of SIDES) out[side] = await f(targets[side]);
        return out as Record<Side, T>;
    };
    const throughput = ([x]: Sample) => x.bytes / x.seconds;
    const pushes = await fastest(
        "push",
        async (t, i) => {
            const tag = `round-${r}-${i + 1}`;
            const [result, cpu] = await metered(bin, t, "push", { tag, size: String(FILE_BYTES) });
            return [result, cpu, tag] as [ClientResult, Cpu, string];
        },
        throughput,
    );
    const image = (t: Target): Pushed => ({ tag: pushes[t.side][2], manifest: String(pushes[t.side][0].manifest) });
    const pulls = await fastest("pull", (t) => metered(bin, t, "pull", { ...image(t), n: "1" }), throughput);
    const concurrent = await fastest(
        "concurrent",
        (t) => metered(bin, t, "pull", { ...image(t), n: String(CONCURRENT) }),
        ([x]) => 1 / x.seconds,
    );
    for (const side of SIDES) pushed[side].push(image(targets[side]));
    const workingSet = await fastest(
        "workingSet",
        (t) => pullEach(bin, t, pushed[t.side]),
        throughput,
        beyondMemory(pushed.deployed.length, memoryMb) ? WORKING_SET_JUDGED_PAIRS : PAIRS.workingSet,
    );
    const latency = await once((t) => runClient(bin, "latency", t));
    const figures = (side: Side): Figures => {
        const f = {
            pushMiBs: mib(pushes[side][0]),
            pullMiBs: mib(pulls[side][0]),
            concurrentSeconds: concurrent[side][0].seconds,
            workingSetMiBs: mib(workingSet[side][0]),
            workingSetMiB: workingSet[side][0].bytes / MIB,
            requestMs: Number(latency[side].ms),
            pushRequests: pushes[side][0].requests,
            pullRequests: pulls[side][0].requests,
            cpu: { push: pushes[side][1], pull: pulls[side][1], concurrent: concurrent[side][1] },
            wall: { push: pushes[side][0].seconds, pull: pulls[side][0].seconds, concurrent: concurrent[side][0].seconds },
            samples: {
                pushMiBs: pushes.all[side].map(([x]) => mib(x)),
                pullMiBs: pulls.all[side].map(([x]) => mib(x)),
                concurrentSeconds: concurrent.all[side].map(([x]) => x.seconds),
                workingSetMiBs: workingSet.all[side].map(([x]) => mib(x)),
            },
        };
        log(
            `round ${r} ${side}: push ${f.pushMiBs.toFixed(0)} MiB/s, pull ${f.pullMiBs.toFixed(0)} MiB/s, ` +
                `${CONCURRENT} pulls ${f.concurrentSeconds.toFixed(1)} s, working set ${f.workingSetMiB.toFixed(0)} MiB at ${f.workingSetMiBs.toFixed(0)} MiB/s, ` +
                `request ${f.requestMs.toFixed(1)} ms`,
        );
        return f;
    };
    return { bare: figures("bare"), bareTls: figures("bareTls"), deployed: figures("deployed") };
}

function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/**
 * Removes what this section makes, and only that: containers and volumes named `bench-registry*`
 * (ours, and the stack's, which the program names after its container), and any container still
 * using one of those volumes (such as a helper the program runs).
 */
function removeOwn(): void {
    const quiet = (...args: string[]) => {
        try {
            return docker(...args);
        } catch {
            return "";
        }
    };
    const ours = (out: string) => out.split("\n").filter((n) => n.startsWith(PREFIX));
    const volumes = ours(quiet("volume", "ls", "--format", "{{.Name}}"));
    const users = volumes.flatMap((v) => quiet("ps", "-a", "--filter", `volume=${v}`, "--format", "{{.Names}}").split("\n"));
    for (const c of new Set([...ours(quiet("ps", "-a", "--format", "{{.Names}}")), ...users.filter(Boolean)])) quiet("rm", "-f", "-v", c);
    for (const v of volumes) quiet("volume", "rm", "-f", v);
}

/** Waits until the registry answers the ping. */
async function waitReady(bin: string, target: Target): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        try {
            await runClient(bin, "ping", target);
            return;
        } catch (e) {
            if (Date.now() > deadline) throw new Error(`${target.side} registry did not answer: ${(e as Error).message}`);
            await new Promise((r) => setTimeout(r, 300));
        }
    }
}

/**
 * A bare registry: the same image, its own default config, a fresh volume, on 127.0.0.1 only;
 * HTTP, or with `pki` TLS from a throw-away certificate (the registry's environment overrides).
 */
async function startBare(bin: string, side: Side, own: (typeof OWN)[Side], pki?: Pki): Promise<Target> {
    docker("volume", "create", own.volume);
    const tls = pki
        ? [
              "-v",
              `${path.dirname(pki.certPath)}:/certs:ro`,
              "-e",
              "REGISTRY_HTTP_TLS_CERTIFICATE=/certs/server.crt",
              "-e",
              "REGISTRY_HTTP_TLS_KEY=/certs/server.key",
          ]
        : [];
    docker("run", "-d", "--name", own.container, "-p", `127.0.0.1:${own.port}:5000`, "-v", `${own.volume}:/var/lib/registry`, ...tls, IMAGE);
    const target: Target = {
        side,
        port: own.port,
        ...(pki ? { tls: { servername: "localhost", caFile: path.join(path.dirname(pki.certPath), "ca.crt") } } : {}),
        meter: cpuMeter(own.container, own.port),
    };
    await waitReady(bin, target);
    return target;
}

/** The deployed registry: `up` of the dedicated stack; its outputs say how to reach it. */
async function startDeployed(bin: string, stack: TestStack, caFile: string): Promise<Target & { bcrypt: string; memoryMb: number; memoryLimitMb: number }> {
    const res = await stack.stack.up({ color: "never" });
    const out = (k: string) => res.outputs[k]?.value;
    const endpoint = String(out("endpoint"));
    const user = (out("usernames") as string[])[0];
    const password = (out("passwords") as Record<string, string>)[user];
    const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
    if (port !== OWN.deployed.port) throw new Error(`the stack's endpoint is ${endpoint}, expected port ${OWN.deployed.port}`);
    fs.writeFileSync(caFile, String(out("caCertPem")));
    let bcrypt = "?";
    try {
        const line = docker("exec", OWN.deployed.container, "cat", "/etc/private-registry/auth/htpasswd").split("\n")[0];
        bcrypt = /:(\$2[abxy]\$\d\d)\$/.exec(line)?.[1] ?? "?";
    } catch {
        /* the cost is informational */
    }
    const memoryLimitMb = Number(docker("inspect", "-f", "{{.HostConfig.Memory}}", OWN.deployed.container)) / MIB;
    const env = docker("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", OWN.deployed.container);
    const memoryMb = Number(/^GOMEMLIMIT=(\d+)MiB$/m.exec(env)?.[1] ?? Number.NaN);
    const target = {
        side: "deployed" as const,
        port,
        tls: { servername: endpoint.slice(0, endpoint.lastIndexOf(":")), caFile },
        auth: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
        meter: cpuMeter(OWN.deployed.container, port),
        bcrypt,
        memoryMb,
        memoryLimitMb,
    };
    await waitReady(bin, target);
    return target;
}

/**
 * Runs the section, `rounds` rounds (more if needed for the last round's working set to exceed the
 * registry's memory), and returns its tables; `memory` overrides the deployed registry's
 * `container.memoryMb` and `container.memoryLimitMb` (absent: the program's defaults). With `twin`,
 * the A/A control: a second bare TLS registry stands in the deployed side's place (its name and
 * port), with the rounds and pairs of a run with the program's defaults, so the verdict shows what
 * it makes of two identical registries. Everything it creates is removed again, on failure and on
 * SIGINT/SIGTERM too.
 */
export async function benchTransfer(
    rounds: number,
    repeats: number,
    memory: { memoryMb?: number; memoryLimitMb?: number } = {},
    twin = false,
): Promise<string> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-transfer-"));
    let stack: TestStack | undefined;
    let client: { dir: string; bin: string } | undefined;
    const removeDirs = () => {
        for (const dir of [tmp, stack?.dir, client?.dir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    };
    // Interrupted: no time for a destroy, so the stack's containers and volumes go by name.
    const onSignal = (sig: NodeJS.Signals) => {
        removeOwn();
        removeDirs();
        process.exit(sig === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    removeOwn();
    try {
        client = buildClient();
        const bin = client.bin;
        const pkiDir = path.join(tmp, "bare-tls");
        fs.mkdirSync(pkiDir);
        const pki = makePki(pkiDir);
        if (twin) log(`BENCH_TWIN: the deployed side is ${OWN.deployed.container}, a twin of ${OWN.bareTls.container}, on localhost:${OWN.deployed.port}`);
        else stack = await createBenchStack(memory);
        const deployed = stack ? await startDeployed(bin, stack, path.join(tmp, "ca.crt")) : await startTwin(bin, pki);
        log(`docker run ${OWN.bare.container} on 127.0.0.1:${OWN.bare.port} and ${OWN.bareTls.container} on localhost:${OWN.bareTls.port}`);
        const bare = await startBare(bin, "bare", OWN.bare);
        const bareTls = await startBare(bin, "bareTls", OWN.bareTls, pki);
        const results: Record<Side, Figures[]> = { bare: [], bareTls: [], deployed: [] };
        const pushed: Record<Side, Pushed[]> = { bare: [], bareTls: [], deployed: [] };
        const needed = firstRoundBeyondMemory(deployed.memoryMb);
        if (needed > rounds) log(`${needed} rounds, not ${rounds}: the last round's working set must exceed the registry's memory (${deployed.memoryMb} MiB)`);
        rounds = Math.max(rounds, needed);
        for (let r = 1; r <= rounds; r++) {
            const figures = await round(bin, r, repeats, { bare, bareTls, deployed }, pushed, deployed.memoryMb);
            for (const side of SIDES) results[side].push(figures[side]);
        }
        const ports = { bare: OWN.bare.port, bareTls: OWN.bareTls.port, deployed: OWN.deployed.port };
        return transferReport(results, {
            rounds,
            repeats,
            image: IMAGE,
            stack: OWN.stack,
            bcrypt: deployed.bcrypt,
            memoryMb: deployed.memoryMb,
            memoryLimitMb: deployed.memoryLimitMb,
            ports,
            cores: os.availableParallelism(),
            twin,
        });
    } finally {
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
        if (stack) await stack.stack.destroy({ color: "never" }).catch((e) => log(`destroy ${OWN.stack}: ${(e as Error).message}`));
        removeOwn();
        removeDirs();
    }
}

/** The bench's stack from the dev stack's file: its own names, port and user; `memory` as given. */
async function createBenchStack(memory: { memoryMb?: number; memoryLimitMb?: number }): Promise<TestStack> {
    const { main } = await import("../program");
    const stack = await createStack({
        from: "dev",
        name: OWN.stack,
        config: {
            "private-registry:image": { value: IMAGE },
            "private-registry:containerName": { value: OWN.deployed.container },
            "private-registry:port": { value: String(OWN.deployed.port) },
            "private-registry:bindAddress": { value: "127.0.0.1" },
            "private-registry:hostnames": { value: JSON.stringify(["localhost"]) },
            "private-registry:ipAddresses": { value: JSON.stringify(["127.0.0.1"]) },
            "private-registry:data": { value: JSON.stringify({ volumeName: OWN.deployed.volume, keepOnDestroy: false }) },
            "private-registry:users": { value: JSON.stringify([{ name: "bench" }]) },
            ...(Object.values(memory).some((v) => v !== undefined) ? { "private-registry:container": { value: JSON.stringify(memory) } } : {}),
        },
        program: () => ({ ...main() }),
    });
    log(`up ${OWN.stack} (${OWN.deployed.container} on localhost:${OWN.deployed.port})`);
    return stack;
}

/** The A/A control's deployed side: a second bare TLS registry, with the program's default memory for the rounds. */
async function startTwin(bin: string, pki: Pki): Promise<Target & { bcrypt: string; memoryMb: number; memoryLimitMb: number }> {
    const target = await startBare(bin, "deployed", OWN.deployed, pki);
    return { ...target, bcrypt: "none", memoryMb: REGISTRY_DEFAULTS.memoryMb, memoryLimitMb: Number.NaN };
}
