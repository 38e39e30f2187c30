/**
 * Reads an image archive on this machine: what `docker save` writes (the OCI layout since Docker
 * 25, the older `manifest.json` layout before it) and an OCI archive (`skopeo copy … oci-archive:`).
 * The archive is indexed once (where each file's bytes are, small files kept); blobs are then read
 * straight from their offsets, so nothing is extracted to disk.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Media types this module reads or writes. */
export const MEDIA_TYPES = {
    ociIndex: "application/vnd.oci.image.index.v1+json",
    ociManifest: "application/vnd.oci.image.manifest.v1+json",
    ociConfig: "application/vnd.oci.image.config.v1+json",
    ociLayer: "application/vnd.oci.image.layer.v1.tar",
    dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
    dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
};

/** Files at most this big are kept in memory while indexing: manifests, configs, index.json. */
const SMALL_FILE = 4 * 1024 * 1024;

/** One regular file of the archive. */
export interface ArchiveFile {
    /** Where its bytes start in the archive, and how many. */
    offset: number;
    size: number;
    /** Its bytes, for small files. */
    data?: Buffer;
    /** `sha256:<hex>` of its bytes, for files whose name does not already say it (the old layout's layers). */
    digest?: string;
}

/** The files of an archive by their normalised path; links resolved to the file they name. */
export type ArchiveIndex = Record<string, ArchiveFile>;

/** A blob to copy: its digest and where its bytes are in the archive. */
export interface BlobRef {
    digest: string;
    size: number;
    offset: number;
}

/** A manifest (or index) to put, in the order it must be put: children before their index. */
export interface ManifestRef {
    digest: string;
    mediaType: string;
    bytes: Buffer;
}

/** One image of an archive, ready to copy: its blobs, then its manifests (the last is the root, what the tag names). */
export interface ArchiveImage {
    /** The names the archive gives it (`RepoTags`, or the index's image-name annotations). */
    names: string[];
    blobs: BlobRef[];
    manifests: ManifestRef[];
}

/**
 * An archive that cannot be read as an image: the message says what is wrong with it. A plain
 * Error with a name: the engine runs a serialized copy of this module, where subclasses lose their message.
 */
export function archiveError(message: string): Error {
    const e = new Error(message);
    e.name = "ArchiveError";
    return e;
}

const sha256 = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;
const normalise = (name: string) => path.posix.normalize(name.replace(/^\.\//, "")).replace(/\/$/, "");

/** Indexes a tar archive in one pass: offsets and sizes of every file, small files kept, old-layout layers hashed. */
export async function indexArchive(file: string): Promise<ArchiveIndex> {
    const files: ArchiveIndex = {};
    const links: [string, string][] = [];
    // tar-stream loaded on first use: only the imports' provider reads archives, and every run of
    // the program imports this module.
    const ex = (require("tar-stream") as typeof import("tar-stream")).extract();
    const input = fs.createReadStream(file);
    input.on("error", (e) => ex.destroy(e));
    input.pipe(ex as unknown as NodeJS.WritableStream);
    try {
        for await (const entry of ex) {
            const h = entry.header;
            const name = normalise(h.name);
            if (h.type === "symlink" || h.type === "link") {
                // docker save's old layout links a repeated layer to its first copy.
                const target = h.type === "symlink" ? path.posix.join(path.posix.dirname(name), h.linkname) : h.linkname;
                links.push([name, normalise(target)]);
            }
            if (h.type !== "file" && h.type !== "contiguous-file") {
                entry.resume();
                continue;
            }
            const named = /^blobs\/sha256\/[0-9a-f]{64}$/.test(name);
            const keep = h.size <= SMALL_FILE;
            const hash = named ? undefined : crypto.createHash("sha256");
            const chunks: Buffer[] = [];
            for await (const chunk of entry as AsyncIterable<Buffer>) {
                hash?.update(chunk);
                if (keep) chunks.push(chunk);
            }
            files[name] = {
                offset: entry.offset + 512,
                size: h.size,
                ...(keep ? { data: Buffer.concat(chunks) } : {}),
                ...(hash ? { digest: `sha256:${hash.digest("hex")}` } : {}),
            };
        }
    } catch (e) {
        throw archiveError(`${file} is not a readable tar archive: ${(e as Error).message}`);
    }
    for (const [name, target] of links) {
        if (files[target]) files[name] = files[target];
    }
    return files;
}

function json(index: ArchiveIndex, name: string, what: string): unknown {
    const f = index[name];
    if (!f?.data) throw archiveError(`the archive has no ${what} (${name})`);
    try {
        return JSON.parse(f.data.toString("utf8"));
    } catch {
        throw archiveError(`the archive's ${name} is not JSON`);
    }
}

interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
}

const blobPath = (digest: string) => {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m) throw archiveError(`unsupported digest ${JSON.stringify(digest)} (only sha256 is read)`);
    return `blobs/sha256/${m[1]}`;
};

