/**
 * How a client host is reached over SSH: its pinned host key (or the explicit opt-out), the login
 * (private key, its passphrase, the ssh-agent) and an optional bastion. The values become the
 * client host resource's connection (components/clients/ssh.ts, with ssh2).
 */
import * as crypto from "node:crypto";
import { opensshCipher, sshKey } from "./pem";
import { NAMESPACE, type Reader, show } from "./reader";
import { hostProblem, type Obj } from "./rules";
import { Secret } from "../components/args";
import type { ClientSettings } from "./types";
import { CLIENT_DEFAULTS } from "../components/defaults";

/** The fields of `clients[].proxy`. */
export const PROXY_KEYS = ["host", "port", "user", "hostKey"];

/** A login name `ssh` and `sudo` accept. */
const UNIX_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
const AGENT_RULE = "must be true ($SSH_AUTH_SOCK), false, or the absolute path of the agent's socket";

/**
 * `host` (required), `port` (default 22) and `user` (default root) of an SSH endpoint under `key`:
 * a client or its bastion. `valid` when the host is a name or an address.
 */
export function parseAddress(r: Reader, key: string, o: Obj, why: string): { host?: string; port?: number; user?: string; valid: boolean } {
    const host = r.required(key, o, "host", why) ? r.str(`${key}.host`, o.host) : undefined;
    const badHost = host === undefined ? undefined : hostProblem(host);
    if (badHost !== undefined) r.fail(`${key}.host`, `${badHost}, got ${show(host)}`);
    const port = o.port === undefined ? 22 : r.int(`${key}.port`, o.port, 1, 65535);
    const user = o.user === undefined ? CLIENT_DEFAULTS.user : r.str(`${key}.user`, o.user);
    if (user !== undefined && !UNIX_USER.test(user)) r.fail(`${key}.user`, `must be a login name (letters, digits, _ . -; at most 32), got ${show(user)}`);
    return { host, port, user, valid: host !== undefined && badHost === undefined };
}

/** Host key types and the EC point length of each curve (ed25519: a 32-byte key). */
const HOST_KEY_TYPES: Record<string, { curve?: string; length: number }> = {
    "ssh-ed25519": { length: 32 },
    "ecdsa-sha2-nistp256": { curve: "P-256", length: 65 },
    "ecdsa-sha2-nistp384": { curve: "P-384", length: 97 },
    "ecdsa-sha2-nistp521": { curve: "P-521", length: 133 },
    // Checked with rsa-sha2-512/256 signatures (never SHA-1 ssh-rsa); length: at least a 2048-bit modulus.
    "ssh-rsa": { length: 256 },
};
const KEYSCAN = "ssh-keyscan -t ed25519 <host>, without the leading host name";

/** The SSH wire strings of a public key blob (length-prefixed), or undefined when it does not split exactly. */
function wireStrings(blob: Buffer): Buffer[] | undefined {
    const out: Buffer[] = [];
    for (let at = 0; at < blob.length; ) {
        if (at + 4 > blob.length) return undefined;
        const len = blob.readUInt32BE(at);
        if (at + 4 + len > blob.length) return undefined;
        out.push(blob.subarray(at + 4, at + 4 + len));
        at += 4 + len;
    }
    return out;
}

