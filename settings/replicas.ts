/** The replica section: `replicas`, `loadBalancer` and `redisCache` (several registry containers behind one endpoint, one cache). */
import { LOAD_BALANCER_DEFAULTS, REDIS_CACHE_DEFAULTS } from "../components/defaults";
import { imageRef } from "./image";
import { BAD, type Reader } from "./reader";
import type { LoadBalancerSettings, RedisCacheSettings, Settings } from "./types";

export const LOAD_BALANCER_KEYS = ["image", "checkIntervalMs"];
export const REDIS_CACHE_KEYS = ["image", "memoryMb"];

export function parseReplicas(r: Reader): { replicas: number; loadBalancer?: LoadBalancerSettings } {
    const replicas = r.has("replicas") ? (r.int("replicas", r.text("replicas"), 1, 16) ?? 1) : 1;
    let loadBalancer: LoadBalancerSettings | undefined = replicas > 1 ? { ...LOAD_BALANCER_DEFAULTS } : undefined;
    if (r.has("loadBalancer")) {
        const what = "an object {image?, checkIntervalMs?}";
        const raw = r.json("loadBalancer", what);
        const o = raw === BAD ? undefined : r.obj("loadBalancer", raw, LOAD_BALANCER_KEYS, what);
        if (o && replicas === 1) r.warn("loadBalancer", "applies only with replicas above 1: one replica is published directly");
        if (o) {
            const lb: LoadBalancerSettings = { ...LOAD_BALANCER_DEFAULTS };
            if (o.image !== undefined) lb.image = imageRef(r, "loadBalancer.image", o.image, "haproxy:3.0") ?? lb.image;
            if (o.checkIntervalMs !== undefined)
                lb.checkIntervalMs = r.int("loadBalancer.checkIntervalMs", o.checkIntervalMs, 100, 60_000) ?? lb.checkIntervalMs;
            if (replicas > 1) loadBalancer = lb;
        }
    }
    return { replicas, ...(loadBalancer ? { loadBalancer } : {}) };
}

/** `redisCache`: a Redis the program runs beside the registry as its blob-descriptor cache. */
export function parseRedisCache(r: Reader): RedisCacheSettings | undefined {
    if (!r.has("redisCache")) return undefined;
    const what = "an object {image?, memoryMb?}";
    const raw = r.json("redisCache", what);
    const o = raw === BAD ? undefined : r.obj("redisCache", raw, REDIS_CACHE_KEYS, what);
    if (!o) return undefined;
    const cache: RedisCacheSettings = { ...REDIS_CACHE_DEFAULTS };
    if (o.image !== undefined) cache.image = imageRef(r, "redisCache.image", o.image, "redis:7.4") ?? cache.image;
    if (o.memoryMb !== undefined) cache.memoryMb = r.int("redisCache.memoryMb", o.memoryMb, 16, 65_536) ?? cache.memoryMb;
    return cache;
}

/** The checks between `replicas`, `redisCache` and the rest of the stack. */
export function checkReplicas(r: Reader, s: Pick<Settings, "replicas" | "registry" | "redisCache">): void {
    if (s.redisCache && s.registry.redis) {
        r.fail("redisCache", "and registry.redis both give the registry a Redis: keep redisCache to have the program run one, or registry.redis to use yours");
    }
    if (s.replicas > 1 && s.registry.storageOptions.blobDescriptorCache !== "redis" && s.redisCache === undefined) {
        r.warn(
            "replicas",
            `runs ${s.replicas} registries with a blob-descriptor cache each in memory: a blob deleted through one is still described by the others until they restart. Set redisCache (a Redis the program runs), or registry.redis (yours) with registry.blobDescriptorCache: redis, to share one cache`,
        );
    }
}
