/**
 * The registry's `config.yml`, rendered from the typed model for distribution v2.8 or v3. Pure:
 * plain values in, YAML text out, no Pulumi types (C7).
 *
 * The registry ignores keys it does not know and falls back to defaults without a word (a
 * camelCase `rootDirectory` is dropped, `http.tls.cert` serves plain HTTP), so every key here is
 * spelled the way distribution's own docs spell it, and everything one major version cannot do is
 * refused before rendering instead of being written and ignored.
 *
 * Sources: distribution v2.8 `docs/configuration.md` and `configuration/configuration.go`;
 * v3 `docs/content/about/configuration.md`, `registry/registry.go` (TLS versions and cipher
 * names) and the go-redis `UniversalOptions` fields inlined under `redis`.
 */
import { Document, parse, visit, Scalar } from "yaml";
import { STORAGE_DRIVERS, type RegistryConfigModel, type RegistryMajorVersion, type StorageDriver } from "./registryConfigModel";

/** A model the registry would refuse, ignore, or misread. `field` is the model path, e.g. `storage.driver`. */
export class RegistryConfigError extends Error {
    /** The offending model field, e.g. `storage.driver`, `http.tls.minimumTls`, `redis.addrs`. */
    readonly field: string;

    constructor(field: string, message: string) {
        super(`${field}: ${message}`);
        this.name = "RegistryConfigError";
        this.field = field;
    }
}

/** Where the registry image reads its config: v2 `/etc/docker/registry/config.yml`, v3 `/etc/distribution/config.yml`. */
export function registryConfigPath(version: RegistryMajorVersion): string {
    return version === 2 ? "/etc/docker/registry/config.yml" : "/etc/distribution/config.yml";
}

/**
 * The registry major version an image reference implies, from its tag: `registry:2.8.3` → 2,
 * `registry:3`, `registry:latest` and an untagged `registry` → 3 (`latest` is v3). A leading `v`
 * is allowed (`v2.8.2`). Returns undefined for a digest-only reference (`registry@sha256:…`), a
 * tag that does not start with a version, and majors other than 2 and 3. With both a tag and a
 * digest the tag decides. A registry port (`localhost:5000/registry`) is not a tag.
 */
