/**
 * From the component's arguments to the registry's config model, in one pure function: everything
 * in `config.yml` except `http.secret`, which only exists once the program has generated it. The
 * model is built once, here, and records which argument each part came from; the arguments'
 * paths are the stack file's keys, so the settings report a model problem under its key.
 */
import { revealSecrets, type Secret } from "../secret";
import type { ResolvedArgs } from "../args";
import type { RegistryConfigModel, StorageOptions } from "../registryConfig/model";
import { isBalanced } from "./registryTopology";

/** Where the container finds what the program uploads into it, and its data. */
export const CONTAINER_PATHS = {
    /** The same for every registry version: the container is started with `serve <this path>`. */
    config: "/etc/private-registry/config.yml",
    certificate: "/etc/private-registry/tls/registry.crt",
    key: "/etc/private-registry/tls/registry.key",
    htpasswd: "/etc/private-registry/auth/htpasswd",
    /** The object store's CA: Go reads SSL_CERT_DIR besides the system bundle (the 2.8 S3 driver panics on AWS_CA_BUNDLE). */
    storageCaDir: "/etc/private-registry/storage-ca",
    data: "/var/lib/registry",
} as const;

/** The registry container's only writable path besides its data: a small `/tmp` (its root filesystem is read-only). */
export const CONTAINER_TMP = { path: "/tmp", options: "rw,noexec,nosuid,nodev,size=64m" } as const;

/**
 * The registry process's environment wherever the program runs its image: the registry itself and
 * the one-shot `garbage-collect` containers (`npm run gc`, `gcSchedule`). Its own memory bounded by
 * the Go runtime's soft limit, under the container's hard limit with room for the page cache of the
 * blobs (the kernel charges that cache to the container); distribution 3's OpenTelemetry, on by
 * default in the official image, off (it would export traces to localhost:4318); the object store's
 * CA where one is given.
 */
export function registryProcessEnv(o: { memoryMb: number; version: 2 | 3; storageCa: boolean }): string[] {
    return [
        `GOMEMLIMIT=${o.memoryMb}MiB`,
        ...(o.version === 3 ? ["OTEL_TRACES_EXPORTER=none"] : []),
        ...(o.storageCa ? [`SSL_CERT_DIR=${CONTAINER_PATHS.storageCaDir}`] : []),
    ];
}

/** The config model without `http.secret`, its credentials still {@link Secret}s. */
export type RegistryConfigDraft = Omit<RegistryConfigModel<Secret>, "http"> & { http: Omit<RegistryConfigModel["http"], "secret"> };

/**
 * The plain model the renderer takes: every credential revealed, `http.secret` added. Call it only
 * inside the secret output that renders `config.yml`.
 */
export function withHttpSecret(draft: RegistryConfigDraft, secret: string, redisPassword?: string): RegistryConfigModel {
    const model: RegistryConfigModel = revealSecrets(draft);
    // The password of the Redis the program runs (redisCache), generated with it.
    const redis = model.redis && redisPassword !== undefined ? { ...model.redis, password: redisPassword } : model.redis;
    return { ...model, http: { ...model.http, secret }, redis };
}

/** The Redis the program runs (`redisCache`): its container's name, which the registry resolves on their network. */
export const redisCacheName = (containerName: string) => `${containerName}-redis`;
const redisCacheAddrs = (containerName: string) => `${redisCacheName(containerName)}:6379`;

/**
 * The debug server's port inside the container (health for the healthcheck, pprof, metrics): the
 * configured one, else 5001, or 5002 when the registry itself listens on 5001.
 */
export function debugPortFor(port: number, debugPort?: number): number {
    return debugPort ?? (port === 5001 ? 5002 : 5001);
}

/** The parts of the arguments the registry's config comes from. */
export type RegistryModelArgs = Pick<ResolvedArgs, "registryVersion" | "port" | "storage" | "registry" | "containerName" | "replicas" | "replicaHosts"> &
    Partial<Pick<ResolvedArgs, "redisCache">> & {
        /** Serve TLS with this minimum version; absent for plain HTTP. */
        tls?: { minimumTls: "tls1.2" | "tls1.3" };
        /** Basic auth from the uploaded htpasswd. */
        htpasswd: boolean;
    };

/** The config model, and for each part of it (a model path prefix) the argument path it came from. */
export interface TracedDraft {
    draft: RegistryConfigDraft;
    sources: Record<string, string>;
}

const STORAGE_OPTIONS = ["deleteEnabled", "blobDescriptorCache", "uploadPurging", "readOnly", "redirectDisable"] as const;

