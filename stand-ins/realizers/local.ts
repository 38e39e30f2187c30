/**
 * `command.local.Command` (pulumi-command 1.2.1): the
 * interpreter (default `/bin/sh -c`) with the command string as its last argument, the harness
 * process's whole environment plus `environment` plus PULUMI_COMMAND_STDOUT/ERR, `dir` as cwd,
 * stdin only when non-empty, one trailing `\n` stripped, and the provider's error text.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunResult } from "./ssh";

/** Options of one local run. */
export interface LocalRunOptions {
    interpreter?: string[];
    dir?: string;
    environment?: Record<string, string>;
    stdin?: string;
    previous?: RunResult;
    addPreviousOutputInEnv?: boolean;
    logging?: string;
    timeoutMs?: number;
    log?: (m: string) => void;
}

/** Runs one command like the provider's local `run()`. */
export function runLocal(command: string, opts: LocalRunOptions = {}): Promise<RunResult> {
    const [bin, ...args] = opts.interpreter ?? ["/bin/sh", "-c"];
    const env: Record<string, string | undefined> = { ...process.env, ...(opts.environment ?? {}) };
    if (opts.addPreviousOutputInEnv !== false && opts.previous) {
        if (opts.previous.stdout) env.PULUMI_COMMAND_STDOUT = opts.previous.stdout;
        if (opts.previous.stderr) env.PULUMI_COMMAND_STDERR = opts.previous.stderr;
    }
    const cwd = opts.dir ?? process.cwd();
    return new Promise((resolve, reject) => {
        if (!fs.existsSync(cwd)) {
            reject(new Error(`chdir ${cwd}: no such file or directory: running ${JSON.stringify(command)}:\n`));
            return;
        }
        const child = spawn(bin, [...args, command], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const combined: Buffer[] = [];
        const logging = opts.logging ?? "stdoutAndStderr";
        const log = opts.log ?? (() => undefined);
        child.stdout.on("data", (d: Buffer) => {
            out.push(d);
            combined.push(d);
            if (logging === "stdout" || logging === "stdoutAndStderr") log(d.toString().replace(/\n$/, ""));
        });
        child.stderr.on("data", (d: Buffer) => {
            err.push(d);
            combined.push(d);
            if (logging === "stderr" || logging === "stdoutAndStderr") log(d.toString().replace(/\n$/, ""));
        });
        const timeoutMs = opts.timeoutMs ?? 300_000;
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(new Error(`${e.message}: running ${JSON.stringify(command)}:\n`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0) {
                resolve({ stdout: Buffer.concat(out).toString().replace(/\n$/, ""), stderr: Buffer.concat(err).toString().replace(/\n$/, "") });
                return;
            }
            const why = signal ? `signal: ${signal === "SIGKILL" ? "killed" : signal}` : `exit status ${code}`;
            reject(new Error(`${why}: running ${JSON.stringify(command)}:\n${Buffer.concat(combined).toString()}`));
        });
        child.stdin.on("error", () => undefined);
        if (opts.stdin !== undefined && opts.stdin !== "") child.stdin.write(opts.stdin);
        child.stdin.end();
    });
}

/** gobwas/glob-like matching: `**` crosses directories, `*` and `?` do not. */
function globRegex(pattern: string): RegExp {
    let re = "";
    for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i];
        if (ch === "*" && pattern[i + 1] === "*") {
            re += ".*";
            i++;
        } else if (ch === "*") re += "[^/]*";
        else if (ch === "?") re += "[^/]";
        else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    return new RegExp(`^${re}$`);
}

/** `assetPaths`/`archivePaths`: files under `dir` matching the globs, `!` patterns excluding. */
export function globFiles(dir: string, patterns: string[]): string[] {
    const files: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const p = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) files.push(p);
        }
    };
    walk("");
    const include = patterns.filter((p) => !p.startsWith("!")).map(globRegex);
    const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => globRegex(p.slice(1)));
    return files.filter((f) => include.some((r) => r.test(f)) && !exclude.some((r) => r.test(f))).sort();
}
