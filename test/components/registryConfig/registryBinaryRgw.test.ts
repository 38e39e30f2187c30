/**
 * The configs the program renders for object storage, run in the real registry binaries against a
 * real Ceph RADOS Gateway (test/e2e/infra/ceph.ts): distribution 2.8 (Debian's
 * /usr/bin/docker-registry) and 3.1.2 (the binary setup.sh builds) over S3, and 2.8 over Swift with
 * v1 auth as an operator's runbook sets it up (`demo:swift`). Each case pushes a blob of a few MiB
 * and a manifest over the registry API, pulls them back by digest, and finds the objects in RGW.
 *
 * Settings → parseSettings → registryConfigDraft → withHttpSecret → renderRegistryConfig, as the
 * program does; only the listen addresses and the htpasswd path are changed (the program's are
 * in-container paths and ports). One cluster for the file, on 127.0.0.1 only; each registry gets
 * its own port and bucket. Needs root-installed ceph-mon, ceph-osd, radosgw, ceph-common and both
 * binaries (bash test/e2e/infra/setup.sh).
 *
 * Run: node --import tsx --test test/components/registryConfig/registryBinaryRgw.test.ts
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { deleteBucket, ensureBucket, registryPrefix, s3Client } from "../../../components/storage/s3Bucket";
import bcrypt from "bcryptjs";
import { renderHtpasswd } from "../../../components/users/htpasswd";
import { renderRegistryConfig } from "../../../components/registryConfig";
import { registryConfigDraft, withHttpSecret } from "../../../components/registry/registryModel";
import { parseSettings } from "../../../settings";
import { blobKey, bucketKeys, type Ceph, cephS3, cephS3Storage, startCeph } from "../../e2e/infra/ceph";
import { freePort } from "../../support/net";

const root = path.resolve(__dirname, "..", "..", "..");
const V2_BINARY = "/usr/bin/docker-registry";
const USER = "ci";
const PASSWORD = "rgw-test-password-1";
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 30_000;
const LAYER_BYTES = 3 * 1024 * 1024;
const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";

/** The v3 binary setup.sh builds and caches, at the version registry3/go.mod pins. */
function v3Binary(): string {
    const mod = fs.readFileSync(path.join(root, "test/e2e/infra/registry3/go.mod"), "utf8");
    const version = /^\s*github\.com\/distribution\/distribution\/v3 v(\S+)/m.exec(mod)?.[1];
    assert.ok(version, "registry3/go.mod pins distribution v3");
    const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
    return path.join(cache, "private-registry", `registry-${version}`, "registry");
}

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

