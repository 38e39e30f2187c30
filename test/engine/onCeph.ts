/**
 * The fixture of the engine tests on object storage: the test network with client hosts A and B,
 * a throw-away Ceph whose gateway also listens on the network's gateway address (so only the
 * test's containers reach it), an S3 client on it, and an e2e stack on S3 in `bucket` with both
 * hosts as clients (A logs in as pusher, B as the non-root deploy user, as puller).
 */
import assert from "node:assert/strict";
import type { S3Client } from "@aws-sdk/client-s3";
import { deleteBucket, s3Client } from "../../components/storage/s3Bucket";
import { type Ceph, cephS3, cephS3Storage, startCeph } from "../e2e/infra/ceph";
import { hostKeyOf, NETWORK, sshExec, startInfra, stopInfra, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { e2eLog as log, timed } from "../e2e/support";
import { createE2eStack, setStackConfig, type TestStack } from "./engine";

/** What {@link startOnCeph} starts. */
export interface OnCeph {
    infra: TestInfra;
    ceph: Ceph;
    s3: S3Client;
    ts: TestStack;
    hostA: TestHost;
    hostB: TestHost;
    /** The gateway as the registry's containers reach it. */
    rgwUrl: string;
}

/**
 * Starts the fixture for the stack `name`, its storage S3 in `bucket`, filling `f` as it goes (so
 * that {@link stopOnCeph} stops what started even when a later step failed); `servers` replica
 * hosts after A and B.
 */
export async function startOnCeph(f: Partial<OnCeph>, name: string, bucket: string, opts: { servers?: number } = {}): Promise<OnCeph> {
    const servers = opts.servers ?? 0;
    await timed(`infrastructure: network, 2 client hosts${servers ? `, ${servers} replica hosts` : ""}, Ceph`, async () => {
        f.infra = await startInfra(2, log, { servers });
        f.ceph = await startCeph({ log, alsoListenOn: NETWORK.gateway });
    });
    const { infra, ceph } = f as { infra: TestInfra; ceph: Ceph };
    const [hostA, hostB] = infra.hosts;
    f.s3 = s3Client(cephS3(ceph));
    const ts = await createE2eStack({ name, sshPrivateKeyPem: infra.sshKey.privateKeyPem, log });
    f.ts = ts;
    await ts.stack.removeConfig("private-registry:data");
    await setStackConfig(ts.stack, "clients", [
        { name: "host-a", host: hostA.ip, hostKey: hostKeyOf(hostA), login: "pusher" },
        { name: "host-b", host: hostB.ip, hostKey: hostKeyOf(hostB), user: "deploy", login: "puller" },
    ]);
    const rgwUrl = `http://${NETWORK.gateway}:${ceph.port}`;
    await setStackConfig(ts.stack, "storage", cephS3Storage(ceph, bucket, rgwUrl), true);
    return Object.assign(f, { hostA, hostB, rgwUrl }) as OnCeph;
}

/** Destroys the stack, deletes `bucket` and stops everything the fixture started (whatever of it started). */
export async function stopOnCeph(f: Partial<OnCeph>, bucket: string): Promise<void> {
    if (f.ts) await f.ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    if (f.ceph) await deleteBucket({ ...cephS3(f.ceph), bucket }, { prefix: "", bucketToo: true }).catch(() => undefined);
    f.s3?.destroy();
    await f.ceph?.stop();
    stopInfra();
}

/** Host B pulls `tag` afresh; the digest it got. */
export async function pullOnB(f: OnCeph, tag: string): Promise<string> {
    const r = await sshExec(
        f.infra,
        f.hostB,
        `docker rmi -f ${tag} >/dev/null 2>&1; docker pull ${tag} >/dev/null && docker inspect --format '{{index .RepoDigests 0}}' ${tag}`,
    );
    assert.equal(r.code, 0, r.stdout);
    return r.stdout.trim().split("@")[1];
}