/** Why `v` is not one public host key line `<type> <base64>[ <comment>]`, or undefined. */
export function hostKeyProblem(v: string): string | undefined {
    const [type = "", b64 = ""] = v.trim().split(/[ \t]+/);
    if (/PRIVATE KEY/.test(v)) return "is a private key; give the host's public key";
    const spec = HOST_KEY_TYPES[type];
    if (!spec) {
        if (HOST_KEY_TYPES[b64]) return `starts with a host name or options (${show(type)}); give only "<type> <base64 key>", e.g. from ${KEYSCAN}`;
        return `must be a public host key "<type> <base64 key>" of type ${Object.keys(HOST_KEY_TYPES).join(", ")} (${KEYSCAN}), got ${show(v)}`;
    }
    if (b64 === "") return `has no key after ${type}; give "${type} <base64 key>"`;
    const blob = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.length % 4 === 0 ? Buffer.from(b64, "base64") : undefined;
    const parts = blob && wireStrings(blob);
    const bad = `has a key that is not a valid ${type} public key`;
    if (!parts || parts[0].toString("latin1") !== type) return `${bad} (its encoded type differs or it is not base64)`;
    if (type === "ssh-rsa") {
        if (parts.length !== 3) return bad;
        const modulus = parts[2][0] === 0 ? parts[2].subarray(1) : parts[2];
        return modulus.length >= spec.length ? undefined : `is an RSA key of ${modulus.length * 8} bits; a host key needs at least 2048`;
    }
    if (spec.curve === undefined) return parts.length === 2 && parts[1].length === spec.length ? undefined : bad;
    if (parts.length !== 3 || parts[1].toString("latin1") !== type.slice("ecdsa-sha2-".length) || parts[2].length !== spec.length || parts[2][0] !== 4)
        return bad;
    const n = (spec.length - 1) / 2;
    const jwk = { kty: "EC", crv: spec.curve, x: parts[2].subarray(1, 1 + n).toString("base64url"), y: parts[2].subarray(1 + n).toString("base64url") };
    try {
        crypto.createPublicKey({ key: jwk, format: "jwk" });
    } catch {
        return `${bad} (the point is not on the curve)`;
    }
    return undefined;
}

/** The cipher of an OpenSSH key ("none" when unencrypted), "pem" for a legacy encrypted PEM, "pkcs8" for PKCS#8, or undefined. */
function keyEncryption(v: string): string | undefined {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(v)) return "pkcs8";
    if (/^Proc-Type: 4,ENCRYPTED/m.test(v)) return "pem";
    return opensshCipher(v);
}

/** A client's own key with its passphrase: it must be encrypted in a form x/crypto/ssh decrypts. */
function encryptedKey(r: Reader, key: string, v: unknown): string | undefined {
    const enc = typeof v === "string" ? keyEncryption(v) : undefined;
    if (enc === "pkcs8")
        return r.fail(
            key,
            "is an encrypted PKCS#8 key, which the SSH client (ssh2) cannot decrypt; convert it to the OpenSSH form (ssh-keygen -p -f <copy of the key>)",
        );
    if (enc === undefined || enc === "none") {
        // An unencrypted key is still checked, then refused: a passphrase for it is a mistake in the stack.
        if (sshKey(r, key, v) !== undefined) r.fail(key, "is not passphrase-protected, so privateKeyPassword must not be set (is this the key you meant?)");
        return undefined;
    }
    return v as string;
}

/** Reads `hostKey` under `key`, or undefined when absent or bad (a problem is recorded). */
function hostKeyAt(r: Reader, key: string, v: unknown): string | undefined {
    if (v === undefined) return undefined;
    const s = r.str(key, v);
    if (s === undefined) return undefined;
    const problem = hostKeyProblem(s);
    return problem === undefined ? s.trim() : r.fail(key, problem);
}

/** What `parseSshAccess` adds to a client. */
export type SshAccess = Pick<ClientSettings, "privateKey" | "privateKeyPassword" | "sshAgent" | "hostKey" | "insecureSkipHostKeyCheck" | "proxy">;

/**
 * The SSH fields of client `key` (`clients[i]`): the login (its own key or `sshPrivateKey`, the
 * passphrase, the agent; one of key or agent is required), the host keys (required unless
 * `insecureSkipHostKeyCheck: true`, which adds a warning), and the bastion.
 */
