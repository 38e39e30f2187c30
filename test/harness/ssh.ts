/**
 * `command.remote.Command` over real SSH, the way @pulumi/command 1.2.1 runs it
 * (shared/reference/provider-fidelity.md §1.1): a new connection per run with the provider's dial
 * retries, an `exec` without a PTY, stdin only when non-empty, one trailing newline stripped, and
 * the provider's error text on a non-zero exit.
 */
import { Client } from "ssh2";

/** The connection input, after the SDK's defaults. */
export interface Connection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    password?: string;
    dialErrorLimit?: number;
    perDialTimeout?: number;
}

/**
 * What sshd accepts through `env` requests. The provider sends each `environment` entry with
 * want-reply and fails on refusal; ssh2 sends them without a reply, so the refusal is decided
 * here from the servers' `AcceptEnv` (Debian's default: `LANG LC_*`).
 */
export const DEFAULT_ACCEPT_ENV = [/^LANG$/, /^LC_.*$/];

function dialOnce(c: Connection): Promise<Client> {
    return new Promise((resolve, reject) => {
        const client = new Client();
        client
            .on("ready", () => resolve(client))
            .on("error", (e) => reject(e))
            .connect({
                host: c.host,
                port: c.port ?? 22,
                username: c.user ?? "root",
                privateKey: c.privateKey,
                password: c.password,
                readyTimeout: (c.perDialTimeout ?? 15) * 1000,
                hostVerifier: () => true,
            });
    });
}

/** Dials with the provider's retry policy: 100 ms growing ×1.5 to 5 s, `dialErrorLimit` failures. */
export async function dial(c: Connection, log: (m: string) => void): Promise<Client> {
    const limit = c.dialErrorLimit ?? 10;
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
        try {
            return await dialOnce(c);
        } catch (e) {
            if (limit !== -1 && attempt > limit) throw new Error(`after ${attempt - 1} failed attempts: ${(e as Error).message}`);
            log(`Dial ${attempt}/${limit} failed: retrying`);
            await new Promise((r) => setTimeout(r, delay));
            delay = Math.min(delay * 1.5, 5000);
        }
    }
}

/** The outcome of one command run. */
export interface RunResult {
    stdout: string;
    stderr: string;
}

/** Runs one command like the provider's `run()`; throws the provider's error on failure. */
export async function runRemote(
    c: Connection,
    command: string,
    opts: { stdin?: string; environment?: Record<string, string>; timeoutMs?: number; acceptEnv?: RegExp[]; log?: (m: string) => void } = {},
): Promise<RunResult> {
    const log = opts.log ?? (() => undefined);
    for (const k of Object.keys(opts.environment ?? {})) {
        if (!(opts.acceptEnv ?? DEFAULT_ACCEPT_ENV).some((re) => re.test(k))) {
            log(`Unable to set '${k}'. This only works if your SSH server is configured to accept these variables via AcceptEnv.`);
            throw new Error(`could not set environment variable "${k}": ssh: setenv failed`);
        }
    }
    const client = await dial(c, log);
    try {
        return await new Promise<RunResult>((resolve, reject) => {
            const timer = setTimeout(() => {
                client.end();
                reject(new Error(`command timed out after ${opts.timeoutMs} ms: running ${JSON.stringify(command)}`));
            }, opts.timeoutMs ?? 300_000);
            client.exec(command, { env: opts.environment }, (err, stream) => {
                if (err) {
                    clearTimeout(timer);
                    reject(err);
                    return;
                }
                let stdout = "";
                let stderr = "";
                let combined = "";
                let code: number | null = null;
                let signal: string | undefined;
                stream.on("data", (d: Buffer) => {
                    stdout += d.toString();
                    combined += d.toString();
                });
                stream.stderr.on("data", (d: Buffer) => {
                    stderr += d.toString();
                    combined += d.toString();
                });
                stream.on("exit", (c: number | null, s?: string) => {
                    code = c;
                    signal = s;
                });
                stream.on("close", () => {
                    clearTimeout(timer);
                    if (code === 0) {
                        resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
                    } else {
                        const why = code === null ? `Process exited without exit status${signal ? ` (signal ${signal})` : ""}` : `Process exited with status ${code}`;
                        reject(new Error(`${why}: running ${JSON.stringify(command)}:\n${combined}`));
                    }
                });
                if (opts.stdin !== undefined && opts.stdin !== "") stream.write(opts.stdin);
                stream.end();
            });
        });
    } finally {
        client.end();
    }
}
