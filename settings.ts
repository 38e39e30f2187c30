/**
 * Parses a stack's raw Pulumi config into typed {@link Settings}. Pure: no Pulumi import, so every
 * rule is testable without the engine. All problems are collected and reported together, each
 * naming its full config key, before the program registers any resource.
 */
import * as net from "node:net";
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
    type Settings,
    type UserSettings,
} from "./settingsTypes";

/** The config namespace (the Pulumi project name). */
export const NAMESPACE = "private-registry";

/** The raw config as the language host gives it: short key → string (objects as JSON). */
export interface RawConfig {
    values: Record<string, string>;
    /** Short keys set as secrets (a nested `--secret --path` marks its whole top-level key). */
    secretKeys: ReadonlySet<string>;
}

/** One bad config value. */
export interface SettingsProblem {
    /** Full key, e.g. `private-registry:users[1].name`. */
    key: string;
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

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/;

/** True for an RFC 1123 host name (labels of letters, digits and hyphens). */
export function isDnsName(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every((l) => DNS_LABEL.test(l));
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v);

/** Collects problems while reading values; every reader returns undefined on a problem. */
class Reader {
    readonly problems: SettingsProblem[] = [];
    constructor(private readonly raw: RawConfig) {}

    fail(key: string, message: string): undefined {
        this.problems.push({ key: `${NAMESPACE}:${key}`, message });
        return undefined;
    }

    has(key: string): boolean {
        return this.raw.values[key] !== undefined;
    }

    isSecret(key: string): boolean {
        return this.raw.secretKeys.has(key);
    }

    /** A top-level value: strings stay strings; JSON is parsed for structured keys. */
    value(key: string, structured: boolean): unknown {
        const text = this.raw.values[key];
        if (text === undefined || !structured) return text;
        try {
            return JSON.parse(text);
        } catch {
            return this.fail(key, `must be a YAML/JSON object or list, got ${show(text)}`);
        }
    }

    string(key: string, v: unknown, opts: { allowEmpty?: boolean; secret?: boolean } = {}): string | undefined {
        if (typeof v !== "string") return this.fail(key, `must be a string, got ${opts.secret ? "a value" : show(v)}`);
        if (!opts.allowEmpty && v.trim() === "") return this.fail(key, "must not be empty");
        return v;
    }

    int(key: string, v: unknown, min: number, max: number): number | undefined {
        const n = typeof v === "number" ? v : typeof v === "string" && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < min || n > max) return this.fail(key, `must be an integer ${min}-${max}, got ${show(v)}`);
        return n;
    }

    bool(key: string, v: unknown): boolean | undefined {
        if (typeof v === "boolean") return v;
        if (v === "true") return true;
        if (v === "false") return false;
        return this.fail(key, `must be true or false, got ${show(v)}`);
    }

    oneOf<T extends string | number>(key: string, v: unknown, allowed: readonly T[], extra = ""): T | undefined {
        const match = allowed.find((a) => a === v || String(a) === v);
        if (match === undefined) return this.fail(key, `must be one of ${allowed.map((a) => show(a)).join(", ")}${extra}, got ${show(v)}`);
        return match;
    }

    stringList(key: string, v: unknown, check?: (s: string) => string | undefined): string[] | undefined {
        if (!Array.isArray(v)) return this.fail(key, `must be a list of strings, got ${show(v)}`);
        const out: string[] = [];
        v.forEach((item, i) => {
            if (typeof item !== "string" || item === "") {
                this.fail(`${key}[${i}]`, `must be a non-empty string, got ${show(item)}`);
                return;
            }
            const problem = check?.(item);
            if (problem) this.fail(`${key}[${i}]`, `${problem}, got ${show(item)}`);
            else out.push(item);
        });
        return out;
    }

    object(key: string, v: unknown, allowed: readonly string[]): Obj | undefined {
        if (!isObj(v)) return this.fail(key, `must be an object, got ${show(v)}`);
        for (const k of Object.keys(v)) {
            if (!allowed.includes(k)) this.fail(`${key}.${k}`, `is not a known key; allowed: ${allowed.join(", ")}`);
        }
        return v;
    }

    duration(key: string, v: unknown): string | undefined {
        if (typeof v !== "string" || !DURATION.test(v)) return this.fail(key, `must be a Go duration such as 30s, 10m or 168h, got ${show(v)}`);
        return v;
    }

