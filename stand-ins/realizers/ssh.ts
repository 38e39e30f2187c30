/**
 * `command.remote.Command`'s SSH side as @pulumi/command 1.2.1 runs it (x/crypto/ssh), realized with
 * ssh2:
 * - a new connection per run, dialled with the provider's retry policy (100 ms ×1.5 up to 5 s, until
 *   more than `dialErrorLimit` dials failed: `after N failed attempts: <err>`); auth by key, password,
 *   keyboard-interactive and agent (`agentSocketPath`, else `$SSH_AUTH_SOCK`, which must dial);
 *   the host key ignored unless `hostKey` pins it (ParseAuthorizedKey, FixedHostKey, only that key's
 *   algorithm offered); an optional `proxy` (bastion), its errors prefixed `proxy: ` (all in sshDial.ts);
 * - one session, NO PTY; every `environment` entry is an `env` request WITH want-reply, as
 *   `Session.Setenv` sends it, and a refusal fails the run before the command starts
 *   (ssh2's `exec({env})` sends them without a reply, which would drop refused names silently, so the
 *   session channel is driven here through ssh2's channel internals, pinned by package.json);
 * - PULUMI_COMMAND_STDOUT/ERR (the previous outputs, when non-empty) also by setenv: refusal = warning;
 * - stdin written only when non-empty, then EOF; stdout and stderr kept apart, one trailing `\n`
 *   stripped; a non-zero exit fails with `Process exited with status N: running "<cmd>":\n<output>`.
 * Dial and handshake errors are worded as Go words them (`dial tcp …: connect: connection refused`,
 * `ssh: handshake failed: ssh: unable to authenticate, …`), not as ssh2 does.
 */
import type { Client, ClientChannel } from "ssh2";
import { dial, type Connection, type Log, noLog } from "./sshDial";

export { type Connection, dial, goDialError, parseAuthorizedKey } from "./sshDial";

// --- One session, driven the way x/crypto/ssh drives it -----------------------------------------

interface RawChannel extends Omit<ClientChannel, "subtype"> {
    outgoing: { id: number; state: string };
    _callbacks: ((hadErr: boolean) => void)[];
    _exit: { code?: number | null; signal?: string; dump?: boolean; desc?: string };
    subtype?: string;
    allowHalfOpen: boolean;
}

interface ClientInternals {
    _chanMgr: { add(cb: unknown): number };
    _protocol: {
        session(local: number, window: number, packetSize: number): void;
        env(chan: number, key: string, value: string, wantReply: boolean): void;
        exec(chan: number, cmd: string, wantReply: boolean): void;
    };
}

// ssh2 1.17 internals (pinned): the window sizes its own channels are opened with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MAX_WINDOW, PACKET_SIZE } = require("ssh2/lib/Channel.js") as { MAX_WINDOW: number; PACKET_SIZE: number };

/** `client.NewSession()`: a bare session channel with no request sent on it yet. */
function openSession(client: Client): Promise<RawChannel> {
    const c = client as unknown as ClientInternals;
    return new Promise((resolve, reject) => {
        const onOpen = Object.assign((err: Error | undefined, chan: RawChannel) => (err ? reject(err) : resolve(chan)), { type: "session" });
        const local = c._chanMgr.add(onOpen);
        if (local === -1) reject(new Error("ssh: no free channels"));
        else c._protocol.session(local, MAX_WINDOW, PACKET_SIZE);
    });
}

/** A channel request with want-reply: the server's yes (true) or no (false). */
function request(chan: RawChannel, send: () => void): Promise<boolean> {
    return new Promise((resolve) => {
        chan._callbacks.push((hadErr) => resolve(!hadErr));
        send();
    });
}

/** `Session.Setenv`. */
function setenv(client: Client, chan: RawChannel, key: string, value: string): Promise<boolean> {
    return request(chan, () => (client as unknown as ClientInternals)._protocol.env(chan.outgoing.id, key, value, true));
}

/** x/crypto/ssh's signal table: an exit-signal gives status 128 + n. */
const SIGNALS: Record<string, number> = {
    ABRT: 6,
    ALRM: 14,
    FPE: 8,
    HUP: 1,
    ILL: 4,
    INT: 2,
    KILL: 9,
    PIPE: 13,
    QUIT: 3,
    SEGV: 11,
    TERM: 15,
    USR1: 10,
    USR2: 12,
};

/** The outcome of one command run. */
export interface RunResult {
    stdout: string;
    stderr: string;
}

/** Options of one run. */
export interface RunOptions {
    /** Written (then EOF) only when non-empty. */
    stdin?: string;
    /** Each sent by setenv with want-reply; a refused name fails the run before the command starts. */
    environment?: Record<string, string>;
    /** The previous stdout/stderr: sent as PULUMI_COMMAND_STDOUT/ERR when non-empty; refusal only warns. */
    previous?: RunResult;
    /** Defaults to true. */
    addPreviousOutputInEnv?: boolean;
    /** What is streamed to `log`: "stdout" | "stderr" | "stdoutAndStderr" | "none". Defaults to both. */
    logging?: string;
    /** Harness time-box for the run (the provider has none of its own). Defaults to 5 minutes. */
    timeoutMs?: number;
    log?: Log;
}

