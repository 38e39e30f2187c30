/** The data section: `data` (a named volume or a host path for the filesystem driver). */
import * as path from "node:path";
import type { DataSettings } from "../components/args";
import { type Reader, show } from "./reader";
import { DOCKER_NAME } from "./rules";
import { DATA_DEFAULTS, REGISTRY_DEFAULTS, dataVolumeName } from "../components/defaults";

export const DATA_KEYS = ["volumeName", "keepOnDestroy", "hostPath", "shared"];

/**
 * Host folders the registry must not write into, nor below (the installer takes ownership of the
 * data folder, recursively): kernel interfaces, device nodes, system configuration, runtime
 * sockets (`/var/run/docker.sock`), the boot loader, Docker's, containerd's and Kubernetes' own
 * state, logs, spools (cron, mail), root's home, and the system's programs and libraries.
 */
const SYSTEM_TREES = [
    "/proc",
    "/sys",
    "/dev",
    "/etc",
    "/run",
    "/var/run",
    "/boot",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/kubelet",
    "/var/lib/rancher",
    "/var/lib/etcd",
    "/var/log",
    "/var/spool",
    "/var/mail",
    "/root",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
];
/** Folders that are fine to hold a data folder, but are not one themselves (the registry would mix its data into them). */
const SYSTEM_FOLDERS = ["/", "/usr", "/usr/local", "/var", "/var/lib", "/home", "/root", "/opt", "/srv", "/tmp", "/mnt", "/media"];

/** Why `p` cannot be the registry's data folder on the Docker host, or undefined. */
function hostPathProblem(p: string): string | undefined {
    if (!path.posix.isAbsolute(p)) return "must be an absolute path on the Docker host";
    // Docker's bind syntax is src:dst[:opts], and --mount takes comma-separated fields.
    if (/[:,]/.test(p)) return "must not contain ':' or ',' (Docker's bind-mount separators)";
    if (p.split("/").includes("..")) return "must not contain '..'";
    if (p !== path.posix.normalize(p) || (p.length > 1 && p.endsWith("/"))) {
        return `must be written normalised (no '//', '.' segments or trailing '/'), such as ${show(path.posix.normalize(p).replace(/(.)\/$/, "$1"))}`;
    }
    const tree = SYSTEM_TREES.find((t) => p === t || p.startsWith(`${t}/`));
    if (tree !== undefined) return `must not be in the system folder ${tree}: give a dedicated folder such as /srv/registry`;
    if (SYSTEM_FOLDERS.includes(p)) return "must be a dedicated folder, not a system folder: give one such as /srv/registry";
    if (/^\/home\/[^/]+$/.test(p)) return "must be a dedicated folder, not a user's home folder: give one such as /srv/registry";
    return undefined;
}

export function parseData(r: Reader, containerName: string | undefined, driver: string | undefined): DataSettings {
    const dflt: DataSettings = { kind: "volume", volumeName: dataVolumeName(containerName ?? REGISTRY_DEFAULTS.containerName), ...DATA_DEFAULTS };
    if (!r.has("data")) return dflt;
    const what = "an object {volumeName?, keepOnDestroy?} or {hostPath, shared?}";
    const o = r.section("data", DATA_KEYS, what);
    if (!o) return dflt;
    if (driver !== undefined && driver !== "filesystem") {
        r.fail("data", `applies only to storage driver filesystem (with ${driver} the data lives in the storage backend), got ${show(o)}`);
    }
    if (o.hostPath !== undefined && (o.volumeName !== undefined || o.keepOnDestroy !== undefined)) {
        r.fail("data", `takes either hostPath or volumeName/keepOnDestroy, not both, got ${show(o)}`);
        return dflt;
    }
    if (o.hostPath !== undefined) {
        const p = r.str("data.hostPath", o.hostPath);
        const problem = p === undefined ? undefined : hostPathProblem(p);
        const shared = o.shared === undefined ? false : r.bool("data.shared", o.shared);
        if (problem !== undefined) r.fail("data.hostPath", `${problem}, got ${show(p)}`);
        else if (p !== undefined) return { kind: "hostPath", hostPath: p, shared: shared ?? false };
        return dflt;
    }
    if (o.shared !== undefined) r.fail("data.shared", "applies only with data.hostPath: a named volume is never shared between Docker hosts");
    const volumeName = o.volumeName === undefined ? dflt.volumeName : r.str("data.volumeName", o.volumeName);
    if (volumeName !== undefined && !DOCKER_NAME.test(volumeName)) {
        r.fail("data.volumeName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's volume name rule), got ${show(volumeName)}`);
    }
    // The files volume is emptied by every installer run and removed on destroy: the data there
    // would go with it.
    const filesVolume = `${containerName ?? REGISTRY_DEFAULTS.containerName}-files`;
    if (volumeName === filesVolume) {
        r.fail(
            "data.volumeName",
            `must not be ${show(filesVolume)}: that is the registry's files volume (config, certificate, htpasswd), which every up rewrites and destroy removes`,
        );
    }
    const keepOnDestroy = o.keepOnDestroy === undefined ? true : r.bool("data.keepOnDestroy", o.keepOnDestroy);
    return { kind: "volume", volumeName: volumeName ?? dflt.volumeName, keepOnDestroy: keepOnDestroy ?? true };
}
