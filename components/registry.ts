import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { registryConfigPath, renderRegistryConfig } from "./render/registryConfig";
import type {
    NotificationEndpoint,
    ProxySection,
    RedisSection,
    RegistryConfigModel,
    RegistryMajorVersion,
    StorageDriver,
    StorageOptions,
} from "./render/registryConfigModel";

const TYPE = "private-registry:registry:Registry";

/** Where the container finds what we upload into it. */
export const CONTAINER_PATHS = {
    certificate: "/etc/private-registry/tls/registry.crt",
    key: "/etc/private-registry/tls/registry.key",
    htpasswd: "/etc/private-registry/auth/htpasswd",
    data: "/var/lib/registry",
} as const;

/** Arguments of {@link Registry}. */
export interface RegistryArgs {
    /** Image reference, e.g. `registry:3.1.2` or `registry@sha256:…`. */
    image: string;
    /** The image's major version: decides the config path and shape. */
    registryVersion: RegistryMajorVersion;
    /** Keep the image on destroy. Defaults to true (the provider's own default removes it). */
    keepImage?: boolean;
    /** Container name. */
    containerName: string;
    /** Port the registry listens on, inside and outside the container. */
    port: number;
    /** Host IP the port is published on. Defaults to `0.0.0.0`. */
    bindAddress?: string;
    /** Debug port (health, pprof, metrics); published on 127.0.0.1 only when set. Defaults to unpublished 5001 (5002 when `port` is 5001). */
    debugPort?: number;
    /** Extra Docker networks, with optional fixed IPv4 address and aliases. */
    networks?: { name: string; ipv4Address?: string; aliases?: string[] }[];
    /** Storage backend. Credentials in it make the rendered config secret (it always is). */
    storage: StorageDriver;
    storageOptions?: StorageOptions;
    /** Where filesystem data lives on the Docker host: a named volume (default) or a host path. */
    data?: { volumeName: string; keepOnDestroy: boolean } | { hostPath: string };
    /** Server TLS; omit for plain HTTP. The key is treated as a secret. */
    tls?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string>; minimumTls?: "tls1.2" | "tls1.3" };
    /** htpasswd file content (secret); omit to run without authentication. */
    htpasswd?: pulumi.Input<string>;
    /** Basic-auth realm. Defaults to `private-registry`. */
    realm?: string;
    /** Defaults to `info`. */
    logLevel?: "error" | "warn" | "info" | "debug";
    /** `health.storagedriver`: report unhealthy while storage is broken. Defaults to true. */
    storageHealthCheck?: boolean;
    /** Serve Prometheus metrics at `/metrics` on the debug port. */
    prometheus?: boolean;
    headers?: Record<string, string[]>;
    notifications?: NotificationEndpoint[];
    proxy?: ProxySection;
    redis?: RedisSection;
    /**
     * Healthcheck command. Defaults to busybox `wget` against `/debug/health` on the debug port,
     * which the official images (Alpine) have; `/v2/` itself answers 401 once auth is on.
     */
    healthcheck?: string[];
    /** Seconds to wait for the container to become healthy. Defaults to 60. */
    waitTimeout?: number;
}