/** The registry's `config.yml` model for these arguments, `http.secret` aside, with where each part came from. */
export function traceRegistryConfig(s: RegistryModelArgs): TracedDraft {
    const sources: Record<string, string> = {};
    /** `value`, recorded as coming from the argument `arg` (a field path of the model → an argument path). */
    const from = <T>(field: string, arg: string, value: T): T => {
        sources[field] = arg;
        return value;
    };
    const r = s.registry;
    const onOtherHosts = s.replicaHosts.length > 0;
    // The balancer checks replicas on this host at their debug servers; on other hosts, at their own port.
    const balancerChecksDebug = s.replicas > 1 && !onOtherHosts;
    const storageOptions: StorageOptions = {};
    for (const k of STORAGE_OPTIONS) if (r[k] !== undefined) Object.assign(storageOptions, { [k]: from(`storageOptions.${k}`, `registry.${k}`, r[k]) });
    if (s.redisCache) storageOptions.blobDescriptorCache = from("storageOptions.blobDescriptorCache", "redisCache", "redis");
    const draft: RegistryConfigDraft = {
        version: from("version", "registryVersion", s.registryVersion),
        log: { level: from("log.level", "registry.logLevel", r.logLevel), formatter: "text" },
        storage: from(
            "storage",
            "storage",
            s.storage.driver === "filesystem" ? { ...s.storage, rootDirectory: s.storage.rootDirectory ?? CONTAINER_PATHS.data } : s.storage,
        ),
        storageOptions,
        http: {
            addr: from("http.addr", "port", `:${s.port}`),
            headers: from("http.headers", "registry.headers", r.headers),
            tls: s.tls
                ? {
                      certificatePath: CONTAINER_PATHS.certificate,
                      keyPath: CONTAINER_PATHS.key,
                      minimumTls: from("http.tls.minimumTls", "tls.minimumTls", s.tls.minimumTls),
                  }
                : undefined,
            // pprof and /debug/vars (which on v3 shows notification headers) must not be reachable
            // from other containers on the same network unless the operator publishes the port, or
            // the load balancer checks it on the replicas' own network.
            debugAddr: from(
                "http.debugAddr",
                "registry.debugPort",
                `${r.debugPort === undefined && !balancerChecksDebug ? "127.0.0.1" : ""}:${debugPortFor(s.port, r.debugPort)}`,
            ),
            // A replica stopped by up or by an operator finishes the requests it has; the balancer sends it no new ones.
            drainTimeout: isBalanced(s.replicas, s.replicaHosts.length) ? "10s" : undefined,
            prometheusPath: r.prometheus ? from("http.prometheusPath", "registry.prometheus", "/metrics") : undefined,
        },
        auth: s.htpasswd ? { htpasswd: { realm: from("auth.htpasswd.realm", "registry.realm", r.realm), path: CONTAINER_PATHS.htpasswd } } : undefined,
        health: from("health", "registry.storageHealthCheck", { storageDriver: { enabled: r.storageHealthCheck, interval: "10s", threshold: 3 } }),
        notifications: r.notifications.length > 0 ? { endpoints: from("notifications.endpoints", "registry.notifications", r.notifications) } : undefined,
        proxy: from("proxy", "registry.proxy", r.proxy),
        // With a Redis the program runs, the cache is there (its password is added at deploy time).
        redis: s.redisCache ? from("redis", "redisCache", { addrs: [redisCacheAddrs(s.containerName)] }) : from("redis", "registry.redis", r.redis),
    };
    return { draft, sources };
}

/**
 * The model's inputs, taken from the component's arguments: the one place both the component and
 * the settings' checks take them, so the model they check is the model that is rendered.
 */
export function registryModelArgs(
    a: Pick<ResolvedArgs, "registryVersion" | "port" | "storage" | "registry" | "containerName" | "replicas" | "replicaHosts" | "redisCache"> & {
        tls: Pick<ResolvedArgs["tls"], "enabled" | "minimumTls">;
    },
): RegistryModelArgs {
    const { registryVersion, port, storage, registry, containerName, replicas, replicaHosts, redisCache, tls } = a;
    return {
        registryVersion,
        port,
        storage,
        registry,
        containerName,
        replicas,
        replicaHosts,
        redisCache,
        tls: tls.enabled ? { minimumTls: tls.minimumTls } : undefined,
        htpasswd: true,
    };
}

/** The registry's `config.yml` model for these arguments, `http.secret` aside. */
export function registryConfigDraft(s: RegistryModelArgs): RegistryConfigDraft {
    return traceRegistryConfig(s).draft;
}

/** True when `path` is `prefix` or lies below it (`proxy.ttl` and `notifications.endpoints[0]` below `proxy`, `notifications.endpoints`). */
export const isAtOrBelow = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** The argument a model field came from: its longest recorded prefix, the rest of the path kept (`proxy.ttl` → `registry.proxy.ttl`). */
export function sourceOf(sources: Record<string, string>, field: string): string {
    const prefix = Object.keys(sources)
        .filter((p) => isAtOrBelow(field, p))
        .sort((a, b) => b.length - a.length)[0];
    return prefix === undefined ? field : sources[prefix] + field.slice(prefix.length);
}
