/**
 * The typed model of a distribution registry `config.yml`. Field names are camelCase here; the
 * renderer (`registryConfig/render.ts`) maps them to the registry's lower-case keys, which is where a
 * hand-written config usually goes wrong (the registry silently ignores `rootDirectory`).
 *
 * Everything here is plain, already-resolved data: no Pulumi types. Credentials have the type
 * parameter `C`: the settings hold them as `Secret` (`RegistryConfigModel<Secret>`), and they are
 * revealed to plain strings (the default) only where `config.yml` is rendered.
 */

/** The registry's major version: 2 (distribution 2.8.x) or 3 (distribution 3.x). */
export type RegistryMajorVersion = 2 | 3;

/** Local filesystem storage inside the container. */
export interface FilesystemStorage {
    driver: "filesystem";
    /** Defaults to `/var/lib/registry`. */
    rootDirectory?: string;
    /** Maximum concurrent filesystem operations. Defaults to the registry's 100. */
    maxThreads?: number;
}

/** Amazon S3 or an S3-compatible store (Ceph RGW, MinIO) through `regionendpoint`. */
export interface S3Storage<C = string> {
    driver: "s3";
    region: string;
    bucket: string;
    /** Secret. Omit both keys to use the instance role / environment. */
    accessKey?: C;
    /** Secret. */
    secretKey?: C;
    /** Custom endpoint, e.g. `http://rgw.example:7480` for Ceph RGW. */
    regionEndpoint?: string;
    /**
     * Path-style addressing. On v3 it defaults to true whenever `regionEndpoint` is set (v3 made
     * it an explicit key defaulting to false, which breaks RGW and MinIO); v2 always forces path
     * style with a custom endpoint and has no such key.
     */
    forcePathStyle?: boolean;
    /** Defaults to true. */
    secure?: boolean;
    skipVerify?: boolean;
    /** Defaults to true. */
    v4Auth?: boolean;
    encrypt?: boolean;
    keyId?: string;
    chunkSize?: number;
    multipartCopyChunkSize?: number;
    multipartCopyMaxConcurrency?: number;
    multipartCopyThresholdSize?: number;
    rootDirectory?: string;
    storageClass?: string;
}

/** OpenStack Swift, including Ceph RGW's Swift API with v1 auth. Registry v2 only. */
export interface SwiftStorage<C = string> {
    driver: "swift";
    /** e.g. `http://rgw.example:7480/auth/v1`. */
    authUrl: string;
    username: string;
    /** Secret. */
    password: C;
    container: string;
    tenant?: string;
    tenantId?: string;
    domain?: string;
    domainId?: string;
    region?: string;
    /** 1, 2 or 3. Ceph RGW's `/auth/v1` needs 1. */
    authVersion?: 1 | 2 | 3;
    insecureSkipVerify?: boolean;
    chunkSize?: number;
    prefix?: string;
}

/** Azure Blob Storage. */
export interface AzureStorage<C = string> {
    driver: "azure";
    accountName: string;
    /** Secret. */
    accountKey: C;
    container: string;
    /** Defaults to `core.windows.net`. */
    realm?: string;
    rootDirectory?: string;
}

/** Google Cloud Storage. */
export interface GcsStorage {
    driver: "gcs";
    bucket: string;
    /** Path of a service-account key file inside the container. */
    keyfile?: string;
    rootDirectory?: string;
    chunkSize?: number;
}

/** In-memory storage: for tests only, lost on restart. */
export interface InmemoryStorage {
    driver: "inmemory";
}

/** One storage backend. */
export type StorageDriver<C = string> = FilesystemStorage | S3Storage<C> | SwiftStorage<C> | AzureStorage<C> | GcsStorage | InmemoryStorage;

/** The storage driver names. */
export const STORAGE_DRIVERS = ["filesystem", "s3", "swift", "azure", "gcs", "inmemory"] as const;

