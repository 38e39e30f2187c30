/**
 * scripts/recover.ts: a file backend's stack lock left by a pulumi process that no longer runs on
 * this machine is removed; a live process's lock, another machine's and another stack's stay.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { removeOrphans, removeStaleLocks } from "../../scripts/recover";

describe("removeStaleLocks", () => {
    it("removes only the locks of this stack taken on this machine by a process that is gone", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "pr-locks-"));
        try {
            const dir = (stack: string) => path.join(root, ".pulumi", "locks", "organization", "private-registry", stack);
            fs.mkdirSync(dir("dev"), { recursive: true });
            fs.mkdirSync(dir("prod"), { recursive: true });
            // A pid that ran and ended: a child's, after it exits.
            const gone = spawnSync(process.execPath, ["-e", ""]).pid as number;
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

describe("removeOrphans", () => {
    it("removes what pending creates left (by name, on their provider's host) unless the state records its ID; nothing while a lock is held", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "pr-orphans-"));
        const bin = path.join(root, "bin");
        const calls = path.join(root, "calls");
        fs.mkdirSync(bin);
        // A docker CLI stand-in: inspect answers an ID per name, every call is recorded with its DOCKER_HOST.
        fs.writeFileSync(
            path.join(bin, "docker"),
            `#!/bin/sh\necho "$DOCKER_HOST $*" >> ${JSON.stringify(calls)}\ncase "$*" in *inspect*orphan-c) echo aaa111 ;; *inspect*orphan-net) echo bbb222 ;; *inspect*kept-c) echo ccc333 ;; *inspect*) exit 1 ;; esac\n`,
            { mode: 0o755 },
        );
        const providerUrn = "urn:pulumi:dev::private-registry::pulumi:providers:docker::registry-docker";
        const pendingCreate = (type: string, name: string) => ({
            type: "creating",
            resource: { urn: `urn:pulumi:dev::private-registry::${type}::${name}`, type, inputs: { name }, provider: `${providerUrn}::p-1` },
        });
        const stacks = path.join(root, ".pulumi", "stacks", "private-registry");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(
            path.join(stacks, "dev.json"),
            JSON.stringify({
                checkpoint: {
                    latest: {
                        resources: [
                            { urn: providerUrn, id: "p-1", type: "pulumi:providers:docker", inputs: { host: "ssh://deploy@docker-1" } },
                            { urn: "urn:x::kept", id: "ccc333", type: "docker:index/container:Container", inputs: { name: "kept-c" } },
                        ],
                        pending_operations: [
                            pendingCreate("docker:index/container:Container", "orphan-c"),
                            pendingCreate("docker:index/network:Network", "orphan-net"),
                            pendingCreate("docker:index/container:Container", "kept-c"),
                            pendingCreate("docker:index/container:Container", "never-made"),
                            { ...pendingCreate("docker:index/volume:Volume", "data"), type: "creating" },
                        ],
                    },
                },
            }),
        );
        const savedPath = process.env.PATH;
        process.env.PATH = `${bin}:${savedPath}`;
        try {
            const locks = path.join(root, ".pulumi", "locks", "organization", "private-registry", "dev");
            fs.mkdirSync(locks, { recursive: true });
            fs.writeFileSync(path.join(locks, "live.json"), "{}");
            assert.deepEqual(removeOrphans(`file://${root}`, "private-registry", "dev"), [], "a held lock: another run's pending operations");
            assert.equal(fs.existsSync(calls), false);
            fs.rmSync(path.join(locks, "live.json"));
            const lines = removeOrphans(`file://${root}`, "private-registry", "dev");
            assert.deepEqual(lines, [
                "removed orphan-c (container aaa111) on ssh://deploy@docker-1: an interrupted run created it and never recorded it",
                "removed orphan-net (network bbb222) on ssh://deploy@docker-1: an interrupted run created it and never recorded it",
            ]);
            const recorded = fs.readFileSync(calls, "utf8").trim().split("\n");
            assert.ok(recorded.includes("ssh://deploy@docker-1 rm -f orphan-c"));
            assert.ok(recorded.includes("ssh://deploy@docker-1 network rm orphan-net"));
            assert.ok(!recorded.some((c) => /rm .*kept-c|rm .*never-made|volume/.test(c)), recorded.join("\n"));
        } finally {
            process.env.PATH = savedPath;
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
