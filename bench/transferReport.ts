/**
 * The tables of `npm run bench -- transfer` (transfer.ts runs it): pure, from the rounds'
 * figures, so the goals' judgement and the bound TLS puts on it are tested without Docker.
 */
import type { Cpu } from "./cpu";

export const FILE_BYTES = 512 * 1024 * 1024;
export const CONCURRENT = 10;
/** deployed/bare: throughput at least, concurrent-pull time at most. */
export const GOALS = { push: 0.9, pull: 0.9, concurrent: 1.15 };
/** Every step of a run (`tlsVerdict`), deployed against bare TLS: at least this fraction of its speed (issue 22). */
export const TLS_GOAL = 0.95;
export const MIB = 1024 * 1024;

export type Side = "bare" | "bareTls" | "deployed";
export const SIDES: Side[] = ["bare", "bareTls", "deployed"];
const SIDE_NAMES: Record<Side, string> = { bare: "bare", bareTls: "bare TLS", deployed: "deployed" };
type Figure = "pushMiBs" | "pullMiBs" | "concurrentSeconds" | "workingSetMiBs" | "requestMs";
type Phase = "push" | "pull" | "concurrent";
/** The figures judged against bare TLS. */
type Judged = Exclude<Figure, "requestMs">;

/** One side's figures in one round. */
export interface Figures extends Record<Figure, number> {
    /** MiB the working-set step read: every image the side has had pushed so far, each pulled once. */
    workingSetMiB: number;
    pushRequests: number;
    pullRequests: number;
    cpu: Record<Phase, Cpu>;
    /** Wall seconds of each phase. */
    wall: Record<Phase, number>;
    /**
     * Every sample of each judged step, in the figure's unit, one per repetition in run order: the
     * deployed side's i-th ran right before or right after bare TLS's i-th.
     */
    samples: Record<Judged, number[]>;
}

/** What the header says of the run. */
export interface RunSetup {
    rounds: number;
    /** How many times each step ran on each side in a round (its fastest kept). */
    repeats: number;
    image: string;
    stack: string;
    /** The deployed side's bcrypt prefix, such as `$2b$04`. */
    bcrypt: string;
    /** The deployed registry's own memory (its `GOMEMLIMIT`), MiB. */
    memoryMb: number;
    /** The deployed container's hard memory limit, MiB. */
    memoryLimitMb: number;
    ports: Record<Side, number>;
    cores: number;
    /** The A/A control: the deployed side is a second bare TLS registry (`BENCH_TWIN=1`). */
    twin?: boolean;
}

/**
 * The first round whose working set is larger than the registry's own memory: round r reads r
 * pushed images of one {@link FILE_BYTES} layer each. From it on, the verdict judges the working set.
 */
export function firstRoundBeyondMemory(memoryMb: number): number {
    return Math.floor((memoryMb * MIB) / FILE_BYTES) + 1;
}

