/**
 * What a `pulumi` process killed part way (its terminal lost, the machine rebooted) leaves in a
 * file state backend, put right before the next operation:
 * - its stack lock, which makes the engine refuse every next operation until `pulumi cancel`: a
 *   lock taken on this machine by a process that is gone is removed, saying so; a lock of another
 *   machine, or of a process that still runs, is left alone;
 * - what it created and never recorded: the engine keeps a pending create in the state and drops
 *   it at the next `up` with a warning, and the next create of the same container or network
 *   name then fails ("already in use"). Such a Docker object, found by the name of a pending
 *   create and holding no ID the state records, is removed (the next `up` creates it again).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { dockerCliCommand } from "../components/containers";
import { dockerHostOf, type StateResource } from "./stateResources";

/** What the CLI writes into a lock file (pkg/backend/diy). */
interface LockContent {
    pid?: number;
    hostname?: string;
    timestamp?: string;
}

/** The folder of a `file://` state backend; undefined for other backends (they handle their own locks). */
function fileBackendRoot(backendUrl: string): string | undefined {
    return backendUrl.startsWith("file://") ? decodeURIComponent(new URL(backendUrl).pathname) : undefined;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        // EPERM: it runs, as another user.
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Removes the stale locks of `stack` (project `project`) in the file backend at `backendUrl`
 * (`file://…`; other backends are left to their own lock handling). Returns a line per lock removed.
 */
export function removeStaleLocks(backendUrl: string, project: string, stack: string): string[] {
    const root = fileBackendRoot(backendUrl);
    if (root === undefined) return [];
    const dir = locksDir(root, project, stack);
    let files: string[];
    try {
        files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
    } catch {
        return [];
    }
    const removed: string[] = [];
    for (const f of files) {
        const file = path.join(dir, f);
        let lock: LockContent;
        try {
            lock = JSON.parse(fs.readFileSync(file, "utf8")) as LockContent;
        } catch {
            continue;
        }
        if (lock.hostname !== os.hostname() || typeof lock.pid !== "number" || alive(lock.pid)) continue;
        fs.rmSync(file, { force: true });
        removed.push(`removed the lock of stack ${stack} left by pulumi (pid ${lock.pid}, since ${lock.timestamp ?? "?"}), which no longer runs`);
    }
    return removed;
}

/** The stack's lock files in the file backend at `root`. */
const locksDir = (root: string, project: string, stack: string) => path.join(root, ".pulumi", "locks", "organization", project, stack);

/** The stack's latest checkpoint in the file backend at `root` (plain or gzipped), or undefined. */
function latest(
    root: string,
    project: string,
    stack: string,
): { resources?: StateResource[]; pending_operations?: { resource: StateResource; type: string }[] } | undefined {
    const file = path.join(root, ".pulumi", "stacks", project, `${stack}.json`);
    try {
        const raw = fs.existsSync(file) ? fs.readFileSync(file) : zlib.gunzipSync(fs.readFileSync(`${file}.gz`));
        return JSON.parse(raw.toString("utf8")).checkpoint?.latest;
    } catch {
        return undefined;
    }
}

/** How each kind of object a pending create may have left is looked up and removed. */
const ORPHANS: Record<string, { inspect: string[]; remove: string[] }> = {
    "docker:index/container:Container": { inspect: ["container", "inspect"], remove: ["rm", "-f"] },
    "docker:index/network:Network": { inspect: ["network", "inspect"], remove: ["network", "rm"] },
};

/**
 * Removes the containers and networks that creates pending in the state of `stack` left behind
 * (see the module's comment), on the Docker host of each one's provider; returns a line each.
 * Nothing is done while a lock is held: pending operations are then another run's, in progress.
 */
export function removeOrphans(backendUrl: string, project: string, stack: string): string[] {
    const root = fileBackendRoot(backendUrl);
    if (root === undefined) return [];
    try {
        if (fs.readdirSync(locksDir(root, project, stack)).some((f) => f.endsWith(".json"))) return [];
    } catch {
        // no locks folder: no lock
    }
    const state = latest(root, project, stack);
    const pending = (state?.pending_operations ?? []).filter((p) => p.type === "creating" && ORPHANS[p.resource.type]);
    if (pending.length === 0) return [];
    const resources = state?.resources ?? [];
    const recorded = new Set(resources.flatMap((r) => (r.id ? [r.id] : [])));
    const lines: string[] = [];
    for (const { resource } of pending) {
        const name = resource.inputs?.name;
        if (typeof name !== "string") continue;
        const { host, sshOpts } = dockerHostOf(resource, resources);
        const docker = (args: string[]) => {
            const c = dockerCliCommand(host, sshOpts, args);
            return spawnSync(c.file, c.args, { env: { ...process.env, ...c.env }, encoding: "utf8" });
        };
        const { inspect, remove } = ORPHANS[resource.type];
        const found = docker([...inspect, "-f", "{{.Id}}", name]);
        const id = found.status === 0 ? found.stdout.trim() : "";
        if (id === "" || recorded.has(id)) continue;
        const r = docker([...remove, name]);
        lines.push(
            r.status === 0
                ? `removed ${name} (${resource.type.split(":").pop()?.toLowerCase()} ${id.slice(0, 12)}) on ${host}: an interrupted run created it and never recorded it`
                : `could not remove ${name} on ${host}, which an interrupted run created and never recorded: ${(r.stderr || r.stdout).trim()}`,
        );
    }
    return lines;
}

/** Both, in order: the stale lock first (then the orphans, unless another run holds the stack). */
export function recoverInterrupted(backendUrl: string, project: string, stack: string): string[] {
    return [...removeStaleLocks(backendUrl, project, stack), ...removeOrphans(backendUrl, project, stack)];
}
