/**
 * The replica section: `replicas`, `replicaHosts`, `loadBalancer` and `redisCache` (several
 * registry containers behind one endpoint, on one Docker host or one each on several, one cache).
 */
import { ENDPOINT_DEFAULTS, LOAD_BALANCER_DEFAULTS, REDIS_CACHE_DEFAULTS } from "../components/defaults";
import { dockerHostProblem, parseSshOpts, sshHostOf } from "./docker";
import { imageRef } from "./image";
import { BAD, type Reader, show } from "./reader";
import { canonicalHost, hostProblem, ipProblem, isLoopback } from "./rules";
import type { LoadBalancerSettings, RedisCacheSettings, ReplicaHostSettings } from "../components/args";
import type { Settings } from "./types";
import { isBalanced, replicaCount } from "../components/registry/registryTopology";

export const LOAD_BALANCER_KEYS = ["image", "checkIntervalMs"];
export const REDIS_CACHE_KEYS = ["image", "memoryMb"];
export const REPLICA_HOST_KEYS = ["dockerHost", "sshOpts", "address", "port", "bindAddress"];
const REPLICA_HOST_SHAPE = "{dockerHost, address?, port?, bindAddress?, sshOpts?}";
const MAX_REPLICAS = 16;

/** `replicaHosts`: one replica on each Docker host listed; `port` is the endpoint's, their default port. */
export function parseReplicaHosts(r: Reader, port: number | undefined): ReplicaHostSettings[] {
    if (!r.has("replicaHosts")) return [];
    const raw = r.json("replicaHosts", `a list of ${REPLICA_HOST_SHAPE}`);
    if (raw === BAD) return [];
    const seen: string[] = [];
    const hosts =
        r.list("replicaHosts", raw, REPLICA_HOST_SHAPE, (key, v) => {
            const o = r.obj(key, v, REPLICA_HOST_KEYS, `an object ${REPLICA_HOST_SHAPE}`);
            if (!o || !r.required(key, o, "dockerHost", ": the Docker host (ssh://user@host) this replica runs on")) return undefined;
            const host = r.str(`${key}.dockerHost`, o.dockerHost);
            const problem = host === undefined ? undefined : dockerHostProblem(host);
            if (host === undefined || problem !== undefined) return problem === undefined ? undefined : r.fail(`${key}.dockerHost`, problem);
            if (seen.includes(host)) return r.fail(`${key}.dockerHost`, `repeats ${show(host)}: one replica per Docker host`);
            seen.push(host);
            const sshOpts = o.sshOpts === undefined ? [] : parseSshOpts(r, `${key}.sshOpts`, o.sshOpts, host, `${key}.dockerHost`);
            const address = o.address === undefined ? sshHostOf(host) : r.str(`${key}.address`, o.address);
            if (o.address === undefined && address === undefined) {
                return r.fail(`${key}.address`, `is required with a unix:// dockerHost: the address of that host the load balancer reaches`);
            }
            if (address === undefined) return undefined;
            const addressProblem = hostProblem(address);
            if (addressProblem) return r.fail(`${key}.address`, `${addressProblem}, got ${show(address)}`);
            if (isLoopback(address)) {
                return r.fail(
                    `${key}.address`,
                    `is ${show(address)}, a loopback address: the load balancer runs in a container, where it is the balancer itself. Give an address of that host on a network the balancer's host reaches`,
                );
            }
            const replicaPort = o.port === undefined ? port : r.int(`${key}.port`, o.port, 1, 65535);
            const bindAddress = o.bindAddress === undefined ? ENDPOINT_DEFAULTS.bindAddress : r.str(`${key}.bindAddress`, o.bindAddress);
            const bindProblem = bindAddress === undefined ? undefined : ipProblem(bindAddress);
            if (bindProblem) return r.fail(`${key}.bindAddress`, `${bindProblem}, got ${show(bindAddress)}`);
            if (replicaPort === undefined || bindAddress === undefined) return undefined;
            return { docker: { host, sshOpts }, address: canonicalHost(address), port: replicaPort, bindAddress };
        }) ?? [];
    if (Array.isArray(raw) && raw.length > MAX_REPLICAS) r.fail("replicaHosts", `lists ${raw.length} hosts; at most ${MAX_REPLICAS} replicas`);
    return hosts;
}