/** One plain-HTTP request to a loopback URL, redirects not followed. */
function call(url: string, opts: { method?: string; body?: Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
    const u = new URL(url);
    assert.equal(u.hostname, "127.0.0.1", `only loopback is reached, not ${url}`);
    const headers = { ...opts.headers, ...(opts.body ? { "Content-Length": String(opts.body.length) } : {}) };
    return new Promise((resolve, reject) => {
        const req = http.request(u, { method: opts.method ?? "GET", headers, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("timeout", () => req.destroy(new Error(`${opts.method ?? "GET"} ${url} timed out`)));
        req.on("error", reject);
        req.end(opts.body);
    });
}

interface Registry {
    base: string;
    /** The major version the settings parser read from the image. */
    version: number;
    log: () => string;
    stop: () => Promise<void>;
}

/** The stack config's settings, parsed as the program parses them; credentials set as secrets. */
function settingsFor(image: string, port: number, storage: Record<string, unknown>, registry: Record<string, unknown> = {}) {
    return parseSettings({
        values: {
            image,
            port: String(port),
            tls: JSON.stringify({ enabled: false }),
            users: JSON.stringify([{ name: USER, password: PASSWORD }]),
            storage: JSON.stringify(storage),
            registry: JSON.stringify(registry),
        },
        secretKeys: new Set(["users", "storage"]),
    });
}

/** Renders the settings' config as the program does, starts `binary` on it, and waits for `/v2/` (401: htpasswd is on). */
async function startRegistry(binary: string, image: string, storage: Record<string, unknown>, registry: Record<string, unknown> = {}): Promise<Registry> {
    assert.ok(fs.existsSync(binary), `${binary} is missing (bash test/e2e/infra/setup.sh)`);
    const port = await freePort();
    const s = settingsFor(image, port, storage, registry);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-rgw-registry-"));
    const htpasswd = path.join(dir, "htpasswd");
    fs.writeFileSync(htpasswd, renderHtpasswd([{ username: USER, bcryptHash: bcrypt.hashSync(PASSWORD, 4) }]));
    const model = withHttpSecret(registryConfigDraft({ ...s, tls: undefined, htpasswd: true }), "rgw-test-http-secret");
    // The only overrides: loopback listen addresses, and the htpasswd where this test wrote it.
    model.http = { ...model.http, addr: `127.0.0.1:${port}`, debugAddr: `127.0.0.1:${await freePort()}` };
    model.auth = { htpasswd: { realm: model.auth?.htpasswd?.realm ?? "registry", path: htpasswd } };
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(config, renderRegistryConfig(model), { mode: 0o600 });

    // No AWS_* (AWS_CA_BUNDLE makes the S3 driver panic at start) and no REGISTRY_* overrides;
    // OTEL_TRACES_EXPORTER=none as the v3 image sets it.
    const env: NodeJS.ProcessEnv = { OTEL_TRACES_EXPORTER: "none" };
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_") && !k.startsWith("REGISTRY_")) env[k] = v;
    let output = "";
    const proc: ChildProcess = spawn(binary, ["serve", config], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    const stop = async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise((r) => proc.once("exit", r));
            proc.kill("SIGTERM");
            const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
            await exited;
            clearTimeout(timer);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
        for (;;) {
            if (proc.exitCode !== null || proc.signalCode !== null)
                assert.fail(`the registry exited at start (${proc.exitCode ?? proc.signalCode}):\n${output}`);
            const status = await call(`${base}/v2/`).then(
                (r) => r.status,
                () => 0,
            );
            if (status === 401) break;
            if (Date.now() > deadline) assert.fail(`/v2/ did not answer 401 within ${START_TIMEOUT_MS} ms (last ${status}):\n${output}`);
            await new Promise((r) => setTimeout(r, 200));
        }
        // Plain HTTP as rendered with tls.enabled false, and the rendered http.secret was read.
        assert.match(output, new RegExp(`listening on 127\\.0\\.0\\.1:${port}"?(\\s|$)`), output);
        assert.doesNotMatch(output, /No HTTP secret provided/);
    } catch (e) {
        await stop();
        throw e;
    }
    return { base, version: s.registryVersion, log: () => output, stop };
}

/** Runs `fn` on a started registry and stops it afterwards, also on failure. */
async function withRegistry<T>(reg: Promise<Registry>, fn: (r: Registry) => Promise<T>): Promise<T> {
    const r = await reg;
    try {
        return await fn(r);
    } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- registry log:\n${r.log().split("\n").slice(-30).join("\n")}`);
    } finally {
        await r.stop();
    }
}

/** Monolithic upload: POST, then PUT ?digest= with the whole blob. */
async function pushBlob(reg: Registry, repo: string, blob: Buffer): Promise<string> {
    const digest = sha256(blob);
    const start = await call(`${reg.base}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { Authorization: AUTH } });
    assert.equal(start.status, 202, start.body.toString());
    const location = new URL(String(start.headers.location), reg.base);
    location.searchParams.set("digest", digest);
    const put = await call(location.href, { method: "PUT", body: blob, headers: { Authorization: AUTH, "Content-Type": "application/octet-stream" } });
    assert.equal(put.status, 201, put.body.toString());
    assert.equal(put.headers["docker-content-digest"], digest);
    return digest;
}

/** GETs a blob and returns the status of the registry's answer and the bytes, a redirect to RGW followed once. */
async function pullBlob(reg: Registry, repo: string, digest: string, rgw: string): Promise<{ status: number; data: Buffer }> {
    const r = await call(`${reg.base}/v2/${repo}/blobs/${digest}`, { headers: { Authorization: AUTH } });
    if (r.status !== 307) return { status: r.status, data: r.body };
    const target = String(r.headers.location);
    assert.ok(target.startsWith(`${rgw}/`), `the redirect goes to RGW (${rgw}), got ${target}`);
    const followed = await call(target);
    assert.equal(followed.status, 200, followed.body.toString());
    return { status: 307, data: followed.body };
}

/** Pushes a layer of a few MiB, a config and a manifest; pulls them back; returns the digests. */
async function pushAndPull(reg: Registry, repo: string, rgw: string, expectedBlobStatus: number) {
    const layer = randomBytes(LAYER_BYTES);
    const imageConfig = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] } }));
    const layerDigest = await pushBlob(reg, repo, layer);
    const configDigest = await pushBlob(reg, repo, imageConfig);
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: MANIFEST_TYPE,
            config: { mediaType: "application/vnd.docker.container.image.v1+json", size: imageConfig.length, digest: configDigest },
            layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: layerDigest }],
        }),
    );
    const put = await call(`${reg.base}/v2/${repo}/manifests/1`, {
        method: "PUT",
        body: manifest,
        headers: { Authorization: AUTH, "Content-Type": MANIFEST_TYPE },
    });
    assert.equal(put.status, 201, put.body.toString());
    const manifestDigest = sha256(manifest);
    assert.equal(put.headers["docker-content-digest"], manifestDigest);

    const got = await call(`${reg.base}/v2/${repo}/manifests/1`, { headers: { Authorization: AUTH, Accept: MANIFEST_TYPE } });
    assert.equal(got.status, 200, got.body.toString());
    assert.equal(sha256(got.body), manifestDigest);
    for (const [digest, bytes] of [
        [layerDigest, layer.length],
        [configDigest, imageConfig.length],
    ] as const) {
        const blob = await pullBlob(reg, repo, digest, rgw);
        assert.equal(blob.status, expectedBlobStatus, `GET blob ${digest}`);
        assert.equal(blob.data.length, bytes);
        assert.equal(sha256(blob.data), digest, "the pulled blob has the pushed digest");
    }
    return { layerDigest, configDigest, layerBytes: layer.length };
}

