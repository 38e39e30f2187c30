/**
 * `npm run bench`: four sections, each measured side by side in one run.
 * - engine: wall time of the engine's operations on this machine, as a user types them: bare
 *   `pulumi preview`, first `pulumi up --yes`, a no-change `pulumi up --yes` (and with
 *   `--skip-preview`), `pulumi destroy --yes`, run in a copy of the project folder through the
 *   language host wherever it is beside the CLI (through the Automation API, inline, elsewhere: the
 *   output says which, and which plugins), for the dev stack and for the e2e stack with two client
 *   hosts. The no-change operations run `BENCH_ENGINE_REPEATS` times (default 5), each reported
 *   as the median with its fastest and slowest. Ratios are against the dev stack's preview; the goal
 *   for a no-change `up --yes` is ENGINE_GOAL_S, judged on its median, here only.
 * - transfer (transfer.ts): push, pull and ten concurrent pulls of a 512 MiB image, and pulls of
 *   every image pushed so far, through the registry as deployed and through the same image run
 *   bare, plain and with TLS; ratios deployed/bare against goals, and each round's deployed/bare TLS.
 * - clients (clients.ts): one up configuring 1, 5 and 20 client hosts, and T(20)/T(1).
 * - storage (storage.ts): push and pull of a 512 MiB image on filesystem storage, on Ceph RGW
 *   over S3, and on two replicas behind the load balancer; ratios to the filesystem.
 * `npm run bench -- engine`, `-- transfer`, `-- clients` or `-- storage` runs one section;
 * `BENCH_ROUNDS` (default 3, at least 2) sets the transfer rounds (more when needed for the last
 * round's working set to exceed the registry's memory), `BENCH_REPEATS` (default 3) how many times
 * each of its steps runs per side (the fastest kept for the tables, every pair for the verdict), `BENCH_MEMORY_MB` and `BENCH_MEMORY_LIMIT_MB`
 * the transfer's deployed `container.memoryMb` and `memoryLimitMb` (default: the program's),
 * `BENCH_TWIN=1` runs the transfer's A/A control (a second bare TLS registry in the deployed side's
 * place), `BENCH_STORAGE_ROUNDS` (default 1) the storage rounds. Needs what `npm test` sets up (dockerd, the test images): run
 * `bash test/e2e/infra/setup.sh` first.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { hostKeyOf, isolate, REGISTRY, startInfra, stopInfra } from "../test/e2e/infra/hosts";
import { benchClients } from "./clients";
import { benchStorage } from "./storage";
import { benchTransfer } from "./transfer";
import { createE2eStack, createStack, engineEnv, type TestStack } from "../test/engine/engine";
import { describePlugins } from "../test/engine/plugins";
import { median } from "./transferReport";

/** One operation's wall time: the median of its runs, and the fastest and slowest. */
type Row = { stack: string; op: string; seconds: number; runs: number; min: number; max: number };

/** Seconds a no-change `pulumi up --yes` of the dev stack may take on the real plugins (issue 22, item 5). */
const ENGINE_GOAL_S = 3;
/** How many times each no-change operation runs (`BENCH_ENGINE_REPEATS`): one sample of a few seconds is mostly the machine's noise. */
const ENGINE_REPEATS = Math.max(1, Number(process.env.BENCH_ENGINE_REPEATS ?? 5));

/**
 * The operations, each timed: as bare CLI commands in the stack's folder when its program runs
 * through the language host (what a user types), else through the Automation API.
 */
