/** The registry section: `registry` (storage options, debug server, headers, notifications, proxy, redis). */
import type { NotificationEndpoint, ProxySection, RedisSection, StorageOptions } from "../components/registryConfig/model";
import { BLOB_DESCRIPTOR_CACHES, LOG_LEVELS } from "../components/registryConfig";
import type { RegistryBehaviourSettings } from "../components/args";
import { type Reader, show } from "./reader";
import { Secret } from "../components/secret";
import { hostProblem } from "./rules";
import { BEHAVIOUR_DEFAULTS, REGISTRY_DEFAULTS } from "../components/defaults";

export const REGISTRY_KEYS = [
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

export function parseRegistry(r: Reader): RegistryBehaviourSettings {
    const v = r.section("registry", REGISTRY_KEYS) ?? {};
    const opt = <T>(k: string, read: (key: string, x: unknown) => T | undefined, dflt: T): T =>
        v[k] === undefined ? dflt : (read(`registry.${k}`, v[k]) ?? dflt);
    const secretBits: string[] = [];

    const storageOptions: StorageOptions = {
        deleteEnabled: opt("deleteEnabled", (k, x) => r.bool(k, x), BEHAVIOUR_DEFAULTS.deleteEnabled),
        blobDescriptorCache: opt("blobDescriptorCache", (k, x) => r.oneOf(k, x, BLOB_DESCRIPTOR_CACHES), BEHAVIOUR_DEFAULTS.blobDescriptorCache),
        readOnly: opt("readOnly", (k, x) => r.bool(k, x), BEHAVIOUR_DEFAULTS.readOnly),
        redirectDisable: opt("redirectDisable", (k, x) => r.bool(k, x), BEHAVIOUR_DEFAULTS.redirectDisable),
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
    const prometheus = opt("prometheus", (k, x) => r.bool(k, x), BEHAVIOUR_DEFAULTS.prometheus);
    if (prometheus && v.debugPort === undefined) r.fail("registry.prometheus", "needs registry.debugPort (metrics are served on the debug server only)");

    const headers = v.headers === undefined ? {} : (r.headers("registry.headers", v.headers) ?? {});

    const notifications =
        v.notifications === undefined
            ? []
            : (r.list("registry.notifications", v.notifications, "endpoints {name, url, …}", (key, n) => {
                  const e = r.obj(key, n, NOTIFICATION_KEYS, "an object {name, url, headers?, timeout?, threshold?, backoff?, disabled?, ignoredMediaTypes?}");
                  if (!e) return undefined;
                  const name = r.required(key, e, "name") ? r.str(`${key}.name`, e.name) : undefined;
                  const url = r.required(key, e, "url") ? r.url(`${key}.url`, e.url) : undefined;
                  const ep: NotificationEndpoint<Secret> = { name: name ?? "", url: url ?? "" };
                  if (e.headers !== undefined) {
                      // Typically an Authorization token.
                      secretBits.push(`${key.slice("registry.".length)}.headers`);
                      const headers = r.headers(`${key}.headers`, e.headers);
                      if (headers) ep.headers = Object.fromEntries(Object.entries(headers).map(([h, vs]) => [h, vs.map((x) => new Secret(x))]));
                  }
                  if (e.timeout !== undefined) ep.timeout = r.duration(`${key}.timeout`, e.timeout);
                  if (e.backoff !== undefined) ep.backoff = r.duration(`${key}.backoff`, e.backoff);
                  if (e.threshold !== undefined) ep.threshold = r.int(`${key}.threshold`, e.threshold, 0, 1_000_000);
                  if (e.disabled !== undefined) ep.disabled = r.bool(`${key}.disabled`, e.disabled);
                  if (e.ignoredMediaTypes !== undefined) ep.ignoredMediaTypes = r.stringList(`${key}.ignoredMediaTypes`, e.ignoredMediaTypes);
                  return ep;
              }) ?? []);

    let proxy: ProxySection<Secret> | undefined;
    if (v.proxy !== undefined) {
        const p = r.obj("registry.proxy", v.proxy, PROXY_KEYS, "an object {remoteUrl, username?, password?, ttl?}");
        if (p) {
            proxy = { remoteUrl: (r.required("registry.proxy", p, "remoteUrl") ? r.url("registry.proxy.remoteUrl", p.remoteUrl) : undefined) ?? "" };
            if (proxy.remoteUrl) {
                // Client hosts name a folder after it (/etc/containerd/certs.d/<host>/hosts.toml).
                const host = new URL(proxy.remoteUrl).hostname.replace(/^\[(.*)\]$/, "$1");
                const problem = hostProblem(host);
                if (problem) r.fail("registry.proxy.remoteUrl", `its host ${problem}, got ${show(host)}`);
            }
            if (p.username !== undefined) proxy.username = r.str("registry.proxy.username", p.username);
            if (p.password !== undefined) {
                secretBits.push("proxy.password");
                const password = r.str("registry.proxy.password", p.password, { secret: true });
                if (password !== undefined) proxy.password = new Secret(password);
            }
            if (p.ttl !== undefined) proxy.ttl = r.duration("registry.proxy.ttl", p.ttl);
        }
    }

    let redis: RedisSection<Secret> | undefined;
    if (v.redis !== undefined) {
        const x = r.obj("registry.redis", v.redis, REDIS_KEYS, "an object {addrs, username?, password?, db?, …}");
        if (x) {
            const hostPort = (s: string) => {
                const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):([0-9]{1,5})$/.exec(s);
                const h = m?.[1].replace(/^\[(.*)\]$/, "$1");
                return m && h !== undefined && !hostProblem(h) && Number(m[2]) >= 1 && Number(m[2]) <= 65535
                    ? undefined
                    : "must be host:port (e.g. redis.internal:6379)";
            };
            const addrs = r.required("registry.redis", x, "addrs", " (a list of host:port)")
                ? (r.stringList("registry.redis.addrs", x.addrs, hostPort, "host:port strings") ?? [])
                : [];
            if (Array.isArray(x.addrs) && x.addrs.length === 0) r.fail("registry.redis.addrs", "needs at least one host:port, got []");
            redis = { addrs };
            if (x.username !== undefined) redis.username = r.str("registry.redis.username", x.username);
            if (x.password !== undefined) {
                secretBits.push("redis.password");
                const password = r.str("registry.redis.password", x.password, { secret: true });
                if (password !== undefined) redis.password = new Secret(password);
            }
            if (x.db !== undefined) redis.db = r.int("registry.redis.db", x.db, 0, 1_000_000);
            for (const d of ["dialTimeout", "readTimeout", "writeTimeout", "idleTimeout"] as const) {
                if (x[d] !== undefined) redis[d] = r.duration(`registry.redis.${d}`, x[d]);
            }
            for (const n of ["maxIdle", "maxActive"] as const) {
                if (x[n] !== undefined) redis[n] = r.int(`registry.redis.${n}`, x[n], 0, 1_000_000);
            }
        }
    }
    if (secretBits.length > 0) r.requireSecret("registry", "a password or auth header", `registry.${secretBits[0]}`);

    const realm = opt(
        "realm",
        (k, x) => {
            // r.str refuses line breaks and control characters.
            const s = r.str(k, x);
            return s !== undefined && /["\\]/.test(s)
                ? r.fail(k, `must not contain quotes or backslashes (it goes into the WWW-Authenticate header), got ${show(s)}`)
                : s;
        },
        REGISTRY_DEFAULTS.realm,
    );
    return {
        logLevel: opt("logLevel", (k, x) => r.oneOf(k, x, LOG_LEVELS), BEHAVIOUR_DEFAULTS.logLevel),
        realm,
        ...storageOptions,
        storageHealthCheck: opt("storageHealthCheck", (k, x) => r.bool(k, x), BEHAVIOUR_DEFAULTS.storageHealthCheck),
        debugPort,
        prometheus,
        headers,
        notifications,
        proxy,
        redis,
    };
}
