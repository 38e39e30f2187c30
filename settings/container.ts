/** The container section: `container` (the registry's user and its resource limits). */
import { defaultMemoryLimitMb, REGISTRY_DEFAULTS } from "../components/defaults";
import { memoryLimitProblem } from "../components/resolveArgs";
import { type Reader, show } from "./reader";
import type { ContainerSettings } from "../components/args";

export const CONTAINER_KEYS = ["user", "memoryMb", "memoryLimitMb", "pidsLimit"];

const DEFAULTS: ContainerSettings = {
    runAs: { ...REGISTRY_DEFAULTS.runAs },
    memoryMb: REGISTRY_DEFAULTS.memoryMb,
    memoryLimitMb: defaultMemoryLimitMb(REGISTRY_DEFAULTS.memoryMb),
    pidsLimit: REGISTRY_DEFAULTS.pidsLimit,
};

export function parseContainer(r: Reader): ContainerSettings {
    if (!r.has("container")) return DEFAULTS;
    const what = "an object {user?, memoryMb?, memoryLimitMb?, pidsLimit?}";
    const o = r.section("container", CONTAINER_KEYS, what);
    if (!o) return DEFAULTS;
    let runAs = DEFAULTS.runAs;
    if (o.user !== undefined) {
        const u = r.str("container.user", o.user);
        const m = u === undefined ? null : /^([0-9]{1,10}):([0-9]{1,10})$/.exec(u);
        const [uid, gid] = m ? [Number(m[1]), Number(m[2])] : [Number.NaN, Number.NaN];
        // uid 0 would undo the point of the section; ids above 2^31-1 are not valid on Linux.
        if (u !== undefined && (!m || uid < 1 || gid < 1 || uid > 2147483646 || gid > 2147483646)) {
            r.fail("container.user", `must be a numeric uid:gid other than root, such as "10000:10000", got ${show(u)}`);
        } else if (m) runAs = { uid, gid };
    }
    // Below 64 MiB the registry cannot hold a few concurrent uploads' buffers.
    const memoryMb = o.memoryMb === undefined ? DEFAULTS.memoryMb : (r.int("container.memoryMb", o.memoryMb, 64, 1_048_576) ?? DEFAULTS.memoryMb);
    let memoryLimitMb = defaultMemoryLimitMb(memoryMb);
    if (o.memoryLimitMb !== undefined) {
        const given = r.int("container.memoryLimitMb", o.memoryLimitMb, 64, 4_194_304);
        const problem = given === undefined ? undefined : memoryLimitProblem(memoryMb, given);
        if (problem) r.fail("container.memoryLimitMb", problem);
        else if (given !== undefined) memoryLimitMb = given;
    }
    // The Go runtime alone starts a dozen threads, and nproc counts threads.
    const pidsLimit = o.pidsLimit === undefined ? DEFAULTS.pidsLimit : (r.int("container.pidsLimit", o.pidsLimit, 64, 1_048_576) ?? DEFAULTS.pidsLimit);
    return { runAs, memoryMb, memoryLimitMb, pidsLimit };
}
