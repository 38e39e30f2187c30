/**
 * The image copy against the real registry (Debian's distribution 2.8.2 at /usr/bin/docker-registry)
 * over TLS with htpasswd, as the import resource runs it: archives in both docker save layouts and
 * the OCI layout, the digest kept, only missing blobs sent, a second copy sending nothing, and
 * the refusals (a wrong password, a read-only registry) said plainly.
 *
 * Everything runs in a temp dir and talks to 127.0.0.1 only.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { copyImage } from "../../../components/imports/copy";
import type { RegistryTarget } from "../../../components/imports/registryClient";
import { freePort } from "../../support/net";
import { makePki } from "../../support/pki";
import { request } from "../../support/registryHttp";
import { digestOf, dockerSaveLayout, ociLayout, randomImage, writeTar } from "./archives";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-import-"));
const USER = "importer";
const PASSWORD = "an import password of some length";
let ca = "";
let certPath = "";
let keyPath = "";
const running: { kill: () => void }[] = [];

/** The registry's TLS (openssl, localhost) and the import user's htpasswd. */
function pki(): void {
    ({ caPem: ca, certPath, keyPath } = makePki(dir));
    fs.writeFileSync(path.join(dir, "htpasswd"), `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
}

/** Starts the registry on its own storage; `readOnly` puts it in maintenance mode. */
async function registry(name: string, readOnly = false): Promise<RegistryTarget> {
    const port = await freePort();
    const config = path.join(dir, `${name}.yml`);
    fs.writeFileSync(
        config,
        [
            "version: 0.1",
            "log: {level: error}",
            "storage:",
            `  filesystem: {rootdirectory: ${path.join(dir, name)}}`,
            `  maintenance: {readonly: {enabled: ${readOnly}}}`,
            "http:",
            `  addr: 127.0.0.1:${port}`,
            `  tls: {certificate: ${certPath}, key: ${keyPath}}`,
            "auth:",
            `  htpasswd: {realm: test, path: ${path.join(dir, "htpasswd")}}`,
            "",
        ].join("\n"),
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REGISTRY_")));
    const proc = spawn("/usr/bin/docker-registry", ["serve", config], { env, stdio: "ignore" });
    running.push({ kill: () => proc.kill("SIGKILL") });
    for (let i = 0; ; i++) {
        try {
            await request(port, ca, { path: "/v2/" });
            break;
        } catch (e) {
            if (i > 100) throw e;
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    return { host: "127.0.0.1", port, servername: "localhost", caCertPem: ca, tls: true, username: USER, password: PASSWORD };
}

/** GET through the API as the import user; the body as bytes. */
function get(t: RegistryTarget, p: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
        https
            .get(
                {
                    host: "127.0.0.1",
                    port: t.port,
                    path: p,
                    ca,
                    servername: "localhost",
                    agent: false,
                    auth: `${USER}:${PASSWORD}`,
                    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
                },
            )
            .on("error", reject);
    });
}

before(pki);
after(() => {
    for (const r of running) r.kill();
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("image import into the real registry 2.8", () => {
    it("an OCI archive: pulled back by tag and by digest, byte for byte; a second copy sends nothing", async () => {
        const target = await registry("oci");
        const img = randomImage([50_000, 3_000_000]);
        const file = path.join(dir, "oci.tar");
        await writeTar(file, ociLayout([{ name: "docker.io/team/app:1", image: img }]));
        const lines: string[] = [];
        const first = await copyImage({ archive: file }, { repository: "team/app", tag: "1" }, target, (m) => lines.push(m));
        assert.equal(first.digest, digestOf(img.manifest), "the digest the archive gives");
        assert.equal(first.blobsCopied, 3);
        assert.equal(first.bytesCopied, 3_050_000 + img.config.length);
        assert.ok(lines.some((l) => /3 of 3 blobs to copy/.test(l)) && lines.some((l) => /blob [0-9a-f]{12} copied/.test(l)), lines.join("\n"));
        const byTag = await get(target, "/v2/team/app/manifests/1");
        assert.equal(byTag.status, 200);
        assert.equal(byTag.headers["docker-content-digest"], first.digest);
        assert.deepEqual(byTag.body, img.manifest);
        for (const l of img.layers) {
            const blob = await get(target, `/v2/team/app/blobs/${digestOf(l)}`);
            assert.equal(digestOf(blob.body), digestOf(l));
        }
        const again = await copyImage({ archive: file }, { repository: "team/app", tag: "1" }, target, () => undefined);
        assert.deepEqual(again, { digest: first.digest, blobsCopied: 0, bytesCopied: 0, blobsPresent: 3 });
    });

    it("the older docker save layout with a repeated layer: only what the repository lacks is sent", async () => {
        const target = await registry("legacy");
        const img = randomImage([20_000, 400_000]);
        const file = path.join(dir, "legacy.tar");
        await writeTar(file, dockerSaveLayout("team/tool:2", img, true));
        const first = await copyImage({ archive: file }, { repository: "tools/tool", tag: "2" }, target, () => undefined);
        assert.equal(first.blobsCopied, 3);
        const m = await get(target, `/v2/tools/tool/manifests/${first.digest}`);
        assert.equal(m.status, 200, m.body.toString());
        assert.equal(JSON.parse(m.body.toString()).layers.length, 3);
        // A new tag of the same image: every blob is there, only the manifest is put.
        const retag = await copyImage({ archive: file }, { repository: "tools/tool", tag: "stable" }, target, () => undefined);
        assert.equal(retag.blobsCopied, 0);
        assert.equal(retag.blobsPresent, 3);
        assert.equal((await get(target, "/v2/tools/tool/manifests/stable")).headers["docker-content-digest"], first.digest);
    });

    it("refusals name the cause: a wrong password, a read-only registry, nothing listening", async () => {
        const img = randomImage([1000]);
        const file = path.join(dir, "small.tar");
        await writeTar(file, ociLayout([{ name: "x", image: img }]));
        const target = await registry("refusals");
        await assert.rejects(
            copyImage({ archive: file }, { repository: "a/b", tag: "1" }, { ...target, password: "not the password at all" }, () => undefined),
            /HTTP 401: user importer's password is refused/,
        );
        const readOnly = await registry("readonly", true);
        await assert.rejects(
            copyImage({ archive: file }, { repository: "a/b", tag: "1" }, readOnly, () => undefined),
            /refuses writes \(read-only maintenance/,
        );
        await assert.rejects(
            copyImage({ archive: file }, { repository: "a/b", tag: "1" }, { ...target, port: await freePort() }, () => undefined),
            /ECONNREFUSED [0-9.:]+: nothing answers there/,
        );
    });
});
