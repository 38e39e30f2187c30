/**
 * One owner's changes on one client host, end to end: probe, lock and snapshot, plan in Node,
 * commit on the host. The transport is anything that runs `sh -s` with a script on stdin (SSH in
 * production, a local shell over a scratch root in tests).
 */
import { type DesiredItem, type Ledger, type PathState, emptyLedger, fileText, parseDoc, plan } from "./ledger";
import {
    type ClientWants,
    CONFLICTING_FLAGS,
    DIR_ROOTS,
    PATHS,
    RELOADABLE_DAEMON_KEYS,
    type Runtime,
    changedKeys,
    containerdConfigItems,
    desiredItems,
    dockerInfoChecks,
    runtimesFor,
} from "./runtimes";
import {
    CONTAINERD_SERVES_CRI,
    type DaemonAction,
    type ServiceRestart,
    parseProbe,
    parseSnapshot,
    renderCommit,
    renderProbe,
    renderSnapshot,
    renderUnlock,
    shQuote,
} from "./shell";

/** Runs a script on the host (`sh -s`, the script on stdin). */
export type Run = (script: string) => Promise<{ stdout: string; stderr: string; code: number }>;

/** A problem on the host that fails this host's step with a message naming it (an Error named "HostError"; see ledgerError). */
export function hostError(message: string): Error {
    return Object.assign(new Error(message), { name: "HostError" });
}

/** Log options each log driver accepts (dockerd refuses the file for any other). */
const LOG_OPTS: Record<string, string[]> = {
    "json-file": ["max-size", "max-file", "labels", "labels-regex", "env", "env-regex", "compress", "tag"],
    local: ["max-size", "max-file", "compress"],
    journald: ["tag", "labels", "labels-regex", "env", "env-regex"],
};
const ANY_DRIVER_OPTS = ["mode", "max-buffer-size"];

/** The result on the host. */
export interface HostResult {
    runtimes: Runtime[];
    /** What changed, line by line (also what was left because someone changed it). */
    report: string[];
}

