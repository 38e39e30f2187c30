/**
 * What the components do when an argument is absent. The settings parser fills absent config keys
 * from here as well, so that each default is written once, next to the components it belongs to.
 * Pure data: no Pulumi import.
 */

/** The generated CA (`CertificateAuthority`). */
export const CA_DEFAULTS = { rsaBits: 4096, validityHours: 87600, commonName: "private-registry CA", organization: "private-registry" } as const;

/** The registry's server certificate (`RegistryCertificate`). */
export const CERTIFICATE_DEFAULTS = { rsaBits: 2048, validityHours: 8760, earlyRenewalHours: 720, organization: "private-registry" } as const;

/** Generated passwords (`RegistryUsers`). */
export const USER_DEFAULTS = { passwordLength: 32 } as const;

/**
 * The registry container (`Registry`) and its config. It runs as a dedicated uid/gid that owns
 * nothing else on the host, which is also what makes the nproc ulimit a per-container process
 * limit (the Docker provider has no `pids_limit`). `memoryMb` is the registry's own memory (the Go
 * runtime's soft limit); the container's hard limit is {@link defaultMemoryLimitMb} unless given.
 */
export const REGISTRY_DEFAULTS = {
    image: "registry:3.1.2",
    containerName: "private-registry",
    keepImage: true,
    verify: true,
    realm: "private-registry",
    runAs: { uid: 10000, gid: 10000 },
    memoryMb: 1024,
    pidsLimit: 1024,
} as const;

/**
 * The container's hard memory limit when none is given: four times the registry's own memory. The
 * kernel charges the page cache of the blobs the registry writes and reads to the container, so the
 * hard limit is also the most of them kept cached; four times leaves three for hot blobs while
 * still stopping a heap that has outgrown its soft limit fourfold.
 */
export const defaultMemoryLimitMb = (memoryMb: number) => memoryMb * 4;

/** Where the registry runs and listens: the local engine, one port inside and out, every address of the host. */
export const ENDPOINT_DEFAULTS = {
    dockerHost: "unix:///var/run/docker.sock",
    port: 5000,
    bindAddress: "0.0.0.0",
    /** When neither hostnames nor IP addresses are given (the settings require one of them). */
    hostnames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
} as const;

/** TLS on the endpoint, and the key choice of a generated CA or certificate. */
export const TLS_DEFAULTS = { enabled: true, minimumTls: "tls1.2", algorithm: "RSA", ecdsaCurve: "P256" } as const;

/** The registry's behaviour (`config.yml` beyond storage). */
export const BEHAVIOUR_DEFAULTS = {
    logLevel: "info",
    deleteEnabled: true,
    blobDescriptorCache: "inmemory",
    readOnly: false,
    redirectDisable: false,
    storageHealthCheck: true,
    prometheus: false,
} as const;

/** The data volume, named after the container, kept on destroy. */
export const dataVolumeName = (containerName: string) => `${containerName}-data`;
export const DATA_DEFAULTS = { keepOnDestroy: true } as const;

/**
 * Around object storage: the program makes sure an S3 bucket exists (the Swift driver creates its
 * container itself), and destroy keeps it.
 */
export const objectStoreDefaults = (driver: string | undefined) => ({ ensureBucket: driver === "s3", deleteBucketOnDestroy: false });

/** The storage drivers `objectStore` (the bucket around the registry's storage) applies to: s3 and swift. */
export const usesObjectStore = (driver: string | undefined): boolean => driver === "s3" || driver === "swift";

/** A client host's SSH login. */
export const CLIENT_DEFAULTS = { port: 22, user: "root" } as const;

/** The load balancer in front of several replicas (`LoadBalancer`). */
export const LOAD_BALANCER_DEFAULTS = { image: "haproxy:3.0", checkIntervalMs: 1000 } as const;

/** The Redis the program runs as the blob-descriptor cache (`RedisCache`). */
export const REDIS_CACHE_DEFAULTS = { image: "redis:7.4", memoryMb: 256 } as const;

/** The scheduled garbage collection (`GcScheduler`): weekly, tagged images only, the docker CLI image. */
export const GC_SCHEDULE_DEFAULTS = { intervalHours: 168, deleteUntagged: false, image: "docker:27-cli" } as const;