export function parseSshAccess(r: Reader, key: string, i: number, o: Obj, defaultKey: string | undefined, where: string): SshAccess | undefined {
    let privateKey = defaultKey;
    let privateKeyPassword: string | undefined;
    if (o.privateKeyPassword !== undefined) {
        r.requireSecret("clients", "an SSH key passphrase", `clients[${i}].privateKeyPassword`);
        privateKeyPassword = r.str(`${key}.privateKeyPassword`, o.privateKeyPassword, { secret: true });
        if (o.privateKey === undefined)
            r.fail(`${key}.privateKeyPassword`, `decrypts the client's own privateKey and needs one (${NAMESPACE}:sshPrivateKey must be unencrypted)`);
    }
    if (o.privateKey !== undefined) {
        r.requireSecret("clients", "an SSH private key", `clients[${i}].privateKey`);
        const enc = typeof o.privateKey === "string" ? keyEncryption(o.privateKey) : undefined;
        if (o.privateKeyPassword !== undefined) privateKey = encryptedKey(r, `${key}.privateKey`, o.privateKey);
        else if (enc !== undefined && enc !== "none" && enc !== "pkcs8")
            privateKey = r.fail(`${key}.privateKey`, `is passphrase-protected; set clients[${i}].privateKeyPassword as a secret, or give an unencrypted key`);
        else privateKey = sshKey(r, `${key}.privateKey`, o.privateKey);
    }
    // `pulumi config set --path` stores true and false as strings.
    const agent = o.sshAgent === "true" ? true : o.sshAgent === "false" ? false : o.sshAgent;
    const agentAsked = agent !== undefined && agent !== false;
    let sshAgent: true | string | undefined;
    if (agent === true) sshAgent = true;
    else if (typeof agent === "string" && agent.startsWith("/")) sshAgent = r.str(`${key}.sshAgent`, agent);
    else if (agentAsked) r.fail(`${key}.sshAgent`, `${AGENT_RULE}, got ${show(o.sshAgent)}`);
    if (o.privateKey === undefined && !r.has("sshPrivateKey") && !agentAsked) {
        r.fail(
            `${key}.privateKey`,
            `is required unless ${NAMESPACE}:sshPrivateKey or clients[${i}].sshAgent is set (pulumi config set --secret sshPrivateKey < key)`,
        );
    }

    const skip = o.insecureSkipHostKeyCheck === undefined ? false : r.bool(`${key}.insecureSkipHostKeyCheck`, o.insecureSkipHostKeyCheck);
    const hostKey = hostKeyAt(r, `${key}.hostKey`, o.hostKey);
    const howTo = `(the host's public key: ${KEYSCAN}), or set clients[${i}].insecureSkipHostKeyCheck: true to connect without checking it`;
    if (skip && o.hostKey !== undefined) r.fail(`${key}.hostKey`, `contradicts clients[${i}].insecureSkipHostKeyCheck: true; remove one of them`);
    else if (skip === false && o.hostKey === undefined) r.fail(`${key}.hostKey`, `is required ${howTo}`);

    let proxy: ClientSettings["proxy"];
    if (o.proxy !== undefined) {
        const p = r.obj(`${key}.proxy`, o.proxy, PROXY_KEYS, "an object {host, port?, user?, hostKey?}");
        if (p) {
            const { host, port, user, valid } = parseAddress(r, `${key}.proxy`, p, " (the bastion's SSH address)");
            const proxyKey = hostKeyAt(r, `${key}.proxy.hostKey`, p.hostKey);
            if (skip && p.hostKey !== undefined) r.fail(`${key}.proxy.hostKey`, `contradicts clients[${i}].insecureSkipHostKeyCheck: true; remove one of them`);
            else if (skip === false && p.hostKey === undefined) r.fail(`${key}.proxy.hostKey`, `is required ${howTo.replace("the host's", "the bastion's")}`);
            if (valid && host !== undefined && port !== undefined && user !== undefined)
                proxy = proxyKey === undefined ? { host, port, user } : { host, port, user, hostKey: proxyKey };
        }
    }
    if (skip) {
        const via = proxy ? `, nor that of its bastion ${proxy.host}:${proxy.port}` : "";
        r.warn(
            `${key}.insecureSkipHostKeyCheck`,
            `is true: the SSH host key of ${where} is not checked${via}, so whoever answers at that address gets the steps' commands and the registry password (docker login's stdin); set clients[${i}].hostKey instead (${KEYSCAN})`,
        );
    }
    if ((privateKey === undefined && sshAgent === undefined) || skip === undefined) return undefined;
    if (o.privateKeyPassword !== undefined && privateKeyPassword === undefined) return undefined;
    const access: SshAccess = { insecureSkipHostKeyCheck: skip };
    if (privateKey !== undefined) access.privateKey = new Secret(privateKey);
    if (privateKeyPassword !== undefined) access.privateKeyPassword = new Secret(privateKeyPassword);
    if (sshAgent !== undefined) access.sshAgent = sshAgent;
    if (hostKey !== undefined) access.hostKey = hostKey;
    if (proxy !== undefined) access.proxy = proxy;
    return access;
}