/** Runs `command` with a remote.Command's own inputs (connection, stdin, environment, logging…). */
export function runCommandResource(
    inputs: Record<string, any>,
    command: string,
    opts: { previous?: RunResult; timeoutMs?: number; log?: (m: string) => void } = {},
): Promise<RunResult> {
    return runRemote(inputs.connection as Connection, command, {
        stdin: inputs.stdin,
        environment: inputs.environment,
        previous: opts.previous,
        addPreviousOutputInEnv: inputs.addPreviousOutputInEnv,
        logging: inputs.logging,
        timeoutMs: opts.timeoutMs,
        log: opts.log,
    });
}

/** Runs one command like the provider's `run()`; throws the provider's error text on failure. */
export async function runRemote(c: Connection, command: string, opts: RunOptions = {}): Promise<RunResult> {
    const log = opts.log ?? noLog;
    const timeoutMs = opts.timeoutMs ?? 300_000;
    let client: Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
            () => reject(new Error(`harness: the command did not finish within ${timeoutMs} ms: running ${JSON.stringify(command)}`)),
            timeoutMs,
        );
    });
    const run = async (): Promise<RunResult> => {
        client = await dial(c, log);
        const chan = await openSession(client);
        for (const [k, v] of Object.entries(opts.environment ?? {})) {
            if (!(await setenv(client, chan, k, String(v)))) {
                log(
                    `error: Unable to set '${k}'. This only works if your SSH server is configured to accept these variables via AcceptEnv. ` +
                        "Alternatively, if a Bash-like shell runs the command on the remote host, you could prefix the command itself with the variables in the form 'VAR=value command'",
                );
                throw new Error(`could not set environment variable "${k}": ssh: setenv failed`);
            }
        }
        if (opts.addPreviousOutputInEnv !== false && opts.previous) {
            const prev: [string, string][] = [
                ["PULUMI_COMMAND_STDOUT", opts.previous.stdout],
                ["PULUMI_COMMAND_STDERR", opts.previous.stderr],
            ];
            for (const [k, v] of prev) {
                if (v && !(await setenv(client, chan, k, v))) {
                    log(`warning: Unable to set '${k}'. This only works if your SSH server is configured to accept these variables via AcceptEnv.`);
                }
            }
        }
        const internals = client as unknown as ClientInternals;
        if (!(await request(chan, () => internals._protocol.exec(chan.outgoing.id, command, true)))) throw new Error(`ssh: command ${command} failed`);
        chan.subtype = "exec";
        chan.allowHalfOpen = true;
        return collect(chan, command, opts, log);
    };
    try {
        return await Promise.race([run(), timeout]);
    } finally {
        clearTimeout(timer);
        (client as Client | undefined)?.end();
    }
}

function lineLogger(enabled: boolean, log: Log) {
    let pending = "";
    return {
        push(d: Buffer) {
            if (!enabled) return;
            const lines = (pending + d.toString("utf8")).split("\n");
            pending = lines.pop()!;
            for (const l of lines) log(l);
        },
        flush() {
            if (enabled && pending) log(pending);
        },
    };
}

function collect(chan: RawChannel, command: string, opts: RunOptions, log: Log): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const combined: Buffer[] = [];
        const logging = opts.logging ?? "stdoutAndStderr";
        const lo = lineLogger(logging === "stdout" || logging === "stdoutAndStderr", log);
        const le = lineLogger(logging === "stderr" || logging === "stdoutAndStderr", log);
        chan.on("data", (d: Buffer) => {
            out.push(d);
            combined.push(d);
            lo.push(d);
        });
        chan.stderr.on("data", (d: Buffer) => {
            err.push(d);
            combined.push(d);
            le.push(d);
        });
        chan.on("close", () => {
            lo.flush();
            le.flush();
            // ssh2 records exit-status/exit-signal on the channel; its "exit" event may fire before
            // this function ran (same packet batch as the exec reply), the record does not get lost.
            const exit = chan._exit;
            const code = exit.code;
            const signal = exit.signal?.replace(/^SIG/, "");
            const desc = exit.desc;
            if (code === 0) {
                resolve({ stdout: Buffer.concat(out).toString("utf8").replace(/\n$/, ""), stderr: Buffer.concat(err).toString("utf8").replace(/\n$/, "") });
                return;
            }
            let why: string;
            if (code === undefined) why = "wait: remote command exited without exit status or exit signal";
            else if (signal !== undefined)
                why = `Process exited with status ${128 + (SIGNALS[signal] ?? 0)} from signal ${signal}${desc ? `. Reason was: ${desc}` : ""}`;
            else why = `Process exited with status ${code}`;
            reject(new Error(`${why}: running ${JSON.stringify(command)}:\n${Buffer.concat(combined).toString("utf8")}`));
        });
        if (opts.stdin !== undefined && opts.stdin !== "") chan.write(opts.stdin);
        chan.end();
    });
}
