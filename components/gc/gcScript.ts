/**
 * The scheduled garbage collection's script, run by `sh` in a small container on the registry's
 * Docker host (with the Docker socket and the files volume). Pure: no Pulumi import.
 *
 * Each run does what `npm run gc` does, without the engine: the read-only config the program
 * rendered beside the registry's own takes its place, every replica restarts on it one after the
 * other (each healthy before the next: pulls go on, pushes get the registry's read-only error),
 * `registry garbage-collect` runs in a one-shot container of the registry's image on the same
 * files and data, then the config is put back and the replicas restart again (which also drops
 * their in-memory blob-descriptor caches). A run cut off is finished at the scheduler's next start:
 * the saved config is put back first. `docker kill --signal USR1 <scheduler>` runs one now.
 */
import { CONTAINER_TMP } from "../registry/registryModel";
import { shQuote, shWord } from "../sh";

/** Where the scheduler mounts the files volume, and the names of the two configs and the saved one on it. */
export const GC_FILES = { mount: "/files", config: "config.yml", readOnly: "config.readonly.yml", saved: "config.yml.saved" } as const;

/** What one scheduler runs against. */
export interface GcSchedulerModel {
    /** The replicas' container names, restarted in this order. */
    replicas: string[];
    /** The registry image (its `garbage-collect`). */
    image: string;
    /** The files volume (config, certificate, htpasswd), mounted read-only in the one-shot container. */
    filesVolume: string;
    /** Where the registry's config is inside the registry containers. */
    configPath: string;
    /** The data volume or host path with its mount point (filesystem storage); absent for object stores. */
    data?: { source: string; target: string };
    /** A network for the one-shot container (an object store's); `none` for filesystem storage. */
    network: string;
    runAs: { uid: number; gid: number };
    /** The one-shot container's limits, the registry container's: its hard memory limit (MiB) and process count. */
    memoryLimitMb: number;
    pidsLimit: number;
    /** The registry process's environment (`registryProcessEnv`: its own memory, the object store's CA…). */
    env: string[];
    intervalSeconds: number;
    deleteUntagged: boolean;
    /** Where the files volume is mounted in the scheduler. Defaults to {@link GC_FILES}.mount. */
    filesDir?: string;
}

/**
 * The `docker run` flags of a one-shot `garbage-collect` container, `npm run gc`'s and the
 * scheduler's alike: the registry container's user, hardening, limits and environment, so that the
 * collection runs as the registry does (the object store's CA included).
 */
export function garbageCollectRunFlags(m: Pick<GcSchedulerModel, "runAs" | "memoryLimitMb" | "pidsLimit" | "env">): string[] {
    return [
        "--user",
        `${m.runAs.uid}:${m.runAs.gid}`,
        "--read-only",
        "--tmpfs",
        `${CONTAINER_TMP.path}:${CONTAINER_TMP.options}`,
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges:true",
        "--pids-limit",
        String(m.pidsLimit),
        "--memory",
        `${m.memoryLimitMb}m`,
        "--memory-swap",
        `${m.memoryLimitMb}m`,
        ...m.env.flatMap((e) => ["-e", e]),
    ];
}

/** The scheduler's script (for `sh -c`). */
export function gcSchedulerScript(m: GcSchedulerModel): string {
    const f = (name: string) => shQuote(`${m.filesDir ?? GC_FILES.mount}/${name}`);
    const mounts = [`-v ${shQuote(`${m.filesVolume}:${m.configPath.slice(0, m.configPath.lastIndexOf("/"))}:ro`)}`];
    if (m.data) mounts.push(`-v ${shQuote(`${m.data.source}:${m.data.target}`)}`);
    return [
        "set -u",
        "pid=",
        `REPLICAS=${shQuote(m.replicas.join(" "))}`,
        'log() { echo "gc-scheduler: $*"; }',
        // Each replica back and healthy before the next one goes.
        'healthy() { i=0; while [ "$(docker inspect -f \'{{.State.Health.Status}}\' "$1" 2>/dev/null)" != healthy ]; do i=$((i+1)); [ $i -ge 120 ] && return 1; sleep 1; done; }',
        'restart_all() { for c in $REPLICAS; do docker restart -t 10 "$c" >/dev/null && healthy "$c" || { log "$c did not come back healthy"; return 1; }; done; }',
        // The registry's own config back in place (after a run, or one cut off before).
        `put_back() { if [ -e ${f(GC_FILES.saved)} ]; then mv -f ${f(GC_FILES.saved)} ${f(GC_FILES.config)}; return 0; fi; return 1; }`,
        "run_gc() {",
        `  [ -e ${f(GC_FILES.readOnly)} ] || { log "no read-only config on the files volume: nothing done"; return 1; }`,
        '  log "read-only"',
        `  cp -p ${f(GC_FILES.config)} ${f(GC_FILES.saved)} && cp -p ${f(GC_FILES.readOnly)} ${f(`${GC_FILES.config}.tmp`)} && mv -f ${f(`${GC_FILES.config}.tmp`)} ${f(GC_FILES.config)} || return 1`,
        "  if restart_all; then",
        `    log "garbage-collect${m.deleteUntagged ? " --delete-untagged" : ""}"`,
        `    docker run --rm --network ${shQuote(m.network)} ${garbageCollectRunFlags(m).map(shWord).join(" ")} ${mounts.join(" ")} ${shQuote(m.image)} garbage-collect${m.deleteUntagged ? " --delete-untagged" : ""} ${shQuote(m.configPath)} 2>&1 | tail -n 3`,
        "  fi",
        "  put_back",
        '  log "read-write"',
        '  restart_all && log "done at $(date -u +%Y-%m-%dT%H:%M:%SZ)"',
        "}",
        'if put_back; then log "a run was cut off: the registry config is put back"; restart_all; fi',
        "trap 'run_gc' USR1",
        'trap \'put_back; [ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 0\' TERM INT',
        `log "every ${m.intervalSeconds} s; docker kill --signal USR1 runs one now"`,
        // `wait` returns on a signal, so USR1 runs a collection at once and the wait goes on.
        `while :; do sleep ${m.intervalSeconds} & pid=$!; while kill -0 $pid 2>/dev/null; do wait $pid; done; run_gc; done`,
        "",
    ].join("\n");
}