/** Whether a working set of `images` pushed images is larger than the registry's own memory ({@link firstRoundBeyondMemory}). */
export function beyondMemory(images: number, memoryMb: number): boolean {
    return images >= firstRoundBeyondMemory(memoryMb);
}

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The mean without the lowest and the highest (of three or more): one stray value counts for nothing. */
export function trimmedMean(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const kept = s.length >= 3 ? s.slice(1, -1) : s;
    return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/** The steps judged against bare TLS, each as a speed: throughput, or the inverse of a time. */
const TLS_STEPS: { name: string; figure: Judged; time?: true }[] = [
    { name: "push", figure: "pushMiBs" },
    { name: "pull", figure: "pullMiBs" },
    { name: `${CONCURRENT} concurrent pulls`, figure: "concurrentSeconds", time: true },
    { name: "working set", figure: "workingSetMiBs" },
];

/** One step of one round: the deployed side's speed as a fraction of bare TLS's. */
export interface TlsRatio {
    round: number;
    step: string;
    /** The {@link trimmedMean} of `pairs`. */
    ratio: number;
    /** Each repetition's pair, deployed against the bare TLS sample beside it, in run order. */
    pairs: number[];
}

/** One step as judged: the {@link trimmedMean} of its pairs from `rounds`, as a fraction of bare TLS's speed. */
export interface TlsJudgement {
    step: string;
    rounds: number[];
    ratio: number;
    pairs: number[];
}

/**
 * Whether every step met {@link TLS_GOAL} against bare TLS in this run, and the ratios, round by
 * round. A pair is two samples taken back to back, deployed against bare TLS: each side's fastest
 * did not compare like with like, as this machine slows down during a run (every side's pushes fell
 * from ~300 to ~150 MiB/s after about 7.5 GiB written), and fastest against fastest set a deployed
 * push after that moment against a bare TLS one before it. The pair that straddles it is the lowest
 * or the highest, and dropped by the {@link trimmedMean}.
 *
 * Each step is judged on all its pairs of the run; the working set on those of the rounds whose
 * working set is larger than the registry's own memory (`memoryMb`; the last round if none is), the
 * rounds it exists for (transfer.ts gives them the most pairs). Judged round by round instead, as
 * twelve cells of 5 pairs (the pull 15), a twin of bare TLS would miss 0.95 somewhere in about one
 * run in three (pairs between identical twins here differ by 4.6–8.1 % by step), and a side 1.5 % slower in
 * two of three. The rounds' ratios stay in the table, to show where a cost would sit.
 */
export function tlsVerdict(
    results: Record<Side, Figures[]>,
    memoryMb: number,
): { met: boolean; ratios: TlsRatio[]; judged: TlsJudgement[]; missed: TlsJudgement[] } {
    const ratios = results.deployed.flatMap((d, i) =>
        TLS_STEPS.map(({ name, figure, time }) => {
            const t = results.bareTls[i].samples[figure];
            const pairs = d.samples[figure].map((x, k) => (time ? t[k] / x : x / t[k]));
            return { round: i + 1, step: name, ratio: trimmedMean(pairs), pairs };
        }),
    );
    const all = results.deployed.map((_, i) => i + 1);
    const beyond = all.filter((r) => beyondMemory(r, memoryMb));
    const judged = TLS_STEPS.map(({ name, figure }) => {
        const rounds = figure !== "workingSetMiBs" ? all : beyond.length > 0 ? beyond : all.slice(-1);
        const pairs = ratios.filter((r) => r.step === name && rounds.includes(r.round)).flatMap((r) => r.pairs);
        return { step: name, rounds, ratio: trimmedMean(pairs), pairs };
    });
    const missed = judged.filter((j) => !(j.ratio >= TLS_GOAL));
    return { met: missed.length === 0, ratios, judged, missed };
}

/** How many pairs, and the lowest and highest: the spread the verdict's figure came from. */
function pairsText(pairs: number[]): string {
    if (pairs.length === 1) return "1 pair";
    return `${pairs.length} pairs, ${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}`;
}

/** The verdict's table and line: per round, what it read and each step against bare TLS; then the judged run. */
function tlsSection(results: Record<Side, Figures[]>, setup: RunSetup): string[] {
    const { met, ratios, judged, missed } = tlsVerdict(results, setup.memoryMb);
    const lowest = judged.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    const largest = Math.max(...results.deployed.map((f) => f.workingSetMiB));
    const roundsText = (j: TlsJudgement) =>
        j.rounds.length === results.deployed.length ? "" : `; round${j.rounds.length === 1 ? "" : "s"} ${j.rounds.join(", ")}`;
    // Three decimals where a step is named: a 0.948 must not read as the 0.95 it missed.
    const at = (j: TlsJudgement) => `${j.step} ${j.ratio.toFixed(3)}`;
    const hardLimit = setup.twin ? "" : ` and ${largest > setup.memoryLimitMb ? "larger" : "smaller"} than its hard limit (${setup.memoryLimitMb} MiB)`;
    return [
        `| round | working set (MiB) | ${TLS_STEPS.map((s) => s.name).join(" | ")} |`,
        `|---:|---:|${TLS_STEPS.map(() => "---:").join("|")}|`,
        ...results.deployed.map(
            (f, i) =>
                `| ${i + 1} | ${f.workingSetMiB.toFixed(0)} | ${ratios
                    .filter((r) => r.round === i + 1)
                    .map((r) => `${r.ratio.toFixed(2)} (${pairsText(r.pairs)})`)
                    .join(" | ")} |`,
        ),
        `| **judged** | | ${judged.map((j) => `**${j.ratio.toFixed(2)}** (${pairsText(j.pairs)}${roundsText(j)})`).join(" | ")} |`,
        "",
        `Deployed against bare TLS as a fraction of its speed (a pair: two samples back to back; a cell: the mean of its pairs without the highest and lowest, in brackets their number and range), ` +
            `each step judged on all its pairs of the run, the working set on the rounds whose working set is larger than the registry's memory (the last row; the rounds' rows show where a cost would sit), goal ≥ ${TLS_GOAL.toFixed(2)}: ` +
            (met ? `**met** (lowest: ${at(lowest)})` : `**MISSED** (${missed.map(at).join(", ")})`) +
            `; the largest working set, ${largest.toFixed(0)} MiB, is ${largest > setup.memoryMb ? "larger" : "**not larger**"} than the registry's memory (${setup.memoryMb} MiB)${hardLimit}.`,
    ];
}

/** The tables, medians and the rounds' paired ratios, against the goals. */
export function transferReport(results: Record<Side, Figures[]>, setup: RunSetup): string {
    const med = (side: Side, k: Figure) => median(results[side].map((f) => f[k]));
    /** The median of the rounds' paired ratios deployed/`to`. */
    const ratio = (k: Figure, to: Side) => median(results.deployed.map((f, i) => f[k] / results[to][i][k]));
    const row = (name: string, k: Figure, digits: number, goal?: { min?: number; max?: number }) => {
        const r = ratio(k, "bare");
        const goalText = goal ? (goal.min !== undefined ? `≥ ${goal.min.toFixed(2)}` : `≤ ${goal.max?.toFixed(2)}`) : "";
        const met = goal ? ((goal.min !== undefined ? r >= goal.min : r <= (goal.max ?? Infinity)) ? "met" : "**MISSED**") : "";
        const figures = SIDES.map((side) => med(side, k).toFixed(digits)).join(" | ");
        return `| ${name} | ${figures} | ${r.toFixed(2)} | ${goalText} | ${met} | ${ratio(k, "bareTls").toFixed(2)} |`;
    };
    const list = (side: Side, k: Figure, digits: number) => results[side].map((f) => f[k].toFixed(digits)).join(" / ");
    const ratios = (k: Figure) => results.deployed.map((f, i) => (f[k] / results.bare[i][k]).toFixed(2)).join(" / ");
    const cpu = (side: Side, phase: Phase) =>
        (["registry", "proxy", "client"] as const).map((who) => {
            const x = median(results[side].map((f) => f.cpu[phase][who]));
            return Number.isNaN(x) ? "?" : x.toFixed(1);
        });
    const cpuRow = (name: string, phase: Phase) => `| ${name} | ${SIDES.flatMap((side) => cpu(side, phase)).join(" | ")} |`;
    const all = (c: Cpu) => c.registry + c.proxy + c.client;
    /** CPU seconds of all three, and the cores they kept busy (CPU / wall): near the machine's count, the step is CPU-bound. */
    const busy = (side: Side, phase: Phase) => {
        const total = median(results[side].map((f) => all(f.cpu[phase])));
        const cores = median(results[side].map((f) => all(f.cpu[phase]) / f.wall[phase]));
        return Number.isNaN(total) ? "? | ?" : `${total.toFixed(1)} | ${cores.toFixed(1)}`;
    };
    /**
     * If a step is CPU-bound its time goes as its CPU, so bare TLS's CPU against bare's bounds what
     * any side serving TLS can score on that step: throughput at most bare/TLS, time at least TLS/bare.
     */
    const tlsBound = (phase: Phase, figure: "throughput" | "time") =>
        median(
            results.bare.map((f, i) => {
                const tls = all(results.bareTls[i].cpu[phase]);
                return figure === "time" ? tls / all(f.cpu[phase]) : all(f.cpu[phase]) / tls;
            }),
        );
    const busyRow = (name: string, phase: Phase, figure: "throughput" | "time") => {
        const bound = tlsBound(phase, figure);
        return `| ${name} | ${SIDES.map((side) => busy(side, phase)).join(" | ")} | ${Number.isNaN(bound) ? "?" : `${figure === "time" ? "≥" : "≤"} ${bound.toFixed(2)}`} |`;
    };
    const rounded = (k: Figure, digits: number) => SIDES.map((side) => `${SIDE_NAMES[side]} ${list(side, k, digits)}`).join(", ");
    const d = results.deployed[0];
    return [
        `Transfer: one ${(FILE_BYTES / MIB).toFixed(0)} MiB layer, ${setup.rounds} rounds, each step on every side back to back (order alternating), ` +
            `${setup.repeats} time${setup.repeats === 1 ? "" : "s"} a round, each side's fastest kept (the second table's pairs are more); ` +
            "figures are medians, ratios the median of the rounds' paired ratios. " +
            `bare = docker run ${setup.image}, HTTP, no auth (127.0.0.1:${setup.ports.bare}); ` +
            `bare TLS = the same with TLS from a throw-away certificate, no auth (localhost:${setup.ports.bareTls}); ` +
            (setup.twin
                ? `deployed = **a twin of bare TLS** (BENCH_TWIN=1, the A/A control: what two identical registries score against each other; localhost:${setup.ports.deployed}). `
                : `deployed = stack ${setup.stack}, TLS + htpasswd ${setup.bcrypt}, GOMEMLIMIT ${setup.memoryMb} MiB under a hard limit of ${setup.memoryLimitMb} MiB (localhost:${setup.ports.deployed}). `) +
            "The working set step pulls every image pushed to the side so far, one after another.",
        "",
        "| figure | bare | bare TLS | deployed | deployed/bare | goal | | deployed/bare TLS |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
        row("push (MiB/s)", "pushMiBs", 0, { min: GOALS.push }),
        row("pull (MiB/s)", "pullMiBs", 0, { min: GOALS.pull }),
        row(`${CONCURRENT} concurrent pulls (s)`, "concurrentSeconds", 1, { max: GOALS.concurrent }),
        row("working set (MiB/s)", "workingSetMiBs", 0),
        row("one API request (ms)", "requestMs", 1),
        "",
        ...tlsSection(results, setup),
        "",
        `| CPU s (median) | ${SIDES.flatMap((side) => ["registry", "docker-proxy", "client (Go)"].map((who) => `${SIDE_NAMES[side]} ${who}`)).join(" | ")} |`,
        `|---|${SIDES.flatMap(() => ["---:", "---:", "---:"]).join("|")}|`,
        cpuRow("push", "push"),
        cpuRow("pull", "pull"),
        cpuRow(`${CONCURRENT} concurrent pulls`, "concurrent"),
        "",
        `| CPU s of all three; cores busy (CPU s / wall s; this machine has ${setup.cores}) | ${SIDES.map((side) => `${SIDE_NAMES[side]} CPU s | cores`).join(" | ")} | TLS's bound on deployed/bare, if CPU-bound |`,
        `|---|${SIDES.map(() => "---:|---:").join("|")}|---:|`,
        busyRow("push", "push", "throughput"),
        busyRow("pull", "pull", "throughput"),
        busyRow(`${CONCURRENT} concurrent pulls`, "concurrent", "time"),
        "",
        `Rounds: push MiB/s ${rounded("pushMiBs", 0)}, deployed/bare ${ratios("pushMiBs")}; ` +
            `pull MiB/s ${rounded("pullMiBs", 0)}, deployed/bare ${ratios("pullMiBs")}; ` +
            `${CONCURRENT} pulls s ${rounded("concurrentSeconds", 1)}, deployed/bare ${ratios("concurrentSeconds")}; ` +
            `working set MiB/s ${rounded("workingSetMiBs", 0)}.`,
        `Requests: a push makes ${d.pushRequests} (a ping, then per blob HEAD, POST, PATCH, PUT, HEAD; the manifest PUT), a pull ${d.pullRequests} ` +
            `(a ping, manifest HEAD and GET, config and layer GET)${setup.twin ? "; no side uses auth." : "; on the deployed side every one but the ping carries basic auth."}`,
        "The client (Go, client.ts) shares this machine's CPUs with the registry: its TLS decryption weighs on the TLS sides' times too. " +
            "Where a step keeps every core busy, its time goes as its CPU: the third table's last column, from bare TLS's CPU against bare's, is then the best any side serving TLS can score; " +
            "where that bound itself misses a goal, TLS alone misses it, whatever the deployment does.",
    ].join("\n");
}
