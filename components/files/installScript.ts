/**
 * The files the registry reads (config, certificate, key, htpasswd) and the script that installs
 * them. Pure: paths and modes in, a POSIX `sh` script out.
 *
 * Why a script at all: the registry container runs as a non-root user on a read-only root
 * filesystem, and Docker refuses uploads into a read-only root. So a one-shot installer container
 * (root, only the capabilities it needs) receives the files as uploads into its own staging folder
 * and moves them onto a volume that the registry mounts read-only. Each file is written to a
 * temporary name and renamed, so the registry never reads half a file; a new htpasswd gets a new
 * modification time, which is what makes the running registry reload it without a restart.
 */
import { renderSshWrapper } from "../containers/dockerCli";
import { shQuote } from "../sh";

/** Where the installer container receives its uploads. */
export const STAGING_DIR = "/staging";

/** The folder the files volume is mounted on, in the registry and in the installer. */
export const FILES_DIR = "/etc/private-registry";

/** One file the registry reads: where it lands (under {@link FILES_DIR}) and its mode. */
export interface RegistryFile {
    /** Absolute path under {@link FILES_DIR}. */
    path: string;
    /** Octal mode, e.g. `0600`. */
    mode: string;
}

/** The user the registry runs as. */
export interface RunAs {
    uid: number;
    gid: number;
}

/** Where an uploaded file is staged in the installer container. */
export function stagedPath(file: RegistryFile): string {
    return `${STAGING_DIR}${file.path.slice(FILES_DIR.length)}`;
}

/**
 * The installer's script: every file from staging onto the volume (owned by `owner`, with its
 * mode, by rename), any other file on the volume removed, the staging folder removed, and, when `dataDir` is given, the data folder
 * handed to `owner` (recursively only when its top is not theirs yet, e.g. data written by a
 * registry that ran as root before).
 */
export function installScript(files: RegistryFile[], owner: RunAs, dataDir?: string): string {
    for (const f of files) {
        if (!f.path.startsWith(`${FILES_DIR}/`) || f.path.includes("/../") || !/^0[0-7]{3}$/.test(f.mode)) {
            throw new Error(`cannot install ${JSON.stringify(f.path)} with mode ${JSON.stringify(f.mode)}`);
        }
    }
    const who = `${owner.uid}:${owner.gid}`;
    const dirs = [...new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf("/"))))].sort();
    const lines = [
        "set -eu",
        "umask 077",
        `mkdir -p ${dirs.map(shQuote).join(" ")}`,
        `chown ${who} ${dirs.map(shQuote).join(" ")}`,
        `chmod 0750 ${dirs.map(shQuote).join(" ")}`,
    ];
    for (const f of files) {
        const dst = shQuote(f.path);
        const tmp = shQuote(`${f.path}.tmp`);
        lines.push(`cp ${shQuote(stagedPath(f))} ${tmp} && chown ${who} ${tmp} && chmod ${f.mode} ${tmp} && mv -f ${tmp} ${dst}`);
    }
    // A file we no longer deliver (the key after TLS was turned off) must not stay behind.
    lines.push(
        `for f in $(find ${shQuote(FILES_DIR)} -type f); do case "$f" in ${files.map((f) => shQuote(f.path)).join("|")}) ;; *) rm -f "$f" ;; esac; done`,
    );
    lines.push(`rm -rf ${shQuote(STAGING_DIR)}`);
    if (dataDir !== undefined) {
        const d = shQuote(dataDir);
        const sub = shQuote(`${dataDir}/docker`);
        // Docker copies the image's folder, owner included, into a volume that is still empty each
        // time one is mounted: the registry's own top folder (`docker`) keeps the volume non-empty.
        lines.push(`mkdir -p ${sub}`);
        lines.push(`if [ "$(stat -c %u:%g ${d})" != ${shQuote(who)} ] || [ "$(stat -c %u:%g ${sub})" != ${shQuote(who)} ]; then chown -R ${who} ${d}; fi`);
    }
    return `${lines.join("\n")}\n`;
}

/**
 * Loads `$IMAGE` from the archive `$ARCHIVE` onto `$DOCKER_HOST` unless the host has it, then
 * proves the archive held it. Values arrive in the environment (the host and its ssh arguments as
 * `dockerCliEnv` in dockerCli.ts sets them), never in the script.
 */
export function renderImageLoad(): string {
    return [
        "set -eu",
        renderSshWrapper(),
        'if docker image inspect "$IMAGE" >/dev/null 2>&1; then echo "private-registry: $IMAGE is on the Docker host already"; exit 0; fi',
        'docker load -i "$ARCHIVE"',
        'docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "private-registry: $ARCHIVE does not hold $IMAGE (imageArchive and image must match)" >&2; exit 1; }',
        'echo "private-registry: loaded $IMAGE from $ARCHIVE"',
    ].join("\n");
}
