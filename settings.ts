/**
 * Parses a stack's raw Pulumi config into typed {@link Settings}. Pure: no Pulumi import, so every
 * rule is testable without the engine (C6, C9). All problems are collected and reported together,
 * each naming its full config key, before the program registers any resource.
 *
 * The rule of thumb: anything Docker, SSH, the TLS provider or the registry would refuse later (in
 * an `apply` after resources exist, or at container start-up), and anything that would be silently
 * ignored, is refused here instead.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import * as path from "node:path";
import { inspect } from "node:util";
import { registryVersionFromImage } from "./components/render/registryConfig";
import {
    STORAGE_DRIVERS,
    type NotificationEndpoint,
    type ProxySection,
    type RedisSection,
    type RegistryMajorVersion,
    type StorageDriver,
    type StorageOptions,
} from "./components/render/registryConfigModel";
import {
    Secret,
    type CaSettings,
    type CertificateSettings,
    type ClientSettings,
    type DaemonJsonSettings,
    type DataSettings,
    type RegistryBehaviourSettings,
    type Settings,
    type TlsSettings,
    type UserSettings,
} from "./settingsTypes";

/** The config namespace (the Pulumi project name). */
export const NAMESPACE = "private-registry";

/** The raw config as the language host gives it: short key → string (objects and lists as JSON). */
export interface RawConfig {
    /** Short key (no namespace) → value: plain strings as-is, numbers and bools as text, objects and lists as JSON. */
    values: Record<string, string>;
    /** Short keys set as secrets (a nested `--secret --path` marks its whole top-level key). */
    secretKeys: ReadonlySet<string>;
}

/** One bad config value. */
export interface SettingsProblem {
    /** Full key, e.g. `private-registry:users[1].name`. */
    key: string;
    /** What is wrong and what is allowed, ending in `got <value>` (`got a value` under a secret key). */
    message: string;
}

/** Every problem found in a stack's config. */
export class SettingsError extends Error {
    constructor(readonly problems: SettingsProblem[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  ${p.key} ${p.message}`).join("\n"),
        );
        this.name = "SettingsError";
    }
}

/** Options for {@link parseSettings}. */
export interface ParseOptions {
    /** The time supplied certificates must be valid at. Defaults to now. */
    now?: Date;
}

// ---------------------------------------------------------------------------------------------
// Shapes and patterns
// ---------------------------------------------------------------------------------------------

const TOP_KEYS = [
    "dockerHost",
    "dockerSshOpts",
    "image",
    "registryVersion",
    "keepImage",
    "containerName",
    "hostnames",
    "ipAddresses",
    "port",
    "bindAddress",
    "networks",
    "tls",
    "caCertificate",
    "caPrivateKey",
    "serverCertificate",
    "serverPrivateKey",
    "serverCaCertificate",
    "users",
    "storage",
    "data",
    "registry",
    "sshPrivateKey",
    "daemonJson",
    "clients",
] as const;

const TLS_KEYS = ["enabled", "minimumTls", "ca", "certificate"];
const CA_KEYS = ["algorithm", "rsaBits", "ecdsaCurve", "commonName", "organization", "validityHours"];
const CERT_KEYS = ["algorithm", "rsaBits", "ecdsaCurve", "validityHours", "earlyRenewalHours"];
const USER_KEYS = ["name", "password", "passwordLength"];
const NETWORK_KEYS = ["name", "ipv4Address", "aliases"];
const DATA_KEYS = ["volumeName", "keepOnDestroy", "hostPath"];
const REGISTRY_KEYS = [
    "logLevel",
    "realm",
    "deleteEnabled",
    "blobDescriptorCache",
    "uploadPurging",
    "readOnly",
    "redirectDisable",
    "storageHealthCheck",
    "debugPort",
    "prometheus",
    "headers",
    "notifications",
    "proxy",
    "redis",
];
const UPLOAD_PURGING_KEYS = ["enabled", "age", "interval", "dryRun"];
const NOTIFICATION_KEYS = ["name", "url", "headers", "timeout", "threshold", "backoff", "disabled", "ignoredMediaTypes"];
const PROXY_KEYS = ["remoteUrl", "username", "password", "ttl"];
const REDIS_KEYS = ["addrs", "username", "password", "db", "dialTimeout", "readTimeout", "writeTimeout", "maxIdle", "maxActive", "idleTimeout"];
const DAEMON_JSON_KEYS = ["registryMirrors", "maxConcurrentDownloads", "maxConcurrentUploads", "liveRestore", "logOpts", "debug"];
const CLIENT_KEYS = ["name", "host", "port", "user", "privateKey", "sudo", "login", "daemonJson"];

/** The registry's default debug listener inside the container (components/registry.ts). */
/** Where the data volume or host path is mounted in the container (components/registry.ts). */
const CONTAINER_DATA_DIR = "/var/lib/registry";
/** bcrypt reads only the first 72 bytes of a password. */
const BCRYPT_MAX_BYTES = 72;

/** Go's `time.ParseDuration` without a sign; `0` too (e.g. `proxy.ttl: 0` disables expiry). */
const DURATION = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/;
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Docker's container and volume name rule (`RestrictedNamePattern`): two characters at least. */
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const CLIENT_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
/** A login name `ssh` and `sudo` accept. */
const UNIX_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
/** An RFC 7230 header field name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An image reference as `docker/reference` parses it: `[domain[:port]/]path[:tag][@sha256:<64 hex>]`. */
const IMAGE_REF = (() => {
    const component = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
    const domain = `(?:${component}(?:\\.${component})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`;
    const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    return new RegExp(`^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
})();

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** The key formats the TLS provider and the registry read: PKCS#1, SEC1, unencrypted PKCS#8. */
const TLS_KEY = /^\s*-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END \1?PRIVATE KEY-----\s*$/;
/** The key formats `pulumi-command` (golang.org/x/crypto/ssh) reads without a passphrase. */
const SSH_KEY = /^\s*-----BEGIN (OPENSSH |RSA |EC )?PRIVATE KEY-----[\s\S]+-----END \1?PRIVATE KEY-----\s*$/;
/** PKCS#8 encrypted, or a legacy OpenSSL-encrypted PEM. */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A value quoted in a message: JSON, cut short. */
function show(v: unknown): string {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** `users[1].name` → `users`. */
const topKey = (key: string) => key.split(/[.[]/, 1)[0];
const join = (key: string, field: string) => (key === "" ? field : `${key}.${field}`);

/** True for an RFC 1123 host name: labels of letters, digits and inner hyphens, ≤253 characters. */
export function isDnsName(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every((l) => DNS_LABEL.test(l));
}

/** Edit distance counting a swap of two neighbours as one edit (`prot` → `port`). */
function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** The allowed key a typo most likely meant, if any. */
function suggest(k: string, allowed: readonly string[]): string | undefined {
    const lower = k.toLowerCase();
    const exact = allowed.find((a) => a.toLowerCase() === lower);
    if (exact) return exact;
    let best: string | undefined;
    let bestD = Infinity;
    for (const a of allowed) {
        const d = editDistance(lower, a.toLowerCase());
        if (d < bestD) [best, bestD] = [a, d];
    }
    return bestD <= Math.max(1, Math.min(2, Math.floor(k.length / 4))) ? best : undefined;
}

function unknownKey(k: string, allowed: readonly string[]): string {
    const s = suggest(k, allowed);
    return `is not a known key${s ? ` (did you mean ${show(s)}?)` : ""}; allowed: ${allowed.join(", ")}`;
}

/**
 * Keeps credentials held as plain strings (the registry model's storage, proxy and redis types)
 * out of `JSON.stringify` and `console.log`. The hooks are non-enumerable, so a spread copy (what
 * the renderer receives) carries the values as before.
 */
function redact<T extends object>(o: T, fields: readonly string[]): T {
    const masked = () => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fields.includes(k) && v !== undefined ? "[secret]" : v]));
    Object.defineProperty(o, "toJSON", { value: masked, enumerable: false });
    Object.defineProperty(o, inspect.custom, { value: () => masked(), enumerable: false });
    return o;
}

// ---------------------------------------------------------------------------------------------
// Reading values
// ---------------------------------------------------------------------------------------------

/** Marks a top-level value that could not be read at all (its problem is already recorded). */
const BAD = Symbol("bad");

/** Collects problems while reading; every reader returns undefined when the value is bad. */
class Reader {
    readonly problems: SettingsProblem[] = [];
    constructor(private readonly raw: RawConfig) {}

