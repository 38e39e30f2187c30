/**
 * Validation of the registry config model: everything the registry of `model.version` would
 * refuse, ignore, or misread is refused before rendering, naming the model field. The rules
 * themselves live in `rules.ts`, shared with the stack-config parser.
 *
 * Sources: distribution v2.8 `docs/configuration.md`; v3 `docs/content/about/configuration.md` and
 * `registry/registry.go` (TLS versions and cipher names).
 */
import { STORAGE_DRIVERS, type RegistryConfigModel, type RegistryMajorVersion, type StorageDriver } from "./model";
import {
    ABSOLUTE_PATH_RULE,
    BLOB_DESCRIPTOR_CACHES,
    headerNameProblem,
    httpUrlProblem,
    isAbsolutePath,
    isGcsChunkAligned,
    isDurationSetting,
    isIntIn,
    isSingleLine,
    listenPort,
    LOG_FORMATTERS,
    LOG_LEVELS,
    onlyOneOf,
    s3PathStyleProblem,
    sameHeader,
    SINGLE_LINE_RULE,
    STORAGE_RULES,
    SWIFT_AUTH_VERSIONS,
    TLS_VERSIONS,
    V2_CIPHER_SUITES,
    V3_CIPHER_SUITES,
    V3_TLS_VERSIONS,
    versionLacks,
} from "./rules";

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

/** One thing wrong with a model: the model path and what is wrong there. */
export interface RegistryConfigProblem {
    field: string;
    message: string;
}

// Where the checks below record problems; set for the duration of one registryConfigProblems call
// (synchronous, so calls never interleave).
let problems: RegistryConfigProblem[] = [];

function fail(field: string, message: string): void {
    problems.push({ field, message });
}

function requireText(field: string, value: unknown): void {
    if (typeof value !== "string" || value.trim() === "") {
        fail(field, "must be a non-empty string");
    }
}

function checkDuration(field: string, value: string | undefined): void {
    if (value !== undefined && !isDurationSetting(value)) {
        fail(field, `${JSON.stringify(value)} is not a Go duration such as "10s", "24h" or "1h30m"`);
    }
}

function checkInt(field: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (value !== undefined && !isIntIn(value, min, max)) {
        fail(field, `must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got ${value}`);
    }
}

function checkAbsolutePath(field: string, value: string | undefined): void {
    if (value !== undefined && !isAbsolutePath(value)) {
        fail(field, `${ABSOLUTE_PATH_RULE}, got ${JSON.stringify(value)}`);
    }
}

function checkHttpUrl(field: string, value: string): void {
    const problem = httpUrlProblem(value);
    if (problem === "syntax") {
        fail(field, `${JSON.stringify(value)} is not a URL`);
    }
    if (problem === "scheme") {
        fail(field, `${JSON.stringify(value)} must be an http:// or https:// URL`);
    }
}

function checkHeaders(field: string, headers: Record<string, string[]> | undefined): void {
    const seen = new Map<string, string>();
    for (const [name, values] of Object.entries(headers ?? {})) {
        const problem = headerNameProblem(name);
        if (problem !== undefined) {
            fail(`${field}.${name}`, problem);
        }
        const other = sameHeader(seen, name);
        if (other !== undefined) {
            fail(field, `${JSON.stringify(other)} and ${JSON.stringify(name)} are the same header`);
        }
        // Line breaks in the values are refused by checkText, with every other string.
        if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
            fail(`${field}.${name}`, "must be a list of strings");
        }
    }
}

/**
 * Every string of the model, map keys included, is rendered into `config.yml`, so each must be one
 * line. Values are not quoted: some are credentials.
 */
function checkText(field: string, value: unknown): void {
    const at = (k: string) => (field === "" ? k : `${field}.${k}`);
    if (typeof value === "string") {
        if (!isSingleLine(value)) {
            fail(field, SINGLE_LINE_RULE);
        }
    } else if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) checkText(`${field}[${i}]`, v);
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            if (!isSingleLine(k)) {
                fail(field, `has a key that is not one line of text (${SINGLE_LINE_RULE.replace(/^must be one line of text /, "")})`);
            }
            checkText(at(k), v);
        }
    }
}

