/**
 * The registry on a real Ceph RADOS Gateway, end to end on the real engine: the e2e stack with
 * S3 storage (distribution 2.8's shape), then Swift with v1 auth as the runbook sets it up. The
 * gateway listens on loopback and on the gateway address of the test's own network, so only the
 * test's containers reach it. Client host A pushes, host B pulls; the bucket is the program's own
 * resource (created when missing, kept on destroy unless the stack asks).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import { after, before, describe, it } from "node:test";
import { DeleteObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Ceph } from "../e2e/infra/ceph";
import { isolate, REGISTRY, sshExec, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { e2eLog as log, timed } from "../e2e/support";
import { setStackConfig, StepLog, type TestStack } from "./engine";
import { type OnCeph, pullOnB as pullB, startOnCeph, stopOnCeph } from "./onCeph";

const fixture: Partial<OnCeph> = {};
let infra: TestInfra;
let ceph: Ceph;
let s3: S3Client;
let ts: TestStack;
let hostA: TestHost;
const BUCKET = "pr-e2e-s3";
const image = `${REGISTRY.name}:${REGISTRY.port}/e2e/on-rgw:1`;
let pushed = "";

const health = () =>
    execFileSync("docker", ["inspect", "-f", "{{.State.Health.Status}} {{.State.StartedAt}}", REGISTRY.container]).toString().trim().split(" ");

const setConfig = (key: string, value: unknown, secret = false) => setStackConfig(ts.stack, key, value, secret);

async function up(): Promise<StepLog> {
    const steps = new StepLog();
    await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    isolate(REGISTRY.container);
    return steps;
}

async function pushFromA(tag: string): Promise<string> {
    const marker = crypto.randomBytes(8).toString("hex");
    const r = await sshExec(
        infra,
        hostA,
        `set -e; d=$(mktemp -d); head -c 3000000 /dev/urandom > $d/blob; echo ${marker} > $d/m; tar -C $d -c . | docker import - ${tag} >/dev/null; docker push ${tag}`,
    );
    assert.equal(r.code, 0, r.stdout);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
    assert.ok(digest, r.stdout);
    return digest;
}

const pullOnB = (tag: string) => pullB(fixture as OnCeph, tag);

const bucketExists = () =>
    s3.send(new HeadBucketCommand({ Bucket: BUCKET })).then(
        () => true,
        () => false,
    );
const objectCount = async () => (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0;

before(async () => {
    ({ infra, ceph, s3, ts, hostA } = await startOnCeph(fixture, "rgw", BUCKET));
});

after(() => stopOnCeph(fixture, BUCKET));

describe("the registry on a real Ceph RGW, on the real engine", () => {
    const rgwUrl = () => (fixture as OnCeph).rgwUrl;

    it("S3: up creates the bucket; host A pushes, host B pulls the same digest; the layers are objects in the bucket", async () => {
        assert.equal(await bucketExists(), false);
        await timed("up on S3", () => up());
        assert.equal(await bucketExists(), true, "the program created the bucket");
        pushed = await timed("push and pull", async () => {
            const d = await pushFromA(image);
            assert.equal(await pullOnB(image), d);
            return d;
        });
        assert.ok((await objectCount()) > 0, "the registry's data is in the bucket");
    });

    it("radosgw down: the registry turns unhealthy; radosgw back: healthy again without a restart, the image intact", async () => {
        const [, startedAt] = health();
        await ceph.stopGateway();
        const t0 = Date.now();
        try {
            await timed("until unhealthy", async () => {
                while (health()[0] !== "unhealthy") {
                    assert.ok(Date.now() - t0 < 120_000, `still ${health()[0]} after 120 s without the gateway`);
                    await new Promise((r) => setTimeout(r, 1000));
                }
            });
            log(`unhealthy ${((Date.now() - t0) / 1000).toFixed(0)} s after radosgw stopped`);
        } finally {
            await ceph.startGateway();
        }
        const t1 = Date.now();
        await timed("until healthy", async () => {
            while (health()[0] !== "healthy") {
                assert.ok(Date.now() - t1 < 120_000, `still ${health()[0]} 120 s after the gateway came back`);
                await new Promise((r) => setTimeout(r, 1000));
            }
        });
        log(`healthy ${((Date.now() - t1) / 1000).toFixed(0)} s after radosgw came back`);
        assert.equal(health()[1], startedAt, "the registry container was not restarted");
        assert.equal(await pullOnB(image), pushed, "no image lost");
    });

    it("destroy keeps the bucket and its data; a new up adopts them (the image pulls again); with deleteBucketOnDestroy the next destroy removes the registry's objects and keeps the adopted bucket with another's object", async () => {
        const objects = await objectCount();
        await timed("destroy (bucket kept)", () => ts.stack.destroy({ color: "never" }));
        assert.equal(await bucketExists(), true, "the bucket outlives the stack");
        assert.equal(await objectCount(), objects, "and every object in it");
        await timed("up again", () => up());
        assert.equal(await pullOnB(image), pushed, "the image stored before the destroy pulls by the same digest");
        await setConfig("objectStore", { deleteBucketOnDestroy: true });
        const steps = await up();
        assert.deepEqual(
            steps.changes().filter((c) => /S3Bucket/.test(c)),
            ["update pulumi-nodejs:dynamic/private-registry:S3Bucket::registry-storage-bucket"],
        );
        // Another's object beside the registry's (outside docker/registry/): the bucket is shared.
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "other-team/keep", Body: "theirs" }));
        await timed("destroy (the registry's objects deleted)", () => ts.stack.destroy({ color: "never" }));
        assert.equal(await bucketExists(), true, "the bucket this stack adopted (its second up found it) stays");
        const left = ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key);
        assert.deepEqual(left, ["other-team/keep"], "every object of the registry is gone, the other's is kept");
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "other-team/keep" }));
        await ts.stack.removeConfig("private-registry:objectStore");
    });

    it("Swift (distribution 2.8, v1 auth, demo:swift): the driver creates its container; host A pushes, host B pulls", async () => {
        await setConfig(
            "storage",
            { driver: "swift", authUrl: `${rgwUrl()}/auth/v1`, username: ceph.swiftUser, password: ceph.swiftKey, container: "pr-e2e-swift", authVersion: 1 },
            true,
        );
        await timed("up on Swift", () => up());
        const tag = `${REGISTRY.name}:${REGISTRY.port}/e2e/on-swift:1`;
        const d = await pushFromA(tag);
        assert.equal(await pullOnB(tag), d);
        assert.ok(((await s3.send(new ListObjectsV2Command({ Bucket: "pr-e2e-swift" }))).KeyCount ?? 0) > 0, "the Swift container holds the data");
    });
});
