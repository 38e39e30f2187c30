/** The replica section: `replicas` and `loadBalancer` (several registry containers behind one endpoint). */
import { LOAD_BALANCER_DEFAULTS } from "../components/defaults";
import { IMAGE_REF } from "./image";
import { BAD, type Reader, show } from "./reader";
import type { LoadBalancerSettings, Settings } from "./types";

export const LOAD_BALANCER_KEYS = ["image", "checkIntervalMs"];

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
            if (o.image !== undefined) {
                const image = r.str("loadBalancer.image", o.image);
                if (image !== undefined && !IMAGE_REF.test(image)) {
                    r.fail("loadBalancer.image", `must be an image reference [registry/]name[:tag][@sha256:<64 hex>], such as haproxy:3.0, got ${show(image)}`);
                } else if (image !== undefined) lb.image = image;
            }
            if (o.checkIntervalMs !== undefined)
                lb.checkIntervalMs = r.int("loadBalancer.checkIntervalMs", o.checkIntervalMs, 100, 60_000) ?? lb.checkIntervalMs;
            if (replicas > 1) loadBalancer = lb;
        }
    }
    return { replicas, ...(loadBalancer ? { loadBalancer } : {}) };
}

/** The checks between `replicas` and the rest of the stack. */
export function checkReplicas(r: Reader, s: Pick<Settings, "replicas" | "registry">): void {
    if (s.replicas > 1 && s.registry.redis === undefined) {
        r.warn(
            "replicas",
            `runs ${s.replicas} registries with a blob-descriptor cache each in memory: a blob deleted through one is still described by the others until they restart. Set registry.redis to share one cache`,
        );
    }
}
