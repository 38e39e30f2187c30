/**
 * scripts/unhealthyLogs.ts: after the provider's "container failed to be in healthy state", the
 * wrapper shows each registry container's last log lines, read with the docker CLI on its host.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { unhealthyLogLines } from "../../scripts/unhealthyLogs";

describe("unhealthyLogLines", () => {
    it("after a failed health wait: each replica's last lines on its Docker host; after any other error: nothing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-unhealthy-"));
        // A docker CLI stand-in: `logs --tail 20 <name>` prints 25 lines to stderr, as the registry logs.
        fs.writeFileSync(
            path.join(dir, "docker"),
            '#!/bin/sh\n[ "$1" = logs ] || exit 2\nfor i in $(seq 1 25); do echo "$4 line $i via $DOCKER_HOST" >&2; done\n',
            { mode: 0o755 },
        );
        const saved = process.env.PATH;
        process.env.PATH = `${dir}:${saved}`;
        try {
            const s = { containerName: "reg", replicas: 2, replicaHosts: [], docker: { host: "unix:///var/run/docker.sock", sshOpts: [] } };
            assert.deepEqual(unhealthyLogLines("update failed: some other error", s), []);
            const blocks = unhealthyLogLines("error: container failed to be in healthy state", s);
            assert.equal(blocks.length, 2);
            assert.match(blocks[0], /^last log lines of reg on unix:\/\/\/var\/run\/docker\.sock:\n {4}reg line 6 via unix/);
            assert.match(blocks[1], /^last log lines of reg-2 on .*\n {4}reg-2 line 6 via/);
            assert.equal(blocks[0].split("\n").length, 21, "a header and the last 20 lines");
        } finally {
            process.env.PATH = saved;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