let ceph: Ceph | undefined;
let s3: S3Client | undefined;

function rgw(): { ceph: Ceph; s3: S3Client } {
    assert.ok(ceph && s3, "Ceph did not start");
    return { ceph, s3 };
}

const listKeys = (bucket: string) => bucketKeys(rgw().s3, bucket);

before(
    async () => {
        ceph = await startCeph();
        s3 = s3Client(cephS3(ceph));
    },
    { timeout: 150_000 },
);

after(async () => {
    s3?.destroy();
    await ceph?.stop();
});

const S3_CASES = [
    { name: "distribution 2.8", binary: V2_BINARY, image: "registry:2.8.3", version: 2, logVersion: /version="?2\.8\./ },
    { name: "distribution 3.1.2", binary: v3Binary(), image: "registry:3.1.2", version: 3, logVersion: /version="?3\.1\.2/ },
] as const;

describe("the program's S3 bucket on a real Ceph RGW (components/storage/s3Bucket.ts)", () => {
    it("is created when missing, adopted with its data when it exists; delete takes only the objects below the registry's prefix, and the bucket only when nothing else is in it", {
        timeout: 60_000,
    }, async () => {
        const { ceph, s3 } = rgw();
        const target = { ...cephS3(ceph), bucket: "pr-bucket-life" };
        await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: target.bucket })), "absent before");
        assert.deepEqual(await ensureBucket(target), { created: true });
        assert.deepEqual(await ensureBucket(target), { created: false }, "a second run adopts it");
        for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: `docker/registry/v2/x${i}`, Body: `blob ${i}` }));
        assert.deepEqual(await ensureBucket(target), { created: false }, "a bucket with data is adopted as is");
        assert.equal((await listKeys(target.bucket)).size, 3, "and its data kept");
        await assert.rejects(
            ensureBucket({ ...target, secretKey: "wrong" }),
            /s3 bucket pr-bucket-life at http:\/\/127\.0\.0\.1:\d+: checking it failed \(.*403.*\): the credentials are refused/,
        );
        // Someone else's object beside the registry's, and the registry's under a root directory.
        await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: "other-team/keep", Body: "theirs" }));
        await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: "reg/docker/registry/v2/y", Body: "under /reg" }));
        assert.equal(registryPrefix("/reg/"), "reg/docker/registry/");
        assert.equal(registryPrefix(undefined), "docker/registry/");
        assert.deepEqual(await deleteBucket(target, { prefix: registryPrefix("/reg"), bucketToo: false }), { objects: 1, bucketDeleted: false });
        assert.deepEqual(
            await deleteBucket(target, { prefix: registryPrefix(undefined), bucketToo: true }),
            { objects: 3, bucketDeleted: false },
            "the registry's objects go; the bucket stays for the object outside its prefix",
        );
        assert.deepEqual([...(await listKeys(target.bucket)).keys()], ["other-team/keep"]);
        assert.deepEqual(await deleteBucket(target, { prefix: "", bucketToo: true }), { objects: 1, bucketDeleted: true });
        await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: target.bucket })), "gone after");
        assert.deepEqual(
            await deleteBucket(target, { prefix: "", bucketToo: true }),
            { objects: 0, bucketDeleted: false },
            "deleting a missing bucket is fine",
        );
    });
});

