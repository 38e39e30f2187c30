/**
 * How @pulumi/command 1.2.1 opens its SSH connection (`provider/pkg/provider/remote/connection.go`,
 * `SSHConfig()` and `Dial`), realized with ssh2: the host key pinned as the provider pins it (or
 * ignored without `hostKey`), key, passphrase, password and agent logins, the retry policy, the
 * bastion, and Go's wording of every dial and handshake error. docs/engine.md has the details.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";

/** The `connection` input after the SDK's defaults (`connectionArgsProvideDefaults`). */
export interface Connection {
    host: string;
    port?: number;
    user?: string;
    password?: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    /** authorized_keys form (`ssh-ed25519 AAAA…`); pins the host key. Without it the key is ignored. */
    hostKey?: string;
    /** Failed dials allowed before giving up; -1: unlimited. Defaults to 10. */
    dialErrorLimit?: number;
    /** Seconds; the TCP connect timeout. 0: none. Defaults to 15. */
    perDialTimeout?: number;
    proxy?: Omit<Connection, "proxy">;
}

/** A progress line logger. */
export type Log = (m: string) => void;
export const noLog: Log = () => undefined;

/** What one handshake saw that Go words into its error: the server's host key algorithms. */
interface Seen {
    peerHostKeyAlgos?: string;
}

/** Go's wording for the network and handshake errors that ssh2 words differently. */
export function goDialError(e: Error & { code?: string; level?: string }, c: Connection, cfg?: ConnectConfig, seen: Seen = {}): Error {
    const hp = `${c.host.includes(":") ? `[${c.host}]` : c.host}:${c.port ?? 22}`;
    switch (e.code) {
        case "ECONNREFUSED":
            return new Error(`dial tcp ${hp}: connect: connection refused`);
        case "EHOSTUNREACH":
            return new Error(`dial tcp ${hp}: connect: no route to host`);
        case "ENETUNREACH":
            return new Error(`dial tcp ${hp}: connect: network is unreachable`);
        case "ETIMEDOUT":
            return new Error(`dial tcp ${hp}: i/o timeout`);
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return new Error(`dial tcp: lookup ${c.host}: no such host`);
        case "ECONNRESET":
            return new Error(`ssh: handshake failed: read tcp ${hp}: read: connection reset by peer`);
    }
    if (e.level === "client-authentication") {
        const methods = [c.privateKey !== undefined ? "publickey" : "", c.password !== undefined ? "password keyboard-interactive" : ""]
            .filter(Boolean)
            .join(" ");
        return new Error(
            `ssh: handshake failed: ssh: unable to authenticate, attempted methods [none${methods ? ` ${methods}` : ""}], no supported methods remain`,
        );
    }
    // x/crypto/ssh client.go fixedHostKey.check, wrapped by NewClientConn.
    if (/Host denied \(verification failed\)/.test(e.message)) return new Error("ssh: handshake failed: ssh: host key mismatch");
    if (/no matching host key format/.test(e.message)) {
        const ours = (cfg?.algorithms?.serverHostKey as string[] | undefined)?.join(" ") ?? "";
        const peer = seen.peerHostKeyAlgos?.replace(/,/g, " ") ?? "";
        return new Error(`ssh: handshake failed: ssh: no common algorithm for host key; we offered: [${ours}], peer offered: [${peer}]`);
    }
    if (/Timed out while waiting for handshake/.test(e.message)) return new Error(`dial tcp ${hp}: i/o timeout`);
    return e;
}

/** One SSH wire string off `b` at `at`: its bytes and where the next starts, or undefined past the end. */
function wireString(b: Buffer, at: number): [Buffer, number] | undefined {
    if (at + 4 > b.length || at + 4 + b.readUInt32BE(at) > b.length) return undefined;
    return [b.subarray(at + 4, at + 4 + b.readUInt32BE(at)), at + 4 + b.readUInt32BE(at)];
}