export function registryVersionFromImage(image: string): RegistryMajorVersion | undefined {
    let ref = image.trim();
    const at = ref.indexOf("@");
    const hasDigest = at >= 0;
    if (hasDigest) {
        ref = ref.slice(0, at);
    }
    const lastSlash = ref.lastIndexOf("/");
    const lastColon = ref.lastIndexOf(":");
    const name = lastColon > lastSlash ? ref.slice(0, lastColon) : ref;
    if (name === "" || name.endsWith("/")) {
        return undefined;
    }
    if (lastColon <= lastSlash) {
        // No tag: implicitly `latest`, unless only a digest pins it (we cannot tell what it is).
        return hasDigest ? undefined : 3;
    }
    const tag = ref.slice(lastColon + 1);
    if (tag === "latest") {
        return 3;
    }
    const m = /^v?(\d+)(?:[.\-_]|$)/.exec(tag);
    if (!m) {
        return undefined;
    }
    const major = Number(m[1]);
    return major === 2 ? 2 : major === 3 ? 3 : undefined;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** Cipher suite names distribution v2.8 accepts (docs/configuration.md, "Available cipher suites"). */
const V2_CIPHER_SUITES = [
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/** v3 dropped the RC4 and CBC-SHA256 names (registry/registry.go `cipherSuites`); naming one is a start-up error. */
const V3_CIPHER_SUITES = V2_CIPHER_SUITES.filter((c) => !c.includes("RC4") && !c.endsWith("CBC_SHA256"));

const TLS_VERSIONS = ["tls1.0", "tls1.1", "tls1.2", "tls1.3"];
const LOG_LEVELS = ["error", "warn", "info", "debug"];
const LOG_FORMATTERS = ["text", "json", "logstash"];

/** Go's `time.ParseDuration` syntax without a sign (`168h`, `1h30m`, `1.5s`, `0`). */
const GO_DURATION = /^(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
/** An RFC 7230 header field name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function fail(field: string, message: string): never {
    throw new RegistryConfigError(field, message);
}

function requireText(field: string, value: unknown): void {
    if (typeof value !== "string" || value.trim() === "") {
        fail(field, "must be a non-empty string");
    }
}

function checkDuration(field: string, value: string | undefined): void {
    if (value !== undefined && !GO_DURATION.test(value)) {
        fail(field, `${JSON.stringify(value)} is not a Go duration such as "10s", "24h" or "1h30m"`);
    }
}

function checkInt(field: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
        fail(field, `must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got ${value}`);
    }
}

function checkAbsolutePath(field: string, value: string | undefined): void {
    if (value !== undefined && !value.startsWith("/")) {
        fail(field, `must be an absolute path inside the container, got ${JSON.stringify(value)}`);
    }
}

function checkHttpUrl(field: string, value: string): void {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        fail(field, `${JSON.stringify(value)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        fail(field, `${JSON.stringify(value)} must be an http:// or https:// URL`);
    }
}

function checkHeaders(field: string, headers: Record<string, string[]> | undefined): void {
    if (headers === undefined) {
        return;
    }
    const seen = new Map<string, string>();
    for (const [name, values] of Object.entries(headers)) {
        if (!HEADER_NAME.test(name)) {
            fail(field, `${JSON.stringify(name)} is not a valid header name`);
        }
        const lower = name.toLowerCase();
        const other = seen.get(lower);
        if (other !== undefined) {
            // Go canonicalises header names, so both would be sent: refuse the ambiguity.
            fail(field, `${JSON.stringify(other)} and ${JSON.stringify(name)} are the same header`);
        }
        seen.set(lower, name);
        if (!Array.isArray(values) || values.some((v) => typeof v !== "string" || /[\r\n]/.test(v))) {
            fail(`${field}.${name}`, "must be a list of single-line strings");
        }
    }
}

function validateStorage(v: RegistryMajorVersion, s: StorageDriver): void {
    const driver = (s as { driver: unknown }).driver;
    if (!(STORAGE_DRIVERS as readonly unknown[]).includes(driver)) {
        fail("storage.driver", `unknown driver ${JSON.stringify(driver)}; expected one of ${STORAGE_DRIVERS.join(", ")}`);
    }
    switch (s.driver) {
        case "filesystem":
            checkAbsolutePath("storage.rootDirectory", s.rootDirectory);
            // registry/storage/driver/filesystem: "maxthreads parameter must be >= 25".
            checkInt("storage.maxThreads", s.maxThreads, 25);
            break;
        case "s3":
            requireText("storage.region", s.region);
            requireText("storage.bucket", s.bucket);
            if ((s.accessKey === undefined) !== (s.secretKey === undefined)) {
                fail("storage.accessKey", "set accessKey and secretKey together, or neither (instance role)");
            }
            if (s.regionEndpoint !== undefined) {
                requireText("storage.regionEndpoint", s.regionEndpoint);
            }
            if (v === 2 && s.forcePathStyle === false && s.regionEndpoint !== undefined) {
                fail(
                    "storage.forcePathStyle",
                    "distribution v2 always uses path-style addressing with a regionEndpoint and has no " +
                        "forcepathstyle key, so virtual-hosted style is impossible; use a 3.x image or drop forcePathStyle: false",
                );
            }
            if (v === 2 && s.forcePathStyle === true && s.regionEndpoint === undefined) {
                fail("storage.forcePathStyle", "distribution v2 has no forcepathstyle key; it uses path style only with a regionEndpoint");
            }
            checkInt("storage.chunkSize", s.chunkSize, 5 * MIB, 5 * GIB);
            checkInt("storage.multipartCopyChunkSize", s.multipartCopyChunkSize, 5 * MIB, 5 * GIB);
            checkInt("storage.multipartCopyThresholdSize", s.multipartCopyThresholdSize, 0, 5 * GIB);
            checkInt("storage.multipartCopyMaxConcurrency", s.multipartCopyMaxConcurrency, 1);
            checkAbsolutePath("storage.rootDirectory", s.rootDirectory);
            break;
        case "swift":
            if (v === 3) {
                fail(
                    "storage.driver",
                    "the swift storage driver was removed in distribution v3; for Ceph RGW use its S3 API " +
                        "(driver s3 with regionEndpoint), or pin a 2.x registry image",
                );
            }
            requireText("storage.authUrl", s.authUrl);
            checkHttpUrl("storage.authUrl", s.authUrl);
            requireText("storage.username", s.username);
            requireText("storage.password", s.password);
            requireText("storage.container", s.container);
            if (s.authVersion !== undefined && ![1, 2, 3].includes(s.authVersion)) {
                fail("storage.authVersion", `must be 1, 2 or 3, got ${s.authVersion}`);
            }
            checkInt("storage.chunkSize", s.chunkSize, 1);
            break;
        case "azure":
            requireText("storage.accountName", s.accountName);
            requireText("storage.accountKey", s.accountKey);
            requireText("storage.container", s.container);
            if (v === 2 && s.rootDirectory !== undefined) {
                fail("storage.rootDirectory", "the azure driver of distribution v2 has no rootdirectory (added in v3)");
            }
            break;
        case "gcs":
            requireText("storage.bucket", s.bucket);
            checkAbsolutePath("storage.keyfile", s.keyfile);
            checkAbsolutePath("storage.rootDirectory", s.rootDirectory);
            // The gcs driver refuses a chunksize that is not a multiple of 256 KiB.
            if (s.chunkSize !== undefined && (!Number.isInteger(s.chunkSize) || s.chunkSize <= 0 || s.chunkSize % (256 * 1024) !== 0)) {
                fail("storage.chunkSize", `must be a positive multiple of 262144 (256 KiB), got ${s.chunkSize}`);
            }
            break;
        case "inmemory":
            break;
    }
}

/**
 * Checks a model against what the registry of `model.version` accepts, throwing a
 * {@link RegistryConfigError} naming the first offending field. {@link renderRegistryConfig}
 * calls it; call it yourself to fail before anything is created.
 */
export function validateRegistryConfigModel(model: RegistryConfigModel): void {
    const v = model.version;
    if (v !== 2 && v !== 3) {
        fail("version", `must be 2 or 3, got ${JSON.stringify(v)}`);
    }

    if (model.log !== undefined) {
        const { level, formatter, fields } = model.log;
        if (level !== undefined && !LOG_LEVELS.includes(level)) {
            fail("log.level", `must be one of ${LOG_LEVELS.join(", ")}`);
        }
        if (formatter !== undefined && !LOG_FORMATTERS.includes(formatter)) {
            fail("log.formatter", `must be one of ${LOG_FORMATTERS.join(", ")}`);
        }
        for (const [k, val] of Object.entries(fields ?? {})) {
            if (k === "" || typeof val !== "string") {
                fail("log.fields", "must map non-empty names to strings");
            }
        }
    }

    if (model.storage === undefined || model.storage === null) {
        fail("storage", "is required");
    }
    validateStorage(v, model.storage);

    const so = model.storageOptions ?? {};
    if (so.blobDescriptorCache !== undefined && !["inmemory", "redis"].includes(so.blobDescriptorCache)) {
        fail("storageOptions.blobDescriptorCache", `must be "inmemory" or "redis"`);
    }
    if (so.blobDescriptorCache === "redis" && model.redis === undefined) {
        fail("storageOptions.blobDescriptorCache", `"redis" needs the redis section`);
    }
    if (so.uploadPurging !== undefined) {
        checkDuration("storageOptions.uploadPurging.age", so.uploadPurging.age);
        checkDuration("storageOptions.uploadPurging.interval", so.uploadPurging.interval);
    }

    const http = model.http;
    if (http === undefined || http === null) {
        fail("http", "is required");
    }
    requireText("http.addr", http.addr);
    if (http.host !== undefined) {
        // The registry builds Location URLs from it: a bare host name yields broken redirects.
        checkHttpUrl("http.host", http.host);
    }
    if (http.prefix !== undefined && !http.prefix.startsWith("/")) {
        fail("http.prefix", `must start with "/", got ${JSON.stringify(http.prefix)}`);
    }
    checkDuration("http.drainTimeout", http.drainTimeout);
    checkHeaders("http.headers", http.headers);
    if (http.prometheusPath !== undefined) {
        if (http.debugAddr === undefined) {
            fail("http.prometheusPath", "needs http.debugAddr: metrics are served on the debug server only");
        }
        if (!http.prometheusPath.startsWith("/")) {
            fail("http.prometheusPath", `must start with "/", got ${JSON.stringify(http.prometheusPath)}`);
        }
    }
    if (http.debugAddr !== undefined) {
        requireText("http.debugAddr", http.debugAddr);
    }
    if (http.tls !== undefined) {
        const tls = http.tls;
        requireText("http.tls.certificatePath", tls.certificatePath);
        requireText("http.tls.keyPath", tls.keyPath);
        checkAbsolutePath("http.tls.certificatePath", tls.certificatePath);
        checkAbsolutePath("http.tls.keyPath", tls.keyPath);
        for (const ca of tls.clientCaPaths ?? []) {
            checkAbsolutePath("http.tls.clientCaPaths", ca);
        }
        if (tls.minimumTls !== undefined && !TLS_VERSIONS.includes(tls.minimumTls)) {
            fail("http.tls.minimumTls", `must be one of ${TLS_VERSIONS.join(", ")}`);
        }
        if (v === 3 && (tls.minimumTls === "tls1.0" || tls.minimumTls === "tls1.1")) {
            fail(
                "http.tls.minimumTls",
                `distribution v3 accepts only tls1.2 or tls1.3 and refuses ${tls.minimumTls} at start-up ("unknown minimum TLS level")`,
            );
        }
        if (tls.cipherSuites !== undefined) {
            const known = v === 2 ? V2_CIPHER_SUITES : V3_CIPHER_SUITES;
            for (const c of tls.cipherSuites) {
                if (!known.includes(c)) {
                    fail("http.tls.cipherSuites", `distribution v${v} does not know the cipher suite ${JSON.stringify(c)}`);
                }
            }
            if (tls.minimumTls === "tls1.3" && tls.cipherSuites.length > 0) {
                fail("http.tls.cipherSuites", "has no effect with minimumTls tls1.3 (TLS 1.3 suites are not configurable)");
            }
        }
    }

    if (model.auth?.htpasswd !== undefined) {
        requireText("auth.htpasswd.realm", model.auth.htpasswd.realm);
        requireText("auth.htpasswd.path", model.auth.htpasswd.path);
        checkAbsolutePath("auth.htpasswd.path", model.auth.htpasswd.path);
    }

    if (model.health?.storageDriver !== undefined) {
        checkDuration("health.storageDriver.interval", model.health.storageDriver.interval);
        checkInt("health.storageDriver.threshold", model.health.storageDriver.threshold, 0);
    }

    if (model.notifications !== undefined) {
        const names = new Set<string>();
        model.notifications.endpoints.forEach((e, i) => {
            const f = `notifications.endpoints[${i}]`;
            requireText(`${f}.name`, e.name);
            if (names.has(e.name)) {
                fail(`${f}.name`, `${JSON.stringify(e.name)} appears twice`);
            }
            names.add(e.name);
            checkHttpUrl(`${f}.url`, e.url);
            checkHeaders(`${f}.headers`, e.headers);
            checkDuration(`${f}.timeout`, e.timeout);
            checkDuration(`${f}.backoff`, e.backoff);
            checkInt(`${f}.threshold`, e.threshold, 0);
        });
    }

    if (model.proxy !== undefined) {
        const p = model.proxy;
        checkHttpUrl("proxy.remoteUrl", p.remoteUrl);
        if ((p.username === undefined) !== (p.password === undefined)) {
            fail("proxy.username", "set username and password together, or neither (anonymous upstream)");
        }
        if (p.ttl !== undefined && v === 2) {
            fail("proxy.ttl", "distribution v2 has no proxy ttl (added in v3; v2 always expires after 168h)");
        }
        checkDuration("proxy.ttl", p.ttl);
    }

    if (model.redis !== undefined) {
        const r = model.redis;
        if (!Array.isArray(r.addrs) || r.addrs.length === 0) {
            fail("redis.addrs", "needs at least one host:port");
        }
        for (const a of r.addrs) requireText("redis.addrs", a);
        if (v === 2 && r.addrs.length > 1) {
            fail("redis.addrs", `distribution v2 takes exactly one redis addr, got ${r.addrs.length} (v3 takes a list)`);
        }
        if (v === 2 && r.username !== undefined) {
            fail("redis.username", "distribution v2 has no redis username (ACL users need v3)");
        }
        checkInt("redis.db", r.db, 0);
        checkDuration("redis.dialTimeout", r.dialTimeout);
        checkDuration("redis.readTimeout", r.readTimeout);
        checkDuration("redis.writeTimeout", r.writeTimeout);
        checkInt("redis.maxIdle", r.maxIdle, 0);
        checkInt("redis.maxActive", r.maxActive, 0);
        checkDuration("redis.idleTimeout", r.idleTimeout);
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

type Plain = string | number | boolean | Plain[] | { [key: string]: Plain };
type Draft = { [key: string]: Plain | Draft | undefined };

/** An intentionally empty map (`inmemory: {}`), kept where {@link compact} drops empty sections. */
const EMPTY_MAP: { [key: string]: Plain } = Object.freeze({}) as { [key: string]: Plain };

/** Drops undefined entries and empty sections (keeping insertion order); undefined when nothing is left. */
function compact(draft: Draft): { [key: string]: Plain } | undefined {
    const out: { [key: string]: Plain } = {};
    for (const [k, val] of Object.entries(draft)) {
        if (val === undefined) {
            continue;
        }
        if (val === EMPTY_MAP) {
            out[k] = {};
        } else if (typeof val === "object" && !Array.isArray(val)) {
            const inner = compact(val as Draft);
            if (inner !== undefined) {
                out[k] = inner;
            }
        } else {
            out[k] = val as Plain;
        }
    }
    return Object.keys(out).length === 0 ? undefined : out;
}

function byCodePoint(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

function sortedRecord<T>(rec: Record<string, T> | undefined): Record<string, T> | undefined {
    if (rec === undefined || Object.keys(rec).length === 0) {
        return undefined;
    }
    const out: Record<string, T> = {};
    for (const k of Object.keys(rec).sort(byCodePoint)) {
        out[k] = rec[k];
    }
    return out;
}

/** User headers plus `X-Content-Type-Options: nosniff` (merged case-insensitively), sorted by name. */
function responseHeaders(user: Record<string, string[]> | undefined): Record<string, string[]> {
    const merged: Record<string, string[]> = {};
    for (const [k, vals] of Object.entries(user ?? {})) {
        merged[k] = [...vals];
    }
    const key = Object.keys(merged).find((k) => k.toLowerCase() === "x-content-type-options") ?? "X-Content-Type-Options";
    const values = merged[key] ?? [];
    if (!values.some((x) => x.toLowerCase() === "nosniff")) {
        values.push("nosniff");
    }
    merged[key] = values;
    return sortedRecord(merged) ?? {};
}

function storageDriverSection(v: RegistryMajorVersion, s: StorageDriver): Draft {
    switch (s.driver) {
        case "filesystem":
            return {
                filesystem: {
                    rootdirectory: s.rootDirectory ?? "/var/lib/registry",
                    maxthreads: s.maxThreads,
                },
            };
        case "s3":
            return {
                s3: {
                    accesskey: s.accessKey,
                    secretkey: s.secretKey,
                    region: s.region,
                    regionendpoint: s.regionEndpoint,
                    // v3 made path style an explicit key that defaults to false, which breaks Ceph RGW and
                    // MinIO behind a regionendpoint (distribution#4528); v2 has no such key at all.
                    forcepathstyle: v === 3 ? (s.forcePathStyle ?? (s.regionEndpoint !== undefined ? true : undefined)) : undefined,
                    bucket: s.bucket,
                    encrypt: s.encrypt,
                    keyid: s.keyId,
                    secure: s.secure,
                    skipverify: s.skipVerify,
                    v4auth: s.v4Auth,
                    chunksize: s.chunkSize,
                    multipartcopychunksize: s.multipartCopyChunkSize,
                    multipartcopymaxconcurrency: s.multipartCopyMaxConcurrency,
                    multipartcopythresholdsize: s.multipartCopyThresholdSize,
                    rootdirectory: s.rootDirectory,
                    storageclass: s.storageClass,
                },
            };
        case "swift":
            return {
                swift: {
                    authurl: s.authUrl,
                    username: s.username,
                    password: s.password,
                    authversion: s.authVersion,
                    tenant: s.tenant,
                    tenantid: s.tenantId,
                    domain: s.domain,
                    domainid: s.domainId,
                    region: s.region,
                    container: s.container,
                    insecureskipverify: s.insecureSkipVerify,
                    chunksize: s.chunkSize,
                    prefix: s.prefix,
                },
            };
        case "azure":
            return {
                azure: {
                    accountname: s.accountName,
                    accountkey: s.accountKey,
                    container: s.container,
                    realm: s.realm,
                    rootdirectory: s.rootDirectory,
                },
            };
        case "gcs":
            return {
                gcs: {
                    bucket: s.bucket,
                    keyfile: s.keyfile,
                    rootdirectory: s.rootDirectory,
                    chunksize: s.chunkSize,
                },
            };
        case "inmemory":
            // The driver takes no parameters; an empty map reads back as that.
            return { inmemory: EMPTY_MAP };
    }
}

function toPlainTree(model: RegistryConfigModel): { [key: string]: Plain } {
    const v = model.version;
    const so = model.storageOptions ?? {};
    const http = model.http;
    const purge = so.uploadPurging;

    const storage: Draft = {
        ...storageDriverSection(v, model.storage),
        ...compact({
            delete: { enabled: so.deleteEnabled ?? true },
            redirect: { disable: so.redirectDisable },
            cache: { blobdescriptor: so.blobDescriptorCache },
            maintenance: {
                // When uploadpurging is present and enabled the registry insists on all four keys
                // (it panics on "age missing" / "dryrun missing"), so the defaults are written out.
                uploadpurging:
                    purge === undefined
                        ? undefined
                        : purge.enabled
                          ? {
                                enabled: true,
                                age: purge.age ?? "168h",
                                interval: purge.interval ?? "24h",
                                dryrun: purge.dryRun ?? false,
                            }
                          : { enabled: false },
                readonly: { enabled: so.readOnly },
            },
        }),
    };

    const tls = http.tls;
    const redis = model.redis;

    const tree = compact({
        version: 0.1,
        log: model.log && {
            accesslog: { disabled: model.log.accessLogDisabled },
            level: model.log.level,
            formatter: model.log.formatter,
            fields: sortedRecord(model.log.fields),
        },
        storage,
        auth: model.auth?.htpasswd && {
            htpasswd: { realm: model.auth.htpasswd.realm, path: model.auth.htpasswd.path },
        },
        http: {
            addr: http.addr,
            prefix: http.prefix,
            host: http.host,
            secret: http.secret,
            relativeurls: http.relativeUrls,
            draintimeout: http.drainTimeout,
            tls: tls && {
                certificate: tls.certificatePath,
                key: tls.keyPath,
                clientcas: tls.clientCaPaths && tls.clientCaPaths.length > 0 ? [...tls.clientCaPaths] : undefined,
                minimumtls: tls.minimumTls,
                ciphersuites: tls.cipherSuites && tls.cipherSuites.length > 0 ? [...tls.cipherSuites] : undefined,
            },
            debug:
                http.debugAddr === undefined
                    ? undefined
                    : {
                          addr: http.debugAddr,
                          prometheus: http.prometheusPath === undefined ? undefined : { enabled: true, path: http.prometheusPath },
                      },
            headers: responseHeaders(http.headers),
        },
        notifications:
            model.notifications && model.notifications.endpoints.length > 0
                ? {
                      endpoints: model.notifications.endpoints.map(
                          (e) =>
                              compact({
                                  name: e.name,
                                  disabled: e.disabled,
                                  url: e.url,
                                  headers: sortedRecord(e.headers),
                                  timeout: e.timeout,
                                  threshold: e.threshold,
                                  backoff: e.backoff,
                                  ignoredmediatypes: e.ignoredMediaTypes && e.ignoredMediaTypes.length > 0 ? [...e.ignoredMediaTypes] : undefined,
                              }) ?? {},
                      ),
                  }
                : undefined,
        redis:
            redis === undefined
                ? undefined
                : v === 2
                  ? {
                        addr: redis.addrs[0],
                        password: redis.password,
                        db: redis.db,
                        dialtimeout: redis.dialTimeout,
                        readtimeout: redis.readTimeout,
                        writetimeout: redis.writeTimeout,
                        pool: { maxidle: redis.maxIdle, maxactive: redis.maxActive, idletimeout: redis.idleTimeout },
                    }
                  : {
                        // go-redis UniversalOptions, inlined: field names lower-cased by the YAML decoder.
                        addrs: [...redis.addrs],
                        username: redis.username,
                        password: redis.password,
                        db: redis.db,
                        dialtimeout: redis.dialTimeout,
                        readtimeout: redis.readTimeout,
                        writetimeout: redis.writeTimeout,
                        maxidleconns: redis.maxIdle,
                        poolsize: redis.maxActive,
                        connmaxidletime: redis.idleTimeout,
                    },
        health: model.health?.storageDriver && {
            storagedriver: {
                enabled: model.health.storageDriver.enabled,
                interval: model.health.storageDriver.interval,
                threshold: model.health.storageDriver.threshold,
            },
        },
        proxy: model.proxy && {
            remoteurl: model.proxy.remoteUrl,
            username: model.proxy.username,
            password: model.proxy.password,
            ttl: v === 3 ? model.proxy.ttl : undefined,
        },
    });
    return tree ?? {};
}

/** True when a plain scalar with this text would not read back as this same string (YAML 1.1 or 1.2). */
function plainIsAmbiguous(text: string): boolean {
    for (const version of ["1.1", "1.2"] as const) {
        try {
            if (parse(text, { version, logLevel: "silent" }) !== text) {
                return true;
            }
        } catch {
            return true;
        }
    }
    return false;
}

/**
 * Renders the registry's `config.yml` for `model.version` (validating it first). Keys follow
 * distribution's docs order (version, log, storage, auth, http, notifications, redis, health,
 * proxy); maps whose order does not matter (headers, log fields) are sorted; the text ends with a
 * newline. Strings a YAML 1.1 reader (the registry's go-yaml) would take for a bool, number, null
 * or timestamp (`on`, `yes`, `0.1`, `2024-01-01`) are quoted; `version: 0.1` stays plain, as in
 * every distribution example (the registry reads its raw text as the string "0.1").
 */
export function renderRegistryConfig(model: RegistryConfigModel): string {
    validateRegistryConfigModel(model);
    // The 1.1 schema quotes YAML 1.1 booleans such as `on`/`yes`; no %YAML directive is written.
    const doc = new Document(toPlainTree(model), { version: "1.1" });
    visit(doc, {
        Scalar(_key, node: Scalar) {
            if (typeof node.value === "string" && plainIsAmbiguous(node.value)) {
                node.type = Scalar.QUOTE_DOUBLE;
            }
        },
    });
    const text = doc.toString({ lineWidth: 0, indent: 2, indentSeq: true });
    return text.endsWith("\n") ? text : `${text}\n`;
}
