/**
 * scripts/monitorTerminating.ts: the SDK's uncatchable "Resource monitor is terminating"
 * rejections are dropped even after a library wraps process.emit and puts its saved copy back (as
 * signal-exit does under execa), and every other unhandled rejection still fails a test.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const MODULE = path.resolve(__dirname, "..", "..", "scripts", "monitorTerminating.ts");

/** Runs a test file under node:test; its pass and fail counts. */
function runTests(body: string): { pass: number; fail: number; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-monitor-"));
    const file = path.join(dir, "fixture.test.ts");
    fs.writeFileSync(
        file,
        `import { it } from "node:test";\nimport { ignoreMonitorTerminating } from ${JSON.stringify(MODULE)};\nignoreMonitorTerminating();\n${body}\n`,
    );
    // A test run of its own: without the runner's marker, which would make node skip the file.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", file], { encoding: "utf8", env });
    fs.rmSync(dir, { recursive: true, force: true });
    const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)`, "m").exec(r.stdout)?.[1] ?? -1);
    return { pass: count("pass"), fail: count("fail"), out: r.stdout + r.stderr };
}

const later = (message: string) => `setTimeout(() => Promise.reject(new Error(${JSON.stringify(message)})), 10); await new Promise((r) => setTimeout(r, 100));`;

describe("ignoreMonitorTerminating", () => {
    it("drops the monitor's rejection, also after process.emit was wrapped and put back", () => {
        const r = runTests(
            [
                "const saved = process.emit;",
                "process.emit = function (this: NodeJS.Process, ev: string, ...a: unknown[]) { return (saved as any).call(this, ev, ...a); } as typeof process.emit;",
                `it("wrapped", async () => { ${later("Resource monitor is terminating")} });`,
                "process.emit = saved;",
                `it("restored", async () => { ${later("Resource monitor is terminating")} });`,
            ].join("\n"),
        );
        assert.deepEqual([r.pass, r.fail], [2, 0], r.out);
    });

    it("drops a RunError the inline program threw (the SDK printed it as the operation's error)", () => {
        const r = runTests(
            `it("run error", async () => { setTimeout(() => Promise.reject(Object.assign(new Error("invalid stack configuration"), { __pulumiRunError: true })), 10); await new Promise((r) => setTimeout(r, 100)); });`,
        );
        assert.deepEqual([r.pass, r.fail], [1, 0], r.out);
    });

    it("lets every other unhandled rejection fail the test", () => {
        const r = runTests(`it("other", async () => { ${later("something else")} });`);
        assert.equal(r.fail, 1, r.out);
        assert.match(r.out, /something else/);
    });
});