function validateStorage(v: RegistryMajorVersion, s: StorageDriver): void {
    const driver = (s as { driver: unknown }).driver;
    if (!(STORAGE_DRIVERS as readonly unknown[]).includes(driver)) {
        fail("storage.driver", `unknown driver ${JSON.stringify(driver)}; expected one of ${STORAGE_DRIVERS.join(", ")}`);
        return;
    }
    if (versionLacks(v, "swiftDriver") && s.driver === "swift") {
        fail(
            "storage.driver",
            `"swift" was removed in distribution v3: use the S3 API of Ceph RGW (driver s3 with regionEndpoint), or a 2.x image such as registry:2.8.3`,
        );
    }
    const rules = STORAGE_RULES[s.driver];
    const fields = s as unknown as Record<string, unknown>;
    for (const f of rules.required) {
        requireText(`storage.${f}`, fields[f]);
    }
    for (const f of rules.absolutePaths) {
        checkAbsolutePath(`storage.${f}`, fields[f] as string | undefined);
    }
    for (const [f, [min, max]] of Object.entries(rules.ints)) {
        checkInt(`storage.${f}`, fields[f] as number | undefined, min, max);
    }
    switch (s.driver) {
        case "s3": {
            if (onlyOneOf(s.accessKey, s.secretKey)) {
                const [missing, given] = s.accessKey === undefined ? ["accessKey", "secretKey"] : ["secretKey", "accessKey"];
                fail(`storage.${missing}`, `is required with storage.${given} (or give neither, to use the instance role)`);
            }
            if (s.regionEndpoint !== undefined) {
                requireText("storage.regionEndpoint", s.regionEndpoint);
            }
            const pathStyle = s3PathStyleProblem(v, s.forcePathStyle, s.regionEndpoint);
            if (pathStyle === "false-with-endpoint") {
                fail(
                    "storage.forcePathStyle",
                    "cannot be false on distribution v2: it always uses path-style addressing with a regionEndpoint (use a 3.x image, or drop it)",
                );
            }
            if (pathStyle === "true-without-endpoint") {
                fail("storage.forcePathStyle", "does not exist on distribution v2, which uses path style only with a regionEndpoint");
            }
            break;
        }
        case "swift":
            checkHttpUrl("storage.authUrl", s.authUrl);
            if (s.authVersion !== undefined && !SWIFT_AUTH_VERSIONS.includes(s.authVersion)) {
                fail("storage.authVersion", `must be 1, 2 or 3, got ${s.authVersion}`);
            }
            break;
        case "azure":
            if (versionLacks(v, "azureRootDirectory") && s.rootDirectory !== undefined) {
                fail("storage.rootDirectory", "is not supported by the azure driver of distribution v2 (added in v3)");
            }
            break;
        case "gcs":
            if (s.chunkSize !== undefined && !isGcsChunkAligned(s.chunkSize)) {
                fail("storage.chunkSize", `must be a positive multiple of 262144 (256 KiB), got ${s.chunkSize}`);
            }
            break;
    }
}

/**
 * Everything the registry of `model.version` would refuse, ignore or misread in `model`, each
 * problem naming its model field; empty when the model is fine. The settings parser maps these onto
 * config keys, so each rule is written here once.
 */
export function registryConfigProblems(model: RegistryConfigModel): RegistryConfigProblem[] {
    problems = [];
    try {
        checkModel(model);
        checkText("", model);
        return problems;
    } finally {
        problems = [];
    }
}

/**
 * Throws a {@link RegistryConfigError} naming the first problem {@link registryConfigProblems}
 * finds. {@link renderRegistryConfig} calls it.
 */
export function validateRegistryConfigModel(model: RegistryConfigModel): void {
    const [first] = registryConfigProblems(model);
    if (first) throw new RegistryConfigError(first.field, first.message);
}

function checkModel(model: RegistryConfigModel): void {
    const v = model.version;
    if (v !== 2 && v !== 3) {
        fail("version", `must be 2 or 3, got ${JSON.stringify(v)}`);
        return;
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
    } else {
        validateStorage(v, model.storage);
    }

    const so = model.storageOptions ?? {};
    if (so.blobDescriptorCache !== undefined && !BLOB_DESCRIPTOR_CACHES.includes(so.blobDescriptorCache)) {
        fail("storageOptions.blobDescriptorCache", `must be "inmemory" or "redis"`);
    }
    if (so.blobDescriptorCache === "redis" && model.redis === undefined) {
        fail("storageOptions.blobDescriptorCache", `"redis" needs the redis section as well, got "redis"`);
    }
    if (so.uploadPurging !== undefined) {
        checkDuration("storageOptions.uploadPurging.age", so.uploadPurging.age);
        checkDuration("storageOptions.uploadPurging.interval", so.uploadPurging.interval);
    }

    const http = model.http;
    if (http === undefined || http === null) {
        fail("http", "is required");
        return;
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
        const port = listenPort(http.addr);
        if (port !== undefined && listenPort(http.debugAddr) === port) {
            fail("http.debugAddr", `must use another port than the registry itself (${port}), got ${JSON.stringify(http.debugAddr)}`);
        }
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
        if (v === 3 && tls.minimumTls !== undefined && !(V3_TLS_VERSIONS as readonly string[]).includes(tls.minimumTls)) {
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
                fail(`${f}.name`, `repeats endpoint ${JSON.stringify(e.name)}`);
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
        if (onlyOneOf(p.username, p.password)) {
            fail(
                p.username === undefined ? "proxy.username" : "proxy.password",
                "is required with the other of username/password (or give neither, for an anonymous upstream)",
            );
        }
        if (p.ttl !== undefined && versionLacks(v, "proxyTtl")) {
            fail("proxy.ttl", `is supported only by distribution v3 (v2 always expires after 168h), got ${JSON.stringify(p.ttl)}`);
        }
        checkDuration("proxy.ttl", p.ttl);
    }

    if (model.redis !== undefined) {
        const r = model.redis;
        if (!Array.isArray(r.addrs) || r.addrs.length === 0) {
            fail("redis.addrs", "needs at least one host:port");
        }
        for (const a of Array.isArray(r.addrs) ? r.addrs : []) requireText("redis.addrs", a);
        if (versionLacks(v, "redisAddrList") && r.addrs.length > 1) {
            fail("redis.addrs", `takes exactly one address on distribution v2 (v3 takes a list), got ${JSON.stringify(r.addrs)}`);
        }
        if (versionLacks(v, "redisUsername") && r.username !== undefined) {
            fail("redis.username", "is supported only by distribution v3 (ACL users)");
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