async function must(run: Run, script: string, where: string, what: string): Promise<string> {
    const r = await run(script);
    if (r.code !== 0) throw hostError(`${where}: ${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

/** Runs `f`, turning a LedgerError (a host file we cannot take over) into a HostError naming the host. */
function hostFile<T>(where: string, f: () => T): T {
    try {
        return f();
    } catch (e) {
        if ((e as Error).name === "LedgerError") throw hostError(`${where}: ${(e as Error).message}`);
        throw e;
    }
}

/**
 * Brings the host to what `owner` wants (or, with `wants` undefined, removes everything `owner`
 * did), leaving every other owner's changes and everything else on the host as it is.
 */
export async function reconcile(run: Run, owner: string, wants: ClientWants | undefined, where: string): Promise<HostResult> {
    const probe = parseProbe(await must(run, renderProbe(), where, "probing the host"));
    const runtimes = wants ? runtimesFor(wants, probe) : [];
    if (wants && runtimes.length === 0) {
        throw hostError(`${where}: no container runtime found (docker, containerd, podman/CRI-O, k3s/RKE2, buildkitd); install one or set runtimes`);
    }
    const desired = wants ? desiredItems(wants, runtimes, probe) : [];
    const lock = { owner, token: globalThis.crypto.randomUUID() };
    const snapOut = await must(run, renderSnapshot(lock, []), where, "taking the host's lock and reading the ledger");
    try {
        const snapLedger = hostFile(where, () => parseSnapshot(snapOut).ledger);
        const previous = snapLedger ?? emptyLedger();
        // Every path the plan may touch: what we want now and what the ledger says we had.
        const paths = new Map<string, boolean>();
        const structured = (f: string) => paths.set(f, true);
        for (const d of desired) d.kind === "file" ? paths.set(d.path, false) : structured(d.file);
        for (const e of Object.values(previous.entries)) e.item.kind === "file" ? paths.set(e.item.path, false) : structured(e.item.file);
        for (const dir of Object.keys(previous.dirs)) paths.set(dir, false);
        if (runtimes.includes("containerd")) structured(PATHS.containerdConfig);
        for (const d of desired) {
            const p = d.kind === "file" ? d.path : d.file;
            for (let q = p.slice(0, p.lastIndexOf("/")); q.length > 1; q = q.slice(0, q.lastIndexOf("/"))) paths.set(q, false);
        }
        const snap = parseSnapshot(
            await must(
                run,
                renderSnapshot(
                    undefined,
                    [...paths].map(([path, follow]) => ({ path, follow })),
                ),
                where,
                "reading files",
            ),
        );
        const notes: string[] = [];
        if (runtimes.includes("containerd")) {
            const found = containerdConfig(owner, previous, snap.paths[PATHS.containerdConfig], probe, where);
            desired.push(...found.items);
            if (found.note) notes.push(found.note);
        }
        checkBeforeWriting(desired, snap.paths, probe, where);
        const p = hostFile(where, () => plan(owner, desired, { paths: snap.paths }, previous, DIR_ROOTS));
        const intent = intentLedger(owner, previous, p.ledger);
        const daemon = daemonAction(p.changedDocs[PATHS.daemonJson], p.writes.find((w) => w.path === PATHS.daemonJson)?.state, probe, where);
        const restarts: ServiceRestart[] = [];
        if (p.changedDocs[PATHS.containerdConfig]) {
            restarts.push({ service: "containerd", reason: `${PATHS.containerdConfig} changed`, serving: CONTAINERD_SERVES_CRI });
        }
        if (p.changedDocs[PATHS.buildkitConfig]) restarts.push({ service: "buildkit", reason: `${PATHS.buildkitConfig} changed` });
        for (const f of [PATHS.k3sRegistries, PATHS.rke2Registries]) {
            if (!p.changedDocs[f]) continue;
            const svc = probe.services.find((s) => s.startsWith(f === PATHS.k3sRegistries ? "k3s" : "rke2"));
            if (svc) restarts.push({ service: svc, reason: `${f} changed` });
        }
        const structuredFiles = new Set([...paths].filter(([, f]) => f).map(([p]) => p));
        const follow = (w: { path: string }) => structuredFiles.has(w.path);
        const written = (w: { path: string }) => ({ path: w.path, state: snap.paths[w.path] ?? { kind: "absent" as const }, follow: follow(w) });
        const script = renderCommit({
            lock: lock.token,
            where,
            expect: p.writes.map(written),
            intent,
            final: p.ledger,
            mkdirs: p.mkdirs,
            writes: p.writes.map((w) => ({ ...w, follow: follow(w) })),
            rmdirs: p.rmdirs,
            cleanup: [...paths.keys()],
            undo: {
                writes: p.writes.map(written).reverse(),
                ledger: snapLedger,
            },
            daemon,
            restarts,
        });
        const out = await must(run, script, where, "applying");
        const daemonLines = out.split("\n").filter((l) => /dockerd|restarting|not an active service/.test(l));
        return { runtimes, report: [...p.report, ...notes, ...daemonLines.map((l) => l.replace(/^private-registry: /, ""))] };
    } catch (e) {
        await run(renderUnlock(lock.token)).catch(() => undefined);
        throw e;
    }
}

/**
 * containerd's `config_path` items: decided once from the file as it was before us, then kept
 * while this owner configures containerd (the live file holds our own value by then).
 */
function containerdConfig(
    owner: string,
    previous: Ledger,
    live: PathState | undefined,
    probe: ReturnType<typeof parseProbe>,
    where: string,
): { items: DesiredItem[]; note?: string } {
    const mine = Object.values(previous.entries).filter(
        (e) => e.item.kind === "key" && e.item.file === PATHS.containerdConfig && e.layers.some((l) => l.owner === owner),
    );
    if (mine.length > 0) return { items: mine.map((e) => ({ ...e.item, value: e.layers.find((l) => l.owner === owner)?.value }) as DesiredItem) };
    let doc: Record<string, unknown> | undefined;
    if (live?.kind === "file") {
        try {
            doc = parseDoc(PATHS.containerdConfig, "toml", fileText(live));
        } catch (e) {
            throw hostError(`${where}: ${(e as Error).message}`);
        }
    }
    const found = containerdConfigItems(probe, doc);
    if (found.problem) throw hostError(`${where}: ${found.problem}`);
    return found;
}

/**
 * The ledger written before any file: the new one, except that an item keeps its old entry while
 * our layer is being taken off it, so a run interrupted before the file is restored still knows
 * what to put back.
 */
export function intentLedger(owner: string, previous: Ledger, next: Ledger): Ledger {
    const entries = { ...next.entries };
    for (const [id, e] of Object.entries(previous.entries)) {
        const mine = e.layers.some((l) => l.owner === owner);
        if (mine && !next.entries[id]?.layers.some((l) => l.owner === owner)) entries[id] = e;
    }
    return { ...next, entries, dirs: { ...previous.dirs, ...next.dirs }, files: { ...previous.files, ...next.files } };
}

/** A JSON file's object as the checks read it: {} when absent or unreadable (the plan then reports the file, naming it). */
function readable(file: string, state: PathState | undefined): Record<string, unknown> {
    try {
        return parseDoc(file, "json", fileText(state));
    } catch {
        return {};
    }
}

function checkBeforeWriting(desired: DesiredItem[], paths: Record<string, PathState>, probe: ReturnType<typeof parseProbe>, where: string): void {
    const daemonKeys = new Set(desired.flatMap((d) => (d.kind !== "file" && d.file === PATHS.daemonJson ? [d.path[0]] : [])));
    if (daemonKeys.size > 0) {
        for (const key of daemonKeys) {
            for (const flag of CONFLICTING_FLAGS[key] ?? []) {
                if (probe.dockerdArgs.some((a) => a === flag || a.startsWith(`${flag}=`))) {
                    throw hostError(
                        `${where}: dockerd runs with ${flag}, which collides with daemon.json key "${key}" (dockerd would refuse the file); remove the flag or the key`,
                    );
                }
            }
        }
        const logDriver = readable(PATHS.daemonJson, paths[PATHS.daemonJson])["log-driver"];
        const driver = typeof logDriver === "string" ? logDriver : "json-file";
        const known = LOG_OPTS[driver];
        for (const d of desired) {
            if (
                d.kind === "key" &&
                d.file === PATHS.daemonJson &&
                d.path[0] === "log-opts" &&
                known &&
                !known.includes(d.path[1]) &&
                !ANY_DRIVER_OPTS.includes(d.path[1])
            ) {
                throw hostError(
                    `${where}: daemon.json log-opts "${d.path[1]}" is not an option of the "${driver}" log driver (known: ${[...known, ...ANY_DRIVER_OPTS].join(", ")}); dockerd would refuse the file`,
                );
            }
        }
    }
    const config = desired.find((d) => d.kind === "key" && d.path[0] === "auths");
    if (config && config.kind === "key") {
        const doc = readable(config.file, paths[config.file]);
        const helpers = (doc.credHelpers ?? {}) as Record<string, unknown>;
        if (typeof doc.credsStore === "string" || typeof helpers[config.path[1]] === "string") {
            throw hostError(
                `${where}: ${config.file} sends credentials for ${config.path[1]} to a credential helper (credsStore/credHelpers), where we cannot own them item by item; set login: false for this client and run docker login there yourself`,
            );
        }
    }
}

function daemonAction(
    change: { before: unknown; after: unknown } | undefined,
    next: PathState | undefined,
    probe: ReturnType<typeof parseProbe>,
    where: string,
): DaemonAction | undefined {
    if (!change || !next) return undefined;
    const before = change.before as Record<string, unknown>;
    const after = change.after as Record<string, unknown>;
    const keys = changedKeys(before, after);
    return {
        file: PATHS.daemonJson,
        next,
        validate: probe.dockerdValidates,
        action: keys.every((k) => RELOADABLE_DAEMON_KEYS.includes(k)) ? "reload" : "restart",
        checks: dockerInfoChecks(after, shQuote),
        where,
    };
}
