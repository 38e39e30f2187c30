/** `parseSettings`: defaults, example stacks. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseSettings } from "../../settings";
import { revealSecrets } from "../../components/secret";
import { root, validDir, SSH_KEY, ok, stackFile, DEFAULTS } from "./support";

describe("defaults", () => {
    it("an empty config is the dev-like registry: local engine, localhost:5000, TLS, one generated user, a kept volume", () => {
        assert.deepStrictEqual(ok({}), DEFAULTS);
    });

    it("the data volume is named after the container", () => {
        assert.deepStrictEqual(ok({ containerName: "registry" }).data, { kind: "volume", volumeName: "registry-data", keepOnDestroy: true });
    });

    it("the valid dev-like example only narrows bindAddress", () => {
        const s = parseSettings(stackFile(path.join(validDir, "dev-like.yaml")));
        assert.deepStrictEqual(s, { ...DEFAULTS, bindAddress: "127.0.0.1" });
    });
});

describe("example stacks", () => {
    it("every file in test/fixtures/valid-configs parses", () => {
        const files = fs.readdirSync(validDir).filter((f) => f.endsWith(".yaml"));
        assert.ok(files.length >= 3);
        for (const f of files) assert.doesNotThrow(() => parseSettings(stackFile(path.join(validDir, f))), f);
    });

    it("prod-like: remote engine over ssh, s3 on Ceph RGW, two users, three clients with merged daemon.json", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        assert.deepStrictEqual(s.docker, { host: "ssh://deploy@registry-01.prod.example.internal:22", sshOpts: ["-o", "StrictHostKeyChecking=yes"] });
        assert.equal(s.registryVersion, 3);
        assert.equal(s.port, 443);
        assert.deepStrictEqual(s.hostnames, ["registry.prod.example.internal", "registry"]);
        assert.deepStrictEqual(s.tls.ca, {
            mode: "generate",
            algorithm: "ECDSA",
            rsaBits: 4096,
            ecdsaCurve: "P384",
            commonName: "Prod Registry CA",
            organization: "Example Corp",
            validityHours: 43800,
            generation: 1,
        });
        assert.equal(s.tls.minimumTls, "tls1.3");
        assert.deepStrictEqual(revealSecrets(s.storage), {
            driver: "s3",
            region: "us-east-1",
            bucket: "registry-prod",
            regionEndpoint: "http://rgw.prod.example.internal:7480",
            forcePathStyle: true,
            v4Auth: true,
            secure: false,
            chunkSize: 10485760,
            accessKey: "RGW-ACCESS-KEY-PROD",
            secretKey: "RGW-SECRET-KEY-PROD-0123456789",
        });
        assert.deepStrictEqual(
            s.users.map((u) => [u.name, u.passwordLength, u.password?.reveal()]),
            [
                ["ci", 40, undefined],
                ["ops", 32, "OPS-PASSWORD-correct-horse"],
            ],
        );
        assert.deepStrictEqual(s.registry.headers, { "Strict-Transport-Security": ["max-age=31536000"] });
        assert.deepStrictEqual(s.registry.uploadPurging, { enabled: true, age: "168h", interval: "24h", dryRun: false });
        assert.equal(s.registry.debugPort, 5001);
        assert.equal(s.registry.prometheus, true);
        assert.deepStrictEqual(
            s.clients.map(({ hostKey, insecureSkipHostKeyCheck, ...c }) => ({
                ...c,
                privateKey: c.privateKey?.reveal().includes("QVBQMDEtS0VZ") ? "own" : "default",
            })),
            [
                {
                    name: "build-01",
                    host: "10.40.0.21",
                    port: 22,
                    user: "root",
                    privateKey: "default",
                    sudo: false,
                    loginAs: "ci",
                    daemonJson: { maxConcurrentDownloads: 6, maxConcurrentUploads: 3, liveRestore: true, logOpts: { "max-size": "10m" } },
                },
                {
                    name: "build-02",
                    host: "10.40.0.22",
                    port: 22,
                    user: "root",
                    privateKey: "default",
                    sudo: false,
                    loginAs: "ci",
                    daemonJson: { maxConcurrentDownloads: 12, maxConcurrentUploads: 3, liveRestore: true, logOpts: { "max-size": "10m" } },
                },
                {
                    name: "app-01",
                    host: "app-01.prod.example.internal",
                    port: 2222,
                    user: "deploy",
                    privateKey: "own",
                    sudo: true,
                    loginAs: "ops",
                    daemonJson: { maxConcurrentDownloads: 6, maxConcurrentUploads: 3, liveRestore: true, logOpts: { "max-size": "10m" } },
                },
            ],
        );
    });

    it("v2-swift: distribution 2.8 on RGW's Swift API, v2 redis, a client without login", () => {
        const s = parseSettings(stackFile(path.join(validDir, "v2-swift.yaml")));
        assert.equal(s.registryVersion, 2);
        assert.deepStrictEqual(s.ipAddresses, []);
        assert.deepStrictEqual(revealSecrets(s.storage), {
            driver: "swift",
            authUrl: "http://rgw.lab.example:7480/auth/v1",
            username: "registry:swift",
            password: "SWIFT-PASSWORD-lab",
            container: "registry",
            authVersion: 1,
        });
        assert.equal(s.registry.blobDescriptorCache, "redis");
        assert.deepStrictEqual(revealSecrets(s.registry.redis), {
            addrs: ["redis.lab.example:6379"],
            db: 2,
            dialTimeout: "5s",
            maxIdle: 16,
            maxActive: 64,
            idleTimeout: "300s",
        });
        assert.equal(s.clients[0].loginAs, undefined);
    });

    it("the project's own stack files parse (prod and e2e with their secrets set)", () => {
        assert.doesNotThrow(() => parseSettings(stackFile(path.join(root, "Pulumi.dev.yaml"))));
        const prod = parseSettings(stackFile(path.join(root, "Pulumi.prod.yaml"), { sshPrivateKey: SSH_KEY }));
        assert.ok(
            prod.clients.every((c) => c.hostKey?.endsWith(" replace-with-the-host-key")),
            "prod pins every client to a placeholder the operator replaces",
        );
        assert.doesNotThrow(() => parseSettings(stackFile(path.join(root, "Pulumi.e2e.yaml"), { sshPrivateKey: SSH_KEY })));
    });
});