/** The registry itself: image, data volume, rendered `config.yml` and the container. */
export class Registry extends pulumi.ComponentResource {
    /** The rendered `config.yml`. Secret: it holds the HTTP secret and any storage credentials. */
    public readonly configYaml: pulumi.Output<string>;
    /** Where the config lands inside the container. */
    public readonly configPath: string;
    /** The container's ID. */
    public readonly containerId: pulumi.Output<string>;
    /** The container's name. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        // The debug server (health for the healthcheck) listens inside the container even when
        // unpublished: 5001, or 5002 when the registry itself uses 5001.
        const debugPort = args.debugPort ?? (args.port === 5001 ? 5002 : 5001);
        if (debugPort === args.port) {
            throw new pulumi.ResourceError(`the debug port ${debugPort} must differ from the registry port`, this);
        }

        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: args.keepImage ?? true }, child);

        // One stable secret in state: a regenerated http.secret breaks uploads in flight and any
        // second replica (distribution#2519).
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, child);

        const fsData = args.storage.driver === "filesystem" ? args.data : undefined;
        let volume: docker.Volume | undefined;
        if (fsData && "volumeName" in fsData) {
            volume = new docker.Volume(`${name}-data`, { name: fsData.volumeName }, { ...child, retainOnDelete: fsData.keepOnDestroy });
        }

        this.configPath = registryConfigPath(args.registryVersion);
        const model = (secret: string): RegistryConfigModel => ({
            version: args.registryVersion,
            log: { level: args.logLevel ?? "info", formatter: "text" },
            storage:
                args.storage.driver === "filesystem" ? { ...args.storage, rootDirectory: args.storage.rootDirectory ?? CONTAINER_PATHS.data } : args.storage,
            storageOptions: args.storageOptions,
            http: {
                addr: `:${args.port}`,
                secret,
                headers: args.headers,
                tls: args.tls
                    ? {
                          certificatePath: CONTAINER_PATHS.certificate,
                          keyPath: CONTAINER_PATHS.key,
                          minimumTls: args.tls.minimumTls ?? "tls1.2",
                      }
                    : undefined,
                debugAddr: `:${debugPort}`,
                prometheusPath: args.prometheus ? "/metrics" : undefined,
            },
            auth: args.htpasswd !== undefined ? { htpasswd: { realm: args.realm ?? "private-registry", path: CONTAINER_PATHS.htpasswd } } : undefined,
            health: { storageDriver: { enabled: args.storageHealthCheck ?? true, interval: "10s", threshold: 3 } },
            notifications: args.notifications && args.notifications.length > 0 ? { endpoints: args.notifications } : undefined,
            proxy: args.proxy,
            redis: args.redis,
        });
        this.configYaml = pulumi.secret(httpSecret.result.apply((s) => renderRegistryConfig(model(s))));

        const uploads: docker.types.input.ContainerUpload[] = [{ file: this.configPath, content: this.configYaml }];
        if (args.tls) {
            uploads.push({ file: CONTAINER_PATHS.certificate, content: args.tls.certPem });
            uploads.push({ file: CONTAINER_PATHS.key, content: pulumi.secret(args.tls.keyPem), permissions: "0600" });
        }
        if (args.htpasswd !== undefined) {
            uploads.push({ file: CONTAINER_PATHS.htpasswd, content: pulumi.secret(args.htpasswd), permissions: "0600" });
        }

        const volumes: docker.types.input.ContainerVolume[] = [];
        if (fsData) {
            volumes.push(
                volume
                    ? { volumeName: volume.name, containerPath: CONTAINER_PATHS.data }
                    : { hostPath: "hostPath" in fsData ? fsData.hostPath : undefined, containerPath: CONTAINER_PATHS.data },
            );
        }

        const ports: docker.types.input.ContainerPort[] = [{ internal: args.port, external: args.port, ip: args.bindAddress ?? "0.0.0.0" }];
        if (args.debugPort !== undefined) {
            ports.push({ internal: debugPort, external: debugPort, ip: "127.0.0.1" });
        }

        const container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: image.imageId,
                restart: "always",
                ports,
                volumes,
                uploads,
                networksAdvanced: args.networks?.map((n) => ({
                    name: n.name,
                    ipv4Address: n.ipv4Address,
                    aliases: n.aliases,
                })),
                // The official image has OpenTelemetry on by default (v3) and would try to export
                // traces to localhost:4318.
                envs: args.registryVersion === 3 ? ["OTEL_TRACES_EXPORTER=none"] : [],
                capabilities: { drops: ["ALL"], adds: args.port < 1024 ? ["NET_BIND_SERVICE"] : [] },
                securityOpts: ["no-new-privileges:true"],
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
                healthcheck: {
                    tests: args.healthcheck ?? ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${debugPort}/debug/health`],
                    interval: "2s",
                    timeout: "3s",
                    retries: 3,
                    startPeriod: "2s",
                },
                wait: true,
                waitTimeout: args.waitTimeout ?? 60,
                // Let in-flight requests finish instead of the provider's default immediate kill.
                destroyGraceSeconds: 10,
            },
            {
                ...child,
                dependsOn: volume ? [volume] : [],
                // dockerd merges its own daemon.json log-opts into the container's, and the provider
                // reads the merged map back: without this, such a host would replace the registry
                // whenever the state is refreshed. The program sets logOpts itself, never the user.
                ignoreChanges: ["logOpts"],
            },
        );
        this.containerId = container.id;
        this.containerName = container.name;
        this.registerOutputs({
            configYaml: this.configYaml,
            containerId: this.containerId,
            containerName: this.containerName,
        });
    }
}