async function measure(stack: string, ts: TestStack, rows: Row[], afterUp?: () => void): Promise<void> {
    const time = async (op: string, f: () => unknown, runs = 1) => {
        const seconds: number[] = [];
        for (let i = 0; i < runs; i++) {
            const t0 = process.hrtime.bigint();
            await f();
            seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
        }
        rows.push({ stack, op, seconds: median(seconds), runs, min: Math.min(...seconds), max: Math.max(...seconds) });
    };
    if (ts.programMode === "language host") {
        const env = {
            ...process.env,
            ...engineEnv(ts.engine.home),
            PULUMI_BACKEND_URL: `file://${path.join(ts.dir, "state")}`,
            PATH: `${ts.engine.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
        };
        const pulumi = (...args: string[]) => {
            const r = spawnSync("pulumi", [...args, "--stack", ts.stack.name], { cwd: ts.dir, env, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
        };
        await time("pulumi preview", () => pulumi("preview"));
        await time("pulumi up --yes (first)", () => pulumi("up", "--yes"));
        afterUp?.();
        await time("pulumi up --yes (no change)", () => pulumi("up", "--yes"), ENGINE_REPEATS);
        await time("pulumi up --yes --skip-preview (no change)", () => pulumi("up", "--yes", "--skip-preview"), ENGINE_REPEATS);
        await time("pulumi destroy --yes", () => pulumi("destroy", "--yes"));
        return;
    }
    await time("preview", () => ts.stack.preview({ color: "never" }));
    await time("up (first)", () => ts.stack.up({ color: "never" }));
    afterUp?.();
    await time("up (no change)", () => ts.stack.up({ color: "never" }), ENGINE_REPEATS);
    await time("destroy", () => ts.stack.destroy({ color: "never" }));
}

async function benchEngine(): Promise<void> {
    const rows: Row[] = [];
    const devVolume = (() => {
        try {
            execFileSync("docker", ["volume", "inspect", "private-registry-data"], { stdio: "ignore" });
            return true;
        } catch {
            return false;
        }
    })();
    const dev = await createStack({ from: "dev", name: "dev", viaLanguageHost: true });
    await measure("dev", dev, rows);
    if (!devVolume) execFileSync("docker", ["volume", "rm", "-f", "private-registry-data"], { stdio: "ignore" });

    const infra = await startInfra(2);
    try {
        const clients = infra.hosts.map((h, i) => ({ name: h.name, host: h.ip, hostKey: hostKeyOf(h), login: i === 0 ? "pusher" : "puller" }));
        const e2e = await createE2eStack({
            sshPrivateKeyPem: infra.sshKey.privateKeyPem,
            config: { "private-registry:clients": { value: JSON.stringify(clients) } },
            viaLanguageHost: true,
        });
        await measure("e2e, 2 clients", e2e, rows, () => isolate(REGISTRY.container));
    } finally {
        stopInfra();
    }

    const base = rows[0].seconds;
    const lines = [
        `${describePlugins(dev.engine.plugins)}; program: ${dev.programMode}`,
        "",
        "| stack | operation | wall time (s; median of the runs) | runs (fastest–slowest) | × dev preview |",
        "|---|---|---:|---|---:|",
        ...rows.map(
            (r) =>
                `| ${r.stack} | ${r.op} | ${r.seconds.toFixed(2)} | ${r.runs === 1 ? "1" : `${r.runs} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`} | ${(r.seconds / base).toFixed(2)} |`,
        ),
    ];
    const noChange = rows.find((r) => r.stack === "dev" && /no change/.test(r.op) && !/skip-preview/.test(r.op));
    if (noChange) {
        const real = dev.engine.plugins.every((p) => p.kind === "real");
        lines.push(
            "",
            `no-change up of the dev stack: ${noChange.seconds.toFixed(2)} s (median of ${noChange.runs}, ${noChange.min.toFixed(2)}–${noChange.max.toFixed(2)}), ` +
                `goal <= ${ENGINE_GOAL_S} s: ${noChange.seconds <= ENGINE_GOAL_S ? "met" : "not met"}` +
                (real ? "" : " (stand-in plugins: not the measure the goal is about)"),
        );
    }
    console.log(lines.join("\n"));
}

async function bench(): Promise<void> {
    const sections = process.argv.slice(2);
    const unknown = sections.filter((s) => !["engine", "transfer", "clients", "storage"].includes(s));
    if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(", ")}: use engine, transfer, clients and/or storage`);
    const run = (s: string) => sections.length === 0 || sections.includes(s);
    const rounds = Math.max(2, Number(process.env.BENCH_ROUNDS ?? 3) || 3);
    if (run("engine")) await benchEngine();
    if (run("transfer")) {
        if (run("engine")) console.log("");
        const mb = (name: string) => Number(process.env[name]) || undefined;
        const memory = { memoryMb: mb("BENCH_MEMORY_MB"), memoryLimitMb: mb("BENCH_MEMORY_LIMIT_MB") };
        const twin = process.env.BENCH_TWIN === "1";
        if (twin && Object.values(memory).some((v) => v !== undefined))
            throw new Error("BENCH_TWIN=1 runs no deployed registry: BENCH_MEMORY_MB and BENCH_MEMORY_LIMIT_MB do not apply");
        console.log(await benchTransfer(rounds, Math.max(1, Number(process.env.BENCH_REPEATS ?? 3) || 3), memory, twin));
    }
    if (run("clients")) {
        console.log("");
        console.log(await benchClients());
    }
    if (run("storage")) {
        console.log("");
        console.log(await benchStorage(Math.max(1, Number(process.env.BENCH_STORAGE_ROUNDS ?? 1) || 1)));
    }
}

bench().catch((e) => {
    console.error(e);
    process.exit(1);
});