export function parseReplicas(r: Reader, replicaHosts: ReplicaHostSettings[]): { replicas: number; loadBalancer?: LoadBalancerSettings } {
    const asked = r.has("replicas") ? (r.int("replicas", r.text("replicas"), 1, MAX_REPLICAS) ?? 1) : undefined;
    if (replicaHosts.length > 0 && asked !== undefined && asked !== replicaHosts.length) {
        r.fail("replicas", `is ${asked}, but replicaHosts lists ${replicaHosts.length} hosts (one replica each): leave replicas out`);
    }
    const replicas = replicaCount(asked, replicaHosts.length);
    const balanced = isBalanced(replicas, replicaHosts.length);
    let loadBalancer: LoadBalancerSettings | undefined = balanced ? { ...LOAD_BALANCER_DEFAULTS } : undefined;
    if (r.has("loadBalancer")) {
        const what = "an object {image?, checkIntervalMs?}";
        const o = r.section("loadBalancer", LOAD_BALANCER_KEYS, what);
        if (o && !balanced) r.warn("loadBalancer", "applies only with replicas above 1 or replicaHosts: one replica is published directly");
        if (o) {
            const lb: LoadBalancerSettings = { ...LOAD_BALANCER_DEFAULTS };
            if (o.image !== undefined) lb.image = imageRef(r, "loadBalancer.image", o.image, "haproxy:3.0") ?? lb.image;
            if (o.checkIntervalMs !== undefined)
                lb.checkIntervalMs = r.int("loadBalancer.checkIntervalMs", o.checkIntervalMs, 100, 60_000) ?? lb.checkIntervalMs;
            if (balanced) loadBalancer = lb;
        }
    }
    return { replicas, ...(loadBalancer ? { loadBalancer } : {}) };
}

/** `redisCache`: a Redis the program runs beside the registry as its blob-descriptor cache. */
export function parseRedisCache(r: Reader): RedisCacheSettings | undefined {
    if (!r.has("redisCache")) return undefined;
    const what = "an object {image?, memoryMb?}";
    const o = r.section("redisCache", REDIS_CACHE_KEYS, what);
    if (!o) return undefined;
    const cache: RedisCacheSettings = { ...REDIS_CACHE_DEFAULTS };
    if (o.image !== undefined) cache.image = imageRef(r, "redisCache.image", o.image, "redis:7.4") ?? cache.image;
    if (o.memoryMb !== undefined) cache.memoryMb = r.int("redisCache.memoryMb", o.memoryMb, 16, 65_536) ?? cache.memoryMb;
    return cache;
}

/** The checks between `replicas`, `replicaHosts`, `redisCache` and the rest of the stack. */
export function checkReplicas(
    r: Reader,
    s: Pick<Settings, "replicas" | "replicaHosts" | "registry" | "redisCache" | "gcSchedule" | "docker" | "data"> & {
        port?: number;
        driver?: string;
    },
): void {
    if (s.redisCache && s.registry.redis) {
        r.fail("redisCache", "and registry.redis both give the registry a Redis: keep redisCache to have the program run one, or registry.redis to use yours");
    }
    if (s.replicaHosts.length > 0) {
        if (s.redisCache) {
            r.fail(
                "redisCache",
                "runs Redis on the load balancer's Docker host, on a network replicas on other hosts do not reach: with replicaHosts, give registry.redis the address of a Redis every replica host reaches",
            );
        }
        if (s.gcSchedule) {
            r.fail(
                "gcSchedule",
                "runs on one Docker host, and a collection must stop writes on every replica: with replicaHosts, collect by hand (docs/operations.md, Garbage collection)",
            );
        }
        if (s.driver === "filesystem" && !(s.data.kind === "hostPath" && s.data.shared)) {
            r.fail(
                "replicaHosts",
                "puts replicas on several Docker hosts, each with its own filesystem storage: they would serve different images. Use s3 or swift storage, or data.hostPath on one shared filesystem (NFS…) mounted at that path on every replica host, with data.shared: true",
            );
        }
        for (const [i, h] of s.replicaHosts.entries()) {
            if (h.docker.host === s.docker.host && h.port === s.port) {
                r.fail(
                    `replicaHosts[${i}].port`,
                    `is ${h.port} on the load balancer's own Docker host (dockerHost), where the balancer publishes that port: give the replica another port`,
                );
            }
        }
    }
    if (s.replicas > 1 && s.registry.blobDescriptorCache !== "redis" && s.redisCache === undefined) {
        r.warn(
            "replicas",
            `runs ${s.replicas} registries with a blob-descriptor cache each in memory: a blob deleted through one is still described by the others until they restart. Set redisCache (a Redis the program runs), or registry.redis (yours) with registry.blobDescriptorCache: redis, to share one cache`,
        );
    }
}
