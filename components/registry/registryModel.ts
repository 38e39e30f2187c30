/**
 * From the stack's settings to the registry's config model, in one pure function: everything in
 * `config.yml` except `http.secret`, which only exists once the program has generated it.
 */
import { revealSecrets, type Secret } from "../secret";
import type { Settings } from "../args";
import type { RegistryConfigModel } from "../registryConfig/model";

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

/** The parts of the settings the registry's config comes from. */
export type RegistryModelSettings = Pick<Settings, "registryVersion" | "port" | "storage" | "registry"> &
    Partial<Pick<Settings, "containerName" | "redisCache" | "replicaHosts">> & {
        /** Replicas behind a load balancer: their debug servers answer its health checks on the replica network. Defaults to 1. */
        replicas?: number;
        /** Serve TLS with this minimum version; absent for plain HTTP. */
        tls?: { minimumTls: "tls1.2" | "tls1.3" };
        /** Basic auth from the uploaded htpasswd. */
        htpasswd: boolean;
    };

/** The registry's `config.yml` model for these settings, `http.secret` aside. */
export function registryConfigDraft(s: RegistryModelSettings): RegistryConfigDraft {
    const r = s.registry;
    const onOtherHosts = (s.replicaHosts ?? []).length > 0;
    // The balancer checks replicas on this host at their debug servers; on other hosts, at their own port.
    const balancerChecksDebug = (s.replicas ?? 1) > 1 && !onOtherHosts;
    return {
        version: s.registryVersion,
        log: { level: r.logLevel, formatter: "text" },
        storage: s.storage.driver === "filesystem" ? { ...s.storage, rootDirectory: s.storage.rootDirectory ?? CONTAINER_PATHS.data } : s.storage,
        storageOptions: s.redisCache ? { ...r.storageOptions, blobDescriptorCache: "redis" } : r.storageOptions,
        http: {
            addr: `:${s.port}`,
            headers: r.headers,
            tls: s.tls ? { certificatePath: CONTAINER_PATHS.certificate, keyPath: CONTAINER_PATHS.key, minimumTls: s.tls.minimumTls } : undefined,
            // pprof and /debug/vars (which on v3 shows notification headers) must not be reachable
            // from other containers on the same network unless the operator publishes the port, or
            // the load balancer checks it on the replicas' own network.
            debugAddr: `${r.debugPort === undefined && !balancerChecksDebug ? "127.0.0.1" : ""}:${debugPortFor(s.port, r.debugPort)}`,
            // A replica stopped by up or by an operator finishes the requests it has; the balancer sends it no new ones.
            drainTimeout: (s.replicas ?? 1) > 1 || onOtherHosts ? "10s" : undefined,
            prometheusPath: r.prometheus ? "/metrics" : undefined,
        },
        auth: s.htpasswd ? { htpasswd: { realm: r.realm, path: CONTAINER_PATHS.htpasswd } } : undefined,
        health: { storageDriver: { enabled: r.storageHealthCheck, interval: "10s", threshold: 3 } },
        notifications: r.notifications.length > 0 ? { endpoints: r.notifications } : undefined,
        proxy: r.proxy,
        // With a Redis the program runs, the cache is there (its password is added at deploy time).
        redis: s.redisCache ? { addrs: [redisCacheAddrs(s.containerName ?? "private-registry")] } : r.redis,
    };
}
