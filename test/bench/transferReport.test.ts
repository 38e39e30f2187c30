import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Figures, median, type Side, tlsVerdict, transferReport, trimmedMean } from "../../bench/transferReport";

/** One side's round: throughput in MiB/s, concurrent-pull time in s, CPU s (registry, proxy, client) and wall s per phase. */
function figures(push: number, pull: number, concurrent: number, cpu: { pull: number; concurrent: number }, workingSet = pull): Figures {
    const split = (x: number) => ({ registry: x / 2, proxy: x / 4, client: x / 4 });
    return {
        pushMiBs: push,
        pullMiBs: pull,
        concurrentSeconds: concurrent,
        workingSetMiBs: workingSet,
        workingSetMiB: 512,
        requestMs: 1,
        pushRequests: 12,
        pullRequests: 5,
        cpu: { push: split(1), pull: split(cpu.pull), concurrent: split(cpu.concurrent) },
        wall: { push: 4, pull: cpu.pull / 2, concurrent: concurrent },
        samples: { pushMiBs: [push], pullMiBs: [pull], concurrentSeconds: [concurrent], workingSetMiBs: [workingSet] },
    };
}

const setup = {
    rounds: 2,
    repeats: 2,
    image: "registry:3.1.2",
    stack: "bench-transfer",
    bcrypt: "$2b$04",
    memoryMb: 1024,
    memoryLimitMb: 4096,
    ports: { bare: 1, bareTls: 2, deployed: 3 },
    cores: 2,
};
const rowOf = (report: string, name: string) => {
    const line = report.split("\n").find((l) => l.startsWith(`| ${name} |`));
    assert.ok(line, `no row ${name}`);
    return line.split("|").map((c) => c.trim());
};

