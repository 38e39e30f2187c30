import * as fs from "node:fs";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { listenPort, registryConfigProblems, renderRegistryConfig } from "../registryConfig";
import type { DockerHostSettings } from "../args";
import { dockerCliEnv, renderRetireBalancer } from "../containers/dockerCli";
import { GC_FILES } from "../gc/gcScript";
import { FILES_DIR, renderImageLoad, type RunAs } from "../files/installScript";
import { CONTAINER_PATHS, CONTAINER_TMP, type RegistryConfigDraft, redisCacheName, registryProcessEnv, withHttpSecret } from "./registryModel";
import { defaultMemoryLimitMb, ENDPOINT_DEFAULTS, REGISTRY_DEFAULTS } from "../defaults";
import { GcScheduler } from "../gc/gcScheduler";
import { LoadBalancer } from "../balancer/loadBalancer";
import { RedisCache } from "../storage/redisCache";
import { type RegistryFileContent, RegistryFiles } from "../files/registryFiles";
import { planTopology, type Topology } from "./registryTopology";
import { memoryLimit, SERVICE_CONTAINER, SERVICE_CONTAINER_IGNORED } from "../containers/serviceContainer";

const TYPE = "private-registry:registry:Registry";

/** Arguments of {@link Registry}. */
export interface RegistryArgs {
    /** The registry's config, `http.secret` aside (`registryConfigDraft`): version, port, storage, auth… */
    config: RegistryConfigDraft;
    /** Image reference, e.g. `registry:3.1.2` or `registry@sha256:…`. */
    image: string;
    /**
     * A `docker save` archive holding `image`, loaded onto the Docker host (`docker`, each replica
     * host's with `replicaHosts`) when the image is not there: for sites with no registry to pull from.
     */
    imageArchive?: { path: string; docker: DockerHostSettings };
    /**
     * The component's Docker host, for the docker CLI: with one replica there, a load balancer left
     * from several replicas is removed before the registry takes its port. Unset: no such step.
     */
    dockerHost?: DockerHostSettings;
    /**
     * One replica on each of these Docker hosts (their providers given), instead of replicas on the
     * component's own host; the balancer stays there and reaches them at `address:port`.
     */
    replicaHosts?: { docker: DockerHostSettings; provider: docker.Provider; address: string; port: number; bindAddress: string }[];
    /** Keep the image on destroy. Defaults to true (the provider's own default removes it). */
    keepImage?: boolean;
    /** Container name. */
    containerName: string;
    /** Host IP the port is published on. Defaults to `0.0.0.0`. */
    bindAddress?: string;
    /**
     * Publish the debug port (health, pprof, metrics) on 127.0.0.1 of the Docker host. A published
     * port needs the debug server on the container's own address, so a replica that would sit on
     * Docker's default bridge gets a network of its own (`<containerName>-private`) instead: no other
     * container reaches pprof or `/debug/vars`; those on `networks` do (a Prometheus there scrapes it).
     */
    publishDebugPort?: boolean;
    /** Extra Docker networks, with optional fixed IPv4 address and aliases. */
    networks?: { name: string; ipv4Address?: string; aliases?: string[] }[];
    /** Where filesystem data lives on the Docker host: a named volume (default) or a host path. */
    data?: { volumeName: string; keepOnDestroy: boolean } | { hostPath: string };
    /** Server certificate and key (secret), when `config` serves TLS. */
    tls?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
    /** Resources the container must wait for (the storage bucket): a component's dependsOn does not reach its children. */
    waitFor?: pulumi.Resource[];
    /** The CA the object store's TLS chains to (PEM): trusted beside the image's system bundle. */
    storageCaPem?: pulumi.Input<string>;
    /** htpasswd file content (secret), when `config` has basic auth. */
    htpasswd?: pulumi.Input<string>;
    /**
     * Healthcheck command. Defaults to busybox `wget` against `/debug/health` on the debug port,
     * which the official images (Alpine) have; `/v2/` itself answers 401 once auth is on.
     */
    healthcheck?: string[];
    /** Seconds to wait for the container to become healthy. Defaults to 60. */
    waitTimeout?: number;
    /** The uid and gid the registry runs as (a dedicated pair). Defaults to 10000:10000. */
    runAs?: RunAs;
    /** The registry's own memory in MiB: the Go runtime's soft limit (`GOMEMLIMIT`). Defaults to 1024. */
    memoryMb?: number;
    /** The container's hard memory limit in MiB, the page cache charged to it included. Defaults to four times `memoryMb`. */
    memoryLimitMb?: number;
    /** Most processes and threads (an nproc ulimit for `runAs`). Defaults to 1024. */
    pidsLimit?: number;
    /** Registry containers; above 1 they share the files, storage and http.secret behind a load balancer. Defaults to 1. */
    replicas?: number;
    /** The balancer in front of several replicas (required when `replicas` is above 1). */
    loadBalancer?: { image: string; checkIntervalMs: number };
    /** A Redis to run as the blob-descriptor cache (`config.redis` names it, without its password). */
    redisCache?: { image: string; memoryMb: number };
    /** Garbage collection on a schedule, by a container with this Docker host's socket. */
    gcSchedule?: { intervalHours: number; deleteUntagged: boolean; image: string; dockerSocket: string };
}

