/**
 * What `PrivateRegistry` is built from. {@link PrivateRegistryArgs} is the front door: every field
 * optional, with the default its JSDoc states (`resolveArgs.ts` applies them, from `defaults.ts`),
 * and `pulumi.Input` where a value can come from another resource (hostnames, IP addresses, a
 * CA, a certificate, passwords, client hosts). {@link ResolvedArgs} is the same with every
 * default applied. `settings/` builds these from a stack file; another program builds them in
 * code. No Pulumi values here, only their types.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { NotificationEndpoint, ProxySection, RedisSection, RegistryMajorVersion, StorageDriver, StorageOptions } from "./registryConfig/model";
import type { Secret } from "./secret";

export { Secret } from "./secret";

/**
 * A secret value: a {@link Secret} (as the settings parse it from config) or any string input,
 * such as another resource's output. The component wraps it in `pulumi.secret()`.
 */
export type SecretInput = Secret | pulumi.Input<string>;

/** Where the registry container runs. */
export interface DockerHostSettings {
    /** `unix:///var/run/docker.sock` (the local engine, default) or `ssh://user@host[:port]`. */
    host: string;
    /** Extra `ssh` options for `ssh://` hosts, one token per element. */
    sshOpts: string[];
}

/** A CA the program generates (the default). */
export interface GeneratedCa {
    mode: "generate";
    algorithm: "RSA" | "ECDSA";
    /** 2048 or 4096 (RSA). */
    rsaBits: 2048 | 4096;
    /** P256 or P384 (ECDSA); never the provider's P224 default. */
    ecdsaCurve: "P256" | "P384";
    commonName: string;
    organization: string;
    validityHours: number;
    /** Which CA this is: raised by one for each rollover. Defaults to 1. */
    generation: number;
    /** A rollover in progress: `trust` (clients trust both CAs), then `serve` (the server certificate from the new one). */
    rollover?: "trust" | "serve";
}

/** A generated CA (default) or an adopted existing one. */
export type CaArgs = GeneratedCa | { mode: "existing"; certPem: pulumi.Input<string>; keyPem: SecretInput };

/** A server certificate the CA issues (the default). */
export interface GeneratedCertificate {
    mode: "generate";
    algorithm: "RSA" | "ECDSA";
    rsaBits: 2048 | 4096;
    ecdsaCurve: "P256" | "P384";
    validityHours: number;
    earlyRenewalHours: number;
}

/** A certificate issued by the CA (default) or a bring-your-own certificate and key. */
export type CertificateArgs =
    | GeneratedCertificate
    | {
          mode: "existing";
          certPem: pulumi.Input<string>;
          keyPem: SecretInput;
          /** The CA that issued it, distributed to clients. Required when the CA is not adopted. */
          caPem?: pulumi.Input<string>;
      };

/** TLS on the registry endpoint. */
export interface TlsArgs {
    /** Defaults to true. With false the registry serves plain HTTP and clients list it as insecure. */
    enabled: boolean;
    /** Defaults to `tls1.2`. */
    minimumTls: "tls1.2" | "tls1.3";
    /** Defaults to a generated RSA 4096 CA. */
    ca: CaArgs;
    /** Defaults to an RSA 2048 certificate from the CA, for every hostname and IP address. */
    certificate: CertificateArgs;
}

/** One htpasswd user. */
export interface UserArgs {
    name: string;
    /** Supplied password, or undefined to generate one. */
    password?: SecretInput;
    /** Length of a generated password. Defaults to 32. */
    passwordLength: number;
    /** Raise it to have a new password generated (the password's keeper). Defaults to 0. */
    rotate: number;
}

/** The registry container's user and limits. */
export interface ContainerSettings {
    /** The uid and gid it runs as: a dedicated pair, never root. */
    runAs: { uid: number; gid: number };
    /** The registry's own memory in MiB: the Go runtime's soft limit (`GOMEMLIMIT`). Defaults to 1024. */
    memoryMb: number;
    /**
     * The container's hard memory limit in MiB, at least `memoryMb`: a backstop, which also bounds
     * the page cache of the blobs it serves. Defaults to four times `memoryMb`.
     */
    memoryLimitMb: number;
    /** Most processes and threads (an nproc ulimit for `runAs`). */
    pidsLimit: number;
}

/** Where registry data lives on the Docker host. It survives every container replacement. */
export type DataSettings =
    | { kind: "volume"; volumeName: string; keepOnDestroy: boolean }
    /** `shared`: the stack vouches that the path is one shared filesystem (NFS…) on every replica host. */
    | { kind: "hostPath"; hostPath: string; shared: boolean };

/** The `daemon.json` keys merged into every client host's Docker configuration. */
export interface DaemonJsonSettings {
    registryMirrors?: string[];
    maxConcurrentDownloads?: number;
    maxConcurrentUploads?: number;
    liveRestore?: boolean;
    logOpts?: Record<string, string>;
    debug?: boolean;
}