describe("bench transfer report", () => {
    it("median of odd and even counts", () => {
        assert.equal(median([3, 1, 2]), 2);
        assert.equal(median([4, 1, 3, 2]), 2.5);
    });

    it("trimmed mean: without the lowest and highest of three or more", () => {
        assert.equal(trimmedMean([1, 5, 2, 3, 100]), 10 / 3);
        assert.equal(trimmedMean([0.5, 1, 1.5]), 1);
        assert.equal(trimmedMean([2, 4]), 3);
        assert.equal(trimmedMean([7]), 7);
    });

    it("judges deployed/bare against the goals, per row, from the rounds' paired ratios", () => {
        const results: Record<Side, Figures[]> = {
            bare: [figures(100, 500, 5, { pull: 1.5, concurrent: 10 }), figures(200, 400, 6, { pull: 1.5, concurrent: 10 })],
            bareTls: [figures(80, 300, 8, { pull: 3, concurrent: 15 }), figures(160, 300, 9, { pull: 3, concurrent: 15 })],
            // push 0.95 and 0.90 of bare (met), pull 0.5 (missed), concurrent 1.1 and 1.17 → median 1.13 (met)
            deployed: [figures(95, 250, 5.5, { pull: 3, concurrent: 15 }), figures(180, 200, 7.0, { pull: 3, concurrent: 15 })],
        };
        const report = transferReport(results, setup);
        const push = rowOf(report, "push (MiB/s)");
        assert.deepEqual(push.slice(5, 8), ["0.93", "≥ 0.90", "met"]);
        const pull = rowOf(report, "pull (MiB/s)");
        assert.deepEqual(pull.slice(5, 8), ["0.50", "≥ 0.90", "**MISSED**"]);
        const concurrent = rowOf(report, "10 concurrent pulls (s)");
        assert.deepEqual(concurrent.slice(5, 8), ["1.13", "≤ 1.15", "met"]);
        assert.equal(concurrent[8], "0.73", "deployed/bare TLS: 5.5/8 and 7/9 → (0.69 + 0.78) / 2");
    });

    it("bounds any TLS side by bare's CPU against bare TLS's, and says how many cores each step kept busy", () => {
        const results: Record<Side, Figures[]> = {
            bare: [figures(100, 500, 5, { pull: 1.5, concurrent: 10 }), figures(100, 500, 5, { pull: 1.5, concurrent: 10 })],
            bareTls: [figures(90, 300, 8, { pull: 3, concurrent: 15 }), figures(90, 300, 8, { pull: 3, concurrent: 15 })],
            deployed: [figures(90, 300, 8, { pull: 3, concurrent: 15 }), figures(90, 300, 8, { pull: 3, concurrent: 15 })],
        };
        const lines = transferReport(results, setup).split("\n");
        const busy = (name: string) => {
            const at = lines.findIndex((l) => l.startsWith("| CPU s of all three"));
            const line = lines.slice(at).find((l) => l.startsWith(`| ${name} |`));
            assert.ok(line, `no busy row ${name}`);
            return line.split("|").map((c) => c.trim());
        };
        // pull: bare 1.5 CPU s over 0.75 s wall = 2.0 cores; TLS 3 CPU s → throughput at most 0.50
        assert.deepEqual(busy("pull").slice(2, 9), ["1.5", "2.0", "3.0", "2.0", "3.0", "2.0", "≤ 0.50"]);
        // concurrent: 10 → 15 CPU s → time at least 1.50
        assert.equal(busy("10 concurrent pulls")[8], "≥ 1.50");
        assert.ok(lines[0].includes("TLS + htpasswd $2b$04, GOMEMLIMIT 1024 MiB under a hard limit of 4096 MiB (localhost:3)"));
    });

    it("judges each step on its pairs of the whole run against bare TLS, as a fraction of its speed, and names each miss", () => {
        const tls = { pull: 3, concurrent: 15 };
        const bareTls = [figures(100, 400, 8, tls, 400), figures(100, 400, 8, tls, 400)];
        const bare = [figures(120, 500, 6, tls), figures(120, 500, 6, tls)];
        const fine: Record<Side, Figures[]> = {
            bare,
            bareTls,
            // round 2: push 0.95 (met, just), concurrent 8/8.4 = 0.952 (met, just)
            deployed: [figures(100, 400, 8, tls, 420), { ...figures(95, 400, 8.4, tls, 400), workingSetMiB: 1536 }],
        };
        const v = tlsVerdict(fine, setup.memoryMb);
        assert.equal(v.met, true);
        assert.deepEqual(
            v.ratios.filter((r) => r.round === 2).map((r) => [r.step, r.ratio.toFixed(3)]),
            [
                ["push", "0.950"],
                ["pull", "1.000"],
                ["10 concurrent pulls", "0.952"],
                ["working set", "1.000"],
            ],
        );
        // Judged on both rounds' pairs: push (1 + 0.95) / 2, concurrent (1 + 0.952) / 2; the working set
        // on round 2 alone: no round's 512 MiB images are more than the registry's memory, so the last.
        assert.deepEqual(
            v.judged.map((j) => [j.step, j.ratio.toFixed(3), j.rounds.join()]),
            [
                ["push", "0.975", "1,2"],
                ["pull", "1.000", "1,2"],
                ["10 concurrent pulls", "0.976", "1,2"],
                ["working set", "1.000", "2"],
            ],
        );
        const report = transferReport(fine, setup);
        assert.match(
            report,
            /goal ≥ 0\.95: \*\*met\*\* \(lowest: push 0\.975\); the largest working set, 1536 MiB, is larger than the registry's memory \(1024 MiB\) and smaller than its hard limit \(4096 MiB\)/,
        );
        assert.deepEqual(rowOf(report, "2").slice(1, 7), ["2", "1536", "0.95 (1 pair)", "1.00 (1 pair)", "0.95 (1 pair)", "1.00 (1 pair)"]);
        assert.deepEqual(rowOf(report, "**judged**").slice(3, 7), [
            "**0.97** (2 pairs, 0.95–1.00)",
            "**1.00** (2 pairs, 1.00–1.00)",
            "**0.98** (2 pairs, 0.95–1.00)",
            "**1.00** (1 pair; round 2)",
        ]);

        // One slow pull round (page cache read back from disk) and one working set: the run misses, naming both.
        const slow: Record<Side, Figures[]> = {
            bare,
            bareTls,
            deployed: [figures(100, 300, 8, tls, 400), figures(100, 400, 8, tls, 376)],
        };
        assert.equal(tlsVerdict(slow, setup.memoryMb).met, false);
        // No round's working set is larger than the registry's memory: the last round's is judged.
        assert.match(
            transferReport(slow, setup),
            /goal ≥ 0\.95: \*\*MISSED\*\* \(pull 0\.875, working set 0\.940\); the largest working set, 512 MiB, is \*\*not larger\*\* than the registry's memory/,
        );
    });

    it("judges the working set on the rounds larger than the registry's memory only: a slow small one does not count, a slow large one does", () => {
        const tls = { pull: 3, concurrent: 15 };
        const bareTls = [figures(100, 400, 8, tls, 400), figures(100, 400, 8, tls, 400), figures(100, 400, 8, tls, 400)];
        const bare = [...bareTls];
        const sized = (f: Figures, mib: number): Figures => ({ ...f, workingSetMiB: mib });
        const run = (ws: [number, number, number]) =>
            // Each image's config and manifest add a little to what a round reads: round 2's 1024 MiB of layers is not more than 1024 MiB.
            tlsVerdict({ bare, bareTls, deployed: ws.map((w, i) => sized(figures(100, 400, 8, tls, w), 512.02 * (i + 1))) }, 1024);
        const small = run([300, 400, 400]);
        assert.equal(small.met, true, "round 1 (512 MiB) at 0.75 is shown, not judged");
        assert.equal(small.ratios.find((r) => r.step === "working set" && r.round === 1)?.ratio, 0.75);
        assert.deepEqual(small.judged.find((j) => j.step === "working set")?.rounds, [3]);
        const large = run([400, 400, 376]);
        assert.deepEqual(
            large.missed.map((j) => [j.step, j.ratio.toFixed(3)]),
            [["working set", "0.940"]],
        );
    });

    it("says when the deployed side is the A/A control's twin of bare TLS", () => {
        const tls = { pull: 3, concurrent: 15 };
        const one = [figures(100, 400, 8, tls)];
        const report = transferReport(
            { bare: one, bareTls: one, deployed: one },
            { ...setup, rounds: 1, twin: true, bcrypt: "none", memoryLimitMb: Number.NaN },
        );
        assert.match(report.split("\n")[0], /deployed = \*\*a twin of bare TLS\*\* \(BENCH_TWIN=1, the A\/A control/);
        assert.doesNotMatch(report, /htpasswd|hard limit|basic auth/);
        assert.match(report, /no side uses auth/);
    });

    it("pairs the samples taken back to back: a machine that slows down between them does not count against a side", () => {
        const tls = { pull: 3, concurrent: 15 };
        const withSamples = (f: Figures, samples: Partial<Figures["samples"]>): Figures => ({ ...f, samples: { ...f.samples, ...samples } });
        // Run order bare TLS 320, deployed 180 | deployed 175, bare TLS 172 | bare TLS 168, deployed 170:
        // the machine's pushes halved between the first pair's two samples. Fastest against fastest
        // says 180/320 = 0.56; the pairs say 0.56, 1.02, 1.01: without the lowest and highest, 1.012.
        const bareTls = [withSamples(figures(320, 400, 8, tls), { pushMiBs: [320, 172, 168], concurrentSeconds: [8, 8.2, 7.9] })];
        const deployed = [withSamples(figures(180, 400, 8, tls), { pushMiBs: [180, 175, 170], concurrentSeconds: [8.1, 9, 8] })];
        const bare = [figures(400, 500, 6, tls)];
        const v = tlsVerdict({ bare, bareTls, deployed }, setup.memoryMb);
        const push = v.ratios.find((r) => r.step === "push");
        assert.deepEqual(
            push?.pairs.map((x) => x.toFixed(2)),
            ["0.56", "1.02", "1.01"],
        );
        assert.equal(push?.ratio.toFixed(3), "1.012");
        // A time: bare TLS's over deployed's, 8/8.1, 8.2/9, 7.9/8 → the middle one, 0.988.
        assert.equal(v.ratios.find((r) => r.step === "10 concurrent pulls")?.ratio.toFixed(3), "0.988");
        assert.equal(v.met, true);
        const report = transferReport({ bare, bareTls, deployed }, { ...setup, rounds: 1, repeats: 3 });
        assert.deepEqual(rowOf(report, "1").slice(3, 5), ["1.01 (3 pairs, 0.56–1.02)", "1.00 (1 pair)"]);

        // Not the best pair: two of three pairs low miss.
        const low = [withSamples(figures(180, 400, 8, tls), { pushMiBs: [300, 160, 150] })];
        const missed = tlsVerdict({ bare, bareTls, deployed: low }, setup.memoryMb);
        assert.equal(missed.met, false);
        assert.deepEqual(
            missed.missed.map((r) => [r.step, r.ratio.toFixed(3)]),
            [["push", "0.930"]],
        );
    });
});