/** Storage options that apply whatever the driver. */
export interface StorageOptions {
    /** `storage.delete.enabled`: lets the API delete manifests and blobs. Defaults to true. */
    deleteEnabled?: boolean;
    /** `storage.cache.blobdescriptor`: `inmemory` or `redis` (redis needs the redis section). */
    blobDescriptorCache?: "inmemory" | "redis";
    /** `storage.maintenance.uploadpurging`. Defaults to the registry's (enabled, 168h, every 24h). */
    uploadPurging?: { enabled: boolean; age?: string; interval?: string; dryRun?: boolean };
    /** `storage.maintenance.readonly.enabled`: refuse pushes, e.g. during garbage collection. */
    readOnly?: boolean;
    /** `storage.redirect.disable`: proxy blob data instead of redirecting clients to storage. */
    redirectDisable?: boolean;
}

/** Server TLS. Paths are inside the container. */
export interface HttpTls {
    certificatePath: string;
    keyPath: string;
    /** Client-certificate CAs (mutual TLS), paths inside the container. */
    clientCaPaths?: string[];
    /** `tls1.2` (default) or `tls1.3`. v2 also accepts `tls1.0`/`tls1.1`; v3 refuses them. */
    minimumTls?: "tls1.0" | "tls1.1" | "tls1.2" | "tls1.3";
    cipherSuites?: string[];
}

/** The `http` section. */
export interface HttpSection {
    /** Listen address inside the container, e.g. `:5000`. */
    addr: string;
    /** Shared secret for upload state. Secret; keep stable across replicas. */
    secret?: string;
    /** e.g. `https://registry.example:5000` for redirects behind proxies. */
    host?: string;
    prefix?: string;
    relativeUrls?: boolean;
    /** Response headers. `X-Content-Type-Options: [nosniff]` is always added. */
    headers?: Record<string, string[]>;
    tls?: HttpTls;
    /** Debug server (pprof, health, metrics) listen address, e.g. `:5001`. */
    debugAddr?: string;
    /** Serve Prometheus metrics on the debug server at this path (e.g. `/metrics`). */
    prometheusPath?: string;
    drainTimeout?: string;
}

/** `auth.htpasswd`. */
export interface HtpasswdAuth {
    realm: string;
    /** Path of the htpasswd file inside the container. */
    path: string;
}

/** `health.storagedriver`. */
export interface StorageHealth {
    enabled: boolean;
    interval?: string;
    threshold?: number;
}

/** One `notifications.endpoints` entry. */
export interface NotificationEndpoint<C = string> {
    name: string;
    url: string;
    /** Secret as a whole: values are typically an Authorization token. */
    headers?: Record<string, C[]>;
    timeout?: string;
    threshold?: number;
    backoff?: string;
    disabled?: boolean;
    ignoredMediaTypes?: string[];
}

/** `proxy`: run as a pull-through cache of one upstream. */
export interface ProxySection<C = string> {
    remoteUrl: string;
    username?: string;
    /** Secret. */
    password?: C;
    /** v3 only: cache TTL such as `168h`. */
    ttl?: string;
}

/** `redis`, written in the shape of the registry's major version. */
export interface RedisSection<C = string> {
    /** `host:port` entries; v2 takes exactly one. */
    addrs: string[];
    username?: string;
    /** Secret. */
    password?: C;
    db?: number;
    dialTimeout?: string;
    readTimeout?: string;
    writeTimeout?: string;
    /** v2 `pool.maxidle` / v3 `maxidleconns`. */
    maxIdle?: number;
    /** v2 `pool.maxactive` / v3 `poolsize`. */
    maxActive?: number;
    /** v2 `pool.idletimeout` / v3 `connmaxidletime`. */
    idleTimeout?: string;
}

/** The whole registry configuration, before rendering. */
export interface RegistryConfigModel<C = string> {
    version: RegistryMajorVersion;
    log?: {
        level?: "error" | "warn" | "info" | "debug";
        formatter?: "text" | "json" | "logstash";
        accessLogDisabled?: boolean;
        fields?: Record<string, string>;
    };
    storage: StorageDriver<C>;
    storageOptions?: StorageOptions;
    http: HttpSection;
    auth?: { htpasswd?: HtpasswdAuth };
    health?: { storageDriver?: StorageHealth };
    notifications?: { endpoints: NotificationEndpoint<C>[] };
    proxy?: ProxySection<C>;
    redis?: RedisSection<C>;
}
