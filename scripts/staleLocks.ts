/**
 * A file state backend's stack lock left by a `pulumi` process that no longer runs (killed, its
 * terminal lost, the machine rebooted): the engine refuses every next operation until `pulumi
 * cancel`. A lock taken on this machine by a process that is gone is removed here, saying so; a
 * lock of another machine, or of a process that still runs, is left alone.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** What the CLI writes into a lock file (pkg/backend/diy). */
interface LockContent {
    pid?: number;
    hostname?: string;
    timestamp?: string;
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
    if (!backendUrl.startsWith("file://")) return [];
    const root = decodeURIComponent(new URL(backendUrl).pathname);
    const dir = path.join(root, ".pulumi", "locks", "organization", project, stack);
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