    has(key: string): boolean {
        return this.raw.values[key] !== undefined;
    }

    isSecret(key: string): boolean {
        return this.raw.secretKeys.has(key);
    }

    /** How a bad value is quoted: never the value itself under a key set as a secret. */
    got(key: string, v: unknown): string {
        return this.isSecret(topKey(key)) ? "a value" : show(v);
    }

    fail(key: string, message: string): undefined {
        // Belt and braces: whatever a message quotes after "got" is hidden under a secret key.
        const m = this.isSecret(topKey(key)) ? message.replace(/, got [\s\S]*$/, ", got a value") : message;
        this.problems.push({ key: `${NAMESPACE}:${key}`, message: m });
        return undefined;
    }

    /** A top-level value as the string Pulumi gives. */
    text(key: string): string | undefined {
        return this.raw.values[key];
    }

    /** A top-level object or list (Pulumi hands both over as JSON text). */
    json(key: string, what: string): unknown {
        const text = this.raw.values[key];
        if (text === undefined) return undefined;
        try {
            return JSON.parse(text);
        } catch {
            this.fail(key, `must be ${what}${/^\s*[[{]/.test(text) ? " (the value is not valid JSON)" : ""}, got ${this.got(key, text)}`);
            return BAD;
        }
    }

    required(key: string, o: Obj, field: string, why = ""): boolean {
        if (o[field] !== undefined && o[field] !== null) return true;
        this.fail(join(key, field), `is required${why}`);
        return false;
    }

    str(key: string, v: unknown, opts: { allowEmpty?: boolean } = {}): string | undefined {
        if (typeof v !== "string") return this.fail(key, `must be a string, got ${this.got(key, v)}`);
        if (!opts.allowEmpty && v.trim() === "") return this.fail(key, `must not be empty, got ${this.got(key, v)}`);
        return v;
    }

    int(key: string, v: unknown, min: number, max: number): number | undefined {
        const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?[0-9]+\s*$/.test(v) ? Number(v) : NaN;
        if (!Number.isSafeInteger(n) || n < min || n > max) {
            const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `${min}-${max}`;
            return this.fail(key, `must be an integer ${range}, got ${this.got(key, v)}`);
        }
        return n;
    }

    bool(key: string, v: unknown): boolean | undefined {
        if (typeof v === "boolean") return v;
        if (v === "true") return true;
        if (v === "false") return false;
        return this.fail(key, `must be true or false, got ${this.got(key, v)}`);
    }

    oneOf<T extends string | number>(key: string, v: unknown, allowed: readonly T[], extra = ""): T | undefined {
        const match = allowed.find((a) => a === v || String(a) === v);
        if (match === undefined) return this.fail(key, `must be one of ${allowed.map((a) => show(a)).join(", ")}${extra}, got ${this.got(key, v)}`);
        return match;
    }

    /** A list whose items are each read by `item` (undefined items are dropped: their problem is recorded). */
    list<T>(key: string, v: unknown, what: string, item: (key: string, v: unknown, i: number) => T | undefined): T[] | undefined {
        if (!Array.isArray(v)) return this.fail(key, `must be a list of ${what}, got ${this.got(key, v)}`);
        const out: T[] = [];
        v.forEach((x, i) => {
            const parsed = item(`${key}[${i}]`, x, i);
            if (parsed !== undefined) out.push(parsed);
        });
        return out;
    }

    stringList(key: string, v: unknown, check?: (s: string) => string | undefined, what = "strings"): string[] | undefined {
        return this.list(key, v, what, (k, x) => {
            const s = this.str(k, x);
            if (s === undefined) return undefined;
            const problem = check?.(s);
            return problem ? this.fail(k, `${problem}, got ${this.got(k, s)}`) : s;
        });
    }

    /** An object whose keys must all be in `allowed`. */
    obj(key: string, v: unknown, allowed: readonly string[], what = "an object"): Obj | undefined {
        if (!isObj(v)) return this.fail(key, `must be ${what}, got ${this.got(key, v)}`);
        for (const k of Object.keys(v)) {
            if (!allowed.includes(k)) this.fail(join(key, k), unknownKey(k, allowed));
        }
        return v;
    }

    duration(key: string, v: unknown): string | undefined {
        if (typeof v !== "string" || !DURATION.test(v)) {
            return this.fail(key, `must be a Go duration such as 30s, 10m, 1h30m or 168h (no d or w units), got ${this.got(key, v)}`);
        }
        return v;
    }

    url(key: string, v: unknown): string | undefined {
        if (typeof v === "string") {
            try {
                const u = new URL(v);
                if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "") return v;
            } catch {
                // fall through
            }
        }
        return this.fail(key, `must be an http:// or https:// URL, got ${this.got(key, v)}`);
    }

    /** A string map such as daemon.json `log-opts`. */
    stringMap(key: string, v: unknown, example: string): Record<string, string> | undefined {
        if (!isObj(v) || !Object.values(v).every((x) => typeof x === "string")) {
            return this.fail(key, `must be a map of strings (e.g. ${example}), got ${this.got(key, v)}`);
        }
        return { ...(v as Record<string, string>) };
    }

    /** HTTP headers: name → list of single-line values, names unique ignoring case. */
    headers(key: string, v: unknown): Record<string, string[]> | undefined {
        if (!isObj(v)) return this.fail(key, `must be a map of header name to a list of values (e.g. {"X-Frame-Options": ["DENY"]}), got ${this.got(key, v)}`);
        const out: Record<string, string[]> = {};
        const seen = new Map<string, string>();
        for (const [name, values] of Object.entries(v)) {
            const k = `${key}.${name}`;
            if (!HEADER_NAME.test(name)) {
                this.fail(k, "is not a valid HTTP header name");
                continue;
            }
            const other = seen.get(name.toLowerCase());
            if (other !== undefined) this.fail(k, `is the same header as ${show(other)} (names ignore case)`);
            seen.set(name.toLowerCase(), name);
            const list = this.stringList(k, values, (s) => (/[\r\n]/.test(s) ? "must be a single line" : undefined));
            if (list) out[name] = list;
        }
        return out;
    }

    /**
     * Refuses a secret given as plain config (it would sit unencrypted in the stack file). `at` is
     * the field inside a structured key (`users[0].password`); a secret set there with `--path`
     * marks the whole top-level key secret. Problems about a list entry are reported at the field,
     * those about `storage` or `registry` at the key.
     */
    requireSecret(key: string, what: string, at?: string): void {
        if (this.isSecret(key)) return;
        const reportAt = at !== undefined && (key === "users" || key === "clients") ? at : key;
        const where = at !== undefined && reportAt === key ? ` (${at})` : "";
        const how = at !== undefined ? `--path '${at}'` : key;
        this.fail(reportAt, `holds ${what}${where} and must be set as a secret: pulumi config set --secret ${how} <value>`);
    }
}

const hostProblem = (s: string) => (net.isIP(s) || isDnsName(s) ? undefined : "must be a DNS name or an IP address");

// ---------------------------------------------------------------------------------------------
// Keys and certificates
// ---------------------------------------------------------------------------------------------

