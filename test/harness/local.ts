/**
 * `command.local.Command` (pulumi-command 1.2.1, provider-fidelity.md §1.2): the interpreter
 * (default `/bin/sh -c`) with the command as its last argument, the provider's whole environment
 * plus `environment`, `dir`, stdin only when non-empty, one trailing newline stripped.
 */
import { spawn } from "node:child_process";

/** Runs one local command like the provider; throws its error text on a non-zero exit. */
export function runLocal(
    command: string,
    opts: { interpreter?: string[]; dir?: string; environment?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
    const [prog, ...args] = opts.interpreter ?? ["/bin/sh", "-c"];
    return new Promise((resolve, reject) => {
        const child = spawn(prog, [...args, command], {
            cwd: opts.dir,
            env: { ...process.env, ...(opts.environment ?? {}) },
            timeout: opts.timeoutMs ?? 300_000,
        });
        let stdout = "";
        let stderr = "";
        let combined = "";
        child.stdout.on("data", (d: Buffer) => ((stdout += d), (combined += d)));
        child.stderr.on("data", (d: Buffer) => ((stderr += d), (combined += d)));
        child.on("error", reject);
        child.on("close", (code) => {
            if (code === 0) resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
            else reject(new Error(`exit status ${code}: running ${JSON.stringify(command)}:\n${combined}`));
        });
        if (opts.stdin) child.stdin.write(opts.stdin);
        child.stdin.end();
    });
}
