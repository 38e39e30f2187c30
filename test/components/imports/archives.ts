/**
 * Image archives built in tests, byte for byte as `docker save` and `skopeo copy … oci-archive:`
 * lay them out: the OCI layout (index.json, blobs/sha256/…) and the older docker save layout
 * (manifest.json, <id>/layer.tar, a repeated layer linked to its first copy).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { pack } from "tar-stream";

export const digestOf = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

/** One file (or link) of an archive. */
export type TarItem = { name: string; data: Buffer } | { name: string; symlink: string };

/** Writes a tar of `items` to `file`. */
export async function writeTar(file: string, items: TarItem[]): Promise<void> {
    const p = pack();
    const out = fs.createWriteStream(file);
    const done = new Promise<void>((resolve, reject) => {
        out.on("finish", resolve);
        out.on("error", reject);
    });
    p.pipe(out as unknown as NodeJS.WritableStream);
    for (const i of items) {
        if ("data" in i) p.entry({ name: i.name, size: i.data.length }, i.data);
        else p.entry({ name: i.name, type: "symlink", linkname: i.symlink });
    }
    p.finalize();
    await done;
}

/** A random image: `layers` layers of the given sizes, its config and its OCI manifest. */
export function randomImage(layerSizes: number[]) {
    const layers = layerSizes.map((n) => crypto.randomBytes(n));
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map(digestOf) } }));
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", size: config.length, digest: digestOf(config) },
            layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", size: l.length, digest: digestOf(l) })),
        }),
    );
    return { layers, config, manifest };
}

export type RandomImage = ReturnType<typeof randomImage>;

const blob = (b: Buffer): TarItem => ({ name: `blobs/sha256/${digestOf(b).slice(7)}`, data: b });

/** An OCI layout archive of `images`, each named in index.json's annotations. */
export function ociLayout(images: { name: string; image: RandomImage }[]): TarItem[] {
    const blobs = new Map<string, TarItem>();
    for (const { image } of images) for (const b of [...image.layers, image.config, image.manifest]) blobs.set(digestOf(b), blob(b));
    const index = {
        schemaVersion: 2,
        manifests: images.map(({ name, image }) => ({
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: digestOf(image.manifest),
            size: image.manifest.length,
            annotations: { "io.containerd.image.name": name },
        })),
    };
    return [
        { name: "oci-layout", data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
        ...blobs.values(),
        { name: "index.json", data: Buffer.from(JSON.stringify(index)) },
    ];
}

/** The older docker save layout of one image; its last layer repeats the first, as a link. */
export function dockerSaveLayout(name: string, image: RandomImage, repeatFirstLayer = false): TarItem[] {
    const configName = `${digestOf(image.config).slice(7)}.json`;
    const ids = image.layers.map((_, i) => crypto.createHash("sha256").update(`layer${i}`).digest("hex"));
    const items: TarItem[] = [{ name: configName, data: image.config }];
    for (const [i, l] of image.layers.entries()) items.push({ name: `${ids[i]}/layer.tar`, data: l });
    const layerNames = ids.map((id) => `${id}/layer.tar`);
    if (repeatFirstLayer) {
        items.push({ name: "repeat/layer.tar", symlink: `../${ids[0]}/layer.tar` });
        layerNames.push("repeat/layer.tar");
    }
    items.push({ name: "manifest.json", data: Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [name], Layers: layerNames }])) });
    return items;
}
