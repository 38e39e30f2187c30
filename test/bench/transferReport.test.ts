import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Figures, median, type Side, tlsVerdict, transferReport } from "../../bench/transferReport";

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

    it("judges every step of every round against bare TLS, as a fraction of its speed, and names each miss", () => {
        const tls = { pull: 3, concurrent: 15 };
        const bareTls = [figures(100, 400, 8, tls, 400), figures(100, 400, 8, tls, 400)];
        const bare = [figures(120, 500, 6, tls), figures(120, 500, 6, tls)];
        const fine: Record<Side, Figures[]> = {
            bare,
            bareTls,
            // round 2: push 0.95 (met, just), concurrent 8/8.4 = 0.952 (met, just)
            deployed: [figures(100, 400, 8, tls, 420), { ...figures(95, 400, 8.4, tls, 400), workingSetMiB: 1536 }],
        };
        const v = tlsVerdict(fine);
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
        const report = transferReport(fine, setup);
        assert.match(
            report,
            /goal ≥ 0\.95: \*\*met\*\* \(lowest: push in round 2 0\.950\); the largest working set, 1536 MiB, is larger than the registry's memory \(1024 MiB\) and smaller than its hard limit \(4096 MiB\)/,
        );
        assert.deepEqual(rowOf(report, "2").slice(1, 7), ["2", "1536", "0.95", "1.00", "0.95", "1.00"]);

        // One slow pull round (page cache read back from disk) and one working set: the run misses, naming both.
        const slow: Record<Side, Figures[]> = {
            bare,
            bareTls,
            deployed: [figures(100, 300, 8, tls, 400), figures(100, 400, 8, tls, 376)],
        };
        assert.equal(tlsVerdict(slow).met, false);
        assert.match(
            transferReport(slow, setup),
            /goal ≥ 0\.95: \*\*MISSED\*\* \(pull in round 1 0\.750, working set in round 2 0\.940\); the largest working set, 512 MiB, is \*\*not larger\*\* than the registry's memory/,
        );
    });
});
