/** `parseSettings`: storage, per driver, objectStore. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { privateKey, selfSignedCert } from "../../stand-ins/offline/tls";
import { revealSecrets } from "../../components/secret";
import { ok, problems, DEFAULTS } from "./support";

describe("storage, per driver", () => {
    const cases: [string, Record<string, unknown>, string[], string?][] = [
        ["filesystem", { driver: "filesystem", rootDirectory: "/var/lib/registry/v2-data", maxThreads: 100 }, []],
        [
            "s3 with credentials",
            {
                driver: "s3",
                region: "eu-west-1",
                bucket: "b",
                accessKey: "AK",
                secretKey: "SK",
                encrypt: true,
                keyId: "k",
                storageClass: "STANDARD",
                rootDirectory: "/r",
                skipVerify: false,
                multipartCopyChunkSize: 33554432,
                multipartCopyMaxConcurrency: 4,
                multipartCopyThresholdSize: 0,
            },
            ["storage"],
        ],
        ["s3 with the instance role", { driver: "s3", region: "eu-west-1", bucket: "b" }, []],
        [
            "swift on v2",
            {
                driver: "swift",
                authUrl: "https://keystone.example/v3",
                username: "u",
                password: "p",
                container: "c",
                tenant: "t",
                domain: "d",
                region: "r",
                authVersion: 3,
                insecureSkipVerify: false,
                chunkSize: 1048576,
                prefix: "/p",
            },
            ["storage"],
            "registry:2.8.3",
        ],
        [
            "azure",
            { driver: "azure", accountName: "acct", accountKey: "key", container: "c", realm: "core.chinacloudapi.cn", rootDirectory: "/r" },
            ["storage"],
        ],
        ["gcs", { driver: "gcs", bucket: "b", keyfile: "/etc/gcs/key.json", rootDirectory: "/r", chunkSize: 5242880 }, []],
        ["inmemory", { driver: "inmemory" }, []],
    ];
    for (const [what, storage, secret, image] of cases) {
        it(what, () => {
            const s = ok({ storage, ...(image ? { image } : {}) }, secret);
            assert.deepStrictEqual(revealSecrets(s.storage), storage);
        });
    }

    it("the data location: a named volume or a host path", () => {
        assert.deepStrictEqual(ok({ data: { volumeName: "reg-data", keepOnDestroy: false } }).data, {
            kind: "volume",
            volumeName: "reg-data",
            keepOnDestroy: false,
        });
        assert.deepStrictEqual(ok({ data: { hostPath: "/srv/registry" } }).data, { kind: "hostPath", hostPath: "/srv/registry", shared: false });
        assert.deepStrictEqual(ok({ data: {} }).data, DEFAULTS.data);
    });

    it("the container's user and limits, each overridable", () => {
        assert.deepStrictEqual(ok({ container: { user: "20000:20001", memoryMb: 512, memoryLimitMb: 1024, pidsLimit: 256 } }).container, {
            runAs: { uid: 20000, gid: 20001 },
            memoryMb: 512,
            memoryLimitMb: 1024,
            pidsLimit: 256,
        });
        assert.deepStrictEqual(ok({ container: {} }).container, DEFAULTS.container);
    });

    it("the registry's own memory is a soft limit; the hard limit defaults to four times it, never below it", () => {
        assert.deepStrictEqual(ok({}).container, { runAs: { uid: 10000, gid: 10000 }, memoryMb: 1024, memoryLimitMb: 4096, pidsLimit: 1024 });
        assert.deepStrictEqual(ok({ container: { memoryMb: 2048 } }).container, { ...DEFAULTS.container, memoryMb: 2048, memoryLimitMb: 8192 });
        assert.equal(ok({ container: { memoryMb: 512, memoryLimitMb: 512 } }).container.memoryLimitMb, 512, "equal is allowed");
        assert.deepEqual(problems({ container: { memoryMb: 2048, memoryLimitMb: 1024 } }), [
            "private-registry:container.memoryLimitMb must be at least container.memoryMb (2048), got 1024",
        ]);
        assert.match(problems({ container: { memoryLimitMb: 32 } })[0], /^private-registry:container\.memoryLimitMb must be an integer 64-4194304/);
    });
});

describe("objectStore", () => {
    const s3 = { driver: "s3", region: "us-east-1", bucket: "b", regionEndpoint: "http://rgw.internal:7480", accessKey: "AK", secretKey: "SK" };
    const swift = {
        driver: "swift",
        authUrl: "http://rgw.internal:7480/auth/v1",
        username: "demo:swift",
        password: "pw",
        container: "registry",
        authVersion: 1,
    };
    const base = { image: "registry:2.8.3" };
    it("on s3: the bucket is made sure to exist and kept on destroy unless the stack says otherwise", () => {
        assert.deepEqual(ok({ ...base, storage: s3 }, ["storage"]).objectStore, { ensureBucket: true, deleteBucketOnDestroy: false });
        assert.deepEqual(ok({ ...base, storage: s3, objectStore: { deleteBucketOnDestroy: true } }, ["storage"]).objectStore, {
            ensureBucket: true,
            deleteBucketOnDestroy: true,
        });
        assert.deepEqual(ok({ ...base, storage: s3, objectStore: { ensureBucket: false } }, ["storage"]).objectStore, {
            ensureBucket: false,
            deleteBucketOnDestroy: false,
        });
    });

    it("on swift the driver makes its container: no bucket keys; on filesystem no objectStore at all", () => {
        assert.deepEqual(ok({ ...base, storage: swift }, ["storage"]).objectStore, { ensureBucket: false, deleteBucketOnDestroy: false });
        assert.deepEqual(problems({ ...base, storage: swift, objectStore: { ensureBucket: true } }, ["storage"]), [
            "private-registry:objectStore.ensureBucket applies to storage.driver s3 only (the Swift driver creates its container itself)",
        ]);
        assert.equal(ok({ ...base }).objectStore, undefined);
        assert.deepEqual(problems({ ...base, objectStore: { ensureBucket: true } }), [
            "private-registry:objectStore applies to storage.driver s3 or swift only, and storage.driver is filesystem",
        ]);
    });

    it("refuses deleting a bucket it does not manage, a misspelt key, and anything but a certificate as the CA", () => {
        assert.deepEqual(problems({ ...base, storage: s3, objectStore: { ensureBucket: false, deleteBucketOnDestroy: true } }, ["storage"]), [
            "private-registry:objectStore.deleteBucketOnDestroy needs ensureBucket: the program deletes only a bucket it manages",
        ]);
        assert.match(
            problems({ ...base, storage: s3, objectStore: { deleteBucket: true } }, ["storage"])[0],
            /objectStore.*deleteBucket.*deleteBucketOnDestroy/,
        );
        assert.match(
            problems({ ...base, storage: s3, objectStore: { caCertificate: "not pem" } }, ["storage"])[0],
            /objectStore\.caCertificate must be a PEM certificate/,
        );
    });

    it("takes the object store's CA", async () => {
        const key = String((await privateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" })).outputs.privateKeyPem);
        const pem = String(
            (
                await selfSignedCert({
                    privateKeyPem: key,
                    isCaCertificate: true,
                    subject: { commonName: "RGW CA" },
                    validityPeriodHours: 24,
                    allowedUses: ["cert_signing"],
                })
            ).outputs.certPem,
        );
        assert.equal(ok({ ...base, storage: s3, objectStore: { caCertificate: pem } }, ["storage"]).objectStore?.caCertPem, `${pem.trim()}\n`);
    });
});