    url(key: string, v: unknown): string | undefined {
        if (typeof v !== "string") return this.fail(key, `must be an http(s) URL, got ${show(v)}`);
        try {
            const u = new URL(v);
            if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
            return v;
        } catch {
            return this.fail(key, `must be an http(s) URL, got ${show(v)}`);
        }
    }

    requireSecret(key: string, what: string, path?: string): void {
        if (!this.isSecret(key)) {
            this.fail(
                path ?? key,
                `holds ${what} and must be set as a secret: pulumi config set --secret ${path ? `--path '${path}'` : key} <value>`,
            );
        }
    }
}

const hostCheck = (s: string) => (net.isIP(s) || isDnsName(s) ? undefined : "must be a DNS name or an IP address");

function parseStorage(r: Reader, registryVersion: RegistryMajorVersion | undefined): StorageDriver | undefined {
    const raw = r.has("storage") ? r.value("storage", true) : { driver: "filesystem" };
    if (raw === undefined) return undefined;
    if (!isObj(raw)) return r.fail("storage", `must be an object with a driver, got ${show(raw)}`);
    const driver = r.oneOf("storage.driver", raw.driver, STORAGE_DRIVERS);
    if (!driver) return undefined;
    const fields: Record<(typeof STORAGE_DRIVERS)[number], { required: string[]; optional: Record<string, string> }> = {
        filesystem: { required: [], optional: { rootDirectory: "path", maxThreads: "int" } },
        s3: {
            required: ["region", "bucket"],
            optional: {
                accessKey: "secret",
                secretKey: "secret",
                regionEndpoint: "url",
                forcePathStyle: "bool",
                secure: "bool",
                skipVerify: "bool",
                v4Auth: "bool",
                encrypt: "bool",
                keyId: "string",
                chunkSize: "int",
                multipartCopyChunkSize: "int",
                multipartCopyMaxConcurrency: "int",
                multipartCopyThresholdSize: "int",
                rootDirectory: "path",
                storageClass: "string",
            },
        },
        swift: {
            required: ["authUrl", "username", "password", "container"],
            optional: {
                tenant: "string",
                tenantId: "string",
                domain: "string",
                domainId: "string",
                region: "string",
                authVersion: "authVersion",
                insecureSkipVerify: "bool",
                chunkSize: "int",
                prefix: "string",
            },
        },
        azure: { required: ["accountName", "accountKey", "container"], optional: { realm: "string", rootDirectory: "path" } },
        gcs: { required: ["bucket"], optional: { keyfile: "path", rootDirectory: "path", chunkSize: "int" } },
        inmemory: { required: [], optional: {} },
    };
    const spec = fields[driver];
    const kinds: Record<string, string> = { ...spec.optional };
    for (const k of spec.required) kinds[k] = k === "password" || k === "accountKey" ? "secret" : k === "authUrl" ? "url" : "string";
    r.object("storage", raw, ["driver", ...Object.keys(kinds)]);
    const out: Obj = { driver };
    for (const k of spec.required) {
        if (raw[k] === undefined) r.fail(`storage.${k}`, `is required for the ${driver} driver`);
    }
    let holdsCredential = false;
    for (const [k, kind] of Object.entries(kinds)) {
        const v = raw[k];
        if (v === undefined) continue;
        const key = `storage.${k}`;
        switch (kind) {
            case "secret":
                holdsCredential = true;
                out[k] = r.string(key, v, { secret: true });
                break;
            case "string":
                out[k] = r.string(key, v);
                break;
            case "path":
                out[k] = typeof v === "string" && v.startsWith("/") ? v : r.fail(key, `must be an absolute path, got ${show(v)}`);
                break;
            case "url":
                out[k] = r.url(key, v);
                break;
            case "bool":
                out[k] = r.bool(key, v);
                break;
            case "int":
                out[k] = r.int(key, v, 1, Number.MAX_SAFE_INTEGER);
                break;
            case "authVersion":
                out[k] = r.oneOf(key, v, [1, 2, 3] as const);
                break;
        }
    }
    if (holdsCredential) r.requireSecret("storage", "storage credentials");
    if (driver === "s3" && (raw.accessKey === undefined) !== (raw.secretKey === undefined)) {
        r.fail(raw.accessKey === undefined ? "storage.accessKey" : "storage.secretKey", "must be given together with storage.accessKey/storage.secretKey");
    }
    if (driver === "swift" && registryVersion === 3) {
        r.fail(
            "storage.driver",
            "swift was removed in distribution v3: use the S3 API of Ceph RGW (driver s3 with regionEndpoint), or a 2.x image such as registry:2.8.3 with registryVersion 2",
        );
    }
    return out as unknown as StorageDriver;
}

