/**
 * The archive reader on archives laid out as docker save and skopeo write them: what it finds to
 * copy (blobs at their offsets, manifests children first), and what it refuses, with why.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { imagesOf, indexArchive, onlyImage } from "../../../components/imports/archive";
import { digestOf, dockerSaveLayout, ociLayout, randomImage, type TarItem, writeTar } from "./archives";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-archive-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
async function archive(items: TarItem[]): Promise<string> {
    const file = path.join(dir, `a${n++}.tar`);
    await writeTar(file, items);
    return file;
}

/** The bytes of the archive at a blob's offset: what an upload sends. */
function bytesAt(file: string, offset: number, size: number): Buffer {
    const fd = fs.openSync(file, "r");
    try {
        const b = Buffer.alloc(size);
        fs.readSync(fd, b, 0, size, offset);
        return b;
    } finally {
        fs.closeSync(fd);
    }
}

describe("image archives", () => {
    it("an OCI layout: the manifest as stored (its digest kept), its config and layers at their offsets", async () => {
        const img = randomImage([70_000, 5_000_000]);
        const file = await archive(ociLayout([{ name: "docker.io/team/app:1", image: img }]));
        const got = onlyImage(await indexArchive(file));
        assert.deepEqual(got.names, ["docker.io/team/app:1"]);
        assert.deepEqual(
            got.manifests.map((m) => m.digest),
            [digestOf(img.manifest)],
        );
        assert.deepEqual(got.manifests[0].bytes, img.manifest);
        const want = [img.config, ...img.layers];
        assert.deepEqual(got.blobs.map((b) => b.digest).sort(), want.map(digestOf).sort());
        for (const b of got.blobs) assert.equal(digestOf(bytesAt(file, b.offset, b.size)), b.digest, `${b.digest} read at its offset`);
    });

    it("the older docker save layout: an OCI manifest is written over the layers as saved; a linked repeat is one blob", async () => {
        const img = randomImage([3_000, 6_000_000]);
        const file = await archive(dockerSaveLayout("team/app:2", img, true));
        const got = onlyImage(await indexArchive(file));
        assert.deepEqual(got.names, ["team/app:2"]);
        // The same manifest a registry push of these layers makes: config, then every layer in order.
        const manifest = JSON.parse(got.manifests[0].bytes.toString("utf8"));
        assert.equal(manifest.config.digest, digestOf(img.config));
        assert.deepEqual(
            manifest.layers.map((l: { digest: string }) => l.digest),
            [...img.layers, img.layers[0]].map(digestOf),
        );
        assert.equal(got.manifests[0].digest, digestOf(got.manifests[0].bytes));
        assert.equal(got.blobs.length, 3, "config and two layers: the repeat is not sent twice");
        for (const b of got.blobs) assert.equal(digestOf(bytesAt(file, b.offset, b.size)), b.digest);
    });

    it("a multi-platform index: each platform's manifest before the index", async () => {
        const [amd, arm] = [randomImage([1000]), randomImage([2000])];
        const index = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.index.v1+json",
                manifests: [amd, arm].map((i, k) => ({
                    mediaType: "application/vnd.oci.image.manifest.v1+json",
                    digest: digestOf(i.manifest),
                    size: i.manifest.length,
                    platform: { os: "linux", architecture: k ? "arm64" : "amd64" },
                })),
            }),
        );
        const items = ociLayout([
            { name: "x", image: amd },
            { name: "y", image: arm },
        ]).filter((i) => i.name !== "index.json");
        const top = { schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: digestOf(index), size: index.length }] };
        const file = await archive([
            ...items,
            { name: `blobs/sha256/${digestOf(index).slice(7)}`, data: index },
            { name: "index.json", data: Buffer.from(JSON.stringify(top)) },
        ]);
        const got = onlyImage(await indexArchive(file));
        assert.deepEqual(
            got.manifests.map((m) => m.digest),
            [digestOf(amd.manifest), digestOf(arm.manifest), digestOf(index)],
        );
        assert.equal(got.blobs.length, 4);

        const partial = await archive([
            ...items.filter((i) => i.name !== `blobs/sha256/${digestOf(arm.manifest).slice(7)}`),
            { name: `blobs/sha256/${digestOf(index).slice(7)}`, data: index },
            { name: "index.json", data: Buffer.from(JSON.stringify(top)) },
        ]);
        await assert.rejects(async () => onlyImage(await indexArchive(partial)), /multi-platform index but not its linux\/arm64 manifest/);
    });

    it("refuses, saying why: two images, a damaged manifest, a missing layer, no layout, not a tar", async () => {
        const [a, b] = [randomImage([100]), randomImage([200])];
        const two = await archive(
            ociLayout([
                { name: "team/a:1", image: a },
                { name: "team/b:1", image: b },
            ]),
        );
        assert.equal(imagesOf(await indexArchive(two)).length, 2);
        await assert.rejects(async () => onlyImage(await indexArchive(two)), /holds 2 images \(team\/a:1, team\/b:1\): .*save each image on its own/);

        const damaged = ociLayout([{ name: "c", image: a }]).map((i) =>
            "data" in i && i.name.endsWith(digestOf(a.manifest).slice(7)) ? { name: i.name, data: Buffer.from(`${i.data.toString()} `) } : i,
        );
        await assert.rejects(async () => onlyImage(await indexArchive(await archive(damaged))), /does not match its digest: the archive is damaged/);

        const noLayer = ociLayout([{ name: "c", image: a }]).filter((i) => i.name !== `blobs/sha256/${digestOf(a.layers[0]).slice(7)}`);
        await assert.rejects(async () => onlyImage(await indexArchive(await archive(noLayer))), new RegExp(`lacks blob ${digestOf(a.layers[0])}`));

        await assert.rejects(
            async () => onlyImage(await indexArchive(await archive([{ name: "x", data: Buffer.from("x") }]))),
            /neither index.json .* nor manifest.json/,
        );
        const notTar = path.join(dir, "not.tar");
        fs.writeFileSync(notTar, "this is not a tar archive, not at all, and it goes on for a while ".repeat(20));
        await assert.rejects(() => indexArchive(notTar), /is not a readable tar archive/);
    });
});
