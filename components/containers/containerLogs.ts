/**
 * A container's last log lines through the docker provider's own `getLogs`, for the end-of-up
 * check's failures (registryCheck.ts).
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";

/** How many lines an error shows. */
const TAIL = 20;

/** `container`'s last lines as a block headed by its name; a note instead when they cannot be read. */
export async function lastLogLines(container: string, opts: pulumi.InvokeOptions): Promise<string> {
    try {
        const r = await docker.getLogs(
            { name: container, tail: String(TAIL), showStdout: true, showStderr: true, discardHeaders: true, logsListStringEnabled: true },
            opts,
        );
        return `last log lines of ${container}:\n    ${r.logsListStrings.join("\n    ")}`;
    } catch (e) {
        return `(no logs of ${container}: ${(e as Error).message})`;
    }
}