/** ParsePublicKey of the base64 blob that starts `s` (Go's strict StdEncoding; the type is the blob's own), for the ed25519, ECDSA and RSA keys. */
function publicKeyBlob(s: string): { type: string; blob: Buffer } | undefined {
    const b64 = s.trim().split(/[ \t]/)[0];
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
    const blob = Buffer.from(b64, "base64");
    const parts: Buffer[] = [];
    for (let at = 0, next: [Buffer, number] | undefined; at < blob.length; at = next[1]) {
        next = wireString(blob, at);
        if (!next) return undefined;
        parts.push(next[0]);
    }
    const type = parts[0]?.toString("latin1") ?? "";
    const shape: Record<string, boolean> = {
        "ssh-ed25519": parts.length === 2 && parts[1].length === 32,
        "ssh-rsa": parts.length === 3,
        "ecdsa-sha2-nistp256": parts.length === 3 && parts[2][0] === 4,
        "ecdsa-sha2-nistp384": parts.length === 3 && parts[2][0] === 4,
        "ecdsa-sha2-nistp521": parts.length === 3 && parts[2][0] === 4,
    };
    return shape[type] ? { type, blob } : undefined;
}

/**
 * ssh.ParseAuthorizedKey (x/crypto/ssh keys.go): the first line, blank and `#` lines skipped, that
 * reads as `<word> <base64 blob>` or `<options> <word> <base64 blob>`; the leading word is not checked.
 */