/** Reads an SSH private key; a passphrase-protected one is refused (no passphrase is configured). */
function sshKey(r: Reader, key: string, v: unknown): string | undefined {
    if (typeof v === "string" && /^\s*(ssh-|ecdsa-sha2-)/.test(v)) return r.fail(key, "is a public key; give the private key (the file without .pub)");
    if (typeof v === "string" && ENCRYPTED_PEM.test(v)) return r.fail(key, "is passphrase-protected; give an unencrypted key (ssh-keygen -p -N '' -f <copy of the key>)");
    if (typeof v !== "string" || !SSH_KEY.test(v)) {
        return r.fail(key, "must be an unencrypted OpenSSH or PEM private key (-----BEGIN OPENSSH PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----)");
    }
    const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+)-----END/.exec(v)?.[1];
    if (body !== undefined) {
        // openssh-key-v1: magic, then the cipher name ("none" when not encrypted).
        const b = Buffer.from(body.replace(/\s+/g, ""), "base64");
        const magic = "openssh-key-v1\0";
        if (b.subarray(0, magic.length).toString("latin1") === magic && b.length >= magic.length + 4) {
            const len = b.readUInt32BE(magic.length);
            const cipher = b.subarray(magic.length + 4, magic.length + 4 + len).toString("latin1");
            if (cipher !== "none") return r.fail(key, `is passphrase-protected (${cipher}); give an unencrypted key (ssh-keygen -p -N '' -f <copy of the key>)`);
        }
    }
    return v;
}

/** The PEM certificates in a text (a bundle may hold several). */
function certBlocks(text: string): string[] {
    return text.match(PEM_CERT) ?? [];
}

/** Parses the certificates of a PEM value (a leaf may be followed by its intermediates), or records why it cannot. */
function readCertificates(r: Reader, key: string, pem: string, now: Date): crypto.X509Certificate[] | undefined {
    const blocks = certBlocks(pem);
    if (blocks.length === 0) return r.fail(key, `must be a PEM certificate (-----BEGIN CERTIFICATE-----), got ${r.got(key, pem)}`);
    const certs: crypto.X509Certificate[] = [];
    for (const b of blocks) {
        try {
            certs.push(new crypto.X509Certificate(b));
        } catch {
            return r.fail(key, "holds a -----BEGIN CERTIFICATE----- block that is not a readable X.509 certificate");
        }
    }
    const leaf = certs[0];
    if (new Date(leaf.validTo) <= now) r.fail(key, `expired on ${leaf.validTo} (${leaf.subject.replace(/\n/g, ", ")})`);
    else if (new Date(leaf.validFrom) > now) r.fail(key, `is not valid before ${leaf.validFrom}`);
    return certs;
}

/** Parses a TLS private key (PKCS#1, SEC1 or PKCS#8, unencrypted) or records why it cannot be read. */
function tlsKey(r: Reader, key: string, v: unknown): { pem: string; key?: crypto.KeyObject } | undefined {
    if (typeof v === "string" && ENCRYPTED_PEM.test(v)) return r.fail(key, "is passphrase-protected; give an unencrypted key (openssl pkey -in key.pem -out plain.pem)");
    if (typeof v === "string" && /BEGIN OPENSSH PRIVATE KEY/.test(v)) return r.fail(key, "is an OpenSSH key; a TLS key must be PEM (PKCS#1, SEC1 or PKCS#8)");
    if (typeof v !== "string" || !TLS_KEY.test(v)) {
        return r.fail(key, "must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)");
    }
    try {
        return { pem: v, key: crypto.createPrivateKey({ key: v, format: "pem" }) };
    } catch {
        // Do not quote the parser's message: it may echo key material.
        r.fail(key, "is not a readable private key (check that the whole PEM block was copied)");
        return undefined;
    }
}