function parseRegistry(r: Reader, version: RegistryMajorVersion | undefined, port: number | undefined) {
    const raw = r.has("registry") ? r.value("registry", true) : {};
    const o = raw === undefined ? undefined : r.object("registry", raw, [
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
    ]);
    const v = o ?? {};
    const opt = <T>(k: string, parse: (key: string, x: unknown) => T | undefined, dflt: T): T | undefined =>
        v[k] === undefined ? dflt : parse(`registry.${k}`, v[k]);
    const storageOptions: StorageOptions = {
        deleteEnabled: opt("deleteEnabled", (k, x) => r.bool(k, x), true),
        blobDescriptorCache: opt("blobDescriptorCache", (k, x) => r.oneOf(k, x, ["inmemory", "redis"] as const), "inmemory"),
        readOnly: opt("readOnly", (k, x) => r.bool(k, x), false),
        redirectDisable: opt("redirectDisable", (k, x) => r.bool(k, x), false),
    };
    if (v.uploadPurging !== undefined) {
        const u = r.object("registry.uploadPurging", v.uploadPurging, ["enabled", "age", "interval", "dryRun"]);
        if (u) {
            storageOptions.uploadPurging = {
                enabled: r.bool("registry.uploadPurging.enabled", u.enabled ?? true) ?? true,
                age: u.age === undefined ? undefined : r.duration("registry.uploadPurging.age", u.age),
                interval: u.interval === undefined ? undefined : r.duration("registry.uploadPurging.interval", u.interval),
                dryRun: u.dryRun === undefined ? undefined : r.bool("registry.uploadPurging.dryRun", u.dryRun),
            };
        }
    }
    const debugPort = v.debugPort === undefined ? undefined : r.int("registry.debugPort", v.debugPort, 1, 65535);
    if (debugPort !== undefined && debugPort === port) r.fail("registry.debugPort", `must differ from port ${port}`);
    const prometheus = opt("prometheus", (k, x) => r.bool(k, x), false);
    if (prometheus && v.debugPort === undefined) r.fail("registry.prometheus", "needs registry.debugPort (metrics are served on the debug port)");

    const headers: Record<string, string[]> = {};
    let secretBits = false;
    if (v.headers !== undefined) {
        if (!isObj(v.headers)) r.fail("registry.headers", `must be a map of header name to list of values, got ${show(v.headers)}`);
        else
            for (const [h, vals] of Object.entries(v.headers)) {
                const list = r.stringList(`registry.headers.${h}`, vals);
                if (list) headers[h] = list;
            }
    }
    const notifications: NotificationEndpoint[] = [];
    if (v.notifications !== undefined) {
        if (!Array.isArray(v.notifications)) r.fail("registry.notifications", `must be a list, got ${show(v.notifications)}`);
        else
            v.notifications.forEach((n, i) => {
                const key = `registry.notifications[${i}]`;
                const e = r.object(key, n, ["name", "url", "headers", "timeout", "threshold", "backoff", "disabled", "ignoredMediaTypes"]);
                if (!e) return;
                const ep: NotificationEndpoint = { name: r.string(`${key}.name`, e.name) ?? "", url: r.url(`${key}.url`, e.url) ?? "" };
                if (e.headers !== undefined) {
                    secretBits = true;
                    ep.headers = {};
                    if (isObj(e.headers))
                        for (const [h, vals] of Object.entries(e.headers)) ep.headers[h] = r.stringList(`${key}.headers.${h}`, vals) ?? [];
                    else r.fail(`${key}.headers`, "must be a map of header name to list of values");
                }
                if (e.timeout !== undefined) ep.timeout = r.duration(`${key}.timeout`, e.timeout);
                if (e.backoff !== undefined) ep.backoff = r.duration(`${key}.backoff`, e.backoff);
                if (e.threshold !== undefined) ep.threshold = r.int(`${key}.threshold`, e.threshold, 1, 1000);
                if (e.disabled !== undefined) ep.disabled = r.bool(`${key}.disabled`, e.disabled);
                if (e.ignoredMediaTypes !== undefined) ep.ignoredMediaTypes = r.stringList(`${key}.ignoredMediaTypes`, e.ignoredMediaTypes);
                notifications.push(ep);
            });
    }
    let proxy: ProxySection | undefined;
    if (v.proxy !== undefined) {
        const p = r.object("registry.proxy", v.proxy, ["remoteUrl", "username", "password", "ttl"]);
        if (p) {
            proxy = { remoteUrl: r.url("registry.proxy.remoteUrl", p.remoteUrl) ?? "" };
            if (p.username !== undefined) proxy.username = r.string("registry.proxy.username", p.username);
            if (p.password !== undefined) {
                secretBits = true;
                proxy.password = r.string("registry.proxy.password", p.password, { secret: true });
            }
            if (p.ttl !== undefined) {
                proxy.ttl = r.duration("registry.proxy.ttl", p.ttl);
                if (version === 2) r.fail("registry.proxy.ttl", "is supported only by registry v3");
            }
        }
    }
    let redis: RedisSection | undefined;
    if (v.redis !== undefined) {
        const x = r.object("registry.redis", v.redis, [
            "addrs",
            "username",
            "password",
            "db",
            "dialTimeout",
            "readTimeout",
            "writeTimeout",
            "maxIdle",
            "maxActive",
            "idleTimeout",
        ]);
        if (x) {
            const addrs = r.stringList("registry.redis.addrs", x.addrs ?? [], (s) => (/^[^:\s]+:[0-9]{1,5}$/.test(s) ? undefined : "must be host:port")) ?? [];
            if (addrs.length === 0) r.fail("registry.redis.addrs", "needs at least one host:port");
            if (addrs.length > 1 && version === 2) r.fail("registry.redis.addrs", "registry v2 takes exactly one redis address");
            redis = { addrs };
            if (x.username !== undefined) {
                redis.username = r.string("registry.redis.username", x.username);
                if (version === 2) r.fail("registry.redis.username", "is supported only by registry v3");
            }
            if (x.password !== undefined) {
                secretBits = true;
                redis.password = r.string("registry.redis.password", x.password, { secret: true });
            }
            if (x.db !== undefined) redis.db = r.int("registry.redis.db", x.db, 0, 1000);
            for (const d of ["dialTimeout", "readTimeout", "writeTimeout", "idleTimeout"] as const) {
                if (x[d] !== undefined) redis[d] = r.duration(`registry.redis.${d}`, x[d]);
            }
            for (const n of ["maxIdle", "maxActive"] as const) {
                if (x[n] !== undefined) redis[n] = r.int(`registry.redis.${n}`, x[n], 0, 100000);
            }
        }
    }
    if (storageOptions.blobDescriptorCache === "redis" && !redis) r.fail("registry.blobDescriptorCache", "redis needs registry.redis");
    if (secretBits) r.requireSecret("registry", "passwords or auth headers");
    return {
        logLevel: opt("logLevel", (k, x) => r.oneOf(k, x, ["error", "warn", "info", "debug"] as const), "info") ?? "info",
        realm: opt("realm", (k, x) => r.string(k, x), "private-registry") ?? "private-registry",
        storageOptions,
        storageHealthCheck: opt("storageHealthCheck", (k, x) => r.bool(k, x), true) ?? true,
        debugPort,
        prometheus: prometheus ?? false,
        headers,
        notifications,
        proxy,
        redis,
    };
}