/** One client host reached over SSH. */
export interface ClientArgs {
    /** Short name used in resource names and outputs; unique. */
    name: string;
    /** Its address or DNS name (another resource's output, such as a VM's IP, is fine). */
    host: pulumi.Input<string>;
    /** Defaults to 22. */
    port: number;
    /** Defaults to root. */
    user: string;
    /** The login key; absent when only the agent logs in. */
    privateKey?: SecretInput;
    /** Decrypts `privateKey` (passphrase-protected). */
    privateKeyPassword?: SecretInput;
    /** Log in through ssh-agent: `true` for `$SSH_AUTH_SOCK` of the `pulumi up` process, or the socket's path. */
    sshAgent?: true | string;
    /** The host's public key, `<type> <base64>` (authorized_keys form); absent only with `insecureSkipHostKeyCheck`. */
    hostKey?: pulumi.Input<string>;
    /** Connect without checking host keys (the client's and its bastion's); warned about on every run. */
    insecureSkipHostKeyCheck: boolean;
    /** A bastion reached first; the same login is used on it. */
    proxy?: { host: string; port: number; user: string; hostKey?: string };
    /** Run the host-side steps through `sudo -n` (needs NOPASSWD). Defaults to user != root. */
    sudo: boolean;
    /** Run `docker login` on the host with this user's credentials (password on stdin). */
    loginAs?: string;
    daemonJson: DaemonJsonSettings;
    /** Container runtimes to configure (docker, containerd, podman, k3s, buildkit); unset: those found on the host. */
    runtimes?: ("docker" | "containerd" | "podman" | "k3s" | "buildkit")[];
}

/**
 * Registry behaviour beyond storage; the storage options (`deleteEnabled`, `readOnly`…) sit here
 * beside the rest, as in the stack file's `registry` section.
 */
export interface RegistryBehaviourSettings extends StorageOptions {
    logLevel: "error" | "warn" | "info" | "debug";
    realm: string;
    storageHealthCheck: boolean;
    /** e.g. `:5001` inside the container; published on 127.0.0.1 of the Docker host only. */
    debugPort?: number;
    prometheus: boolean;
    headers: Record<string, string[]>;
    notifications: NotificationEndpoint<Secret>[];
    proxy?: ProxySection<Secret>;
    redis?: RedisSection<Secret>;
}

/** Around S3/Swift storage: the bucket and the store's CA. */
export interface ObjectStoreSettings {
    /** The CA the object store's TLS certificate chains to (PEM), trusted by the registry. */
    caCertPem?: string;
    /** Make sure the S3 bucket exists (created when missing). Defaults to true on s3. */
    ensureBucket: boolean;
    /** Delete the bucket and every object in it on destroy. Defaults to false: the data outlives the stack. */
    deleteBucketOnDestroy: boolean;
}

/** One image copied into the registry at `up` (air-gapped sites). */
export interface ImportSettings {
    /** An image archive on the machine that runs `up`, or an image on the registry's Docker host. */
    source: { archive: string } | { image: string };
    /** Where it goes in this registry. */
    repository: string;
    tag: string;
}

/** The load balancer in front of several replicas. */
export interface LoadBalancerSettings {
    /** An HAProxy image (the official one, or a mirror of it). */
    image: string;
    /** How often each replica's health is checked, ms. */
    checkIntervalMs: number;
}

/** A Docker host that runs one replica, reached by the load balancer at `address:port`. */
export interface ReplicaHostSettings {
    docker: DockerHostSettings;
    /** Where the balancer reaches the replica: an address or name of that host. */
    address: string;
    /** The port the replica is published on there. Defaults to the endpoint's `port`. */
    port: number;
    /** The host IP it is published on. Defaults to `0.0.0.0`. */
    bindAddress: string;
}

/** A Redis the program runs as the registry's blob-descriptor cache. */
export interface RedisCacheSettings {
    image: string;
    /** Its memory, MiB: Redis evicts the least recently used descriptors beyond it. */
    memoryMb: number;
}

/** Garbage collection on a schedule, by a small container on the registry's Docker host. */
export interface GcScheduleSettings {
    intervalHours: number;
    /** Also delete manifests no tag points at (distribution 3 only). */
    deleteUntagged: boolean;
    /** An image with the docker CLI and `sh`. */
    image: string;
}