export function parseAuthorizedKey(text: string): { type: string; blob: Buffer } | undefined {
    for (const raw of text.split("\n")) {
        const line = raw.split("\r")[0].trim();
        const i = line.search(/[ \t]/);
        if (line.startsWith("#") || i === -1) continue;
        const direct = publicKeyBlob(line.slice(i));
        if (direct) return direct;
        const afterOptions = /^(?:[^ \t"]|"(?:[^"\\]|\\.)*")*[ \t]+[^ \t]+[ \t](.*)$/.exec(line)?.[1];
        const withOptions = afterOptions === undefined ? undefined : publicKeyBlob(afterOptions);
        if (withOptions) return withOptions;
    }
    return undefined;
}

/** What `SSHConfig()` does before any dial (its errors are not retried): host key, key parsing, the agent socket. */
async function clientConfig(c: Connection): Promise<ConnectConfig> {
    const perDial = c.perDialTimeout ?? 15;
    const cfg: ConnectConfig = {
        host: c.host,
        port: c.port ?? 22,
        username: c.user ?? "root",
        // Go's Timeout bounds the TCP connect; ssh2's readyTimeout bounds connect + handshake.
        readyTimeout: perDial > 0 ? perDial * 1000 : 24 * 3600_000,
        hostVerifier: () => true,
    };
    // connection.go SSHConfig(): ParseAuthorizedKey, FixedHostKey, and HostKeyAlgorithms = [its type] only.
    if (c.hostKey !== undefined) {
        const pinned = parseAuthorizedKey(c.hostKey);
        if (!pinned) throw new Error("failed to parse host key: ssh: no key found");
        cfg.algorithms = { serverHostKey: [pinned.type as "ssh-ed25519"] };
        cfg.hostVerifier = (key: Buffer) => key.equals(pinned.blob);
    }
    if (c.privateKey !== undefined) {
        let key: crypto.KeyObject | undefined;
        if (!c.privateKey.includes("OPENSSH PRIVATE KEY")) {
            try {
                key = crypto.createPrivateKey({ key: c.privateKey, passphrase: c.privateKeyPassword });
            } catch {
                throw new Error(
                    /ENCRYPTED/.test(c.privateKey) && c.privateKeyPassword === undefined
                        ? "ssh: this private key is passphrase protected"
                        : "ssh: no key found",
                );
            }
        }
        // x/crypto/ssh has no P-224: the tls provider's default ECDSA curve cannot log in.
        if (key?.asymmetricKeyDetails?.namedCurve === "secp224r1") throw new Error("ssh: only P-256, P-384 and P-521 EC keys are supported");
        cfg.privateKey = c.privateKey;
        if (c.privateKeyPassword !== undefined) cfg.passphrase = c.privateKeyPassword;
    }
    if (c.password !== undefined) {
        cfg.password = c.password;
        cfg.tryKeyboard = true;
    }
    // The provider dials the agent socket while building its config: a stale one is fatal.
    const agent = c.agentSocketPath ?? (process.env.SSH_AUTH_SOCK || undefined);
    if (agent !== undefined) {
        await new Promise<void>((resolve, reject) => {
            const s = net.connect(agent, () => {
                s.end();
                resolve();
            });
            s.on("error", (e: Error & { code?: string }) =>
                reject(
                    new Error(
                        `dial unix ${agent}: connect: ${e.code === "ENOENT" ? "no such file or directory" : e.code === "ECONNREFUSED" ? "connection refused" : e.message}`,
                    ),
                ),
            );
        });
        cfg.agent = agent;
    }
    return cfg;
}

function connectOnce(cfg: ConnectConfig, c: Connection, sock?: ClientChannel): Promise<Client> {
    const seen: Seen = {};
    const debug = (m: string) => {
        const formats = /^Handshake: \(remote\) Host key format: (.*)$/.exec(m);
        if (formats) seen.peerHostKeyAlgos = formats[1];
    };
    return new Promise((resolve, reject) => {
        const client = new Client();
        let done = false;
        client
            .on("ready", () => {
                done = true;
                resolve(client);
            })
            .on("error", (e) => {
                if (done) return;
                done = true;
                client.end();
                reject(goDialError(e, c, cfg, seen));
            })
            .on("close", () => {
                if (done) return;
                done = true;
                reject(new Error("ssh: handshake failed: EOF"));
            })
            .connect({ ...cfg, debug, ...(sock ? { sock: sock as unknown as ConnectConfig["sock"] } : {}) });
    });
}

/** `dialWithRetry`: 100 ms ×1.5 up to 5 s between tries, `after N failed attempts: <the last error>` once more than `limit` failed. */
async function withRetry<T>(what: string, limit: number, log: Log, f: () => Promise<T>): Promise<T> {
    let delay = 100;
    for (let dials = 1; ; dials++) {
        try {
            return await f();
        } catch (e) {
            if (limit > -1 && dials > limit) throw new Error(`after ${dials - 1} failed attempts: ${(e as Error).message}`);
            log(`${what} ${dials}/${limit === -1 ? "inf" : limit} failed: retrying`);
            await new Promise((r) => setTimeout(r, delay));
            delay = Math.min(delay * 1.5, 5000);
        }
    }
}

const proxied = (e: unknown) => new Error(`proxy: ${(e as Error).message}`);
const REJECT_REASONS: Record<number, string> = { 1: "administratively prohibited", 2: "connect failed", 3: "unknown channel type", 4: "resource shortage" };

/**
 * `Connection.Dial` (connection.go): the target's config, then with a proxy its own config
 * (`proxy: ` on every error from here), a retried dial of the bastion (its own dialErrorLimit), a
 * retried direct-tcpip channel to the target, and a retried handshake over that one channel. A
 * failed handshake closes the channel, so every retry after it fails `ssh: handshake failed: EOF`.
 */
export async function dial(c: Connection, log: Log = noLog): Promise<Client> {
    const cfg = await clientConfig(c);
    const limit = c.dialErrorLimit ?? 10;
    if (!c.proxy) return withRetry("Dial", limit, log, () => connectOnce(cfg, c));
    const pc: Connection = { ...c.proxy, port: c.proxy.port ?? 22, user: c.proxy.user ?? "root" };
    const pcfg = await clientConfig(pc).catch((e) => Promise.reject(proxied(e)));
    const proxy = await withRetry("Dial proxy", pc.dialErrorLimit ?? 10, log, () => connectOnce(pcfg, pc)).catch((e) => Promise.reject(proxied(e)));
    try {
        const stream = await withRetry(
            "Dial from proxy",
            limit,
            log,
            () =>
                new Promise<ClientChannel>((resolve, reject) =>
                    proxy.forwardOut("127.0.0.1", 0, c.host, c.port ?? 22, (err, s) => {
                        const reason = REJECT_REASONS[(err as Error & { reason?: number })?.reason ?? 2];
                        return err ? reject(new Error(`ssh: rejected: ${reason} (${err.message.replace(/^\(SSH\) Channel open failure: /, "")})`)) : resolve(s);
                    }),
                ),
        ).catch((e) => Promise.reject(proxied(e)));
        let used = false;
        const client = await withRetry("Dial", limit, log, () => {
            if (used) return Promise.reject(new Error("ssh: handshake failed: EOF"));
            used = true;
            return connectOnce(cfg, c, stream);
        }).catch((e) => Promise.reject(proxied(e)));
        client.on("close", () => proxy.end());
        return client;
    } catch (e) {
        proxy.end();
        throw e;
    }
}
