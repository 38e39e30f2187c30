import * as pulumi from "@pulumi/pulumi";
import { BALANCER_LABEL } from "../containers/dockerCli";
import { type Backend, HAPROXY_CONFIG_PATH, type HealthCheck, renderHaproxyConfig } from "./haproxy";
import { memoryLimit, serviceContainer } from "../containers/serviceContainer";

const TYPE = "private-registry:registry:LoadBalancer";

/** Arguments of {@link LoadBalancer}. */
export interface LoadBalancerArgs {
    /** An HAProxy image. */
    image: string;
    /** Keep the image on destroy. */
    keepImage: boolean;
    containerName: string;
    /** The endpoint's port, published on `bindAddress` of the Docker host. */
    port: number;
    bindAddress: string;
    /** The replicas' network, where the balancer reaches them by name (absent: replicas on other hosts, reached at their addresses). */
    replicaNetwork?: pulumi.Input<string>;
    /** The endpoint's own Docker networks (fixed addresses, aliases), as one replica would have had them. */
    networks: { name: string; ipv4Address?: string; aliases?: string[] }[];
    backends: Backend[];
    health: HealthCheck;
    checkIntervalMs: number;
    /** The replicas: the balancer starts once they are healthy (a component's dependsOn does not reach its children). */
    waitFor: pulumi.Resource[];
}

/**
 * HAProxy in front of the replicas, on the endpoint's port and networks: TLS passes through, each
 * replica's `/debug/health` decides whether it gets traffic. Its config is uploaded into the
 * container; a change (another replica count) replaces it.
 */
export class LoadBalancer extends pulumi.ComponentResource {
    /** The rendered `haproxy.cfg`. */
    public readonly config: string;
    /** The container's name. */
    public readonly containerName: pulumi.Output<string>;
    /** The container's ID, once it is created. */
    public readonly containerId: pulumi.Output<string>;

    constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        this.config = renderHaproxyConfig({ port: args.port, backends: args.backends, health: args.health, checkIntervalMs: args.checkIntervalMs });
        const container = serviceContainer(
            name,
            args,
            {
                command: ["haproxy", "-W", "-db", "-f", HAPROXY_CONFIG_PATH],
                labels: [BALANCER_LABEL],
                // Uploaded before start, so the root filesystem stays writable (the docker API
                // refuses uploads into a read-only one); the file holds no secret.
                uploads: [{ file: HAPROXY_CONFIG_PATH, content: this.config }],
                ...memoryLimit(256),
                capabilities: { drops: ["ALL"] },
                sysctls: args.port < 1024 ? { "net.ipv4.ip_unprivileged_port_start": String(args.port) } : undefined,
                ports: [{ internal: args.port, external: args.port, ip: args.bindAddress }],
                networksAdvanced: [
                    ...(args.replicaNetwork === undefined ? [] : [{ name: args.replicaNetwork }]),
                    ...args.networks.map((n) => ({ name: n.name, ipv4Address: n.ipv4Address, aliases: n.aliases })),
                ],
                // HAProxy's soft stop: it stops listening and lets the connections it has finish.
                stopSignal: "SIGUSR1",
                destroyGraceSeconds: 10,
            },
            { ...child, dependsOn: args.waitFor },
        );
        this.containerName = container.name;
        this.containerId = container.id;
        this.registerOutputs({ containerName: this.containerName, containerId: this.containerId });
    }
}
