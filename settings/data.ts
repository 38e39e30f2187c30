/** The data section: `data` (a named volume or a host path for the filesystem driver). */
import * as path from "node:path";
import type { DataSettings } from "./types";
import { BAD, type Reader, show } from "./reader";
import { DOCKER_NAME } from "./rules";
import { REGISTRY_DEFAULTS } from "../components/defaults";

export const DATA_KEYS = ["volumeName", "keepOnDestroy", "hostPath"];

export function parseData(r: Reader, containerName: string | undefined, driver: string | undefined): DataSettings {
    const dflt: DataSettings = { kind: "volume", volumeName: `${containerName ?? REGISTRY_DEFAULTS.containerName}-data`, keepOnDestroy: true };
    if (!r.has("data")) return dflt;
    const what = "an object {volumeName?, keepOnDestroy?} or {hostPath}";
    const raw = r.json("data", what);
    const o = raw === BAD ? undefined : r.obj("data", raw, DATA_KEYS, what);
    if (!o) return dflt;
    if (driver !== undefined && driver !== "filesystem") {
        r.fail("data", `applies only to storage driver filesystem (with ${driver} the data lives in the storage backend), got ${show(o)}`);
    }
    if (o.hostPath !== undefined && (o.volumeName !== undefined || o.keepOnDestroy !== undefined)) {
        r.fail("data", `takes either hostPath or volumeName/keepOnDestroy, not both, got ${show(o)}`);
        return dflt;
    }
    if (o.hostPath !== undefined) {
        const p = o.hostPath;
        if (typeof p !== "string" || !path.posix.isAbsolute(p)) r.fail("data.hostPath", `must be an absolute path on the Docker host, got ${show(p)}`);
        else if (path.posix.normalize(p) === "/" || p.split("/").includes(".."))
            r.fail("data.hostPath", `must be a dedicated directory (not / and without ..), got ${show(p)}`);
        else return { kind: "hostPath", hostPath: p };
        return dflt;
    }
    const volumeName = o.volumeName === undefined ? dflt.volumeName : r.str("data.volumeName", o.volumeName);
    if (volumeName !== undefined && !DOCKER_NAME.test(volumeName)) {
        r.fail("data.volumeName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's volume name rule), got ${show(volumeName)}`);
    }
    const keepOnDestroy = o.keepOnDestroy === undefined ? true : r.bool("data.keepOnDestroy", o.keepOnDestroy);
    return { kind: "volume", volumeName: volumeName ?? dflt.volumeName, keepOnDestroy: keepOnDestroy ?? true };
}
