/**
 * Merging our keys into a client host's existing Docker `daemon.json` without losing its other
 * keys. Pure: text in, text out.
 */
import type { DaemonJsonSettings } from "../../settings/types";

/** The daemon.json keys we manage, in our camelCase and Docker's spelling. */
const KEY_MAP: Record<keyof DaemonJsonSettings, string> = {
    registryMirrors: "registry-mirrors",
    maxConcurrentDownloads: "max-concurrent-downloads",
    maxConcurrentUploads: "max-concurrent-uploads",
    liveRestore: "live-restore",
    logOpts: "log-opts",
    debug: "debug",
};

/**
 * Keys dockerd does not pick up on SIGHUP (moby daemon/reload.go reloads debug, labels,
 * live-restore, max-concurrent-*, registry-mirrors, insecure-registries and a few more, but not
 * log options), so changing them needs a daemon restart.
 */
const RESTART_KEYS = ["log-opts"];

/** Daemon flags that collide with a daemon.json key: dockerd then refuses to (re)load the file. */
export const CONFLICTING_FLAGS: Record<string, string[]> = {
    "registry-mirrors": ["--registry-mirror"],
    "insecure-registries": ["--insecure-registry"],
    "max-concurrent-downloads": ["--max-concurrent-downloads"],
    "max-concurrent-uploads": ["--max-concurrent-uploads"],
    "live-restore": ["--live-restore"],
    "log-opts": ["--log-opt"],
    debug: ["--debug", "-D"],
};

/** The result of merging our keys into an existing daemon.json. */
export interface DaemonJsonMerge {
    /** The merged file: two-space JSON with a trailing newline, existing keys in their order. */
    text: string;
    /** The Docker keys this merge sets (for the flag-conflict check on the host). */
    managedKeys: string[];
    /** True when a changed key only takes effect after a daemon restart. */
    restartNeeded: boolean;
    /** True when the merge changes nothing. */
    unchanged: boolean;
    /** Values of the merged file that `docker info` reports, to check the reload took. */
    expect: { debug?: boolean; liveRestore?: boolean; mirrors?: string[] };
}

/** Thrown when the existing daemon.json cannot be merged (it is not a JSON object). */
export class DaemonJsonError extends Error {}

function parseExisting(existing: string): Record<string, unknown> {
    if (existing.trim() === "") {
        return {};
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(existing);
    } catch (e) {
        throw new DaemonJsonError(`the existing daemon.json is not valid JSON: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new DaemonJsonError("the existing daemon.json is not a JSON object");
    }
    return parsed as Record<string, unknown>;
}

/** True when the settings ask for no daemon.json change at all. */
export function daemonJsonIsEmpty(desired: DaemonJsonSettings, insecureRegistries: string[]): boolean {
    return insecureRegistries.length === 0 && Object.values(desired).every((v) => v === undefined);
}

/**
 * Merges `desired` (and `insecureRegistries`, added to any existing list) into the text of an
 * existing daemon.json. Keys we do not manage are kept as they are. Lists we add to
 * (`registry-mirrors`, `insecure-registries`) keep their existing entries; `log-opts` is merged
 * key by key.
 */
export function mergeDaemonJson(existing: string, desired: DaemonJsonSettings, insecureRegistries: string[] = []): DaemonJsonMerge {
    const before = parseExisting(existing);
    const after: Record<string, unknown> = { ...before };
    const managedKeys: string[] = [];
    const union = (current: unknown, add: string[]): string[] => {
        const list = Array.isArray(current) ? current.filter((x): x is string => typeof x === "string") : [];
        for (const item of add) {
            if (!list.includes(item)) {
                list.push(item);
            }
        }
        return list;
    };
    for (const field of Object.keys(KEY_MAP) as (keyof DaemonJsonSettings)[]) {
        const value = desired[field];
        if (value === undefined) {
            continue;
        }
        const key = KEY_MAP[field];
        managedKeys.push(key);
        if (field === "registryMirrors") {
            after[key] = union(before[key], value as string[]);
        } else if (field === "logOpts") {
            const current = before[key];
            const base = current && typeof current === "object" && !Array.isArray(current) ? current : {};
            after[key] = { ...(base as Record<string, unknown>), ...(value as Record<string, string>) };
        } else {
            after[key] = value;
        }
    }
    if (insecureRegistries.length > 0) {
        managedKeys.push("insecure-registries");
        after["insecure-registries"] = union(before["insecure-registries"], insecureRegistries);
    }
    const changed = (key: string) => JSON.stringify(before[key]) !== JSON.stringify(after[key]);
    const bool = (v: unknown) => (typeof v === "boolean" ? v : undefined);
    const mirrors = Array.isArray(after["registry-mirrors"]) ? (after["registry-mirrors"] as unknown[]).filter((x): x is string => typeof x === "string") : [];
    return {
        expect: {
            debug: bool(after.debug),
            liveRestore: bool(after["live-restore"]),
            mirrors: mirrors.length > 0 ? mirrors : undefined,
        },
        text: `${JSON.stringify(after, null, 2)}\n`,
        managedKeys,
        restartNeeded: RESTART_KEYS.some(changed),
        unchanged: !Object.keys(after).some(changed),
    };
}
