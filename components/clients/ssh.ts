/**
 * The SSH session to a client host, with ssh2: the host key pinned (checked before we log in, so a
 * host that is not the one pinned never sees a credential), a key with its passphrase or the
 * agent, and an optional bastion with its own pinned key. Every script runs as `sh -s` (through
 * `sudo -n` when asked) with the script on stdin.
 */
import type { Client, ConnectConfig } from "ssh2";
import type { Run } from "./reconcile";
import { hostPort } from "./runtimes";

/** How to reach one host. */
export interface SshTarget {
    host: string;
    port: number;
    user: string;
    /** `<type> <base64>`; undefined only with the stack's explicit opt-out. */
    hostKey?: string;
}

/** The login, shared by a host and its bastion. */
export interface SshLogin {
    privateKey?: string;
    privateKeyPassword?: string;
    /**
     * The ssh-agent socket; `true`: `$SSH_AUTH_SOCK` of the process that opens the session, so the
     * state holds no login's socket path and a destroy from another login reaches the host too.
     */
    agent?: string | true;
}

/** Everything to open a session. */
export interface SshConnection extends SshTarget, SshLogin {
    proxy?: SshTarget;
    sudo: boolean;
    /** Seconds for connect and handshake. Defaults to 20. */
    timeout?: number;
}

const where = (t: SshTarget) => `${t.user}@${hostPort(t.host, t.port)}`;

/** The host key algorithms that verify a pinned key of this type (so the server presents that key). */
function algorithmsFor(keyType: string): ConnectConfig["algorithms"] {
    if (keyType === "ssh-rsa") return { serverHostKey: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] };
    return { serverHostKey: [keyType as never] };
}

function config(t: SshTarget, login: SshLogin, timeout: number, onMismatch: (got: string) => void): ConnectConfig {
    const c: ConnectConfig = {
        host: t.host,
        port: t.port,
        username: t.user,
        readyTimeout: timeout * 1000,
        privateKey: login.privateKey,
        passphrase: login.privateKeyPassword,
        agent: login.agent === true ? undefined : login.agent,
        keepaliveInterval: 10_000,
    };
    if (t.hostKey) {
        const [type, blob] = t.hostKey.trim().split(/\s+/);
        const expected = Buffer.from(blob ?? "", "base64");
        c.algorithms = algorithmsFor(type);
        c.hostVerifier = (key: Buffer) => {
            if (key.equals(expected)) return true;
            onMismatch(`${type} ${key.toString("base64")}`);
            return false;
        };
    }
    return c;
}

function connect(c: ConnectConfig, t: SshTarget, mismatch: () => string | undefined): Promise<Client> {
    return new Promise((resolve, reject) => {
        // ssh2 loaded on first use: only the client hosts' provider connects, and every run of the
        // program imports this module.
        const client: Client = new (require("ssh2") as typeof import("ssh2")).Client();
        client.once("ready", () => resolve(client));
        client.once("error", (e) => {
            const m = mismatch();
            reject(
                new Error(
                    m
                        ? `ssh ${where(t)}: the host key is not the one pinned (hostKey): it presented ${m.slice(0, 60)}…; nothing was sent to it`
                        : `ssh ${where(t)}: ${e.message}`,
                ),
            );
        });
        client.connect(c);
    });
}

/** Opens the session (through the bastion when there is one). Close it with `close()`. */
export async function openSsh(conn: SshConnection): Promise<{ run: Run; close: () => void }> {
    const timeout = conn.timeout ?? 20;
    const agent = conn.agent === true ? process.env.SSH_AUTH_SOCK : conn.agent;
    if (conn.agent === true && !agent) {
        throw new Error(
            `${where(conn)}: sshAgent is true, but SSH_AUTH_SOCK is not set where pulumi runs: start ssh-agent (eval "$(ssh-agent)"; ssh-add) or give the socket's path`,
        );
    }
    const login: SshLogin = { privateKey: conn.privateKey, privateKeyPassword: conn.privateKeyPassword, agent };
    let bastion: Client | undefined;
    let proxyMismatch: string | undefined;
    let mismatch: string | undefined;
    const target = config(conn, login, timeout, (m) => {
        mismatch = m;
    });
    if (conn.proxy) {
        const p = conn.proxy;
        bastion = await connect(
            config(p, login, timeout, (m) => (proxyMismatch = m)),
            p,
            () => proxyMismatch,
        );
        const b = bastion;
        target.sock = await new Promise((resolve, reject) =>
            b.forwardOut("127.0.0.1", 0, conn.host, conn.port, (e, stream) =>
                e ? reject(new Error(`ssh ${where(p)}: forwarding to ${where(conn)}: ${e.message}`)) : resolve(stream),
            ),
        );
    }
    let client: Client;
    try {
        client = await connect(target, conn, () => mismatch);
    } catch (e) {
        bastion?.end();
        throw e;
    }
    const command = `${conn.sudo ? "sudo -n " : ""}sh -s`;
    const run: Run = (script) =>
        new Promise((resolve, reject) => {
            client.exec(command, (e, stream) => {
                if (e) return reject(new Error(`ssh ${where(conn)}: ${e.message}`));
                let stdout = "";
                let stderr = "";
                stream.on("data", (d: Buffer) => {
                    stdout += d.toString("utf8");
                });
                stream.stderr.on("data", (d: Buffer) => {
                    stderr += d.toString("utf8");
                });
                stream.on("close", (code: number | null, signal?: string) =>
                    resolve({ stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr, code: code ?? 255 }),
                );
                stream.end(script);
            });
        });
    return {
        run,
        close: () => {
            client.end();
            bastion?.end();
        },
    };
}