function parseKeyChoice(r: Reader, key: string, o: Obj, defaultBits: 2048 | 4096) {
    const algorithm = o.algorithm === undefined ? "RSA" : r.oneOf(`${key}.algorithm`, o.algorithm, ["RSA", "ECDSA"] as const);
    const rsaBits = o.rsaBits === undefined ? defaultBits : r.oneOf(`${key}.rsaBits`, o.rsaBits, [2048, 4096] as const);
    const ecdsaCurve =
        o.ecdsaCurve === undefined
            ? "P256"
            : r.oneOf(`${key}.ecdsaCurve`, o.ecdsaCurve, ["P256", "P384"] as const, " (P224 is the provider's default and is refused: SSH and many clients reject it)");
    return { algorithm: algorithm ?? "RSA", rsaBits: rsaBits ?? defaultBits, ecdsaCurve: ecdsaCurve ?? "P256" } as const;
}

function parseTls(r: Reader) {
    const raw = r.has("tls") ? r.value("tls", true) : {};
    const o = raw === undefined ? {} : r.object("tls", raw, ["enabled", "minimumTls", "ca", "certificate"]) ?? {};
    const enabled = o.enabled === undefined ? true : r.bool("tls.enabled", o.enabled) ?? true;
    const minimumTls = o.minimumTls === undefined ? "tls1.2" : r.oneOf("tls.minimumTls", o.minimumTls, ["tls1.2", "tls1.3"] as const) ?? "tls1.2";
    const caRaw = o.ca === undefined ? {} : r.object("tls.ca", o.ca, ["algorithm", "rsaBits", "ecdsaCurve", "commonName", "organization", "validityHours"]) ?? {};
    const certRaw =
        o.certificate === undefined
            ? {}
            : r.object("tls.certificate", o.certificate, ["algorithm", "rsaBits", "ecdsaCurve", "validityHours", "earlyRenewalHours"]) ?? {};

    const pem = (key: string, pattern: RegExp, what: string, secret: boolean): string | undefined => {
        const v = r.value(key, false);
        if (v === undefined) return undefined;
        if (secret) r.requireSecret(key, what);
        if (typeof v !== "string" || !pattern.test(v)) return r.fail(key, `must be a PEM ${what}${secret ? "" : `, got ${show(String(v).slice(0, 40))}`}`);
        return v;
    };
    const caCert = pem("caCertificate", PEM_CERT, "certificate", false);
    const caKey = pem("caPrivateKey", PEM_KEY, "private key", true);
    const serverCert = pem("serverCertificate", PEM_CERT, "certificate", false);
    const serverKey = pem("serverPrivateKey", PEM_KEY, "private key", true);
    const serverCa = pem("serverCaCertificate", PEM_CERT, "certificate", false);
    const pairs: [string, boolean, string, boolean][] = [
        ["caCertificate", r.has("caCertificate"), "caPrivateKey", r.has("caPrivateKey")],
        ["serverCertificate", r.has("serverCertificate"), "serverPrivateKey", r.has("serverPrivateKey")],
    ];
    for (const [a, hasA, b, hasB] of pairs) {
        if (hasA && !hasB) r.fail(b, `is required with ${NAMESPACE}:${a} (a certificate without its key cannot serve TLS)`);
        if (hasB && !hasA) r.fail(a, `is required with ${NAMESPACE}:${b}`);
    }
    if (r.has("serverCertificate") && !r.has("serverCaCertificate") && !r.has("caCertificate")) {
        r.fail("serverCaCertificate", "is required with serverCertificate (clients must be given the CA that issued it), unless caCertificate is set");
    }
    if (r.has("serverCaCertificate") && !r.has("serverCertificate")) r.fail("serverCaCertificate", "only applies with serverCertificate");
    if (!enabled) {
        for (const k of ["caCertificate", "caPrivateKey", "serverCertificate", "serverPrivateKey", "serverCaCertificate"]) {
            if (r.has(k)) r.fail(k, "contradicts tls.enabled: false");
        }
    }

    const caChoice = parseKeyChoice(r, "tls.ca", caRaw, 4096);
    const ca: CaSettings =
        caCert && caKey
            ? { mode: "existing", certPem: caCert, keyPem: new Secret(caKey) }
            : {
                  mode: "generate",
                  ...caChoice,
                  commonName: caRaw.commonName === undefined ? "private-registry CA" : r.string("tls.ca.commonName", caRaw.commonName) ?? "",
                  organization: caRaw.organization === undefined ? "private-registry" : r.string("tls.ca.organization", caRaw.organization) ?? "",
                  validityHours: caRaw.validityHours === undefined ? 87600 : r.int("tls.ca.validityHours", caRaw.validityHours, 1, 876000) ?? 87600,
              };
    const certChoice = parseKeyChoice(r, "tls.certificate", certRaw, 2048);
    const validityHours = certRaw.validityHours === undefined ? 8760 : r.int("tls.certificate.validityHours", certRaw.validityHours, 1, 876000);
    const earlyRenewalHours =
        certRaw.earlyRenewalHours === undefined ? 720 : r.int("tls.certificate.earlyRenewalHours", certRaw.earlyRenewalHours, 0, 876000);
    if (validityHours !== undefined && earlyRenewalHours !== undefined && earlyRenewalHours >= validityHours) {
        r.fail("tls.certificate.earlyRenewalHours", `must be smaller than tls.certificate.validityHours (${validityHours}), got ${earlyRenewalHours}`);
    }
    const certificate: CertificateSettings =
        serverCert && serverKey
            ? { mode: "existing", certPem: serverCert, keyPem: new Secret(serverKey), caPem: serverCa }
            : { mode: "generate", ...certChoice, validityHours: validityHours ?? 8760, earlyRenewalHours: earlyRenewalHours ?? 720 };
    return { enabled, minimumTls, ca, certificate };
}