/** {@link PrivateRegistryArgs} with every default applied (`resolveArgs`): what the component builds. */
export interface ResolvedArgs {
    /** Where the registry runs. Defaults to the local engine, `unix:///var/run/docker.sock`. */
    docker: DockerHostSettings;
    /** Image reference: `registry:3.0.0`, `registry@sha256:…`, or a local tag. Defaults to `registry:3.1.2`. */
    image: string;
    /** A `docker save` archive holding `image`, loaded onto the Docker host when the image is missing there (air-gapped sites). */
    imageArchive?: string;
    /** The distribution major version. Defaults to the one the image tag names. */
    registryVersion: RegistryMajorVersion;
    /** Keep the image on destroy (the Docker provider removes it by default). */
    keepImage: boolean;
    /** Check the registry as a client at the end of every `up` (components/registry/registryCheck.ts). */
    verify: boolean;
    /** The registry container's name, and the prefix of its volumes. Defaults to `private-registry`. */
    containerName: string;
    /** Registry containers (defaults to 1); above 1 (or with {@link replicaHosts}) they sit behind {@link loadBalancer}. */
    replicas: number;
    /** One replica on each of these Docker hosts, the balancer on {@link docker}; empty: every replica on {@link docker}. */
    replicaHosts: ReplicaHostSettings[];
    /** Present when there is more than one replica, or any replica host. */
    loadBalancer?: LoadBalancerSettings;
    /** A Redis the program runs as the blob-descriptor cache (instead of `registry.redis`). */
    redisCache?: RedisCacheSettings;
    /** Garbage collection on a schedule. */
    gcSchedule?: GcScheduleSettings;
    /** DNS names clients use; all go into the certificate's SANs. The first is the endpoint. Defaults to `localhost` when no IP address is given either. */
    hostnames: pulumi.Input<string>[];
    /** IP addresses clients use; all go into the SANs. Defaults to `127.0.0.1` when no hostname is given either. */
    ipAddresses: pulumi.Input<string>[];
    /** Port inside and outside the container (one port, so `certs.d/<host:port>` matches). Defaults to 5000. */
    port: number;
    /** Host IP the port is published on. Defaults to `0.0.0.0`. */
    bindAddress: string;
    /** Extra Docker networks to attach the container to (with optional fixed IPv4). */
    networks: { name: string; ipv4Address?: string; aliases: string[] }[];
    /** TLS on the endpoint: by default on, from a generated CA. */
    tls: TlsArgs;
    /** The htpasswd users. Defaults to one, `admin`, with a generated password. */
    users: UserArgs[];
    /** The storage backend; its credentials are secrets. Defaults to `filesystem`. */
    storage: StorageDriver<Secret>;
    /** Where filesystem data lives. Defaults to the volume `<containerName>-data`, kept on destroy. */
    data: DataSettings;
    /** The container's user and limits. */
    container: ContainerSettings;
    /** Registry behaviour; proxy and redis passwords and webhook headers are secrets. */
    registry: RegistryBehaviourSettings;
    /** Client hosts configured over SSH to trust the registry and log in. Defaults to none. */
    clients: ClientArgs[];
    /** Images copied into the registry at `up`; removing one leaves it in the registry. */
    imports: ImportSettings[];
    /**
     * Where the machine running `up` reaches the registry's published port (to copy `imports` in,
     * and for the end-of-up check): absent when it cannot (a loopback bind on a remote Docker host).
     * Defaults to the published address as seen from here (loopback for this machine's engine).
     */
    reachFromHere?: string;
    /** Present when storage is s3 or swift. */
    objectStore?: ObjectStoreSettings;
}

/**
 * The arguments of `PrivateRegistry`, for a stack file's settings or another program alike. Every
 * field is optional: the defaults give the registry:3.1.2 image on the local Docker engine at
 * `localhost:5000` (and 127.0.0.1), TLS from a generated CA, one generated user `admin`,
 * filesystem storage on a kept volume, no client host. Nested sections take the fields to
 * change; a client host needs its `name` and `host`, a user its `name`.
 */
export interface PrivateRegistryArgs
    extends Readonly<Partial<Omit<ResolvedArgs, "tls" | "users" | "clients" | "container" | "registry" | "loadBalancer" | "redisCache" | "gcSchedule">>> {
    readonly tls?: Readonly<Partial<TlsArgs>>;
    /** Defaults to one user, `admin`, with a generated password. */
    readonly users?: readonly (Pick<UserArgs, "name"> & Readonly<Partial<UserArgs>>)[];
    readonly clients?: readonly (Pick<ClientArgs, "name" | "host"> & Readonly<Partial<ClientArgs>>)[];
    readonly container?: Readonly<Partial<ContainerSettings>>;
    readonly registry?: Readonly<Partial<RegistryBehaviourSettings>>;
    /** With more than one replica (or any replica host). Defaults to the official HAProxy image, checking every second. */
    readonly loadBalancer?: Readonly<Partial<LoadBalancerSettings>>;
    /** A Redis the program runs as the blob-descriptor cache. Fields default to redis:7.4 with 256 MiB. */
    readonly redisCache?: Readonly<Partial<RedisCacheSettings>>;
    /** Garbage collection on a schedule. Fields default to weekly, tagged images only, docker:27-cli. */
    readonly gcSchedule?: Readonly<Partial<GcScheduleSettings>>;
}
