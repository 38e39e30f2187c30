/**
 * A registry that never became healthy fails the `up` with the docker provider's own error
 * ("container failed to be in healthy state"), which says nothing of why, and the engine gives the
 * program no hook to add to it. The wrapper adds the containers' last log lines after that error:
 * the failed container stays on its Docker host until the next `up` replaces it.
 */
import { spawnSync } from "node:child_process";
import type { Settings } from "../settings/types";
import { dockerCliCommand } from "../components/containers";
import { replicaName } from "../components/registry";

/** How many lines of each container. */
const TAIL = 20;

/** The provider's error for a failed health wait. */
export const UNHEALTHY = /container failed to be in healthy state/;

/**
 * For an operation's error `message`: the last log lines of each registry container of `s` on its
 * Docker host, as a block per container, when the error is a failed health wait; otherwise none.
 */
export function unhealthyLogLines(message: string, s: Pick<Settings, "containerName" | "replicas" | "replicaHosts" | "docker">): string[] {
    if (!UNHEALTHY.test(message)) return [];
    const where =
        s.replicaHosts.length > 0
            ? s.replicaHosts.map((h) => ({ docker: h.docker, name: s.containerName }))
            : Array.from({ length: s.replicas }, (_, i) => ({ docker: s.docker, name: replicaName(s.containerName, i) }));
    return where.map(({ docker, name }) => {
        const c = dockerCliCommand(docker.host, docker.sshOpts, ["logs", "--tail", String(TAIL), name]);
        const r = spawnSync(c.file, c.args, { env: { ...process.env, ...c.env }, encoding: "utf8" });
        if (r.status !== 0) return `(no logs of ${name} on ${docker.host}: ${(r.stderr || r.stdout || String(r.error)).trim()})`;
        // The registry logs to stderr; `docker logs` gives each stream as the container wrote it.
        const lines = `${r.stdout}${r.stderr}`.trimEnd().split("\n").slice(-TAIL);
        return `last log lines of ${name} on ${docker.host}:\n    ${lines.join("\n    ")}`;
    });
}