function parseUsers(r: Reader): UserSettings[] {
    const raw = r.has("users") ? r.value("users", true) : [{ name: "admin" }];
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
        r.fail("users", `must be a list of {name, password?, passwordLength?}, got ${show(raw)}`);
        return [];
    }
    if (raw.length === 0) r.fail("users", "needs at least one user");
    const seen = new Set<string>();
    const users: UserSettings[] = [];
    raw.forEach((u, i) => {
        const key = `users[${i}]`;
        const o = r.object(key, u, ["name", "password", "passwordLength"]);
        if (!o) return;
        const name = r.string(`${key}.name`, o.name);
        if (name !== undefined) {
            if (name.length > 64) r.fail(`${key}.name`, `must be at most 64 characters, got ${show(name)}`);
            else if (name.includes(":")) r.fail(`${key}.name`, `must not contain ':' (the htpasswd separator), got ${show(name)}`);
            else if (/[\s\u0000-\u001f\u007f]/.test(name)) r.fail(`${key}.name`, `must not contain whitespace or control characters, got ${show(name)}`);
            else if (seen.has(name)) r.fail(`${key}.name`, `duplicates user ${show(name)}`);
            seen.add(name);
        }
        let password: Secret | undefined;
        if (o.password !== undefined) {
            const p = r.string(`${key}.password`, o.password, { secret: true });
            if (p !== undefined) password = new Secret(p);
            r.requireSecret("users", "a password", `users[${i}].password`);
        }
        const passwordLength = o.passwordLength === undefined ? 32 : r.int(`${key}.passwordLength`, o.passwordLength, 16, 72);
        if (name !== undefined) users.push({ name, password, passwordLength: passwordLength ?? 32 });
    });
    return users;
}