/** Where replicas run: the component's own Docker host, or one replica host (with its provider). */
interface Placement {
    /** The prefix of its resources' names: the component's name on its own host. */
    prefix: string;
    provider?: docker.Provider;
    /** Where an image archive is loaded (absent: no archive). */
    docker?: DockerHostSettings;
    /** A network of its own for a replica publishing its debug server on no other network (see {@link PlacementPlan}). */
    privateNetwork: boolean;
    replicas: {
        resourceName: string;
        containerName: string;
        ports: docker.types.input.ContainerPort[];
        networks: docker.types.input.ContainerNetworksAdvanced[];
    }[];
}

/** What every replica has, wherever it runs. */
interface ReplicaTemplate {
    restartOnChange: RegistryFileContent[];
    liveReload: RegistryFileContent[];
    runAs: RunAs;
    pidsLimit: number;
    /** The container's hard memory limit, MiB. */
    memoryLimitMb: number;
    /** The registry process's environment ({@link registryProcessEnv}). */
    env: string[];
    /** The data mount of filesystem storage. */
    fsData?: RegistryArgs["data"];
    port: number;
    debugPort: number;
    /** What every replica starts after (the bucket, the program's Redis). */
    waitFor: pulumi.Resource[];
}

export { replicaName } from "./registryTopology";

/**
 * The registry itself: image, data volume, rendered `config.yml`, its files on a volume of their
 * own ({@link RegistryFiles}) and the container: a non-root user, a read-only root filesystem,
 * memory and process limits.
 */
export class Registry extends pulumi.ComponentResource {
    /** The rendered `config.yml`. Secret: it holds the HTTP secret and any storage credentials. */
    public readonly configYaml: pulumi.Output<string>;
    /** Where the config lands inside the container. */
    public readonly configPath: string;
    /** The container's ID. */
    public readonly containerId: pulumi.Output<string>;
    /** The (first) container's name. */
    public readonly containerName: pulumi.Output<string>;
    /** Every replica's container name. */
    public readonly replicaNames: string[];
    /** The balancer's container name, when several replicas are behind one. */
    public readonly balancerName?: pulumi.Output<string>;
    /** Every replica's and the balancer's container ID, once all are created (healthy, for the replicas). */
    public readonly ready: pulumi.Output<string[]>;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        const config = args.config;
        const port = listenPort(config.http.addr) ?? ENDPOINT_DEFAULTS.port;
        const [problem] = registryConfigProblems(withHttpSecret(config, "-"));
        if (problem) throw new pulumi.ResourceError(`config.${problem.field} ${problem.message}`, this);
        const debugPort = listenPort(config.http.debugAddr);
        if (debugPort === undefined) throw new pulumi.ResourceError("config.http.debugAddr is required: the healthcheck uses the debug server", this);

