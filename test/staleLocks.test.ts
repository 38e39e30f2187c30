/**
 * scripts/staleLocks.ts: a file backend's stack lock left by a pulumi process that no longer runs on
 * this machine is removed; a live process's lock, another machine's and another stack's stay.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { removeStaleLocks } from "../scripts/staleLocks";

describe("removeStaleLocks", () => {
    it("removes only the locks of this stack taken on this machine by a process that is gone", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "pr-locks-"));
        try {
            const dir = (stack: string) => path.join(root, ".pulumi", "locks", "organization", "private-registry", stack);
            fs.mkdirSync(dir("dev"), { recursive: true });
            fs.mkdirSync(dir("prod"), { recursive: true });
            // A pid that ran and ended: a child's, after it exits.
            const gone = spawnSync("true").pid as number;
            const lock = (stack: string, name: string, pid: number, hostname = os.hostname()) =>
                fs.writeFileSync(path.join(dir(stack), `${name}.json`), JSON.stringify({ pid, username: "root", hostname, timestamp: "2026-12-06T04:02:43Z" }));
            lock("dev", "stale", gone);
            lock("dev", "live", process.pid);
            lock("dev", "elsewhere", gone, "another-machine");
            lock("prod", "stale", gone);
            const removed = removeStaleLocks(`file://${root}`, "private-registry", "dev");
            assert.deepEqual(removed, [`removed the lock of stack dev left by pulumi (pid ${gone}, since 2026-12-06T04:02:43Z), which no longer runs`]);
            assert.deepEqual(fs.readdirSync(dir("dev")).sort(), ["elsewhere.json", "live.json"]);
            assert.deepEqual(fs.readdirSync(dir("prod")), ["stale.json"], "another stack's lock is not this run's business");
            assert.deepEqual(removeStaleLocks("https://api.pulumi.com", "private-registry", "dev"), [], "a service backend locks by itself");
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