function parseDaemonJson(r: Reader, key: string, raw: unknown): DaemonJsonSettings {
    const o = r.object(key, raw, ["registryMirrors", "maxConcurrentDownloads", "maxConcurrentUploads", "liveRestore", "logOpts", "debug"]);
    if (!o) return {};
    const d: DaemonJsonSettings = {};
    if (o.registryMirrors !== undefined) d.registryMirrors = r.stringList(`${key}.registryMirrors`, o.registryMirrors, (s) => (/^https?:\/\/[^\s/]+\/?$/.test(s) ? undefined : "must be an http(s) URL of a registry root"));
    if (o.maxConcurrentDownloads !== undefined) d.maxConcurrentDownloads = r.int(`${key}.maxConcurrentDownloads`, o.maxConcurrentDownloads, 1, 1000);
    if (o.maxConcurrentUploads !== undefined) d.maxConcurrentUploads = r.int(`${key}.maxConcurrentUploads`, o.maxConcurrentUploads, 1, 1000);
    if (o.liveRestore !== undefined) d.liveRestore = r.bool(`${key}.liveRestore`, o.liveRestore);
    if (o.debug !== undefined) d.debug = r.bool(`${key}.debug`, o.debug);
    if (o.logOpts !== undefined) {
        if (!isObj(o.logOpts) || !Object.values(o.logOpts).every((x) => typeof x === "string")) {
            r.fail(`${key}.logOpts`, `must be a map of strings (e.g. {"max-size": "10m"}), got ${show(o.logOpts)}`);
        } else d.logOpts = o.logOpts as Record<string, string>;
    }
    return d;
}

