/**
 * Garbage collection, safely: the registry is put in read-only maintenance mode (an `up` with
 * `registry.readOnly: true`: pushes are refused with the registry's own error, pulls go on), then
 * `registry garbage-collect` runs in a one-shot container of the same image on the same config and
 * data, then an `up` with the stack's own setting puts the registry back read-write (a new
 * container: the in-memory blob-descriptor cache, which would still list deleted blobs, is gone).
 * The read-only setting reaches the program through {@link READ_ONLY_ENV} in this process, never
 * through the stack file: a run killed anywhere leaves `Pulumi.<stack>.yaml` as it was, and the
 * next `up` puts the registry back read-write.
 */
import { spawnSync } from "node:child_process";
import type { Stack } from "@pulumi/pulumi/automation";
import { garbageCollectRunFlags } from "../../components/gc";
import { CONTAINER_PATHS, registryProcessEnv } from "../../components/registry";
import { parseSettings } from "../../settings";
import { rawConfigFrom } from "../../settings/reader";
import { READ_ONLY_ENV } from "../../settings/stackConfig";
import type { DockerHostSettings } from "../../components/args";
import type { Settings } from "../../settings/types";
import { dockerCliCommand } from "../../components/containers";

/** garbage-collect's error on storage that has no repository yet (distribution's PathNotFoundError). */
const NEVER_PUSHED = /Path not found: \/docker\/registry\/v2\/repositories/;

/** What one run did. */
export interface GcResult {
    /** When it ran (ISO 8601). */
    at: string;
    deleteUntagged: boolean;
    /** KiB of registry data before and after (filesystem storage; undefined for object stores). */
    beforeKiB?: number;
    afterKiB?: number;
    /** The last lines of garbage-collect's own report. */
    report: string[];
    seconds: number;
}

/** Options for {@link garbageCollect}. */
export interface GcOptions {
    /** Also delete manifests no tag points at: distribution 3 only. */
    deleteUntagged?: boolean;
    /** Progress lines. */
    log?: (m: string) => void;
    /** Called while the registry is read-only, before the collection (the e2e test pushes here). */
    whileReadOnly?: () => Promise<void>;
}

/** Where the collection runs: the registry's Docker host, or the first replica host (the balancer's host has no registry files). */
export const collectionHost = (s: Pick<Settings, "docker" | "replicaHosts">): DockerHostSettings => s.replicaHosts[0]?.docker ?? s.docker;

/** `docker` against the collection's Docker host: its output (stdout and stderr), or an error naming the command. */
function docker(s: Settings, args: string[]): string {
    const { host, sshOpts } = collectionHost(s);
    const c = dockerCliCommand(host, sshOpts, args);
    const r = spawnSync(c.file, c.args, { env: { ...process.env, ...c.env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw new Error(`docker (the CLI, against ${host}): ${r.error.message}`);
    if (r.status !== 0)
        throw new Error(`docker ${args.slice(0, 2).join(" ")} … failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    return `${r.stdout}${r.stderr}`;
}

/** The mounts garbage-collect needs: the files volume (config) and the data. */
function mounts(s: Settings): string[] {
    const files = ["-v", `${s.containerName}-files:/etc/private-registry:ro`];
    if (s.storage.driver !== "filesystem") return files;
    const data = s.data.kind === "volume" ? s.data.volumeName : s.data.hostPath;
    return [...files, "-v", `${data}:${CONTAINER_PATHS.data}`];
}

function usedKiB(s: Settings): number | undefined {
    if (s.storage.driver !== "filesystem") return undefined;
    const out = docker(s, [
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        `${s.container.runAs.uid}:${s.container.runAs.gid}`,
        ...mounts(s),
        "--entrypoint",
        "/bin/busybox",
        s.image,
        "du",
        "-sk",
        CONTAINER_PATHS.data,
    ]);
    return Number(out.trim().split(/\s+/)[0]);
}

/**
 * An `up`, read-only or with the stack's own setting: the program reads {@link READ_ONLY_ENV} from
 * this process (inline) or from the CLI, which inherits it. The variable is as it was afterwards.
 */
async function upReadOnly(stack: Stack, readOnly: boolean): Promise<void> {
    const before = process.env[READ_ONLY_ENV];
    if (readOnly) process.env[READ_ONLY_ENV] = "true";
    else delete process.env[READ_ONLY_ENV];
    try {
        await stack.up({ color: "never", message: readOnly ? "npm run gc: read-only maintenance" : "npm run gc: read-write again" });
    } finally {
        if (before === undefined) delete process.env[READ_ONLY_ENV];
        else process.env[READ_ONLY_ENV] = before;
    }
}

/**
 * Runs a garbage collection on the stack's registry (see the module comment). Refuses
 * `deleteUntagged` on distribution 2, which deletes the images of a multi-arch index there.
 */
export async function garbageCollect(stack: Stack, opts: GcOptions = {}): Promise<GcResult> {
    const log = opts.log ?? (() => undefined);
    const t0 = Date.now();
    const config = await stack.getAllConfig();
    const settings = parseSettings(rawConfigFrom(Object.entries(config).map(([key, v]) => ({ key, value: v.value, secret: v.secret ?? false }))));
    const deleteUntagged = opts.deleteUntagged ?? false;
    if (deleteUntagged && settings.registryVersion === 2) {
        throw new Error(
            "--delete-untagged is refused on distribution 2: its garbage-collect deletes the platform images of a multi-arch index as untagged (distribution#3178); use a 3.x image",
        );
    }
    if (settings.registry.readOnly) throw new Error("the registry is read-only in the stack already (registry.readOnly): nothing would be put back read-write");
    const beforeKiB = usedKiB(settings);
    let report: string[] = [];
    try {
        log("gc: read-only maintenance mode (up with registry.readOnly: true)");
        await upReadOnly(stack, true);
        await opts.whileReadOnly?.();
        log(`gc: garbage-collect${deleteUntagged ? " --delete-untagged" : ""}`);
        // The object store as the registry reaches it: the endpoint's network on the registry's host; a replica host's default bridge.
        const network =
            settings.storage.driver === "filesystem"
                ? ["--network", "none"]
                : settings.networks[0] && settings.replicaHosts.length === 0
                  ? ["--network", settings.networks[0].name]
                  : [];
        try {
            const out = docker(settings, [
                "run",
                "--rm",
                ...network,
                ...garbageCollectRunFlags({
                    ...settings.container,
                    env: registryProcessEnv({
                        memoryMb: settings.container.memoryMb,
                        version: settings.registryVersion,
                        storageCa: settings.objectStore?.caCertPem !== undefined,
                    }),
                }),
                ...mounts(settings),
                settings.image,
                "garbage-collect",
                ...(deleteUntagged ? ["--delete-untagged"] : []),
                CONTAINER_PATHS.config,
            ]);
            report = out.trim().split("\n").slice(-5);
        } catch (e) {
            // A registry nothing was ever pushed to has no repositories folder, and garbage-collect stops on it.
            if (!NEVER_PUSHED.test((e as Error).message)) throw e;
            report = ["nothing to collect: no image was ever pushed to this registry"];
        }
    } finally {
        log("gc: read-write again (up with the stack's own setting; a new container drops the blob-descriptor cache)");
        await upReadOnly(stack, false);
    }
    const afterKiB = usedKiB(settings);
    return { at: new Date(t0).toISOString(), deleteUntagged, beforeKiB, afterKiB, report, seconds: (Date.now() - t0) / 1000 };
}