        // One stable secret in state: a regenerated http.secret breaks uploads in flight and any
        // second replica (distribution#2519).
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, child);

        const fsData = config.storage.driver === "filesystem" ? args.data : undefined;
        const remote = args.replicaHosts ?? [];
        let topology: Topology;
        try {
            topology = planTopology({
                name,
                containerName: args.containerName,
                port,
                debugPort,
                publishDebugPort: args.publishDebugPort ?? false,
                bindAddress: args.bindAddress,
                networks: args.networks,
                replicas: args.replicas,
                replicaHosts: remote.map((h) => ({ host: h.docker.host, port: h.port, bindAddress: h.bindAddress })),
                data: fsData === undefined ? undefined : "volumeName" in fsData ? "volume" : "hostPath",
                loadBalancer: args.loadBalancer !== undefined,
                redisCache: args.redisCache !== undefined,
                gcSchedule: args.gcSchedule !== undefined,
                dockerCli: args.dockerHost !== undefined,
            });
        } catch (e) {
            throw new pulumi.ResourceError((e as Error).message, this);
        }
        const { balanced } = topology;
        const network = topology.replicaNetwork
            ? new docker.Network(`${name}-network`, { name: `${args.containerName}-replicas`, driver: "bridge" }, child)
            : undefined;
        const redis =
            args.redisCache && network
                ? new RedisCache(
                      `${name}-redis`,
                      {
                          image: args.redisCache.image,
                          keepImage: args.keepImage ?? REGISTRY_DEFAULTS.keepImage,
                          containerName: redisCacheName(args.containerName),
                          network: network.name,
                          memoryMb: args.redisCache.memoryMb,
                      },
                      child,
                  )
                : undefined;

        this.configPath = CONTAINER_PATHS.config;
        const render = (draft: RegistryConfigDraft) =>
            pulumi.secret(
                pulumi
                    .all([httpSecret.result, redis?.password])
                    .apply(([secret, redisPassword]) => renderRegistryConfig(withHttpSecret(draft, secret, redisPassword))),
            );
        this.configYaml = render(config);

        const restartOnChange: RegistryFileContent[] = [{ path: CONTAINER_PATHS.config, mode: "0600", content: this.configYaml }];
        if (args.tls) {
            restartOnChange.push({ path: CONTAINER_PATHS.certificate, mode: "0644", content: args.tls.certPem });
            restartOnChange.push({ path: CONTAINER_PATHS.key, mode: "0600", content: pulumi.secret(args.tls.keyPem) });
        }
        if (args.storageCaPem !== undefined) {
            restartOnChange.push({ path: `${CONTAINER_PATHS.storageCaDir}/ca.crt`, mode: "0644", content: args.storageCaPem });
        }
        const liveReload: RegistryFileContent[] = [
            ...(args.htpasswd === undefined ? [] : [{ path: CONTAINER_PATHS.htpasswd, mode: "0600", content: pulumi.secret(args.htpasswd) }]),
            // Only the scheduled collection reads it, swapping it in for a read-only window.
            ...(args.gcSchedule
                ? [
                      {
                          path: `${FILES_DIR}/${GC_FILES.readOnly}`,
                          mode: "0600",
                          content: render({ ...config, storageOptions: { ...config.storageOptions, readOnly: true } }),
                      },
                  ]
                : []),
        ];
        const runAs = args.runAs ?? REGISTRY_DEFAULTS.runAs;
        const pidsLimit = args.pidsLimit ?? REGISTRY_DEFAULTS.pidsLimit;

        // The plan's placements with their providers and the replicas' network resolved.
        const placements: Placement[] = topology.placements.map((p) => {
            const host = p.hostIndex === undefined ? undefined : remote[p.hostIndex];
            return {
                prefix: p.prefix,
                provider: host?.provider,
                docker: host ? host.docker : args.imageArchive?.docker,
                privateNetwork: p.privateNetwork,
                replicas: p.replicas.map((r) => ({
                    ...r,
                    networks: r.networks.map((n) => (n === "replicas" ? { name: (network as docker.Network).name } : n)),
                })),
            };
        });

        // From several replicas to one: the balancer holds the port and addresses the single
        // registry takes, and the engine deletes what left the program only at the end of the up.
        const retired =
            topology.retireBalancer && args.dockerHost
                ? new command.local.Command(
                      `${name}-balancer-retired`,
                      {
                          create: renderRetireBalancer(),
                          environment: { ...dockerCliEnv(args.dockerHost.host, args.dockerHost.sshOpts), BALANCER: `${args.containerName}-lb` },
                      },
                      child,
                  )
                : undefined;
        const memoryMb = args.memoryMb ?? REGISTRY_DEFAULTS.memoryMb;
        const template: ReplicaTemplate = {
            memoryLimitMb: args.memoryLimitMb ?? defaultMemoryLimitMb(memoryMb),
            env: registryProcessEnv({ memoryMb, version: args.config.version, storageCa: args.storageCaPem !== undefined }),
            restartOnChange,
            liveReload,
            runAs,
            pidsLimit,
            fsData,
            port,
            debugPort,
            waitFor: [...(args.waitFor ?? []), ...(redis ? [redis.container] : []), ...(retired ? [retired] : [])],
        };
        const containers: docker.Container[] = [];
        const placed = placements.map((p) => {
            const r = this.place(p, args, template, containers);
            containers.push(...r.containers);
            return r;
        });
        this.replicaNames = placements.flatMap((p) => p.replicas.map((r) => r.containerName));
        const { image, files, volume } = placed[0];
        if (args.gcSchedule) {
            const g = args.gcSchedule;
            new GcScheduler(
                `${name}-gc`,
                {
                    image: g.image,
                    keepImage: args.keepImage ?? REGISTRY_DEFAULTS.keepImage,
                    containerName: `${args.containerName}-gc`,
                    dockerSocket: g.dockerSocket,
                    model: {
                        replicas: this.replicaNames,
                        registryImage: image.imageId,
                        filesVolume: files.volumeName,
                        configPath: CONTAINER_PATHS.config,
                        data: volume
                            ? { source: volume.name, target: CONTAINER_PATHS.data }
                            : fsData
                              ? { source: (fsData as { hostPath: string }).hostPath, target: CONTAINER_PATHS.data }
                              : undefined,
                        network: config.storage.driver === "filesystem" ? "none" : (network?.name ?? args.networks?.[0]?.name ?? "bridge"),
                        runAs,
                        memoryLimitMb: template.memoryLimitMb,
                        env: template.env,
                        pidsLimit,
                        intervalSeconds: g.intervalHours * 3600,
                        deleteUntagged: g.deleteUntagged,
                    },
                    waitFor: containers,
                },
                child,
            );
        }
        let balancer: LoadBalancer | undefined;
        if (balanced && args.loadBalancer) {
            balancer = new LoadBalancer(
                `${name}-lb`,
                {
                    image: args.loadBalancer.image,
                    keepImage: args.keepImage ?? REGISTRY_DEFAULTS.keepImage,
                    containerName: `${args.containerName}-lb`,
                    port,
                    bindAddress: args.bindAddress ?? ENDPOINT_DEFAULTS.bindAddress,
                    replicaNetwork: network?.name,
                    networks: args.networks ?? [],
                    ...(remote.length === 0
                        ? { backends: this.replicaNames.map((n) => ({ name: n, address: n, port })), health: { debugPort } }
                        : {
                              backends: remote.map((h, i) => ({ name: `replica-${i + 1}`, address: h.address, port: h.port })),
                              health: { endpoint: { tls: args.tls !== undefined } },
                          }),
                    checkIntervalMs: args.loadBalancer.checkIntervalMs,
                    waitFor: containers,
                },
                child,
            );
        }
        this.containerId = containers[0].id;
        this.containerName = containers[0].name;
        this.balancerName = balancer?.containerName;
        this.ready = pulumi.all([...containers.map((c) => c.id), ...(balancer ? [balancer.containerId] : [])]);
        this.registerOutputs({
            configYaml: this.configYaml,
            containerId: this.containerId,
            containerName: this.containerName,
            ready: this.ready,
        });
    }

    /**
     * One placement's replicas: the image (loaded from the archive first, if any), the data volume
     * (filesystem storage on this host), the files and the containers, each after `after`'s last.
     */
    private place(
        p: Placement,
        args: RegistryArgs,
        t: ReplicaTemplate,
        after: docker.Container[],
    ): { image: docker.RemoteImage; files: RegistryFiles; volume?: docker.Volume; containers: docker.Container[] } {
        const { fsData, runAs, pidsLimit, port, debugPort, memoryLimitMb, env } = t;
        const containers: docker.Container[] = [];
        // A custom resource takes its provider, a component the providers its children inherit.
        const custom: pulumi.CustomResourceOptions = { parent: this, ...(p.provider ? { provider: p.provider } : {}) };
        const privateNetwork = p.privateNetwork
            ? new docker.Network(`${p.prefix}-private-network`, { name: `${args.containerName}-private`, driver: "bridge" }, custom)
            : undefined;
        const component: pulumi.ComponentResourceOptions = { parent: this, ...(p.provider ? { providers: [p.provider] } : {}) };
        const load = args.imageArchive && p.docker && this.imageLoad(p.prefix, args.image, args.imageArchive.path, p.docker);
        const image = new docker.RemoteImage(
            `${p.prefix}-image`,
            { name: args.image, keepLocally: args.keepImage ?? REGISTRY_DEFAULTS.keepImage },
            { ...custom, dependsOn: load ? [load] : [] },
        );
        let volume: docker.Volume | undefined;
        const volumes: docker.types.input.ContainerVolume[] = [];
        if (fsData && "volumeName" in fsData) {
            // Docker cannot rename a volume: a new name would be a new, empty volume (and, without
            // keepOnDestroy, the old one deleted during the up). The stack keeps the volume it has.
            volume = new docker.Volume(
                `${p.prefix}-data`,
                { name: fsData.volumeName },
                { ...custom, retainOnDelete: fsData.keepOnDestroy, ignoreChanges: ["name"] },
            );
            const wanted = fsData.volumeName;
            volume.name.apply((kept) => {
                if (kept !== undefined && kept !== wanted) {
                    pulumi.log.warn(
                        `data.volumeName (given, or derived from containerName) is now ${JSON.stringify(wanted)}, but the registry keeps the volume ${JSON.stringify(kept)}, which holds its images: Docker cannot rename a volume. Set data.volumeName: ${JSON.stringify(kept)} to silence this, or move the data (docs/operations.md, "Renaming the data volume")`,
                        this,
                    );
                }
            });
            volumes.push({ volumeName: volume.name, containerPath: CONTAINER_PATHS.data });
        } else if (fsData) {
            volumes.push({ hostPath: fsData.hostPath, containerPath: CONTAINER_PATHS.data });
        }
        const files = new RegistryFiles(
            `${p.prefix}-files`,
            {
                imageId: image.imageId,
                volumeName: `${args.containerName}-files`,
                installerName: `${args.containerName}-installer`,
                restartOnChange: t.restartOnChange,
                liveReload: t.liveReload,
                owner: runAs,
                data: volume ? { volumeName: volume.name } : fsData,
                dataPath: CONTAINER_PATHS.data,
            },
            { ...component, dependsOn: volume ? [volume] : [] },
        );
        volumes.push({ volumeName: files.volumeName, containerPath: FILES_DIR, readOnly: true });

        for (const replica of p.replicas) {
            const container = new docker.Container(
                replica.resourceName,
                {
                    name: replica.containerName,
                    image: image.imageId,
                    ...SERVICE_CONTAINER,
                    command: ["serve", CONTAINER_PATHS.config],
                    user: `${runAs.uid}:${runAs.gid}`,
                    readOnly: true,
                    tmpfs: { [CONTAINER_TMP.path]: CONTAINER_TMP.options },
                    ...memoryLimit(memoryLimitMb),
                    ulimits: [{ name: "nproc", soft: pidsLimit, hard: pidsLimit }],
                    // The files the registry reads only at start: a change replaces the container.
                    labels: [{ label: "private-registry.files-digest", value: files.restartDigest }],
                    ports: replica.ports,
                    volumes,
                    networksAdvanced: replica.networks.length === 0 && privateNetwork ? [{ name: privateNetwork.name }] : replica.networks,
                    envs: env,
                    capabilities: { drops: ["ALL"] },
                    // A non-root process gets no ambient capabilities from cap-add, so a port below
                    // 1024 is opened up in the container's own network namespace instead.
                    sysctls: port < 1024 ? { "net.ipv4.ip_unprivileged_port_start": String(port) } : undefined,
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
                    ...custom,
                    // One replica after the other (each healthy before the next is touched), on
                    // one host or across hosts: a change that replaces them never takes them all
                    // away at once.
                    dependsOn: [files.installer, ...(volume ? [volume] : []), ...t.waitFor, ...[...after, ...containers].slice(-1)],
                    ignoreChanges: SERVICE_CONTAINER_IGNORED,
                    // Docker cannot change a container's healthcheck, and the provider's update
                    // skips it: only a new container takes a new one.
                    replaceOnChanges: ["healthcheck"],
                },
            );
            containers.push(container);
        }
        return { image, files, volume, containers };
    }

    /**
     * Loads the image from its archive with the docker CLI (the provider cannot load archives),
     * only when the Docker host lacks it; a new archive (path, size or time) runs it again.
     */
    private imageLoad(name: string, image: string, archive: string, host: DockerHostSettings): command.local.Command {
        const st = fs.statSync(archive);
        return new command.local.Command(
            `${name}-image-load`,
            {
                create: renderImageLoad(),
                environment: { ...dockerCliEnv(host.host, host.sshOpts), IMAGE: image, ARCHIVE: archive },
                triggers: [archive, st.size, st.mtimeMs],
            },
            { parent: this },
        );
    }
}