function parseClients(r: Reader, users: UserSettings[], tlsEnabled: boolean): ClientSettings[] {
    const raw = r.has("clients") ? r.value("clients", true) : [];
    const defaults = r.has("daemonJson") ? parseDaemonJson(r, "daemonJson", r.value("daemonJson", true)) : {};
    let defaultKey: string | undefined;
    if (r.has("sshPrivateKey")) {
        r.requireSecret("sshPrivateKey", "an SSH private key");
        const k = r.value("sshPrivateKey", false);
        defaultKey = typeof k === "string" && PEM_KEY.test(k) ? k : r.fail("sshPrivateKey", "must be a PEM or OpenSSH private key");
    }
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
        r.fail("clients", `must be a list of client hosts, got ${show(raw)}`);
        return [];
    }
    const seen = new Set<string>();
    const clients: ClientSettings[] = [];
    raw.forEach((c, i) => {
        const key = `clients[${i}]`;
        const o = r.object(key, c, ["name", "host", "port", "user", "privateKey", "sudo", "login", "daemonJson"]);
        if (!o) return;
        const name = r.string(`${key}.name`, o.name);
        if (name !== undefined) {
            if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) r.fail(`${key}.name`, `must be lower-case letters, digits and '-' (1-32), got ${show(name)}`);
            else if (seen.has(name)) r.fail(`${key}.name`, `duplicates client ${show(name)}`);
            seen.add(name);
        }
        const host = o.host === undefined ? r.fail(`${key}.host`, "is required (the SSH address of the client host)") : r.string(`${key}.host`, o.host);
        if (host !== undefined && hostCheck(host)) r.fail(`${key}.host`, `must be a DNS name or an IP address, got ${show(host)}`);
        const port = o.port === undefined ? 22 : r.int(`${key}.port`, o.port, 1, 65535);
        const user = o.user === undefined ? "root" : r.string(`${key}.user`, o.user);
        let privateKey = defaultKey;
        if (o.privateKey !== undefined) {
            r.requireSecret("clients", "an SSH private key", `clients[${i}].privateKey`);
            privateKey = typeof o.privateKey === "string" && PEM_KEY.test(o.privateKey) ? o.privateKey : r.fail(`${key}.privateKey`, "must be a PEM or OpenSSH private key");
        } else if (defaultKey === undefined && !r.has("sshPrivateKey")) {
            r.fail(`${key}.privateKey`, `is required unless ${NAMESPACE}:sshPrivateKey is set`);
        }
        const sudo = o.sudo === undefined ? user !== "root" : r.bool(`${key}.sudo`, o.sudo);
        let loginAs: string | undefined;
        if (o.login === undefined || o.login === true || o.login === "true") loginAs = users[0]?.name;
        else if (o.login === false || o.login === "false") loginAs = undefined;
        else if (typeof o.login === "string") {
            loginAs = o.login;
            if (!users.some((u) => u.name === o.login)) r.fail(`${key}.login`, `names no user in ${NAMESPACE}:users, got ${show(o.login)}`);
        } else r.fail(`${key}.login`, `must be true, false or a username, got ${show(o.login)}`);
        if (loginAs !== undefined && !tlsEnabled && (o.login !== undefined)) {
            r.fail(`${key}.login`, "needs TLS: Docker refuses basic auth to a registry served over plain HTTP (set login: false or enable tls)");
        }
        if (!tlsEnabled && o.login === undefined) loginAs = undefined;
        const daemonJson = { ...defaults, ...(o.daemonJson === undefined ? {} : parseDaemonJson(r, `${key}.daemonJson`, o.daemonJson)) };
        if (name !== undefined && host !== undefined && privateKey !== undefined && user !== undefined) {
            clients.push({
                name,
                host,
                port: port ?? 22,
                user,
                privateKey: new Secret(privateKey),
                sudo: sudo ?? false,
                loginAs,
                daemonJson,
            });
        }
    });
    return clients;
}