/** The manifests and blobs under one descriptor of an OCI layout, children first. */
function fromLayout(index: ArchiveIndex, d: Descriptor, out: { blobs: BlobRef[]; manifests: ManifestRef[] }): void {
    const f = index[blobPath(d.digest)];
    if (!f?.data) throw archiveError(`the archive lacks manifest ${d.digest}`);
    if (sha256(f.data) !== d.digest) throw archiveError(`the archive's manifest ${d.digest} does not match its digest: the archive is damaged`);
    const m = JSON.parse(f.data.toString("utf8")) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    const mediaType = m.mediaType ?? d.mediaType;
    if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList) {
        for (const child of m.manifests ?? []) {
            if (!index[blobPath(child.digest)]) {
                const platform = (child as { platform?: { os?: string; architecture?: string } }).platform;
                throw archiveError(
                    `the archive holds a multi-platform index but not its ${platform ? `${platform.os}/${platform.architecture} ` : ""}manifest ${child.digest}: save every platform, or save one platform's image`,
                );
            }
            fromLayout(index, child, out);
        }
    } else {
        for (const b of [m.config, ...(m.layers ?? [])]) {
            if (!b) throw archiveError(`manifest ${d.digest} has no config`);
            const file = index[blobPath(b.digest)];
            if (!file) throw archiveError(`the archive lacks blob ${b.digest} of manifest ${d.digest}`);
            if (!out.blobs.some((x) => x.digest === b.digest)) out.blobs.push({ digest: b.digest, size: file.size, offset: file.offset });
        }
    }
    if (!out.manifests.some((x) => x.digest === d.digest)) out.manifests.push({ digest: d.digest, mediaType, bytes: f.data });
}

/** The old `docker save` layout: an OCI manifest is written for it (uncompressed layers, as saved). */
function fromDockerManifest(index: ArchiveIndex, item: { Config?: string; Layers?: string[] }): { blobs: BlobRef[]; manifests: ManifestRef[] } {
    const config = item.Config ? index[normalise(item.Config)] : undefined;
    if (!config?.data) throw archiveError(`the archive lacks the image config ${item.Config}`);
    const configDigest = config.digest ?? sha256(config.data);
    const layers = (item.Layers ?? []).map((l) => {
        const f = index[normalise(l)];
        if (!f) throw archiveError(`the archive lacks layer ${l}`);
        return { digest: f.digest ?? (f.data ? sha256(f.data) : blobPath(l)), size: f.size, offset: f.offset };
    });
    const bytes = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA_TYPES.ociManifest,
            config: { mediaType: MEDIA_TYPES.ociConfig, size: config.size, digest: configDigest },
            layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.ociLayer, size: l.size, digest: l.digest })),
        }),
    );
    const blobs: BlobRef[] = [{ digest: configDigest, size: config.size, offset: config.offset }];
    for (const l of layers) if (!blobs.some((b) => b.digest === l.digest)) blobs.push(l);
    return { blobs, manifests: [{ digest: sha256(bytes), mediaType: MEDIA_TYPES.ociManifest, bytes }] };
}

/** Every image of an indexed archive, each with the names the archive gives it. */
export function imagesOf(index: ArchiveIndex): ArchiveImage[] {
    if (index["index.json"]) {
        const top = json(index, "index.json", "index.json") as { manifests?: Descriptor[] };
        const legacy = index["manifest.json"] ? (json(index, "manifest.json", "manifest.json") as { Config?: string; RepoTags?: string[] }[]) : [];
        return (top.manifests ?? []).map((d) => {
            const out = { blobs: [] as BlobRef[], manifests: [] as ManifestRef[] };
            fromLayout(index, d, out);
            const a = d.annotations ?? {};
            // docker save names the image in both files; an OCI archive only through the annotations.
            const fromLegacy = legacy
                .filter((l) => l.Config && out.blobs.some((b) => blobPath(b.digest) === normalise(l.Config ?? "")))
                .flatMap((l) => l.RepoTags ?? []);
            const names = [
                ...new Set([...fromLegacy, ...[a["io.containerd.image.name"], a["org.opencontainers.image.ref.name"]].filter((n): n is string => !!n)]),
            ];
            return { names, ...out };
        });
    }
    if (index["manifest.json"]) {
        const items = json(index, "manifest.json", "manifest.json") as { Config?: string; RepoTags?: string[]; Layers?: string[] }[];
        if (!Array.isArray(items)) throw archiveError("the archive's manifest.json is not a list of images");
        return items.map((item) => ({ names: item.RepoTags ?? [], ...fromDockerManifest(index, item) }));
    }
    throw archiveError("the archive has neither index.json (OCI layout, docker save since Docker 25) nor manifest.json (older docker save)");
}

/** The one image of an archive; an archive of several images is refused with their names. */
export function onlyImage(index: ArchiveIndex): ArchiveImage {
    const images = imagesOf(index);
    if (images.length !== 1) {
        const names = images.map((i) => i.names[0] ?? i.manifests.at(-1)?.digest).join(", ");
        throw archiveError(
            `the archive holds ${images.length} images${names ? ` (${names})` : ""}: import takes an archive of one image, so save each image on its own`,
        );
    }
    return images[0];
}
