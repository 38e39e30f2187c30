/**
 * The registry's topology, decided from its arguments alone: how many replicas, where each runs,
 * what it publishes and which networks it joins, whether a balancer, a network of the replicas'
 * own, a private network for a published debug server, or the removal of a balancer left from
 * several replicas are needed. Pure: no Pulumi import; `Registry` builds the resources it names.
 */
import { ENDPOINT_DEFAULTS } from "../defaults";

/** A published port, as the docker provider takes it. */
export interface PortPlan {
    internal: number;
    external: number;
    ip: string;
}

/** A network a replica joins: one of the operator's, or the replicas' own (created by `Registry`). */
export type NetworkPlan = { name: string; ipv4Address?: string; aliases?: string[] } | "replicas";

/** One registry container. */
export interface ReplicaPlan {
    resourceName: string;
    containerName: string;
    ports: PortPlan[];
    networks: NetworkPlan[];
}

/** Where replicas run: the component's own Docker host, or replica host `hostIndex`. */
export interface PlacementPlan {
    /** The prefix of its resources' names: the component's name on its own host. */
    prefix: string;
    hostIndex?: number;
    replicas: ReplicaPlan[];
    /**
     * A network of its own for a replica that publishes its debug server and joins no other
     * network: a published port needs the server on the container's address, and Docker's default
     * bridge would let every other container reach pprof and `/debug/vars`.
     */
    privateNetwork: boolean;
}

/** What the topology is decided from. */
export interface TopologyInput {
    /** The component's name (resource names derive from it). */
    name: string;
    containerName: string;
    port: number;
    debugPort: number;
    publishDebugPort: boolean;
    bindAddress?: string;
    networks?: { name: string; ipv4Address?: string; aliases?: string[] }[];
    replicas?: number;
    replicaHosts: { host: string; port: number; bindAddress: string }[];
    /** Filesystem storage's data: a named volume, a host path, or none (object storage). */
    data?: "volume" | "hostPath";
    loadBalancer: boolean;
    redisCache: boolean;
    gcSchedule: boolean;
    /** The Docker host's CLI settings are known (to remove a left balancer with the docker CLI). */
    dockerCli: boolean;
}

/** The decided topology. */
export interface Topology {
    replicas: number;
    /** A balancer in front (several replicas, or replicas on other hosts). */
    balanced: boolean;
    /** A network of the replicas' own: several on this host, or one with the program's Redis. */
    replicaNetwork: boolean;
    /** Remove a balancer left from several replicas before the single registry takes its port. */
    retireBalancer: boolean;
    placements: PlacementPlan[];
}

/** The container name of replica `i` (0-based): the first keeps the configured name, so a stack of one stays as it was. */
export const replicaName = (containerName: string, i: number): string => (i === 0 ? containerName : `${containerName}-${i + 1}`);

/** How many replicas run: one per replica host when there are any, else `replicas` (defaults to 1). */
export const replicaCount = (replicas: number | undefined, replicaHosts: number): number => (replicaHosts > 0 ? replicaHosts : (replicas ?? 1));

/** Whether the replicas sit behind a load balancer: more than one, or any on other Docker hosts. */
export const isBalanced = (replicas: number, replicaHosts: number): boolean => replicas > 1 || replicaHosts > 0;

/** Decides the topology; a combination that cannot work is an Error naming why. */
export function planTopology(t: TopologyInput): Topology {
    const remote = t.replicaHosts;
    if (remote.length > 0 && t.data === "volume") throw new Error("replicas on several Docker hosts cannot share a named volume: give a shared data.hostPath");
    const replicas = replicaCount(t.replicas, remote.length);
    const balanced = isBalanced(replicas, remote.length);
    if (balanced && !t.loadBalancer) throw new Error("several replicas need a load balancer");
    if (remote.length > 0 && (t.redisCache || t.gcSchedule))
        throw new Error("redisCache and gcSchedule run on the balancer's host: not with replicas on other hosts");
    const replicaNetwork = (remote.length === 0 && replicas > 1) || t.redisCache;
    const debug: PortPlan[] = t.publishDebugPort ? [{ internal: t.debugPort, external: t.debugPort, ip: "127.0.0.1" }] : [];
    const own: NetworkPlan[] = (t.networks ?? []).map((n) => ({ name: n.name, ipv4Address: n.ipv4Address, aliases: n.aliases }));
    const placement = (prefix: string, rs: ReplicaPlan[], hostIndex?: number): PlacementPlan => ({
        prefix,
        ...(hostIndex === undefined ? {} : { hostIndex }),
        replicas: rs,
        privateNetwork: t.publishDebugPort && rs.some((r) => r.networks.length === 0),
    });
    // All on this component's Docker host (the first keeps the resource names a stack of one always
    // had), or one on each replica host, published on its address.
    const placements =
        remote.length === 0
            ? [
                  placement(
                      t.name,
                      Array.from({ length: replicas }, (_, i) => ({
                          resourceName: i === 0 ? `${t.name}-container` : `${t.name}-container-${i + 1}`,
                          containerName: replicaName(t.containerName, i),
                          // One replica publishes its ports itself; several are reached on a network of their own.
                          ports: replicas === 1 ? [{ internal: t.port, external: t.port, ip: t.bindAddress ?? ENDPOINT_DEFAULTS.bindAddress }, ...debug] : [],
                          // Behind the balancer a replica is on the replicas' network only; alone, it keeps the endpoint's networks too.
                          networks: [...(replicas > 1 ? [] : own), ...(replicaNetwork ? ["replicas" as const] : [])],
                      })),
                  ),
              ]
            : remote.map((h, i) =>
                  placement(
                      `${t.name}-replica-${h.host}`,
                      [
                          {
                              resourceName: `${t.name}-replica-${h.host}-container`,
                              containerName: t.containerName,
                              ports: [{ internal: t.port, external: h.port, ip: h.bindAddress }, ...debug],
                              networks: [],
                          },
                      ],
                      i,
                  ),
              );
    return { replicas, balanced, replicaNetwork, retireBalancer: remote.length === 0 && replicas === 1 && t.dockerCli, placements };
}