/** Parses and checks a stack's config; throws {@link SettingsError} listing every problem. */
export function parseSettings(raw: RawConfig): Settings {
    const r = new Reader(raw);
    for (const k of Object.keys(raw.values)) {
        if (!(TOP_KEYS as readonly string[]).includes(k)) r.fail(k, `is not a known key; allowed: ${TOP_KEYS.join(", ")}`);
    }

    const dockerHost = r.has("dockerHost") ? r.string("dockerHost", r.value("dockerHost", false)) : "unix:///var/run/docker.sock";
    if (dockerHost !== undefined && !/^unix:\/\/\/.+/.test(dockerHost) && !/^ssh:\/\/([^@/\s]+@)?[^:/@\s]+(:[0-9]{1,5})?$/.test(dockerHost)) {
        r.fail("dockerHost", `must be unix:///<socket path> or ssh://[user@]host[:port], got ${show(dockerHost)}`);
    }
    const sshOpts = r.has("dockerSshOpts") ? r.stringList("dockerSshOpts", r.value("dockerSshOpts", true)) : [];

    const image = r.has("image") ? r.string("image", r.value("image", false)) : "registry:3.1.2";
    if (image !== undefined && !IMAGE_REF.test(image)) r.fail("image", `must be an image reference such as registry:3.1.2 or registry@sha256:<64 hex>, got ${show(image)}`);
    let registryVersion: RegistryMajorVersion | undefined;
    if (r.has("registryVersion")) registryVersion = r.oneOf("registryVersion", r.value("registryVersion", false), [2, 3] as const);
    else if (image !== undefined) {
        registryVersion = registryVersionFromImage(image);
        if (registryVersion === undefined) r.fail("registryVersion", `is required: the major version (2 or 3) cannot be read from the image ${show(image)}`);
    }
    const keepImage = r.has("keepImage") ? r.bool("keepImage", r.value("keepImage", false)) : true;
    const containerName = r.has("containerName") ? r.string("containerName", r.value("containerName", false)) : "private-registry";
    if (containerName !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(containerName)) {
        r.fail("containerName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]*, got ${show(containerName)}`);
    }

    const hostnames =
        (r.has("hostnames") ? r.stringList("hostnames", r.value("hostnames", true), (s) => (isDnsName(s) ? undefined : "must be a DNS name")) : ["localhost"]) ?? [];
    const ipAddresses =
        (r.has("ipAddresses") ? r.stringList("ipAddresses", r.value("ipAddresses", true), (s) => (net.isIP(s) ? undefined : "must be an IP address")) : ["127.0.0.1"]) ?? [];
    if (r.has("hostnames") && r.has("ipAddresses") && hostnames.length + ipAddresses.length === 0) {
        r.fail("hostnames", "and ipAddresses are both empty: the certificate needs at least one SAN (clients ignore the CN)");
    }
    for (const [k, list] of [["hostnames", hostnames], ["ipAddresses", ipAddresses]] as const) {
        if (new Set(list).size !== list.length) r.fail(k, `must not repeat an entry, got ${show(list)}`);
    }
    const port = r.has("port") ? r.int("port", r.value("port", false), 1, 65535) : 5000;
    const bindAddress = r.has("bindAddress") ? r.string("bindAddress", r.value("bindAddress", false)) : "0.0.0.0";
    if (bindAddress !== undefined && !net.isIP(bindAddress)) r.fail("bindAddress", `must be an IP address, got ${show(bindAddress)}`);

    const networks: Settings["networks"] = [];
    if (r.has("networks")) {
        const raw = r.value("networks", true);
        if (!Array.isArray(raw)) r.fail("networks", `must be a list of {name, ipv4Address?, aliases?}, got ${show(raw)}`);
        else
            raw.forEach((n, i) => {
                const o = r.object(`networks[${i}]`, n, ["name", "ipv4Address", "aliases"]);
                if (!o) return;
                const name = r.string(`networks[${i}].name`, o.name);
                const ip = o.ipv4Address === undefined ? undefined : net.isIPv4(String(o.ipv4Address)) ? String(o.ipv4Address) : r.fail(`networks[${i}].ipv4Address`, `must be an IPv4 address, got ${show(o.ipv4Address)}`);
                const aliases = o.aliases === undefined ? [] : r.stringList(`networks[${i}].aliases`, o.aliases) ?? [];
                if (name) networks.push({ name, ipv4Address: ip, aliases });
            });
    }

    const tls = parseTls(r);
    const users = parseUsers(r);
    const storage = parseStorage(r, registryVersion);

    let data: DataSettings = { kind: "volume", volumeName: `${containerName ?? "private-registry"}-data`, keepOnDestroy: true };
    if (r.has("data")) {
        const o = r.object("data", r.value("data", true), ["volumeName", "keepOnDestroy", "hostPath"]);
        if (o) {
            if (o.hostPath !== undefined && (o.volumeName !== undefined || o.keepOnDestroy !== undefined)) {
                r.fail("data", "takes either hostPath or volumeName/keepOnDestroy, not both");
            } else if (o.hostPath !== undefined) {
                if (typeof o.hostPath !== "string" || !o.hostPath.startsWith("/")) r.fail("data.hostPath", `must be an absolute path on the Docker host, got ${show(o.hostPath)}`);
                else data = { kind: "hostPath", hostPath: o.hostPath };
            } else {
                const volumeName = o.volumeName === undefined ? data.volumeName : r.string("data.volumeName", o.volumeName);
                if (volumeName !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(volumeName)) r.fail("data.volumeName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]*, got ${show(volumeName)}`);
                const keepOnDestroy = o.keepOnDestroy === undefined ? true : r.bool("data.keepOnDestroy", o.keepOnDestroy);
                data = { kind: "volume", volumeName: volumeName ?? "", keepOnDestroy: keepOnDestroy ?? true };
            }
        }
    }
    const registry = parseRegistry(r, registryVersion, port);
    const clients = parseClients(r, users, tls.enabled);

    if (r.problems.length > 0) throw new SettingsError(r.problems);
    return {
        docker: { host: dockerHost!, sshOpts: sshOpts ?? [] },
        image: image!,
        registryVersion: registryVersion!,
        keepImage: keepImage ?? true,
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
