/**
 * Copies one image into the registry by digest, from an archive on this machine or from an image
 * on the registry's Docker host (saved through the docker CLI into a temporary archive first). Only
 * what the registry lacks is sent. No `@pulumi/*` import: the engine runs a serialized copy of this
 * module in a dynamic provider.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { dockerCliCommand } from "../containers/dockerCli";
import { indexArchive, onlyImage } from "./archive";
import { type RegistryTarget, registryClient } from "./registryClient";

/** Where an image comes from: an archive on this machine, or an image on a Docker host (with its ssh arguments, if any). */
export type ImageSource = { archive: string } | { image: string; dockerHost: string; sshOpts?: string[] };

/** Where it goes in the registry. */
export interface Destination {
    repository: string;
    tag: string;
}

/** What a copy did. */
export interface CopyResult {
    /** The digest of the manifest the tag names (what clients pull by). */
    digest: string;
    /** Blobs and bytes sent; blobs the registry already had. */
    blobsCopied: number;
    bytesCopied: number;
    blobsPresent: number;
}

const describe = (s: ImageSource) => ("archive" in s ? `archive ${s.archive}` : `image ${s.image} on ${s.dockerHost}`);

function docker({ dockerHost, sshOpts }: { dockerHost: string; sshOpts?: string[] }, args: string[]): Promise<string> {
    const c = dockerCliCommand(dockerHost, sshOpts ?? [], args);
    return new Promise((resolve, reject) => {
        execFile(c.file, c.args, { env: { ...process.env, ...c.env }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
            if (!err) return resolve(stdout.trim());
            const e = new Error(
                (err as NodeJS.ErrnoException).code === "ENOENT"
                    ? "the docker CLI is not installed on this machine (an image on the Docker host is saved through it)"
                    : `docker ${args[0]} ${args[1]} on ${dockerHost}: ${stderr.trim() || err.message}`,
            );
            e.name = "ImageSourceError";
            reject(e);
        });
    });
}

/**
 * What identifies the source's content cheaply: an archive's size and modification time, an
 * image's ID on its Docker host. A new fingerprint means the image is copied again.
 */
export async function fingerprint(s: ImageSource): Promise<string> {
    if ("archive" in s) {
        const st = await fs.promises.stat(s.archive).catch(() => undefined);
        if (!st) {
            const e = new Error(`the ${describe(s)} does not exist on this machine`);
            e.name = "ImageSourceError";
            throw e;
        }
        return `${st.size}/${Math.trunc(st.mtimeMs)}`;
    }
    return docker(s, ["image", "inspect", "--format", "{{.Id}}", s.image]);
}

/** Copies the source's image to `to`; `progress` hears each step. */
export async function copyImage(source: ImageSource, to: Destination, target: RegistryTarget, progress: (m: string) => void): Promise<CopyResult> {
    const tmp = "archive" in source ? undefined : await fs.promises.mkdtemp(path.join(os.tmpdir(), "private-registry-import-"));
    const client = registryClient(target);
    try {
        let file: string;
        if ("archive" in source) file = source.archive;
        else {
            file = path.join(tmp as string, "image.tar");
            progress(`saving ${source.image} from ${source.dockerHost}`);
            await docker(source, ["save", "--output", file, source.image]);
        }
        const image = onlyImage(await indexArchive(file));
        const root = image.manifests[image.manifests.length - 1];
        const ref = `${to.repository}:${to.tag}`;
        if ((await client.manifestDigest(to.repository, to.tag)) === root.digest) {
            progress(`${ref} is already ${root.digest}: nothing to copy`);
            return { digest: root.digest, blobsCopied: 0, bytesCopied: 0, blobsPresent: image.blobs.length };
        }
        const present = await Promise.all(image.blobs.map((b) => client.hasBlob(to.repository, b.digest)));
        const missing = image.blobs.filter((_, i) => !present[i]);
        const total = missing.reduce((n, b) => n + b.size, 0);
        progress(`${ref}: ${missing.length} of ${image.blobs.length} blobs to copy (${mib(total)}) to ${client.where}`);
        let sent = 0;
        // Three uploads at a time: enough to fill the link, few enough to keep the registry responsive.
        const queue = [...missing];
        const worker = async () => {
            for (let b = queue.shift(); b; b = queue.shift()) {
                const blob = b;
                await client.putBlob(to.repository, blob.digest, blob.size, () =>
                    blob.size === 0 ? Readable.from([]) : fs.createReadStream(file, { start: blob.offset, end: blob.offset + blob.size - 1 }),
                );
                sent += blob.size;
                progress(`${ref}: blob ${blob.digest.slice(7, 19)} copied (${mib(blob.size)}), ${mib(sent)} of ${mib(total)}`);
            }
        };
        await Promise.all([worker(), worker(), worker()]);
        // Children of an index first (by digest), then the root under its tag.
        for (const m of image.manifests.slice(0, -1)) await client.putManifest(to.repository, m.digest, m.mediaType, m.bytes, m.digest);
        await client.putManifest(to.repository, to.tag, root.mediaType, root.bytes, root.digest);
        progress(`${ref} is ${root.digest}`);
        return { digest: root.digest, blobsCopied: missing.length, bytesCopied: total, blobsPresent: image.blobs.length - missing.length };
    } finally {
        client.close();
        if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
    }
}

function mib(n: number): string {
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