describe("rendered object-storage configs on a real Ceph RGW", () => {
    for (const c of S3_CASES) {
        it(`${c.name} + S3: push and pull by digest, objects in the bucket, 307 to RGW by default, 200 with redirectDisable`, {
            timeout: 120_000,
        }, async () => {
            const { ceph } = rgw();
            const storage = (bucket: string) => cephS3Storage(ceph, bucket);
            const bucket = `pr-s3-v${c.version}`;
            await rgw().s3.send(new CreateBucketCommand({ Bucket: bucket }));
            const pushed = await withRegistry(startRegistry(c.binary, c.image, storage(bucket)), async (reg) => {
                assert.equal(reg.version, c.version);
                assert.match(reg.log(), c.logVersion);
                return pushAndPull(reg, "rgw/s3", ceph.endpoint, 307);
            });
            const keys = await listKeys(bucket);
            assert.equal(keys.get(blobKey(pushed.layerDigest)), pushed.layerBytes, `the layer is in bucket ${bucket}: ${[...keys.keys()].join(", ")}`);
            assert.ok(keys.has(blobKey(pushed.configDigest)));
            assert.ok(keys.has("docker/registry/v2/repositories/rgw/s3/_manifests/tags/1/current/link"));

            const direct = `pr-s3-v${c.version}-noredirect`;
            await rgw().s3.send(new CreateBucketCommand({ Bucket: direct }));
            const served = await withRegistry(startRegistry(c.binary, c.image, storage(direct), { redirectDisable: true }), (reg) =>
                pushAndPull(reg, "rgw/direct", ceph.endpoint, 200),
            );
            assert.equal((await listKeys(direct)).get(blobKey(served.layerDigest)), served.layerBytes);
        });
    }

    it("distribution 2.8 + Swift (v1 auth, demo:swift): the driver creates its container; push and pull by digest", { timeout: 120_000 }, async () => {
        const { ceph } = rgw();
        const container = "pr-swift-v2";
        await assert.rejects(rgw().s3.send(new HeadBucketCommand({ Bucket: container })), "the container does not exist before");
        const storage = { driver: "swift", authUrl: ceph.swiftAuthUrl, username: ceph.swiftUser, password: ceph.swiftKey, container, authVersion: 1 };
        const pushed = await withRegistry(startRegistry(V2_BINARY, "registry:2.8.3", storage), (reg) => pushAndPull(reg, "rgw/swift", ceph.endpoint, 200));
        // RGW shares one namespace between the APIs: the Swift container is a bucket of the same user.
        const keys = [...(await listKeys(container)).keys()];
        for (const digest of [pushed.layerDigest, pushed.configDigest]) {
            assert.ok(
                keys.some((k) => k.endsWith(blobKey(digest))),
                `${blobKey(digest)} is in container ${container}: ${keys.join(", ")}`,
            );
        }
    });
});