/** Whether `leaf` chains up to one of `roots` through `intermediates`. */
function chainsTo(leaf: crypto.X509Certificate, intermediates: crypto.X509Certificate[], roots: crypto.X509Certificate[]): boolean {
    let current = leaf;
    for (let depth = 0; depth < 8; depth++) {
        const signedBy = (c: crypto.X509Certificate) => current.checkIssued(c) && current.verify(c.publicKey);
        if (roots.some(signedBy)) return true;
        const next = intermediates.find((c) => c !== current && signedBy(c));
        if (!next) return false;
        current = next;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

function parseDockerHost(r: Reader): Settings["docker"] {
    const host = r.has("dockerHost") ? r.str("dockerHost", r.text("dockerHost")) : "unix:///var/run/docker.sock";
    if (host !== undefined) {
        const ssh = /^ssh:\/\/(?:[^@/\s:]+@)?(\[[0-9a-fA-F:.]+\]|[^:/@\s[\]]+)(?::([^/]*))?$/.exec(host);
        if (/^unix:\/\/\/\S+$/.test(host)) {
            // the local engine's socket
        } else if (ssh) {
            const h = ssh[1].replace(/^\[(.*)\]$/, "$1");
            if (ssh[1].startsWith("[") ? !net.isIPv6(h) : hostProblem(h)) {
                r.fail("dockerHost", `has an invalid host ${show(h)} (must be a DNS name or an IP address), got ${show(host)}`);
            }
            const p = ssh[2];
            if (p !== undefined && (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
                r.fail("dockerHost", `has an invalid port ${show(p)} (must be 1-65535), got ${show(host)}`);
            }
        } else {
            r.fail("dockerHost", `must be unix:///<socket path> or ssh://[user@]host[:port] (no path), got ${show(host)}`);
        }
    }
    let sshOpts: string[] = [];
    if (r.has("dockerSshOpts")) {
        const v = r.json("dockerSshOpts", "a list of ssh arguments");
        if (v !== BAD) sshOpts = r.stringList("dockerSshOpts", v, undefined, "ssh arguments, one token each") ?? [];
        if (sshOpts.length > 0 && host !== undefined && !host.startsWith("ssh://")) {
            r.fail("dockerSshOpts", `applies only to an ssh:// dockerHost, but dockerHost is ${show(host)}`);
        }
    }
    return { host: host ?? "", sshOpts };
}

function parseImage(r: Reader) {
    const image = r.has("image") ? r.str("image", r.text("image")) : "registry:3.1.2";
    if (image !== undefined && !IMAGE_REF.test(image)) {
        r.fail("image", `must be an image reference [registry/]name[:tag][@sha256:<64 hex>] with a lower-case name, such as registry:3.1.2, got ${show(image)}`);
    }
    let registryVersion: RegistryMajorVersion | undefined;
    if (r.has("registryVersion")) {
        registryVersion = r.oneOf("registryVersion", r.text("registryVersion"), [2, 3] as const, " (the distribution major version)");
    } else if (image !== undefined && IMAGE_REF.test(image)) {
        registryVersion = registryVersionFromImage(image);
        if (registryVersion === undefined) {
            r.fail("registryVersion", `is required: the distribution major version (2 or 3) cannot be read from the image tag, got image ${show(image)}`);
        }
    }
    const keepImage = r.has("keepImage") ? r.bool("keepImage", r.text("keepImage")) : true;
    const containerName = r.has("containerName") ? r.str("containerName", r.text("containerName")) : "private-registry";
    if (containerName !== undefined && !DOCKER_NAME.test(containerName)) {
        r.fail("containerName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's rule, two characters at least), got ${show(containerName)}`);
    }
    return { image, registryVersion, keepImage, containerName };
}

function parseEndpoint(r: Reader) {
    const readList = (key: string, what: string, dflt: string[], check: (s: string) => string | undefined) => {
        if (!r.has(key)) return { list: dflt, given: dflt.length };
        const v = r.json(key, `a list of ${what}`);
        const list = v === BAD ? undefined : r.stringList(key, v, check, what);
        return { list: list ?? [], given: Array.isArray(v) ? v.length : -1 };
    };
    const names = readList("hostnames", "DNS names", ["localhost"], (s) =>
        net.isIP(s)
            ? "is an IP address: list it in ipAddresses (an IP in a DNS SAN never matches)"
            : isDnsName(s)
              ? undefined
              : "must be a DNS name (letters, digits and inner hyphens; labels of 1-63; no trailing dot or underscore)",
    );
    const ips = readList("ipAddresses", "IP addresses", ["127.0.0.1"], (s) => (net.isIP(s) ? undefined : "must be an IPv4 or IPv6 address"));
    const hostnames = names.list;
    const ipAddresses = ips.list;
    if (names.given === 0 && ips.given === 0) {
        r.fail("hostnames", "and ipAddresses are both empty: the certificate needs at least one subject alternative name (clients ignore the CN), got []");
    }
    const dup = (key: string, list: string[], norm: (s: string) => string) => {
        const seen = new Set<string>();
        list.forEach((s, i) => {
            if (seen.has(norm(s))) r.fail(key, `must not repeat an entry (entry ${i} repeats an earlier one), got ${show(s)}`);
            seen.add(norm(s));
        });
    };
    dup("hostnames", hostnames, (s) => s.toLowerCase());
    // ::1 and 0:0:0:0:0:0:0:1 are the same address.
    dup("ipAddresses", ipAddresses, (s) => (net.isIPv6(s) ? new URL(`http://[${s}]/`).hostname : s));

    const port = r.has("port") ? r.int("port", r.text("port"), 1, 65535) : 5000;
    const bindAddress = r.has("bindAddress") ? r.str("bindAddress", r.text("bindAddress")) : "0.0.0.0";
    if (bindAddress !== undefined && !net.isIP(bindAddress)) r.fail("bindAddress", `must be an IP address of the Docker host (0.0.0.0 for all), got ${show(bindAddress)}`);

    let networks: Settings["networks"] = [];
    if (r.has("networks")) {
        const what = "{name, ipv4Address?, aliases?}";
        const v = r.json("networks", `a list of ${what}`);
        const seen = new Set<string>();
        if (v !== BAD)
            networks =
                r.list("networks", v, what, (key, n) => {
                    const o = r.obj(key, n, NETWORK_KEYS, `an object ${what}`);
                    if (!o) return undefined;
                    const name = r.required(key, o, "name") ? r.str(`${key}.name`, o.name) : undefined;
                    if (name !== undefined) {
                        if (/[\s/]/.test(name)) r.fail(`${key}.name`, `must be a Docker network name (no spaces or slashes), got ${show(name)}`);
                        else if (seen.has(name)) r.fail(`${key}.name`, `repeats network ${show(name)}`);
                        seen.add(name);
                    }
                    let ipv4Address: string | undefined;
                    if (o.ipv4Address !== undefined) {
                        ipv4Address =
                            typeof o.ipv4Address === "string" && net.isIPv4(o.ipv4Address)
                                ? o.ipv4Address
                                : r.fail(`${key}.ipv4Address`, `must be an IPv4 address, got ${show(o.ipv4Address)}`);
                    }
                    const aliases = o.aliases === undefined ? [] : (r.stringList(`${key}.aliases`, o.aliases, (s) => (isDnsName(s) ? undefined : "must be a DNS name"), "DNS names") ?? []);
                    return name === undefined ? undefined : { name, ipv4Address, aliases };
                }) ?? [];
    }
    return { hostnames, ipAddresses, port, bindAddress, networks };
}

function parseKeyChoice(r: Reader, key: string, o: Obj, defaultBits: 2048 | 4096) {
    const algorithm = o.algorithm === undefined ? "RSA" : r.oneOf(`${key}.algorithm`, o.algorithm, ["RSA", "ECDSA"] as const);
    const rsaBits = o.rsaBits === undefined ? defaultBits : r.oneOf(`${key}.rsaBits`, o.rsaBits, [2048, 4096] as const);
    const ecdsaCurve =
        o.ecdsaCurve === undefined
            ? "P256"
            : r.oneOf(
                  `${key}.ecdsaCurve`,
                  o.ecdsaCurve,
                  ["P256", "P384"] as const,
                  " (P224 is the TLS provider's default but too weak, and has no SSH or modern-browser support; P521 is refused by BoringSSL-based clients)",
              );
    if (algorithm === "RSA" && o.ecdsaCurve !== undefined) r.fail(`${key}.ecdsaCurve`, "applies only to algorithm ECDSA");
    if (algorithm === "ECDSA" && o.rsaBits !== undefined) r.fail(`${key}.rsaBits`, "applies only to algorithm RSA");
    return { algorithm: algorithm ?? "RSA", rsaBits: rsaBits ?? defaultBits, ecdsaCurve: ecdsaCurve ?? "P256" } as const;
}

function parseTls(r: Reader, hostnames: string[], ipAddresses: string[], now: Date): TlsSettings {
    const raw = r.has("tls") ? r.json("tls", "an object {enabled?, minimumTls?, ca?, certificate?}") : {};
    const o = (raw === BAD ? undefined : r.obj("tls", raw, TLS_KEYS, "an object {enabled?, minimumTls?, ca?, certificate?}")) ?? {};
    const enabled = o.enabled === undefined ? true : (r.bool("tls.enabled", o.enabled) ?? true);
    const minimumTls =
        o.minimumTls === undefined ? "tls1.2" : (r.oneOf("tls.minimumTls", o.minimumTls, ["tls1.2", "tls1.3"] as const, " (v3 refuses anything older at start-up)") ?? "tls1.2");
    const caRaw = o.ca === undefined ? {} : (r.obj("tls.ca", o.ca, CA_KEYS) ?? {});
    const certRaw = o.certificate === undefined ? {} : (r.obj("tls.certificate", o.certificate, CERT_KEYS) ?? {});

    // Supplied PEMs: an existing CA and/or a bring-your-own server certificate.
    const text = (key: string) => {
        const v = r.text(key);
        return v === undefined ? undefined : r.str(key, v);
    };
    for (const k of ["caPrivateKey", "serverPrivateKey"]) if (r.has(k)) r.requireSecret(k, "a private key");
    const caCertText = text("caCertificate");
    const serverCertText = text("serverCertificate");
    const serverCaText = text("serverCaCertificate");
    const caCerts = caCertText === undefined ? undefined : readCertificates(r, "caCertificate", caCertText, now);
    const serverCerts = serverCertText === undefined ? undefined : readCertificates(r, "serverCertificate", serverCertText, now);
    const serverCaCerts = serverCaText === undefined ? undefined : readCertificates(r, "serverCaCertificate", serverCaText, now);
    const caKey = r.has("caPrivateKey") ? tlsKey(r, "caPrivateKey", r.text("caPrivateKey")) : undefined;
    const serverKey = r.has("serverPrivateKey") ? tlsKey(r, "serverPrivateKey", r.text("serverPrivateKey")) : undefined;

    for (const [a, b] of [
        ["caCertificate", "caPrivateKey"],
        ["serverCertificate", "serverPrivateKey"],
    ] as const) {
        if (r.has(a) && !r.has(b)) r.fail(b, `is required with ${NAMESPACE}:${a} (a certificate without its private key cannot be used)`);
        if (r.has(b) && !r.has(a)) r.fail(a, `is required with ${NAMESPACE}:${b} (a private key without its certificate cannot be used)`);
    }
    if (r.has("serverCertificate") && !r.has("serverCaCertificate") && !r.has("caCertificate")) {
        r.fail("serverCaCertificate", "is required with serverCertificate (clients must be given the CA that issued it), unless caCertificate is set");
    }
    if (r.has("serverCaCertificate") && !r.has("serverCertificate")) r.fail("serverCaCertificate", "applies only with serverCertificate");
    if (r.has("serverCaCertificate") && r.has("caCertificate")) {
        r.fail("serverCaCertificate", "is not used when caCertificate is set (clients get caCertificate; serverCertificate must be issued by it)");
    }
    if (!enabled) {
        for (const k of ["caCertificate", "caPrivateKey", "serverCertificate", "serverPrivateKey", "serverCaCertificate"]) {
            if (r.has(k)) r.fail(k, "contradicts tls.enabled: false (remove one of them)");
        }
    }
    const byoServer = r.has("serverCertificate");
    if (o.ca !== undefined && (r.has("caCertificate") || byoServer)) {
        r.fail("tls.ca", `applies only to a generated CA, and none is generated with ${r.has("caCertificate") ? "caCertificate" : "serverCertificate"}`);
    }
    if (o.certificate !== undefined && byoServer) r.fail("tls.certificate", "applies only to a generated server certificate, and serverCertificate supplies one");

    // What can be checked about supplied material: key pairs, CA flag, chain and SANs.
    if (caCerts && caKey?.key) {
        if (!caCerts[0].ca) r.fail("caCertificate", "is not a CA certificate (its basicConstraints lack CA:TRUE), so it cannot issue the server certificate");
        if (!caCerts[0].checkPrivateKey(caKey.key)) r.fail("caPrivateKey", "does not belong to caCertificate (the public keys differ)");
    }
    if (serverCerts && serverKey?.key && !serverCerts[0].checkPrivateKey(serverKey.key)) {
        r.fail("serverPrivateKey", "does not belong to serverCertificate (the public keys differ)");
    }
    if (serverCerts) {
        const leaf = serverCerts[0];
        const roots = caCerts ?? serverCaCerts;
        if (roots && !chainsTo(leaf, serverCerts.slice(1), roots)) {
            r.fail("serverCertificate", `was not issued by ${caCerts ? "caCertificate" : "serverCaCertificate"} (its issuer is ${leaf.issuer.replace(/\n/g, ", ")})`);
        }
        const missing = [
            ...hostnames.filter((h) => leaf.checkHost(h, { subject: "never" }) === undefined),
            ...ipAddresses.filter((ip) => leaf.checkIP(ip) === undefined),
        ];
        if (missing.length > 0) {
            r.fail(
                "serverCertificate",
                `does not cover ${missing.join(", ")} from hostnames/ipAddresses in its subjectAltName (clients check SANs, never the CN); it covers: ${leaf.subjectAltName ?? "nothing"}`,
            );
        }
    }

    const caChoice = parseKeyChoice(r, "tls.ca", caRaw, 4096);
    const caText = (k: string, dflt: string) => (caRaw[k] === undefined ? dflt : (r.str(`tls.ca.${k}`, caRaw[k]) ?? dflt));
    const ca: CaSettings =
        caCertText !== undefined && caKey !== undefined
            ? { mode: "existing", certPem: caCertText, keyPem: new Secret(caKey.pem) }
            : {
                  mode: "generate",
                  ...caChoice,
                  commonName: caText("commonName", "private-registry CA"),
                  organization: caText("organization", "private-registry"),
                  validityHours: caRaw.validityHours === undefined ? 87600 : (r.int("tls.ca.validityHours", caRaw.validityHours, 1, 876000) ?? 87600),
              };
    const certChoice = parseKeyChoice(r, "tls.certificate", certRaw, 2048);
    const validityHours = certRaw.validityHours === undefined ? 8760 : r.int("tls.certificate.validityHours", certRaw.validityHours, 1, 876000);
    const earlyRenewalHours =
        certRaw.earlyRenewalHours === undefined ? 720 : r.int("tls.certificate.earlyRenewalHours", certRaw.earlyRenewalHours, 0, 876000);
    if (validityHours !== undefined && earlyRenewalHours !== undefined && earlyRenewalHours >= validityHours) {
        r.fail("tls.certificate.earlyRenewalHours", `must be smaller than tls.certificate.validityHours (${validityHours}), got ${earlyRenewalHours}`);
    }
    if (ca.mode === "generate" && validityHours !== undefined && validityHours > ca.validityHours) {
        r.fail("tls.certificate.validityHours", `must not exceed tls.ca.validityHours (${ca.validityHours}): a certificate cannot outlive its CA, got ${validityHours}`);
    }
    const certificate: CertificateSettings =
        serverCertText !== undefined && serverKey !== undefined
            ? { mode: "existing", certPem: serverCertText, keyPem: new Secret(serverKey.pem), caPem: serverCaText }
            : { mode: "generate", ...certChoice, validityHours: validityHours ?? 8760, earlyRenewalHours: earlyRenewalHours ?? 720 };
    return { enabled, minimumTls, ca, certificate };
}

function parseUsers(r: Reader): UserSettings[] {
    const raw = r.has("users") ? r.json("users", "a list of {name, password?, passwordLength?}") : [{ name: "admin" }];
    if (raw === BAD) return [];
    const seen = new Set<string>();
    const users =
        r.list("users", raw, "{name, password?, passwordLength?}", (key, u, i) => {
            const o = r.obj(key, u, USER_KEYS, "an object {name, password?, passwordLength?}");
            if (!o) return undefined;
            const name = r.required(key, o, "name") ? r.str(`${key}.name`, o.name) : undefined;
            if (name !== undefined) {
                if (name.length > 64) r.fail(`${key}.name`, `must be at most 64 characters, got ${show(name)}`);
                else if (name.includes(":")) r.fail(`${key}.name`, `must not contain ':' (the htpasswd separator), got ${show(name)}`);
                else if (/[\s\u0000-\u001f\u007f]/.test(name)) r.fail(`${key}.name`, `must not contain whitespace or control characters, got ${show(name)}`);
                else if (seen.has(name)) r.fail(`${key}.name`, `repeats user ${show(name)}`);
                seen.add(name);
            }
            let password: Secret | undefined;
            if (o.password !== undefined) {
                r.requireSecret("users", "a password", `users[${i}].password`);
                const p = r.str(`${key}.password`, o.password);
                if (p !== undefined) {
                    if (Buffer.byteLength(p, "utf8") > BCRYPT_MAX_BYTES) r.fail(`${key}.password`, `must be at most ${BCRYPT_MAX_BYTES} bytes (bcrypt ignores the rest), got a value`);
                    else if (/[\r\n]/.test(p)) r.fail(`${key}.password`, "must not contain line breaks (docker login --password-stdin strips them), got a value");
                    else password = new Secret(p);
                }
            }
            const passwordLength = o.passwordLength === undefined ? 32 : r.int(`${key}.passwordLength`, o.passwordLength, 16, BCRYPT_MAX_BYTES);
            if (o.password !== undefined && o.passwordLength !== undefined) r.fail(`${key}.passwordLength`, "applies only to a generated password, and password is given");
            return name === undefined ? undefined : { name, password, passwordLength: passwordLength ?? 32 };
        }) ?? [];
    if (Array.isArray(raw) && raw.length === 0) r.fail("users", "needs at least one user (the registry requires a login), got []");
    return users;
}

type FieldReader = (r: Reader, key: string, v: unknown, version: RegistryMajorVersion | undefined) => unknown;
interface FieldSpec {
    read: FieldReader;
    required?: boolean;
    /** A credential: the whole `storage` key must be secret. */
    credential?: boolean;
}

const plain: FieldReader = (r, k, v) => r.str(k, v);
const flag: FieldReader = (r, k, v) => r.bool(k, v);
const link: FieldReader = (r, k, v) => r.url(k, v);
const absPath: FieldReader = (r, k, v) => (typeof v === "string" && path.posix.isAbsolute(v) ? v : r.fail(k, `must be an absolute path inside the container, got ${r.got(k, v)}`));
const intIn = (min: number, max = Number.MAX_SAFE_INTEGER): FieldReader => (r, k, v) => r.int(k, v, min, max);

/** Each driver's fields, camelCase as in registryConfigModel.ts, with the registry's own limits. */
const STORAGE_FIELDS: Record<(typeof STORAGE_DRIVERS)[number], Record<string, FieldSpec>> = {
    filesystem: {
        rootDirectory: {
            read: (r, k, v) => {
                const p = absPath(r, k, v, undefined) as string | undefined;
                if (p === undefined) return undefined;
                const rel = path.posix.relative(CONTAINER_DATA_DIR, path.posix.normalize(p));
                // The data volume is mounted at /var/lib/registry: anywhere else is the container's
                // own layer, lost on the next replacement.
                if (rel.startsWith("..")) return r.fail(k, `must be ${CONTAINER_DATA_DIR} or below it (where the data volume is mounted; elsewhere data is lost when the container is replaced), got ${r.got(k, v)}`);
                return p;
            },
        },
        // registry/storage/driver/filesystem: "maxthreads parameter must be >= 25".
        maxThreads: { read: intIn(25) },
    },
    s3: {
        region: { read: plain, required: true },
        bucket: {
            read: (r, k, v) => {
                const s = r.str(k, v);
                return s !== undefined && /[\s/]/.test(s) ? r.fail(k, `must be a bucket name (no spaces or slashes), got ${r.got(k, s)}`) : s;
            },
            required: true,
        },
        accessKey: { read: plain, credential: true },
        secretKey: { read: plain, credential: true },
        regionEndpoint: { read: link },
        forcePathStyle: { read: flag },
        secure: { read: flag },
        skipVerify: { read: flag },
        v4Auth: { read: flag },
        encrypt: { read: flag },
        keyId: { read: plain },
        // The s3 driver refuses chunks outside 5 MiB-5 GiB at start-up.
        chunkSize: { read: intIn(5 * MIB, 5 * GIB) },
        multipartCopyChunkSize: { read: intIn(5 * MIB, 5 * GIB) },
        multipartCopyMaxConcurrency: { read: intIn(1) },
        multipartCopyThresholdSize: { read: intIn(0, 5 * GIB) },
        rootDirectory: { read: absPath },
        storageClass: { read: plain },
    },
    swift: {
        authUrl: { read: link, required: true },
        username: { read: plain, required: true },
        password: { read: plain, required: true, credential: true },
        container: { read: plain, required: true },
        tenant: { read: plain },
        tenantId: { read: plain },
        domain: { read: plain },
        domainId: { read: plain },
        region: { read: plain },
        authVersion: { read: (r, k, v) => r.oneOf(k, v, [1, 2, 3] as const, " (Ceph RGW's /auth/v1 needs 1)") },
        insecureSkipVerify: { read: flag },
        chunkSize: { read: intIn(1) },
        prefix: { read: plain },
    },
    azure: {
        accountName: { read: plain, required: true },
        accountKey: { read: plain, required: true, credential: true },
        container: { read: plain, required: true },
        realm: { read: plain },
        rootDirectory: {
            read: (r, k, v, version) => (version === 2 ? r.fail(k, "is not supported by the azure driver of distribution v2 (added in v3)") : absPath(r, k, v, version)),
        },
    },
    gcs: {
        bucket: { read: plain, required: true },
        keyfile: { read: absPath },
        rootDirectory: { read: absPath },
        chunkSize: {
            read: (r, k, v) => {
                const n = r.int(k, v, 256 * 1024, 5 * GIB);
                return n !== undefined && n % (256 * 1024) !== 0 ? r.fail(k, `must be a multiple of 262144 (256 KiB), got ${n}`) : n;
            },
        },
    },
    inmemory: {},
};

function parseStorage(r: Reader, version: RegistryMajorVersion | undefined): StorageDriver | undefined {
    const what = `an object {driver, …} with driver one of ${STORAGE_DRIVERS.join(", ")}`;
    const raw = r.has("storage") ? r.json("storage", what) : { driver: "filesystem" };
    if (raw === BAD) return undefined;
    if (!isObj(raw)) return r.fail("storage", `must be ${what}, got ${r.got("storage", raw)}`);
    if (!r.required("storage", raw, "driver", ` (one of ${STORAGE_DRIVERS.join(", ")})`)) return undefined;
    const driver = r.oneOf("storage.driver", raw.driver, STORAGE_DRIVERS);
    if (!driver) return undefined;
    const spec = STORAGE_FIELDS[driver];
    const out: Obj = { driver };
    const credentials: string[] = [];
    for (const [k, v] of Object.entries(raw)) {
        if (k === "driver") continue;
        const key = `storage.${k}`;
        const field = spec[k];
        if (!field) {
            const owners = STORAGE_DRIVERS.filter((d) => STORAGE_FIELDS[d][k] !== undefined);
            const takes = ["driver", ...Object.keys(spec)].join(", ");
            r.fail(key, owners.length > 0 ? `belongs to the ${owners.join("/")} driver, not ${driver}; ${driver} takes: ${takes}` : unknownKey(k, ["driver", ...Object.keys(spec)]));
            continue;
        }
        if (field.credential) credentials.push(key);
        const parsed = field.read(r, key, v, version);
        if (parsed !== undefined) out[k] = parsed;
    }
    for (const [k, field] of Object.entries(spec)) {
        if (field.required) r.required("storage", raw, k, ` for the ${driver} driver`);
    }
    if (credentials.length > 0) r.requireSecret("storage", "a credential", credentials[0]);
    if (driver === "s3") {
        if (raw.accessKey !== undefined && raw.secretKey === undefined) r.fail("storage.secretKey", "is required with storage.accessKey (or give neither, to use the instance role)");
        if (raw.secretKey !== undefined && raw.accessKey === undefined) r.fail("storage.accessKey", "is required with storage.secretKey (or give neither, to use the instance role)");
        if (version === 2 && raw.forcePathStyle === false && raw.regionEndpoint !== undefined) {
            r.fail("storage.forcePathStyle", "cannot be false on distribution v2: it always uses path-style addressing with a regionEndpoint (use a 3.x image, or drop it)");
        }
        if (version === 2 && raw.forcePathStyle === true && raw.regionEndpoint === undefined) {
            r.fail("storage.forcePathStyle", "does not exist on distribution v2, which uses path style only with a regionEndpoint");
        }
    }
    if (driver === "swift" && version === 3) {
        r.fail(
            "storage.driver",
            `swift was removed in distribution v3: use the S3 API of Ceph RGW (driver s3 with regionEndpoint), or a 2.x image such as registry:2.8.3 with registryVersion 2`,
        );
    }
    return redact(out, ["accessKey", "secretKey", "password", "accountKey"]) as unknown as StorageDriver;
}

function parseData(r: Reader, containerName: string | undefined, driver: string | undefined): DataSettings {
    const dflt: DataSettings = { kind: "volume", volumeName: `${containerName ?? "private-registry"}-data`, keepOnDestroy: true };
    if (!r.has("data")) return dflt;
    const what = "an object {volumeName?, keepOnDestroy?} or {hostPath}";
    const raw = r.json("data", what);
    const o = raw === BAD ? undefined : r.obj("data", raw, DATA_KEYS, what);
    if (!o) return dflt;
    if (driver !== undefined && driver !== "filesystem") {
        r.fail("data", `applies only to storage driver filesystem (with ${driver} the data lives in the storage backend), got ${show(o)}`);
    }
    if (o.hostPath !== undefined && (o.volumeName !== undefined || o.keepOnDestroy !== undefined)) {
        r.fail("data", `takes either hostPath or volumeName/keepOnDestroy, not both, got ${show(o)}`);
        return dflt;
    }
    if (o.hostPath !== undefined) {
        const p = o.hostPath;
        if (typeof p !== "string" || !path.posix.isAbsolute(p)) r.fail("data.hostPath", `must be an absolute path on the Docker host, got ${show(p)}`);
        else if (path.posix.normalize(p) === "/" || p.split("/").includes("..")) r.fail("data.hostPath", `must be a dedicated directory (not / and without ..), got ${show(p)}`);
        else return { kind: "hostPath", hostPath: p };
        return dflt;
    }
    const volumeName = o.volumeName === undefined ? dflt.volumeName : r.str("data.volumeName", o.volumeName);
    if (volumeName !== undefined && !DOCKER_NAME.test(volumeName)) {
        r.fail("data.volumeName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's volume name rule), got ${show(volumeName)}`);
    }
    const keepOnDestroy = o.keepOnDestroy === undefined ? true : r.bool("data.keepOnDestroy", o.keepOnDestroy);
    return { kind: "volume", volumeName: volumeName ?? dflt.volumeName, keepOnDestroy: keepOnDestroy ?? true };
}

function parseRegistry(r: Reader, version: RegistryMajorVersion | undefined, port: number | undefined): RegistryBehaviourSettings {
    const raw = r.has("registry") ? r.json("registry", "an object") : {};
    const v = (raw === BAD ? undefined : r.obj("registry", raw, REGISTRY_KEYS)) ?? {};
    const opt = <T>(k: string, read: (key: string, x: unknown) => T | undefined, dflt: T): T => (v[k] === undefined ? dflt : (read(`registry.${k}`, v[k]) ?? dflt));
    const secretBits: string[] = [];

    const storageOptions: StorageOptions = {
        deleteEnabled: opt("deleteEnabled", (k, x) => r.bool(k, x), true),
        blobDescriptorCache: opt("blobDescriptorCache", (k, x) => r.oneOf(k, x, ["inmemory", "redis"] as const), "inmemory"),
        readOnly: opt("readOnly", (k, x) => r.bool(k, x), false),
        redirectDisable: opt("redirectDisable", (k, x) => r.bool(k, x), false),
    };
    if (v.uploadPurging !== undefined) {
        const u = r.obj("registry.uploadPurging", v.uploadPurging, UPLOAD_PURGING_KEYS, "an object {enabled, age?, interval?, dryRun?}");
        if (u) {
            storageOptions.uploadPurging = { enabled: u.enabled === undefined ? true : (r.bool("registry.uploadPurging.enabled", u.enabled) ?? true) };
            if (u.age !== undefined) storageOptions.uploadPurging.age = r.duration("registry.uploadPurging.age", u.age);
            if (u.interval !== undefined) storageOptions.uploadPurging.interval = r.duration("registry.uploadPurging.interval", u.interval);
            if (u.dryRun !== undefined) storageOptions.uploadPurging.dryRun = r.bool("registry.uploadPurging.dryRun", u.dryRun);
        }
    }

    const debugPort = v.debugPort === undefined ? undefined : r.int("registry.debugPort", v.debugPort, 1, 65535);
    if (debugPort !== undefined && debugPort === port) r.fail("registry.debugPort", `must differ from port (${port}), got ${debugPort}`);
    const prometheus = opt("prometheus", (k, x) => r.bool(k, x), false);
    if (prometheus && v.debugPort === undefined) r.fail("registry.prometheus", "needs registry.debugPort (metrics are served on the debug server only)");

    const headers = v.headers === undefined ? {} : (r.headers("registry.headers", v.headers) ?? {});

    const names = new Set<string>();
    const notifications =
        v.notifications === undefined
            ? []
            : (r.list("registry.notifications", v.notifications, "endpoints {name, url, …}", (key, n) => {
                  const e = r.obj(key, n, NOTIFICATION_KEYS, "an object {name, url, headers?, timeout?, threshold?, backoff?, disabled?, ignoredMediaTypes?}");
                  if (!e) return undefined;
                  const name = r.required(key, e, "name") ? r.str(`${key}.name`, e.name) : undefined;
                  if (name !== undefined && names.has(name)) r.fail(`${key}.name`, `repeats endpoint ${show(name)}`);
                  if (name !== undefined) names.add(name);
                  const url = r.required(key, e, "url") ? r.url(`${key}.url`, e.url) : undefined;
                  const ep: NotificationEndpoint = { name: name ?? "", url: url ?? "" };
                  if (e.headers !== undefined) {
                      // Typically an Authorization token.
                      secretBits.push(`${key.slice("registry.".length)}.headers`);
                      ep.headers = r.headers(`${key}.headers`, e.headers);
                      redact(ep, ["headers"]);
                  }
                  if (e.timeout !== undefined) ep.timeout = r.duration(`${key}.timeout`, e.timeout);
                  if (e.backoff !== undefined) ep.backoff = r.duration(`${key}.backoff`, e.backoff);
                  if (e.threshold !== undefined) ep.threshold = r.int(`${key}.threshold`, e.threshold, 0, 1_000_000);
                  if (e.disabled !== undefined) ep.disabled = r.bool(`${key}.disabled`, e.disabled);
                  if (e.ignoredMediaTypes !== undefined) ep.ignoredMediaTypes = r.stringList(`${key}.ignoredMediaTypes`, e.ignoredMediaTypes);
                  return ep;
              }) ?? []);

    let proxy: ProxySection | undefined;
    if (v.proxy !== undefined) {
        const p = r.obj("registry.proxy", v.proxy, PROXY_KEYS, "an object {remoteUrl, username?, password?, ttl?}");
        if (p) {
            proxy = { remoteUrl: (r.required("registry.proxy", p, "remoteUrl") ? r.url("registry.proxy.remoteUrl", p.remoteUrl) : undefined) ?? "" };
            if (p.username !== undefined) proxy.username = r.str("registry.proxy.username", p.username);
            if (p.password !== undefined) {
                secretBits.push("proxy.password");
                proxy.password = r.str("registry.proxy.password", p.password);
            }
            if ((p.username === undefined) !== (p.password === undefined)) {
                r.fail(p.username === undefined ? "registry.proxy.username" : "registry.proxy.password", "is required with the other of username/password (or give neither, for an anonymous upstream)");
            }
            if (p.ttl !== undefined) {
                proxy.ttl = r.duration("registry.proxy.ttl", p.ttl);
                if (version === 2) r.fail("registry.proxy.ttl", `is supported only by distribution v3 (v2 always expires after 168h), got ${show(p.ttl)}`);
            }
            redact(proxy, ["password"]);
        }
    }

    let redis: RedisSection | undefined;
    if (v.redis !== undefined) {
        const x = r.obj("registry.redis", v.redis, REDIS_KEYS, "an object {addrs, username?, password?, db?, …}");
        if (x) {
            const hostPort = (s: string) => {
                const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):([0-9]{1,5})$/.exec(s);
                const h = m?.[1].replace(/^\[(.*)\]$/, "$1");
                return m && !hostProblem(h!) && Number(m[2]) >= 1 && Number(m[2]) <= 65535 ? undefined : "must be host:port (e.g. redis.internal:6379)";
            };
            const addrs = r.required("registry.redis", x, "addrs", " (a list of host:port)") ? (r.stringList("registry.redis.addrs", x.addrs, hostPort, "host:port strings") ?? []) : [];
            if (Array.isArray(x.addrs) && x.addrs.length === 0) r.fail("registry.redis.addrs", "needs at least one host:port, got []");
            if (Array.isArray(x.addrs) && x.addrs.length > 1 && version === 2) {
                r.fail("registry.redis.addrs", `takes exactly one address on distribution v2 (v3 takes a list), got ${show(x.addrs)}`);
            }
            redis = { addrs };
            if (x.username !== undefined) {
                redis.username = r.str("registry.redis.username", x.username);
                if (version === 2) r.fail("registry.redis.username", "is supported only by distribution v3 (ACL users)");
            }
            if (x.password !== undefined) {
                secretBits.push("redis.password");
                redis.password = r.str("registry.redis.password", x.password);
            }
            if (x.db !== undefined) redis.db = r.int("registry.redis.db", x.db, 0, 1_000_000);
            for (const d of ["dialTimeout", "readTimeout", "writeTimeout", "idleTimeout"] as const) {
                if (x[d] !== undefined) redis[d] = r.duration(`registry.redis.${d}`, x[d]);
            }
            for (const n of ["maxIdle", "maxActive"] as const) {
                if (x[n] !== undefined) redis[n] = r.int(`registry.redis.${n}`, x[n], 0, 1_000_000);
            }
            redact(redis, ["password"]);
        }
    }
    if (storageOptions.blobDescriptorCache === "redis" && v.redis === undefined) {
        r.fail("registry.blobDescriptorCache", `"redis" needs the registry.redis section, got "redis"`);
    }
    if (secretBits.length > 0) r.requireSecret("registry", "a password or auth header", `registry.${secretBits[0]}`);

    const realm = opt("realm", (k, x) => {
        const s = r.str(k, x);
        return s !== undefined && /["\\\u0000-\u001f\u007f]/.test(s) ? r.fail(k, `must not contain quotes, backslashes or control characters (it goes into the WWW-Authenticate header), got ${show(s)}`) : s;
    }, "private-registry");
    return {
        logLevel: opt("logLevel", (k, x) => r.oneOf(k, x, ["error", "warn", "info", "debug"] as const), "info"),
        realm,
        storageOptions,
        storageHealthCheck: opt("storageHealthCheck", (k, x) => r.bool(k, x), true),
        debugPort,
        prometheus,
        headers,
        notifications,
        proxy,
        redis,
    };
}

function parseDaemonJson(r: Reader, key: string, raw: unknown): DaemonJsonSettings {
    const o = r.obj(key, raw, DAEMON_JSON_KEYS, `an object {${DAEMON_JSON_KEYS.map((k) => `${k}?`).join(", ")}}`);
    if (!o) return {};
    const d: DaemonJsonSettings = {};
    const set = <K extends keyof DaemonJsonSettings>(k: K, value: DaemonJsonSettings[K] | undefined) => {
        if (value !== undefined) d[k] = value;
    };
    // Docker accepts only a registry root as a mirror, and only for Docker Hub (moby#18818).
    const mirror = (s: string) => (/^https?:\/\/[^\s/?#]+\/?$/.test(s) ? undefined : "must be the http(s) URL of a registry root (no path)");
    if (o.registryMirrors !== undefined) set("registryMirrors", r.stringList(`${key}.registryMirrors`, o.registryMirrors, mirror, "URLs"));
    if (o.maxConcurrentDownloads !== undefined) set("maxConcurrentDownloads", r.int(`${key}.maxConcurrentDownloads`, o.maxConcurrentDownloads, 1, 1000));
    if (o.maxConcurrentUploads !== undefined) set("maxConcurrentUploads", r.int(`${key}.maxConcurrentUploads`, o.maxConcurrentUploads, 1, 1000));
    if (o.liveRestore !== undefined) set("liveRestore", r.bool(`${key}.liveRestore`, o.liveRestore));
    if (o.debug !== undefined) set("debug", r.bool(`${key}.debug`, o.debug));
    if (o.logOpts !== undefined) set("logOpts", r.stringMap(`${key}.logOpts`, o.logOpts, `{"max-size": "10m", "max-file": "3"}`));
    return d;
}

function parseClients(r: Reader, users: UserSettings[], tlsEnabled: boolean): ClientSettings[] {
    let defaults: DaemonJsonSettings = {};
    if (r.has("daemonJson")) {
        const v = r.json("daemonJson", "an object");
        if (v !== BAD) defaults = parseDaemonJson(r, "daemonJson", v);
    }
    let defaultKey: string | undefined;
    if (r.has("sshPrivateKey")) {
        r.requireSecret("sshPrivateKey", "an SSH private key");
        defaultKey = sshKey(r, "sshPrivateKey", r.text("sshPrivateKey"));
    }
    const raw = r.has("clients") ? r.json("clients", "a list of client hosts {name, host, …}") : [];
    if (raw === BAD) return [];
    const seen = new Set<string>();
    const endpoints = new Map<string, string>();
    return (
        r.list("clients", raw, "client hosts {name, host, port?, user?, privateKey?, sudo?, login?, daemonJson?}", (key, c, i) => {
            const o = r.obj(key, c, CLIENT_KEYS, "an object {name, host, port?, user?, privateKey?, sudo?, login?, daemonJson?}");
            if (!o) return undefined;
            const name = r.required(key, o, "name") ? r.str(`${key}.name`, o.name) : undefined;
            if (name !== undefined) {
                if (!CLIENT_NAME.test(name)) r.fail(`${key}.name`, `must be 1-32 lower-case letters, digits and inner '-' (it names resources), got ${show(name)}`);
                else if (seen.has(name)) r.fail(`${key}.name`, `repeats client ${show(name)}`);
                seen.add(name);
            }
            const host = r.required(key, o, "host", " (the SSH address of the client host)") ? r.str(`${key}.host`, o.host) : undefined;
            if (host !== undefined && hostProblem(host)) r.fail(`${key}.host`, `must be a DNS name or an IP address, got ${show(host)}`);
            const port = o.port === undefined ? 22 : r.int(`${key}.port`, o.port, 1, 65535);
            if (host !== undefined && port !== undefined) {
                // Two clients on one host would edit the same daemon.json and certs.d concurrently.
                const at = `${host.toLowerCase()}:${port}`;
                const other = endpoints.get(at);
                if (other !== undefined) r.fail(`${key}.host`, `is the same host and port as ${other}, got ${show(at)}`);
                endpoints.set(at, key);
            }
            const user = o.user === undefined ? "root" : r.str(`${key}.user`, o.user);
            if (user !== undefined && !UNIX_USER.test(user)) r.fail(`${key}.user`, `must be a login name (letters, digits, _ . -; at most 32), got ${show(user)}`);
            let privateKey = defaultKey;
            if (o.privateKey !== undefined) {
                r.requireSecret("clients", "an SSH private key", `clients[${i}].privateKey`);
                privateKey = sshKey(r, `${key}.privateKey`, o.privateKey);
            } else if (!r.has("sshPrivateKey")) {
                r.fail(`${key}.privateKey`, `is required unless ${NAMESPACE}:sshPrivateKey is set (pulumi config set --secret sshPrivateKey < key)`);
            }
            const sudo = o.sudo === undefined ? user !== "root" : r.bool(`${key}.sudo`, o.sudo);
            let loginAs: string | undefined;
            const login = o.login;
            if (login === undefined || login === true || login === "true") loginAs = users[0]?.name;
            else if (login === false || login === "false") loginAs = undefined;
            else if (typeof login === "string" && login !== "") {
                loginAs = login;
                if (users.length > 0 && !users.some((u) => u.name === login)) {
                    r.fail(`${key}.login`, `must name a user in ${NAMESPACE}:users (${users.map((u) => u.name).join(", ")}), got ${show(login)}`);
                }
            } else r.fail(`${key}.login`, `must be true (the first user), false, or a user name, got ${show(login)}`);
            if (!tlsEnabled) {
                // Docker refuses basic auth to a plain-HTTP registry (insecure.md). An explicit login
                // is an error; the implicit default just does not log in.
                if (login !== undefined && loginAs !== undefined) {
                    r.fail(`${key}.login`, `needs TLS: Docker refuses basic-auth logins to a registry served over plain HTTP (set login: false, or enable tls), got ${show(login)}`);
                }
                loginAs = undefined;
            }
            const daemonJson = { ...defaults, ...(o.daemonJson === undefined ? {} : parseDaemonJson(r, `${key}.daemonJson`, o.daemonJson)) };
            if (name === undefined || host === undefined || privateKey === undefined || user === undefined) return undefined;
            return { name, host, port: port ?? 22, user, privateKey: new Secret(privateKey), sudo: sudo ?? false, loginAs, daemonJson };
        }) ?? []
    );
}

// ---------------------------------------------------------------------------------------------
// The whole config
// ---------------------------------------------------------------------------------------------

/**
 * Parses and checks a stack's config. Throws a {@link SettingsError} listing every problem, each
 * with its full key; secret values are never quoted.
 */
export function parseSettings(raw: RawConfig, opts: ParseOptions = {}): Settings {
    const r = new Reader(raw);
    const now = opts.now ?? new Date();
    for (const k of Object.keys(raw.values)) {
        if (!(TOP_KEYS as readonly string[]).includes(k)) r.fail(k, unknownKey(k, TOP_KEYS));
    }
    const docker = parseDockerHost(r);
    const { image, registryVersion, keepImage, containerName } = parseImage(r);
    const { hostnames, ipAddresses, port, bindAddress, networks } = parseEndpoint(r);
    const tls = parseTls(r, hostnames, ipAddresses, now);
    const users = parseUsers(r);
    const storage = parseStorage(r, registryVersion);
    const data = parseData(r, containerName, storage?.driver);
    const registry = parseRegistry(r, registryVersion, port);
    const clients = parseClients(r, users, tls.enabled);

    if (r.problems.length > 0) throw new SettingsError(r.problems);
    return {
        docker,
        image: image!,
        registryVersion: registryVersion!,
        keepImage: keepImage!,
        containerName: containerName!,
        hostnames,
        ipAddresses,
        port: port!,
        bindAddress: bindAddress!,
        networks,
        tls,
        users,
        storage: storage!,
        data,
        registry,
        clients,
    };
}
