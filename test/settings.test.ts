/**
 * `parseSettings` on valid configs: the defaults, the example stacks, each key's happy path, and
 * secret handling. Pure: no Pulumi runtime. (Invalid configs: settings.corpus.test.ts.)
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { inspect } from "node:util";
import { renderRegistryConfig } from "../components/render/registryConfig";
import { readStackConfig } from "../scripts/stackFile";
import { certRequest, locallySignedCert, privateKey, selfSignedCert } from "../scripts/offline/tls";
import { NAMESPACE, parseSettings, SettingsError, type RawConfig } from "../settings";
import { hostKeyProblem } from "../settings/ssh";
import { MAX_BUNDLE_BYTES, MAX_NESTING, MAX_VALUE_BYTES } from "../settings/limits";
import { foreignKeyWarnings } from "../settings/namespaces";
import { revealSecrets } from "../components/secret";
import { Secret, type Settings } from "../components/args";

const root = path.join(__dirname, "..");
const validDir = path.join(__dirname, "fixtures", "valid-configs");

const SSH_KEY = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const SSH_KEY_2 = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";

/** A well-formed ed25519 host key (32 zero bytes). */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/**
 * Clients that say nothing about host keys get {@link HOST_KEY}, as any real stack must give one:
 * the cases about other keys stay as they are. The host-key cases say what they mean.
 */
function pinned(clients: unknown): unknown {
    if (!Array.isArray(clients)) return clients;
    const isBare = (c: unknown) => typeof c === "object" && c !== null && !Array.isArray(c) && !("hostKey" in c) && !("insecureSkipHostKeyCheck" in c);
    return clients.map((c) => (isBare(c) ? { ...c, hostKey: HOST_KEY } : c));
}

/** A RawConfig from short keys; objects and lists become JSON, other values their text; clients {@link pinned}. */
function raw(values: Record<string, unknown>, secretKeys: string[] = []): RawConfig {
    const withKeys = values.clients === undefined ? values : { ...values, clients: pinned(values.clients) };
    return {
        values: Object.fromEntries(Object.entries(withKeys).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        secretKeys: new Set(secretKeys),
    };
}

/** Parses, failing the test with the full problem list if the config is refused. */
function ok(values: Record<string, unknown>, secretKeys: string[] = [], now?: Date): Settings {
    try {
        return parseSettings(raw(values, secretKeys), { now });
    } catch (e) {
        assert.fail(e instanceof SettingsError ? e.message : String(e));
    }
}

/** The problems of a refused config, as `key message` lines. */
function problems(values: Record<string, unknown>, secretKeys: string[] = [], now?: Date): string[] {
    try {
        parseSettings(raw(values, secretKeys), { now });
    } catch (e) {
        assert.ok(e instanceof SettingsError, String(e));
        return e.problems.map((p) => `${p.key} ${p.message}`);
    }
    assert.fail("the config was accepted");
}

/** A stack file as the program reads it, with `setSecret` set; its clients {@link pinned}. */
function stackFile(file: string, setSecret: Record<string, string> = {}): RawConfig {
    const cfg = readStackConfig(file, { namespace: NAMESPACE, secureIsPlaintext: true, setSecret });
    const short = (k: string) => k.slice(NAMESPACE.length + 1);
    const value = (k: string, v: string) => (k === "clients" ? JSON.stringify(pinned(JSON.parse(v))) : v);
    return {
        values: Object.fromEntries(Object.entries(cfg.values).map(([k, v]) => [short(k), value(short(k), v)])),
        secretKeys: new Set(cfg.secretKeys.map(short)),
    };
}

/** What an empty stack deploys. */
const DEFAULTS: Settings = {
    docker: { host: "unix:///var/run/docker.sock", sshOpts: [] },
    image: "registry:3.1.2",
    registryVersion: 3,
    keepImage: true,
    verify: true,
    containerName: "private-registry",
    replicas: 1,
    replicaHosts: [],
    hostnames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    port: 5000,
    bindAddress: "0.0.0.0",
    networks: [],
    tls: {
        enabled: true,
        minimumTls: "tls1.2",
        ca: {
            mode: "generate",
            algorithm: "RSA",
            rsaBits: 4096,
            ecdsaCurve: "P256",
            commonName: "private-registry CA",
            organization: "private-registry",
            validityHours: 87600,
            generation: 1,
        },
        certificate: { mode: "generate", algorithm: "RSA", rsaBits: 2048, ecdsaCurve: "P256", validityHours: 8760, earlyRenewalHours: 720 },
    },
    users: [{ name: "admin", password: undefined, passwordLength: 32, rotate: 0 }],
    storage: { driver: "filesystem" },
    data: { kind: "volume", volumeName: "private-registry-data", keepOnDestroy: true },
    container: { runAs: { uid: 10000, gid: 10000 }, memoryMb: 1024, pidsLimit: 1024 },
    registry: {
        logLevel: "info",
        realm: "private-registry",
        storageOptions: { deleteEnabled: true, blobDescriptorCache: "inmemory", readOnly: false, redirectDisable: false },
        storageHealthCheck: true,
        debugPort: undefined,
        prometheus: false,
        headers: {},
        notifications: [],
        proxy: undefined,
        redis: undefined,
    },
    clients: [],
    imports: [],
    // This machine reaches the local engine's published port on loopback.
    reachFromHere: "127.0.0.1",
    warnings: [],
};

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
        assert.deepStrictEqual(s.registry.storageOptions.uploadPurging, { enabled: true, age: "168h", interval: "24h", dryRun: false });
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
        assert.equal(s.registry.storageOptions.blobDescriptorCache, "redis");
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

describe("docker host and image", () => {
    it("accepts unix sockets and ssh:// with user, port, IPv6", () => {
        for (const host of ["unix:///run/user/1000/docker.sock", "ssh://docker.example", "ssh://deploy@10.0.0.5:2222", "ssh://deploy@[fd00::5]:22"]) {
            assert.equal(ok({ dockerHost: host }).docker.host, host);
        }
        assert.deepStrictEqual(ok({ dockerHost: "ssh://d@h.example", dockerSshOpts: ["-i", "/k"] }).docker.sshOpts, ["-i", "/k"]);
    });

    it("reads the major version from the tag, or takes registryVersion", () => {
        const cases: [Record<string, unknown>, 2 | 3][] = [
            [{ image: "registry:2.8.3" }, 2],
            [{ image: "registry:3" }, 3],
            [{ image: "registry" }, 3],
            [{ image: "registry:latest" }, 3],
            [{ image: "ghcr.io/distribution/distribution:v2.8.2" }, 2],
            [{ image: "localhost:5000/mirror/registry:2.8" }, 2],
            [{ image: `registry:3.0.0@sha256:${"a".repeat(64)}` }, 3],
            [{ image: `registry@sha256:${"b".repeat(64)}`, registryVersion: 2 }, 2],
            [{ image: "my-org/registry:stable", registryVersion: "3" }, 3],
            [{ image: "registry:3.1.2", registryVersion: 3 }, 3],
        ];
        for (const [values, v] of cases) assert.equal(ok(values).registryVersion, v, JSON.stringify(values));
    });

    it("keepImage and containerName", () => {
        const s = ok({ keepImage: false, containerName: "Registry_1.prod-a" });
        assert.equal(s.keepImage, false);
        assert.equal(s.containerName, "Registry_1.prod-a");
        assert.equal(ok({ keepImage: "true" }).keepImage, true);
    });
});

describe("endpoint", () => {
    it("hostnames, IPv4 and IPv6 addresses, a certificate with only an IP", () => {
        const s = ok({ hostnames: ["registry.example.internal", "registry", "xn--bcher-kva.example"], ipAddresses: ["10.0.0.5", "fd00::5"] });
        assert.deepStrictEqual(s.hostnames, ["registry.example.internal", "registry", "xn--bcher-kva.example"]);
        assert.deepStrictEqual(s.ipAddresses, ["10.0.0.5", "fd00::5"]);
        assert.deepStrictEqual(ok({ hostnames: [], ipAddresses: ["10.0.0.5"] }).hostnames, []);
        assert.deepStrictEqual(ok({ hostnames: ["r.example"], ipAddresses: [] }).ipAddresses, []);
    });

    it("port: the whole range, as text or number", () => {
        for (const [v, n] of [
            ["1", 1],
            ["443", 443],
            ["65535", 65535],
            [5443, 5443],
        ] as const)
            assert.equal(ok({ port: v }).port, n);
    });

    it("bindAddress and networks", () => {
        assert.equal(ok({ bindAddress: "::" }).bindAddress, "::");
        assert.deepStrictEqual(ok({ networks: [{ name: "backend", ipv4Address: "10.231.77.2", aliases: ["registry.test"] }, { name: "frontend" }] }).networks, [
            { name: "backend", ipv4Address: "10.231.77.2", aliases: ["registry.test"] },
            { name: "frontend", ipv4Address: undefined, aliases: [] },
        ]);
    });
});

describe("tls", () => {
    it("generated CA and certificate: every field", () => {
        const s = ok({
            tls: {
                minimumTls: "tls1.3",
                ca: { algorithm: "ECDSA", ecdsaCurve: "P384", commonName: "Lab CA", organization: "Lab", validityHours: 1000 },
                certificate: { algorithm: "RSA", rsaBits: 4096, validityHours: 500, earlyRenewalHours: 0 },
            },
        });
        assert.deepStrictEqual(s.tls, {
            enabled: true,
            minimumTls: "tls1.3",
            ca: {
                mode: "generate",
                algorithm: "ECDSA",
                rsaBits: 4096,
                ecdsaCurve: "P384",
                commonName: "Lab CA",
                organization: "Lab",
                validityHours: 1000,
                generation: 1,
            },
            certificate: { mode: "generate", algorithm: "RSA", rsaBits: 4096, ecdsaCurve: "P256", validityHours: 500, earlyRenewalHours: 0 },
        });
    });

    it("tls.enabled: false serves plain HTTP; clients then do not log in by default", () => {
        const s = ok({ tls: { enabled: false }, sshPrivateKey: SSH_KEY, clients: [{ name: "a", host: "10.0.0.5" }] }, ["sshPrivateKey"]);
        assert.equal(s.tls.enabled, false);
        assert.equal(s.clients[0].loginAs, undefined);
        assert.equal(
            ok({ tls: { enabled: false }, sshPrivateKey: SSH_KEY, clients: [{ name: "a", host: "h", login: false }] }, ["sshPrivateKey"]).clients[0].loginAs,
            undefined,
        );
    });

    describe("supplied certificates (real ones, made here)", () => {
        let pki: Awaited<ReturnType<typeof makePki>>;
        before(async () => {
            pki = await makePki();
        });

        it("adopts an existing CA", () => {
            const s = ok({ caCertificate: pki.caCert, caPrivateKey: pki.caKey }, ["caPrivateKey"]);
            assert.equal(s.tls.ca.mode, "existing");
            assert.ok(s.tls.ca.mode === "existing" && s.tls.ca.keyPem instanceof Secret && s.tls.ca.keyPem.reveal() === pki.caKey);
            assert.equal(s.tls.certificate.mode, "generate");
        });

        it("takes a bring-your-own certificate with the CA that issued it", () => {
            const s = ok({ ...pki.endpoint, serverCertificate: pki.cert, serverPrivateKey: pki.key, serverCaCertificate: pki.caCert }, ["serverPrivateKey"]);
            assert.deepStrictEqual({ ...s.tls.certificate, keyPem: undefined }, { mode: "existing", certPem: pki.cert, keyPem: undefined, caPem: pki.caCert });
        });

        it("takes a bring-your-own certificate issued by the adopted CA, and a leaf + intermediate bundle", () => {
            ok({ ...pki.endpoint, caCertificate: pki.caCert, caPrivateKey: pki.caKey, serverCertificate: pki.cert, serverPrivateKey: pki.key }, [
                "caPrivateKey",
                "serverPrivateKey",
            ]);
            ok({ ...pki.endpoint, serverCertificate: pki.chainedCert, serverPrivateKey: pki.key, serverCaCertificate: pki.caCert }, ["serverPrivateKey"]);
        });

        it("refuses a certificate that misses a hostname, a wrong key, a foreign CA, a non-CA, an expired one", () => {
            const byo = { serverCertificate: pki.cert, serverPrivateKey: pki.key, serverCaCertificate: pki.caCert };
            assert.match(
                problems({ ...byo, hostnames: ["other.example"], ipAddresses: ["10.9.9.9"] }, ["serverPrivateKey"]).join("\n"),
                /serverCertificate does not cover other\.example, 10\.9\.9\.9/,
            );
            assert.match(
                problems({ ...pki.endpoint, ...byo, serverPrivateKey: pki.otherKey }, ["serverPrivateKey"]).join("\n"),
                /serverPrivateKey does not belong to serverCertificate/,
            );
            assert.match(
                problems({ ...pki.endpoint, ...byo, serverCaCertificate: pki.otherCa }, ["serverPrivateKey"]).join("\n"),
                /serverCertificate was not issued by serverCaCertificate/,
            );
            assert.match(problems({ caCertificate: pki.cert, caPrivateKey: pki.key }, ["caPrivateKey"]).join("\n"), /caCertificate is not a CA certificate/);
            assert.match(
                problems({ caCertificate: pki.caCert, caPrivateKey: pki.otherKey }, ["caPrivateKey"]).join("\n"),
                /caPrivateKey does not belong to caCertificate/,
            );
            const later = new Date(Date.now() + 48 * 3600_000);
            assert.match(problems({ ...pki.endpoint, ...byo }, ["serverPrivateKey"], later).join("\n"), /serverCertificate expired on/);
        });
    });
});

/** A CA, an intermediate, a server certificate for registry.test/10.0.0.5 and unrelated material; valid 24 h. */
async function makePki() {
    const rsa = () => privateKey({ algorithm: "RSA", rsaBits: 2048 }).outputs.privateKeyPem as string;
    const ec = () => privateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" }).outputs.privateKeyPem as string;
    const caUses = ["cert_signing", "crl_signing", "digital_signature"];
    const selfSigned = async (key: string, cn: string) =>
        (await selfSignedCert({ privateKeyPem: key, isCaCertificate: true, subject: { commonName: cn }, validityPeriodHours: 24, allowedUses: caUses })).outputs
            .certPem as string;
    const issue = async (key: string, ca: string, caKey: string, extra: Record<string, unknown>) => {
        const csr = (await certRequest({ privateKeyPem: key, subject: { commonName: "registry.test" }, ...extra })).outputs.certRequestPem;
        return (await locallySignedCert({ certRequestPem: csr, caCertPem: ca, caPrivateKeyPem: caKey, validityPeriodHours: 24, ...extra })).outputs
            .certPem as string;
    };
    const caKey = ec();
    const caCert = await selfSigned(caKey, "Test CA");
    const key = rsa();
    const serverUses = { allowedUses: ["digital_signature", "key_encipherment", "server_auth"], dnsNames: ["registry.test"], ipAddresses: ["10.0.0.5"] };
    const cert = await issue(key, caCert, caKey, serverUses);
    const midKey = ec();
    const mid = await issue(midKey, caCert, caKey, { isCaCertificate: true, allowedUses: caUses });
    const chainedCert = (await issue(key, mid, midKey, serverUses)) + mid;
    const otherKey = ec();
    return {
        caKey,
        caCert,
        key,
        cert,
        chainedCert,
        otherKey,
        otherCa: await selfSigned(otherKey, "Other CA"),
        endpoint: { hostnames: ["registry.test"], ipAddresses: ["10.0.0.5"] },
    };
}

describe("users", () => {
    it("generated and supplied passwords; names may hold dots, @ and unicode", () => {
        const s = ok({ users: [{ name: "ci.bot@example" }, { name: "ops", password: "pw-ops-1-long" }, { name: "zoë", passwordLength: 72 }] }, ["users"]);
        assert.deepStrictEqual(
            s.users.map((u) => [u.name, u.passwordLength, u.password instanceof Secret]),
            [
                ["ci.bot@example", 32, false],
                ["ops", 32, true],
                ["zoë", 72, false],
            ],
        );
        assert.equal(s.users[1].password?.reveal(), "pw-ops-1-long");
    });

    it("a password of exactly 72 bytes is fine", () => {
        assert.equal(ok({ users: [{ name: "a", password: "p".repeat(72) }] }, ["users"]).users[0].password?.reveal().length, 72);
    });
});

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
        assert.deepStrictEqual(ok({ container: { user: "20000:20001", memoryMb: 512, pidsLimit: 256 } }).container, {
            runAs: { uid: 20000, gid: 20001 },
            memoryMb: 512,
            pidsLimit: 256,
        });
        assert.deepStrictEqual(ok({ container: { memoryMb: 2048 } }).container, { ...DEFAULTS.container, memoryMb: 2048 });
        assert.deepStrictEqual(ok({ container: {} }).container, DEFAULTS.container);
    });
});

describe("registry behaviour", () => {
    it("every field", () => {
        const s = ok(
            {
                registry: {
                    logLevel: "debug",
                    realm: "Lab Registry",
                    deleteEnabled: false,
                    blobDescriptorCache: "redis",
                    uploadPurging: { enabled: false },
                    readOnly: true,
                    redirectDisable: true,
                    storageHealthCheck: false,
                    debugPort: 5002,
                    prometheus: true,
                    headers: { "X-Frame-Options": ["DENY"] },
                    notifications: [
                        {
                            name: "audit",
                            url: "https://audit.example/events",
                            headers: { Authorization: ["Bearer t0ken"] },
                            timeout: "500ms",
                            threshold: 5,
                            backoff: "1s",
                            disabled: false,
                            ignoredMediaTypes: ["application/octet-stream"],
                        },
                    ],
                    proxy: { remoteUrl: "https://registry-1.docker.io", username: "hub", password: "hub-pw", ttl: "0" },
                    redis: { addrs: ["r1:6379", "[fd00::7]:6379"], username: "reg", password: "redis-pw", db: 1, readTimeout: "1s", writeTimeout: "1.5s" },
                },
                port: 5001,
            },
            ["registry"],
        );
        const r = s.registry;
        assert.equal(r.logLevel, "debug");
        assert.equal(r.realm, "Lab Registry");
        assert.deepStrictEqual(r.storageOptions, {
            deleteEnabled: false,
            blobDescriptorCache: "redis",
            readOnly: true,
            redirectDisable: true,
            uploadPurging: { enabled: false },
        });
        assert.equal(r.storageHealthCheck, false);
        assert.equal(r.debugPort, 5002);
        assert.equal(r.prometheus, true);
        assert.deepStrictEqual(r.headers, { "X-Frame-Options": ["DENY"] });
        assert.deepStrictEqual(revealSecrets(r.notifications[0]), {
            name: "audit",
            url: "https://audit.example/events",
            headers: { Authorization: ["Bearer t0ken"] },
            timeout: "500ms",
            threshold: 5,
            backoff: "1s",
            disabled: false,
            ignoredMediaTypes: ["application/octet-stream"],
        });
        assert.deepStrictEqual(revealSecrets(r.proxy), { remoteUrl: "https://registry-1.docker.io", username: "hub", password: "hub-pw", ttl: "0" });
        assert.deepStrictEqual(revealSecrets(r.redis), {
            addrs: ["r1:6379", "[fd00::7]:6379"],
            username: "reg",
            password: "redis-pw",
            db: 1,
            readTimeout: "1s",
            writeTimeout: "1.5s",
        });
    });

    it("durations in Go syntax", () => {
        for (const d of ["168h", "1h30m", "1.5s", "300ms", "10us", "10µs", "0"]) {
            assert.equal(ok({ registry: { uploadPurging: { enabled: true, age: d } } }).registry.storageOptions.uploadPurging?.age, d);
        }
    });
});

describe("clients and daemon.json", () => {
    it("defaults: port 22, root, no sudo, login as the first user, the top-level daemon.json", () => {
        const s = ok(
            {
                sshPrivateKey: SSH_KEY,
                users: [{ name: "first" }, { name: "second" }],
                daemonJson: { debug: true, registryMirrors: ["https://mirror.example:5000"] },
                clients: [{ name: "a", host: "a.example" }],
            },
            ["sshPrivateKey"],
        );
        assert.deepStrictEqual(
            { ...s.clients[0], privateKey: s.clients[0].privateKey?.reveal() },
            {
                name: "a",
                host: "a.example",
                port: 22,
                user: "root",
                privateKey: SSH_KEY,
                hostKey: HOST_KEY,
                insecureSkipHostKeyCheck: false,
                sudo: false,
                loginAs: "first",
                daemonJson: { debug: true, registryMirrors: ["https://mirror.example:5000"] },
            },
        );
    });

    it("a non-root user gets sudo unless told otherwise; login by name, true, false; own keys; per-client daemon.json", () => {
        const s = ok(
            {
                users: [{ name: "pusher" }, { name: "puller" }],
                daemonJson: { maxConcurrentDownloads: 3, logOpts: { "max-size": "10m" } },
                clients: [
                    { name: "a", host: "10.0.0.1", user: "deploy", privateKey: SSH_KEY, login: "puller" },
                    { name: "b", host: "10.0.0.1", port: 2222, user: "ops", sudo: false, privateKey: SSH_KEY_2, login: "true" },
                    {
                        name: "c",
                        host: "fd00::3",
                        privateKey: SSH_KEY,
                        login: false,
                        daemonJson: { maxConcurrentDownloads: 9, liveRestore: false, maxConcurrentUploads: 2 },
                    },
                ],
            },
            ["clients"],
        );
        assert.deepStrictEqual(
            s.clients.map((c) => [c.name, c.port, c.user, c.sudo, c.loginAs, c.privateKey?.reveal() === SSH_KEY_2]),
            [
                ["a", 22, "deploy", true, "puller", false],
                ["b", 2222, "ops", false, "pusher", true],
                ["c", 22, "root", false, undefined, false],
            ],
        );
        assert.deepStrictEqual(s.clients[2].daemonJson, {
            maxConcurrentDownloads: 9,
            logOpts: { "max-size": "10m" },
            liveRestore: false,
            maxConcurrentUploads: 2,
        });
        assert.deepStrictEqual(s.clients[0].daemonJson, { maxConcurrentDownloads: 3, logOpts: { "max-size": "10m" } });
    });

    it("accepts PEM (PKCS#1, SEC1, PKCS#8) and OpenSSH private keys", () => {
        const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }).toString();
        for (const key of [rsa, ec, SSH_KEY, SSH_KEY_2]) assert.equal(ok({ sshPrivateKey: key }, ["sshPrivateKey"]).clients.length, 0);
    });
});

describe("client SSH: host keys, logins, bastion", () => {
    /** The SSH wire encoding of a public key blob. */
    const wire = (...parts: Buffer[]) => Buffer.concat(parts.flatMap((p) => [Buffer.from([0, 0, 0, p.length]), p]));
    const ecdsa = (curve: "P-256" | "P-384" | "P-521", name: string) => {
        const jwk = crypto.generateKeyPairSync("ec", { namedCurve: curve }).publicKey.export({ format: "jwk" });
        const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
        return `ecdsa-sha2-${name} ${wire(Buffer.from(`ecdsa-sha2-${name}`), Buffer.from(name), point).toString("base64")}`;
    };
    const ed25519 = () => {
        const der = crypto.generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" });
        return `ssh-ed25519 ${wire(Buffer.from("ssh-ed25519"), der.subarray(-32)).toString("base64")}`;
    };
    /** Exactly these clients: nothing pinned for them. */
    const parse = (clients: unknown[], extra: Record<string, unknown> = { sshPrivateKey: SSH_KEY }, secret = ["sshPrivateKey"]) =>
        parseSettings({
            values: Object.fromEntries(Object.entries({ ...extra, clients }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
            secretKeys: new Set(secret),
        });
    const refused = (clients: unknown[], key: string, re: RegExp, extra?: Record<string, unknown>, secret?: string[]) => {
        try {
            parse(clients, extra, secret);
        } catch (e) {
            assert.ok(e instanceof SettingsError, String(e));
            const p = e.problems.find((x) => x.key === `private-registry:${key}`);
            assert.ok(p, `no problem at ${key}: ${e.message}`);
            assert.match(p.message, re);
            return;
        }
        assert.fail(`accepted: ${JSON.stringify(clients)}`);
    };
    const encrypted = `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.concat([Buffer.from("openssh-key-v1\0"), wire(Buffer.from("aes256-ctr"), Buffer.from("bcrypt"))]).toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`;

    it("takes ed25519 and ECDSA host keys in authorized_keys form, with or without a comment, not as a secret", () => {
        for (const key of [
            ed25519(),
            `${ed25519()} root@build-01`,
            ecdsa("P-256", "nistp256"),
            ecdsa("P-384", "nistp384"),
            ecdsa("P-521", "nistp521"),
            `  ${HOST_KEY}  `,
        ]) {
            const c = parse([{ name: "a", host: "10.0.0.5", hostKey: key }]).clients[0];
            assert.equal(c.hostKey, key.trim());
            assert.equal(c.insecureSkipHostKeyCheck, false);
        }
    });

    it("requires a host key and refuses anything but one public key, naming the key", () => {
        refused([{ name: "a", host: "10.0.0.5" }], "clients[0].hostKey", /is required .*ssh-keyscan -t ed25519.*insecureSkipHostKeyCheck: true/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: `10.0.0.5 ${HOST_KEY}` }], "clients[0].hostKey", /starts with a host name/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-rsa AAAAB3NzaC1yc2E" }], "clients[0].hostKey", /not a valid ssh-rsa public key/);
        const small = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "pkcs1", format: "der" });
        const rsaLine = (der: Buffer) => {
            // e and n from the PKCS#1 DER, then the SSH wire form: string "ssh-rsa", mpint e, mpint n.
            const jwk = crypto.createPublicKey({ key: der, format: "der", type: "pkcs1" }).export({ format: "jwk" }) as { e: string; n: string };
            const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b]);
            const mpint = (b64: string) => {
                const b = Buffer.from(b64, "base64url");
                return str(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
            };
            return `ssh-rsa ${Buffer.concat([str(Buffer.from("ssh-rsa")), mpint(jwk.e), mpint(jwk.n)]).toString("base64")}`;
        };
        refused([{ name: "a", host: "10.0.0.5", hostKey: rsaLine(small) }], "clients[0].hostKey", /RSA key of 1024 bits; a host key needs at least 2048/);
        const big = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "pkcs1", format: "der" });
        assert.equal(hostKeyProblem(rsaLine(big)), undefined, "a 2048-bit RSA host key is accepted (checked with rsa-sha2 signatures)");
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-dss AAAAB3NzaC1kc3M=" }], "clients[0].hostKey", /must be a public host key/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-ed25519" }], "clients[0].hostKey", /has no key/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA" }], "clients[0].hostKey", /not a valid ssh-ed25519/);
        const ec = ecdsa("P-256", "nistp256").split(" ")[1];
        refused([{ name: "a", host: "10.0.0.5", hostKey: `ssh-ed25519 ${ec}` }], "clients[0].hostKey", /encoded type differs/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: `${HOST_KEY}\n${HOST_KEY}` }], "clients[0].hostKey", /one line/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: 5 }], "clients[0].hostKey", /must be a string/);
    });

    it("insecureSkipHostKeyCheck: true connects unchecked and warns naming the host and its bastion; it contradicts a pinned key", () => {
        const s = parse([{ name: "a", host: "10.0.0.5", port: 2222, insecureSkipHostKeyCheck: true, proxy: { host: "10.0.0.1" } }], {
            sshPrivateKey: SSH_KEY,
            hostnames: ["registry.example"],
        });
        assert.equal(s.clients[0].hostKey, undefined);
        assert.equal(s.clients[0].insecureSkipHostKeyCheck, true);
        assert.deepStrictEqual(s.warnings, [
            "private-registry:clients[0].insecureSkipHostKeyCheck is true: the SSH host key of a (10.0.0.5:2222) is not checked, nor that of its bastion 10.0.0.1:22, so whoever answers at that address gets the steps' commands and the registry password (docker login's stdin); set clients[0].hostKey instead (ssh-keyscan -t ed25519 <host>, without the leading host name)",
        ]);
        assert.equal(parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, insecureSkipHostKeyCheck: false }]).warnings.length, 1, "only the loopback one");
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, insecureSkipHostKeyCheck: true }], "clients[0].hostKey", /contradicts/);
        refused(
            [{ name: "a", host: "10.0.0.5", insecureSkipHostKeyCheck: true, proxy: { host: "b", hostKey: HOST_KEY } }],
            "clients[0].proxy.hostKey",
            /contradicts/,
        );
        refused([{ name: "a", host: "10.0.0.5", insecureSkipHostKeyCheck: "maybe" }], "clients[0].insecureSkipHostKeyCheck", /must be true or false/);
    });

    it("a bastion: host, port 22 and root by default, its own host key required", () => {
        const c = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "bastion.example", hostKey: HOST_KEY } }]).clients[0];
        assert.deepStrictEqual(c.proxy, { host: "bastion.example", port: 22, user: "root", hostKey: HOST_KEY });
        const d = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "fd00::1", port: 2200, user: "jump", hostKey: HOST_KEY } }])
            .clients[0];
        assert.deepStrictEqual(d.proxy, { host: "fd00::1", port: 2200, user: "jump", hostKey: HOST_KEY });
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "b" } }], "clients[0].proxy.hostKey", /is required .*bastion's public key/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { hostKey: HOST_KEY } }], "clients[0].proxy.host", /is required/);
        refused(
            [{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "b", hostKey: HOST_KEY, hostkey: 1 } }],
            "clients[0].proxy.hostkey",
            /not a known key/,
        );
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: "b" }], "clients[0].proxy", /must be an object/);
    });

    it("logins: a key (own or sshPrivateKey), ssh-agent by $SSH_AUTH_SOCK or a path; one of them is required", () => {
        const agentOnly = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: true }], {}).clients[0];
        assert.equal(agentOnly.privateKey, undefined);
        assert.equal(agentOnly.sshAgent, true);
        const path = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: "/run/user/1000/agent.sock" }]).clients[0];
        assert.equal(path.sshAgent, "/run/user/1000/agent.sock");
        assert.equal(path.privateKey?.reveal(), SSH_KEY, "the key is still offered first");
        assert.equal(parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: false }]).clients[0].sshAgent, undefined);
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY }], "clients[0].privateKey", /sshPrivateKey or clients\[0\]\.sshAgent/, {});
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: false }], "clients[0].privateKey", /is required/, {});
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: "agent.sock" }], "clients[0].sshAgent", /absolute path/);
    });

    it("privateKeyPassword: a secret, for the client's own passphrase-protected key only", () => {
        const own = (extra: Record<string, unknown>) => [{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, ...extra }];
        const c = parse(own({ privateKey: encrypted, privateKeyPassword: "correct horse" }), {}, ["clients"]).clients[0];
        assert.ok(c.privateKeyPassword instanceof Secret);
        assert.equal(c.privateKeyPassword.reveal(), "correct horse");
        assert.equal(c.privateKey?.reveal(), encrypted);
        const pem = crypto
            .generateKeyPairSync("rsa", {
                modulusLength: 2048,
                publicKeyEncoding: { type: "spki", format: "pem" },
                privateKeyEncoding: { type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" },
            })
            .privateKey.toString();
        assert.equal(parse(own({ privateKey: pem, privateKeyPassword: "pw" }), {}, ["clients"]).clients[0].privateKey?.reveal(), pem);
        refused(own({ privateKey: encrypted, privateKeyPassword: "correct horse" }), "clients[0].privateKeyPassword", /must be set as a secret/, {});
        refused(own({ privateKeyPassword: "correct horse" }), "clients[0].privateKeyPassword", /own privateKey/, { sshPrivateKey: SSH_KEY }, [
            "sshPrivateKey",
            "clients",
        ]);
        refused(own({ privateKey: SSH_KEY, privateKeyPassword: "x" }), "clients[0].privateKey", /not passphrase-protected/, {}, ["clients"]);
        refused(own({ privateKey: encrypted }), "clients[0].privateKey", /set clients\[0\]\.privateKeyPassword/, {}, ["clients"]);
        const pkcs8 = crypto
            .generateKeyPairSync("ed25519", {
                privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" },
                publicKeyEncoding: { type: "spki", format: "pem" },
            })
            .privateKey.toString();
        refused(own({ privateKey: pkcs8, privateKeyPassword: "pw" }), "clients[0].privateKey", /PKCS#8/, {}, ["clients"]);
    });
});

describe("secrets", () => {
    const SECRETS = ["OPS-PASSWORD-correct-horse", "RGW-ACCESS-KEY-PROD", "RGW-SECRET-KEY-PROD-0123456789", "REFQTE9ZLUtFWS1QUk9E", "QVBQMDEtS0VZ"];

    it("secret values become Secret instances", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        assert.ok(s.users[1].password instanceof Secret);
        for (const c of s.clients) assert.ok(c.privateKey instanceof Secret);
        assert.equal(String(s.users[1].password), "[secret]");
        assert.ok(s.storage.driver === "s3" && s.storage.accessKey instanceof Secret && s.storage.secretKey instanceof Secret);
        const r = ok(
            {
                registry: {
                    notifications: [{ name: "n", url: "https://n.example", headers: { Authorization: ["Bearer t"] } }],
                    proxy: { remoteUrl: "https://r.example", username: "u", password: "p" },
                    redis: { addrs: ["r:6379"], password: "p" },
                },
            },
            ["registry"],
        ).registry;
        assert.ok(r.notifications[0].headers?.Authorization[0] instanceof Secret);
        assert.ok(r.proxy?.password instanceof Secret && r.redis?.password instanceof Secret);
    });

    it("JSON.stringify and util.inspect of the settings print no secret value", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        const extra = ok(
            {
                storage: { driver: "azure", accountName: "acct", accountKey: "AZURE-KEY-SECRET", container: "c" },
                registry: {
                    notifications: [{ name: "n", url: "https://n.example", headers: { Authorization: ["Bearer NOTIFY-TOKEN-SECRET"] } }],
                    proxy: { remoteUrl: "https://r.example", username: "u", password: "PROXY-PW-SECRET" },
                    redis: { addrs: ["r:6379"], password: "REDIS-PW-SECRET" },
                },
            },
            ["storage", "registry"],
        );
        const spread = { ...s, storage: { ...s.storage }, registry: { ...extra.registry, proxy: { ...extra.registry.proxy } } };
        for (const text of [
            JSON.stringify(s),
            inspect(s, { depth: null }),
            JSON.stringify(extra),
            inspect(extra, { depth: null }),
            JSON.stringify(spread),
            inspect(spread, { depth: null }),
        ]) {
            for (const secret of [...SECRETS, "AZURE-KEY-SECRET", "NOTIFY-TOKEN-SECRET", "PROXY-PW-SECRET", "REDIS-PW-SECRET"]) {
                assert.ok(!text.includes(secret), `${secret} printed`);
            }
        }
        assert.match(JSON.stringify(s.storage), /"secretKey":"\[secret\]"/);
    });

    it("the renderer receives the credentials once they are revealed", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        const yaml = renderRegistryConfig({ version: s.registryVersion, storage: revealSecrets(s.storage), http: { addr: ":5000" } });
        assert.match(yaml, /secretkey: RGW-SECRET-KEY-PROD-0123456789/);
        assert.match(yaml, /accesskey: RGW-ACCESS-KEY-PROD/);
    });

    it("refuses private keys set as plain config, naming the command", () => {
        const p = problems({
            sshPrivateKey: SSH_KEY,
            caCertificate: "x",
            caPrivateKey: SSH_KEY,
            serverCertificate: "x",
            serverPrivateKey: SSH_KEY,
            serverCaCertificate: "x",
        }).join("\n");
        for (const k of ["sshPrivateKey", "caPrivateKey", "serverPrivateKey"]) {
            assert.match(
                p,
                new RegExp(`private-registry:${k} holds an? [a-zA-Z ]*private key and must be set as a secret: pulumi config set --secret ${k} <value>`),
            );
        }
    });

    it("never quotes a secret value in an error, even when the whole value is unreadable", () => {
        const secretKeys = ["users", "storage", "clients", "registry", "sshPrivateKey"];
        let message = "";
        try {
            parseSettings({
                values: {
                    users: '[{name: "a", password: "USERS-NOT-JSON-SECRET"',
                    storage: JSON.stringify({
                        driver: "s3",
                        region: "r",
                        bucket: "b",
                        accessKey: "AK-SECRET-1",
                        secretKey: 7,
                        chunkSize: "S3-SECRET-AS-CHUNK",
                    }),
                    clients: JSON.stringify([{ name: "a", host: "bad host CLIENT-SECRET", privateKey: "CLIENT-KEY-SECRET" }]),
                    registry: JSON.stringify({ proxy: { remoteUrl: "PROXY-URL-SECRET", password: 12345678 } }),
                    sshPrivateKey: "SSH-KEY-SECRET",
                },
                secretKeys: new Set(secretKeys),
            });
        } catch (e) {
            message = (e as Error).message;
        }
        assert.match(message, /got a value/);
        for (const s of [
            "USERS-NOT-JSON-SECRET",
            "AK-SECRET-1",
            "S3-SECRET-AS-CHUNK",
            "CLIENT-SECRET",
            "CLIENT-KEY-SECRET",
            "PROXY-URL-SECRET",
            "12345678",
            "SSH-KEY-SECRET",
        ]) {
            assert.ok(!message.includes(s), `${s} in:\n${message}`);
        }
    });
});

describe("the error", () => {
    it("lists every problem as `<full key> <what is wrong>, got <value>`", () => {
        try {
            parseSettings(raw({ port: "88a", users: [{ name: "a:b" }], prot: "1" }));
            assert.fail("accepted");
        } catch (e) {
            assert.ok(e instanceof SettingsError);
            assert.deepStrictEqual(
                e.problems.map((p) => p.key),
                ["private-registry:prot", "private-registry:port", "private-registry:users[0].name"],
            );
            assert.match(e.message, /^invalid stack configuration \(3 problems\):\n/);
            assert.match(e.message, /\n {2}private-registry:port must be an integer 1-65535, got "88a"\n/);
            assert.match(e.message, /private-registry:prot is not a known key \(did you mean "port"\?\); allowed: dockerHost, /);
        }
    });
});

describe("hostile input", () => {
    /** The problems of a refused config, as `{key, message}` with the key short; fails on anything but a SettingsError. */
    function refused(values: Record<string, unknown>, secretKeys: string[] = []): { key: string; message: string }[] {
        try {
            parseSettings(raw(values, secretKeys));
        } catch (e) {
            assert.ok(e instanceof SettingsError, `expected a SettingsError, got ${e instanceof Error ? e.stack : String(e)}`);
            return e.problems.map((p) => ({ key: p.key.slice(NAMESPACE.length + 1), message: p.message }));
        }
        assert.fail(`accepted: ${JSON.stringify(values).slice(0, 200)}`);
    }
    /** Asserts the config is refused with a problem at `key` (matching `message`), and returns that problem's message. */
    function refusedAt(key: string, values: Record<string, unknown>, secretKeys: string[] = [], message?: RegExp): string {
        const ps = refused(values, secretKeys);
        const p = ps.find((x) => x.key === key && (message === undefined || message.test(x.message)));
        assert.ok(p, `no problem at ${key}${message ? ` matching ${message}` : ""} in:\n${ps.map((x) => `${x.key} ${x.message}`).join("\n")}`);
        return p.message;
    }
    const withClient = (client: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
        sshPrivateKey: SSH_KEY,
        clients: [{ name: "a", ...client }],
        ...extra,
    });

    it("refuses every line break YAML 1.1 knows, and control characters, in every string rendered (naming the key, never quoting a secret)", () => {
        const breaks = ["\n", "\r", "\v", "\f", "\u0085", "\u2028", "\u2029", "\u0000", "\u001b", "\u007f", "\u0090"];
        const places: [string, (x: string) => Record<string, unknown>, string[]][] = [
            ["registry.realm", (x) => ({ registry: { realm: `Lab${x}Registry` } }), []],
            ["registry.headers.X-A[0]", (x) => ({ registry: { headers: { "X-A": [`v${x}w`] } } }), []],
            ["registry.notifications[0].name", (x) => ({ registry: { notifications: [{ name: `n${x}`, url: "https://n.example" }] } }), []],
            ["registry.notifications[0].url", (x) => ({ registry: { notifications: [{ name: "n", url: `https://n.example/${x}x` }] } }), []],
            [
                "registry.notifications[0].ignoredMediaTypes[0]",
                (x) => ({ registry: { notifications: [{ name: "n", url: "https://n.example", ignoredMediaTypes: [`a/b${x}`] }] } }),
                [],
            ],
            [
                "registry.notifications[0].headers.Authorization[0]",
                (x) => ({ registry: { notifications: [{ name: "n", url: "https://n.example", headers: { Authorization: [`Bearer SECRET-TOKEN-1${x}`] } }] } }),
                ["registry"],
            ],
            ["registry.proxy.remoteUrl", (x) => ({ registry: { proxy: { remoteUrl: `https://r.example${x}` } } }), []],
            ["registry.proxy.username", (x) => ({ registry: { proxy: { remoteUrl: "https://r.example", username: `u${x}`, password: "p" } } }), ["registry"]],
            ["registry.proxy.password", (x) => ({ registry: { proxy: { remoteUrl: "https://r.example", username: "u", password: `SECRET-PW-1${x}` } } }), []],
            ["registry.redis.password", (x) => ({ registry: { redis: { addrs: ["r:6379"], password: `SECRET-PW-2${x}` } } }), []],
            ["storage.region", (x) => ({ storage: { driver: "s3", region: `us${x}`, bucket: "b" } }), []],
            ["storage.keyId", (x) => ({ storage: { driver: "s3", region: "r", bucket: "b", keyId: `k${x}` } }), []],
            ["storage.secretKey", (x) => ({ storage: { driver: "s3", region: "r", bucket: "b", accessKey: "a", secretKey: `SECRET-KEY-3${x}` } }), []],
            ["storage.regionEndpoint", (x) => ({ storage: { driver: "s3", region: "r", bucket: "b", regionEndpoint: `http://rgw${x}:7480` } }), []],
            ["users[0].name", (x) => ({ users: [{ name: `ci${x}` }] }), []],
            ["users[0].password", (x) => ({ users: [{ name: "ci", password: `SECRET-PASSWORD-4${x}` }] }), []],
            ["tls.ca.commonName", (x) => ({ tls: { ca: { commonName: `Lab${x}CA` } } }), []],
            ["tls.ca.organization", (x) => ({ tls: { ca: { organization: `Lab${x}` } } }), []],
            ["data.hostPath", (x) => ({ data: { hostPath: `/srv/reg${x}` } }), []],
            ["clients[0].daemonJson.logOpts.tag", (x) => withClient({ host: "10.0.0.5", daemonJson: { logOpts: { tag: `t${x}` } } }), ["sshPrivateKey"]],
            ["dockerSshOpts[1]", (x) => ({ dockerHost: "ssh://d@h.example", dockerSshOpts: ["-o", `ProxyCommand=x${x}`] }), []],
        ];
        for (const [key, config, secretKeys] of places) {
            for (const x of breaks) {
                const message = refusedAt(key, config(x), secretKeys);
                assert.doesNotMatch(message, /SECRET/, `${key} quotes a secret`);
            }
        }
    });

    it("keeps a tab, which HTTP header values may hold and YAML escapes", () => {
        assert.deepStrictEqual(ok({ registry: { headers: { "X-A": ["a\tb"] } } }).registry.headers, { "X-A": ["a\tb"] });
    });

    it("refuses an IPv6 zone id wherever an address is read, naming the key (it used to crash with a stack trace)", () => {
        const cases: [string, Record<string, unknown>, string[]][] = [
            ["ipAddresses[0]", { ipAddresses: ["fe80::1%eth0"] }, []],
            ["ipAddresses[1]", { ipAddresses: ["10.0.0.5", "fe80::1%25"] }, []],
            ["hostnames[0]", { hostnames: ["fe80::1%eth0"] }, []],
            ["bindAddress", { bindAddress: "fe80::1%eth0" }, []],
            ["clients[0].host", withClient({ host: "fe80::1%eth0" }), ["sshPrivateKey"]],
            ["dockerHost", { dockerHost: "ssh://d@[fe80::1%eth0]:22" }, []],
            ["registry.redis.addrs[0]", { registry: { redis: { addrs: ["[fe80::1%eth0]:6379"] } } }, []],
            ["storage.regionEndpoint", { storage: { driver: "s3", region: "r", bucket: "b", regionEndpoint: "http://[fe80::1%25eth0]:7480" } }, []],
        ];
        for (const [key, values, secretKeys] of cases) refusedAt(key, values, secretKeys);
        for (const key of ["ipAddresses[0]", "bindAddress", "clients[0].host"]) {
            const values =
                key === "clients[0].host"
                    ? withClient({ host: "fe80::1%eth0" })
                    : key === "bindAddress"
                      ? { bindAddress: "fe80::1%eth0" }
                      : { ipAddresses: ["fe80::1%eth0"] };
            refusedAt(key, values, ["sshPrivateKey"], /zone id/);
        }
    });

    describe("names that Object.prototype already has", () => {
        const NAMES = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];
        /** Config text with `name` as a key inside `template` (JSON text, so `__proto__` stays an own key). */
        const at = (template: string, name: string) => template.replace("NAME", JSON.stringify(name));
        /** Top-level key → JSON template with NAME where the key goes; the problem's key. */
        const OBJECTS: [string, string, string][] = [
            ["tls", "{NAME: 1}", "tls"],
            ["tls", '{"ca": {NAME: 1}}', "tls.ca"],
            ["tls", '{"certificate": {NAME: 1}}', "tls.certificate"],
            ["users", '[{"name": "a", NAME: 1}]', "users[0]"],
            ["storage", '{"driver": "filesystem", NAME: 1}', "storage"],
            ["storage", '{"driver": "s3", "region": "r", "bucket": "b", NAME: "1"}', "storage"],
            ["storage", '{"driver": "gcs", "bucket": "b", NAME: 262144}', "storage"],
            ["data", "{NAME: 1}", "data"],
            ["registry", "{NAME: 1}", "registry"],
            ["registry", '{"uploadPurging": {NAME: 1}}', "registry.uploadPurging"],
            ["registry", '{"notifications": [{"name": "n", "url": "https://n.example", NAME: 1}]}', "registry.notifications[0]"],
            ["registry", '{"proxy": {"remoteUrl": "https://r.example", NAME: 1}}', "registry.proxy"],
            ["registry", '{"redis": {"addrs": ["r:6379"], NAME: 1}}', "registry.redis"],
            ["networks", '[{"name": "n", NAME: 1}]', "networks[0]"],
            ["daemonJson", "{NAME: 1}", "daemonJson"],
            ["clients", '[{"name": "a", "host": "10.0.0.5", NAME: 1}]', "clients[0]"],
            ["clients", '[{"name": "a", "host": "10.0.0.5", "daemonJson": {NAME: 1}}]', "clients[0].daemonJson"],
        ];

        it("are unknown keys, at the top level and in every object, with the usual message", () => {
            for (const name of NAMES) {
                const values = Object.fromEntries([[name, "1"]]);
                refusedAt(name, values, [], /is not a known key/);
                for (const [top, template, key] of OBJECTS) {
                    const extra: Record<string, unknown> = top === "clients" ? { sshPrivateKey: SSH_KEY } : {};
                    refusedAt(`${key}.${name}`, { ...extra, [top]: at(template, name) }, ["sshPrivateKey"], /is not a known key/);
                }
            }
        });

        it("are ordinary data as header names and log options, except __proto__, which is refused as reserved", () => {
            for (const name of NAMES.filter((n) => n !== "__proto__")) {
                const s = ok({ registry: at('{"headers": {NAME: ["x"]}}', name) });
                assert.ok(Object.hasOwn(s.registry.headers, name), name);
                assert.deepStrictEqual(s.registry.headers[name], ["x"]);
                const n = ok({ registry: at('{"notifications": [{"name": "n", "url": "https://n.example", "headers": {NAME: ["y"]}}]}', name) }, ["registry"]);
                assert.ok(Object.hasOwn(n.registry.notifications[0].headers ?? {}, name), name);
                const c = ok(
                    {
                        sshPrivateKey: SSH_KEY,
                        clients: at(`[{"name": "a", "host": "10.0.0.5", "hostKey": "${HOST_KEY}", "daemonJson": {"logOpts": {NAME: "z"}}}]`, name),
                    },
                    ["sshPrivateKey"],
                );
                assert.ok(Object.hasOwn(c.clients[0].daemonJson.logOpts ?? {}, name), name);
                assert.equal(c.clients[0].daemonJson.logOpts?.[name], "z");
            }
            refusedAt("registry.headers.__proto__", { registry: '{"headers": {"__proto__": ["x"]}}' }, [], /reserved/);
            refusedAt(
                "registry.notifications[0].headers.__proto__",
                { registry: '{"notifications": [{"name": "n", "url": "https://n.example", "headers": {"__proto__": ["y"]}}]}' },
                ["registry"],
                /reserved/,
            );
            refusedAt("daemonJson.logOpts.__proto__", { daemonJson: '{"logOpts": {"__proto__": "z"}}' }, [], /reserved/);
        });
    });

    it("refuses a 1 MB value and 10,000-deep JSON without hanging, naming the key and the limit, quoting nothing long", () => {
        const started = Date.now();
        const deepList = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
        const deepObject = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
        const mb = "a".repeat(1_000_000);
        const cases: [string, Record<string, unknown>, RegExp][] = [
            ["image", { image: mb }, new RegExp(`at most ${MAX_VALUE_BYTES} bytes`)],
            ["registry", { registry: JSON.stringify({ realm: mb }) }, new RegExp(`at most ${MAX_VALUE_BYTES} bytes`)],
            ["caCertificate", { caCertificate: mb }, new RegExp(`at most ${MAX_BUNDLE_BYTES} bytes`)],
            ["clients", { clients: deepList }, new RegExp(`more than ${MAX_NESTING} deep`)],
            ["registry", { registry: deepObject }, new RegExp(`more than ${MAX_NESTING} deep`)],
            ["users", { users: `[${deepList}]` }, new RegExp(`more than ${MAX_NESTING} deep`)],
        ];
        for (const [key, values, limit] of cases) {
            const ps = refused(values).filter((p) => p.key.startsWith(key));
            assert.deepStrictEqual(
                ps.map((p) => p.key),
                [key],
                "one problem under the key, at the key",
            );
            assert.match(ps[0].message, limit);
            assert.ok(ps[0].message.length < 200, "the value is not quoted");
        }
        // A megabyte-long unknown name, at the top level and inside an object.
        for (const values of [Object.fromEntries([[mb, "1"]]), { registry: JSON.stringify({ [mb.slice(0, 60_000)]: 1 }) }]) {
            try {
                parseSettings(raw(values));
                assert.fail("accepted");
            } catch (e) {
                assert.ok(e instanceof SettingsError);
                assert.ok(e.message.length < 1000, `the message is ${e.message.length} characters`);
                assert.match(e.message, /a key of \d+ characters/);
            }
        }
        assert.ok(Date.now() - started < 5000, "does not hang");
    });

    it("lists at most 50 problems in the message (all of them in problems)", () => {
        try {
            parseSettings(raw({ users: Array(5000).fill(1) }));
            assert.fail("accepted");
        } catch (e) {
            assert.ok(e instanceof SettingsError);
            assert.equal(e.problems.length, 5000);
            assert.equal(e.message.split("\n").length, 52);
            assert.match(e.message, /… and 4950 more$/);
        }
    });

    it("refuses user names htpasswd would misread: a leading #, ':', whitespace, control characters", () => {
        for (const name of ["#ci", "# ci", "a:b", "a b", " ci", "ci ", "a\tb", "a\u0000b", "a\u0085b", "a\u2028b", "a\u007fb"]) {
            refusedAt("users[0].name", { users: [{ name }] });
        }
        assert.match(refusedAt("users[0].name", { users: [{ name: "#ci" }] }), /comment/);
        assert.equal(ok({ users: [{ name: "ci#1" }] }).users[0].name, "ci#1");
    });

    it("refuses a pull-through remoteUrl whose host is no DNS name or IP address (client hosts name a folder after it)", () => {
        for (const remoteUrl of ["https://../", "https://a..b", "http://-x/"]) refusedAt("registry.proxy.remoteUrl", { registry: { proxy: { remoteUrl } } });
        for (const remoteUrl of ["https://registry-1.docker.io", "http://10.0.0.5:5000", "https://[fd00::5]:5000"]) {
            assert.equal(ok({ registry: { proxy: { remoteUrl } } }).registry.proxy?.remoteUrl, remoteUrl);
        }
    });

    it("refuses the files volume as data.volumeName: every installer run would empty it, destroy would remove it", () => {
        refusedAt("data.volumeName", { data: { volumeName: "private-registry-files" } });
        refusedAt("data.volumeName", { containerName: "reg", data: { volumeName: "reg-files" } });
        assert.equal(ok({ containerName: "reg", data: { volumeName: "private-registry-files" } }).data.kind, "volume");
    });

    it("refuses system folders, bind-syntax separators and unnormalised paths as data.hostPath", () => {
        const bad = [
            "/",
            "/etc",
            "/etc/registry",
            "/var/run",
            "/var/run/registry",
            "/run/registry",
            "/proc",
            "/proc/1/root",
            "/sys/fs",
            "/dev",
            "/dev/shm/registry",
            "/boot",
            "/usr",
            "/usr/bin",
            "/bin",
            "/lib",
            "/var",
            "/var/lib",
            "/var/lib/docker",
            "/var/lib/docker/volumes/registry",
            "/home",
            "/home/alice",
            "/root",
            "/root/registry",
            "/var/log",
            "/var/log/registry",
            "/var/spool/cron",
            "/var/spool/cron/crontabs",
            "/var/mail",
            "/var/lib/kubelet",
            "/var/lib/kubelet/pods",
            "/var/lib/rancher/k3s",
            "/tmp",
            "/srv/registry:ro",
            "/srv/a,b",
            "/srv/../etc",
            "/srv//registry",
            "/srv/./registry",
            "/srv/registry/",
            "srv/registry",
        ];
        for (const hostPath of bad) refusedAt("data.hostPath", { data: { hostPath } });
        for (const hostPath of [
            "/srv/registry",
            "/var/lib/registry",
            "/var/lib/docker-registry",
            "/home/ci/registry",
            "/usr/local/registry",
            "/mnt/disk1/registry",
            "/data",
        ]) {
            assert.deepStrictEqual(ok({ data: { hostPath } }).data, { kind: "hostPath", hostPath, shared: false });
        }
    });

    it("refuses framing and hop-by-hop headers in any case, in registry.headers and notification headers", () => {
        for (const name of ["Content-Length", "transfer-encoding", "CONNECTION", "Keep-Alive", "Upgrade", "Host", "TE", "te", "Trailer", "Proxy-Connection"]) {
            refusedAt(`registry.headers.${name}`, { registry: { headers: { [name]: ["1"] } } }, [], /framing or hop-by-hop/);
            refusedAt(
                `registry.notifications[0].headers.${name}`,
                { registry: { notifications: [{ name: "n", url: "https://n.example", headers: { [name]: ["1"] } }] } },
                ["registry"],
                /framing or hop-by-hop/,
            );
        }
        assert.deepStrictEqual(ok({ registry: { headers: { "Content-Security-Policy": ["default-src 'none'"] } } }).registry.headers, {
            "Content-Security-Policy": ["default-src 'none'"],
        });
    });

    it("compares hosts in canonical form: two spellings of one address are the same host", () => {
        for (const [a, b] of [
            ["fd00::5", "fd00:0:0:0:0:0:0:5"],
            ["FD00::5", "fd00::5"],
            ["fd00:0::5", "FD00::0:5"],
            ["10.0.0.5", "::ffff:10.0.0.5"],
            ["Build-01.Example", "build-01.example"],
        ]) {
            const values = {
                sshPrivateKey: SSH_KEY,
                clients: [
                    { name: "a", host: a },
                    { name: "b", host: b },
                ],
            };
            refusedAt("clients[1].host", values, ["sshPrivateKey"], /same host and port as clients\[0\]/);
        }
        ok(
            {
                sshPrivateKey: SSH_KEY,
                clients: [
                    { name: "a", host: "fd00::5" },
                    { name: "b", host: "fd00::5", port: 2222 },
                    { name: "c", host: "fd00::6" },
                ],
            },
            ["sshPrivateKey"],
        );
        refusedAt("ipAddresses", { ipAddresses: ["FD00::10", "fd00:0:0:0:0:0:0:10"] }, [], /repeat/);
        refusedAt("hostnames", { hostnames: ["Registry.Example", "registry.example"] }, [], /repeat/);
    });

    describe("PEM text is never quoted", () => {
        const key = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        const sec1 = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }).toString();
        /** 16 characters of the key's body: no message may hold them. */
        const bodies = [key, sec1].map((k) => k.split("\n")[1].slice(0, 16));
        const noKeyIn = (message: string) => {
            for (const b of bodies) assert.ok(!message.includes(b), `key material in: ${message}`);
            assert.doesNotMatch(message, /-----BEGIN [A-Z ]*PRIVATE/);
        };

        it("a private key in caCertificate, serverCertificate or serverCaCertificate: 'holds a private key, not a certificate'", () => {
            const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
            const cases: [string, Record<string, unknown>][] = [
                ["caCertificate", { caCertificate: key, caPrivateKey: key }],
                ["caCertificate", { caCertificate: `${cert}${sec1}`, caPrivateKey: sec1 }],
                ["serverCertificate", { serverCertificate: sec1, serverPrivateKey: sec1, serverCaCertificate: cert }],
                ["serverCaCertificate", { serverCertificate: cert, serverPrivateKey: sec1, serverCaCertificate: key }],
            ];
            for (const [k, values] of cases) {
                try {
                    parseSettings(raw(values, ["caPrivateKey", "serverPrivateKey"]));
                    assert.fail("accepted");
                } catch (e) {
                    assert.ok(e instanceof SettingsError);
                    noKeyIn(e.message);
                    assert.ok(
                        e.problems.some((p) => p.key === `${NAMESPACE}:${k}` && /holds a private key, not a certificate/.test(p.message)),
                        e.message,
                    );
                }
            }
        });

        it("nor anywhere else a PEM block is pasted by mistake", () => {
            for (const values of [
                { image: key },
                { hostnames: [sec1] },
                { registry: { realm: key } },
                { caCertificate: "x".repeat(10) + key.replace(/-----/g, "") },
            ]) {
                try {
                    parseSettings(raw(values));
                    assert.fail("accepted");
                } catch (e) {
                    assert.ok(e instanceof SettingsError);
                    noKeyIn(e.message);
                }
            }
        });
    });

    it("refuses credentials in a URL unless its key is a secret; in registryMirrors always", () => {
        const cases: [string, (url: string) => Record<string, unknown>, string][] = [
            ["registry.notifications[0].url", (url) => ({ registry: { notifications: [{ name: "n", url }] } }), "registry"],
            ["registry.proxy.remoteUrl", (url) => ({ registry: { proxy: { remoteUrl: url } } }), "registry"],
            ["storage.regionEndpoint", (url) => ({ storage: { driver: "s3", region: "r", bucket: "b", regionEndpoint: url } }), "storage"],
            [
                "storage.authUrl",
                (url) => ({ image: "registry:2.8.3", storage: { driver: "swift", authUrl: url, username: "u", password: "p", container: "c" } }),
                "storage",
            ],
        ];
        for (const [key, config, top] of cases) {
            for (const url of ["https://user:URL-PASSWORD-1@h.example/x", "https://URL-TOKEN-12345@h.example"]) {
                const message = refusedAt(key, config(url), [], /holds credentials.*username\/password fields.*pulumi config set --secret --path/);
                assert.doesNotMatch(message, /URL-PASSWORD|URL-TOKEN/);
                assert.doesNotThrow(() => parseSettings(raw(config(url), [top])), `${key} as a secret`);
            }
        }
        for (const [values, key] of [
            [{ daemonJson: { registryMirrors: ["https://m:MIRROR-PASSWORD@m.example"] } }, "daemonJson.registryMirrors[0]"],
            [
                withClient({ host: "10.0.0.5", daemonJson: { registryMirrors: ["https://MIRROR-PASSWORD@m.example"] } }),
                "clients[0].daemonJson.registryMirrors[0]",
            ],
        ] as const) {
            for (const secret of [[], ["daemonJson", "clients"]]) {
                const message = refusedAt(key, values, ["sshPrivateKey", ...secret], /must not hold credentials/);
                assert.doesNotMatch(message, /MIRROR-PASSWORD/);
            }
        }
    });

    it("requires a supplied password of 12 characters at least, never quoting it", () => {
        for (const password of ["x", "short-pw", "elevenchars"]) {
            for (const secretKeys of [["users"], []]) {
                const message = refusedAt("users[0].password", { users: [{ name: "ci", password }] }, secretKeys, /at least 12 characters/);
                assert.ok(!message.includes(password), message);
            }
        }
        assert.equal(ok({ users: [{ name: "ci", password: "twelve-chars" }] }, ["users"]).users[0].password?.reveal(), "twelve-chars");
        assert.equal(ok({ users: [{ name: "ci", password: "ü".repeat(12) }] }, ["users"]).users[0].password?.reveal(), "ü".repeat(12));
        refusedAt("users[0].password", { users: [{ name: "ci", password: "p".repeat(73) }] }, ["users"], /at most 72 bytes/);
    });

    describe("warnings", () => {
        it("two users whose login commands read one variable (REGISTRY_PASSWORD_CI_BOT)", () => {
            const warned = ok({ users: [{ name: "ci-bot" }, { name: "admin" }, { name: "CI.bot" }] }).warnings;
            assert.deepStrictEqual(warned, [
                'private-registry:users[2].name reads its password in loginCommands from REGISTRY_PASSWORD_CI_BOT, as user "ci-bot" does: set it to the right one before each',
            ]);
            assert.deepStrictEqual(ok({ users: [{ name: "ci-bot" }, { name: "ci-bot2" }] }).warnings, []);
        });

        it("an S3 regionEndpoint without accessKey/secretKey", () => {
            const s3 = { driver: "s3", region: "r", bucket: "b" };
            const warned = ok({ storage: { ...s3, regionEndpoint: "http://rgw.example:7480" } }).warnings;
            assert.equal(warned.length, 1);
            assert.match(warned[0], /^private-registry:storage\.regionEndpoint .*accessKey\/secretKey.*instance role/);
            assert.deepStrictEqual(
                ok({ storage: { ...s3, regionEndpoint: "http://rgw.example:7480", accessKey: "a", secretKey: "s" } }, ["storage"]).warnings,
                [],
            );
            assert.deepStrictEqual(ok({ storage: s3 }).warnings, [], "AWS itself has instance roles");
        });

        it("client hosts while the endpoint they use is a loopback name", () => {
            const client = { sshPrivateKey: SSH_KEY, clients: [{ name: "a", host: "10.0.0.5" }] };
            for (const [endpoint, key] of [
                [{}, "hostnames"],
                [{ hostnames: ["localhost", "registry.example"] }, "hostnames"],
                [{ hostnames: ["registry.localhost"] }, "hostnames"],
                [{ hostnames: [], ipAddresses: ["127.0.0.5"] }, "ipAddresses"],
                [{ hostnames: [], ipAddresses: ["::1"] }, "ipAddresses"],
            ] as const) {
                const warnings = ok({ ...client, ...endpoint }, ["sshPrivateKey"]).warnings;
                assert.equal(warnings.length, 1, JSON.stringify(endpoint));
                assert.match(warnings[0], new RegExp(`^private-registry:${key} starts with .*loopback`));
            }
            assert.deepStrictEqual(ok({ ...client, hostnames: ["registry.example", "localhost"] }, ["sshPrivateKey"]).warnings, []);
            assert.deepStrictEqual(ok({}).warnings, [], "no clients, no warning");
        });

        it("keys under another namespace that look meant for this program (a pure function stackConfig.ts calls)", () => {
            const warned = foreignKeyWarnings([
                "private_registry:port",
                "privateregistry:users",
                "private-registy:image",
                "Private-Registry:tls",
                "other-project:clients",
                "private-registry:port",
                "docker:host",
                "tls:x",
                "random:clients",
                "command:users",
                "pulumi:tags",
                "aws:region",
                "other-project:instanceCount",
            ]);
            assert.deepStrictEqual(
                warned.map((w) => w.split(" ")[0]),
                ["private_registry:port", "privateregistry:users", "private-registy:image", "Private-Registry:tls", "other-project:clients"],
            );
            assert.match(
                warned[0],
                /^private_registry:port is not read: this program reads only the private-registry namespace \(did you mean private-registry:port\?\)/,
            );
            assert.deepStrictEqual(foreignKeyWarnings(["private_registry:replicas"]).length, 1);
        });
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

describe("users[].rotate", () => {
    it("is a counter for generated passwords only", () => {
        assert.deepEqual(
            ok({ users: [{ name: "a" }, { name: "b", rotate: 3 }] }).users.map((u) => [u.name, u.rotate]),
            [
                ["a", 0],
                ["b", 3],
            ],
        );
        assert.deepEqual(problems({ users: [{ name: "a", password: "a-long-supplied-password", rotate: 1 }] }, ["users"]), [
            "private-registry:users[0].rotate applies only to a generated password; to rotate a supplied one, supply the new one",
        ]);
        assert.match(problems({ users: [{ name: "a", rotate: -1 }] })[0], /users\[0\]\.rotate must be an integer/);
    });
});

describe("imageArchive", () => {
    it("must be an existing file given by its absolute path", () => {
        const file = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "pr-archive-")), "registry.tar");
        fs.writeFileSync(file, "not really a tar");
        assert.equal(ok({ imageArchive: file }).imageArchive, file);
        assert.match(problems({ imageArchive: "registry.tar" })[0], /imageArchive must be the absolute path of a docker save archive/);
        assert.match(problems({ imageArchive: `${file}.missing` })[0], /imageArchive must be the absolute path/);
        assert.equal(ok({}).imageArchive, undefined);
    });
});

describe("imports", () => {
    const file = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "pr-imports-")), "app.tar");
    fs.writeFileSync(file, "an archive");

    it("an archive with its destination, an image on the Docker host named like itself (its registry dropped)", () => {
        assert.deepEqual(
            ok({
                imports: [
                    { archive: file, to: "team/app:1.4" },
                    { image: "docker.io/library/nginx:1.27" },
                    { image: "localhost:5001/tools/jq" },
                    { image: "bitnami/redis:7", to: "cache/redis" },
                ],
            }).imports,
            [
                { source: { archive: file }, repository: "team/app", tag: "1.4" },
                { source: { image: "docker.io/library/nginx:1.27" }, repository: "library/nginx", tag: "1.27" },
                { source: { image: "localhost:5001/tools/jq" }, repository: "tools/jq", tag: "latest" },
                { source: { image: "bitnami/redis:7" }, repository: "cache/redis", tag: "latest" },
            ],
        );
        assert.deepEqual(ok({}).imports, []);
    });

    it("refuses, naming the key: no source or two, a missing archive, no destination for an archive, a bad or repeated destination, a proxy, an unreachable registry", () => {
        assert.match(problems({ imports: [{ to: "a/b" }] })[0], /imports\[0\] needs exactly one of archive .* and image/);
        assert.match(problems({ imports: [{ archive: file, image: "a", to: "a" }] })[0], /imports\[0\] needs exactly one of/);
        assert.match(
            problems({ imports: [{ archive: "app.tar", to: "a" }] })[0],
            /imports\[0\]\.archive must be the absolute path of a docker save or OCI archive/,
        );
        assert.match(problems({ imports: [{ archive: file }] })[0], /imports\[0\]\.to is required for an archive/);
        assert.match(problems({ imports: [{ archive: file, to: "Team/App" }] })[0], /imports\[0\]\.to must be repository\[:tag\] .* got "Team\/App"/);
        assert.match(problems({ imports: [{ archive: file, to: "reg.example:5000/a/b" }] })[0], /imports\[0\]\.to must be repository\[:tag\] in this registry/);
        assert.match(problems({ imports: [{ image: "UPPER/case" }] })[0], /imports\[0\]\.image must be an image reference/);
        assert.match(
            problems({ imports: [{ image: "a/b:1" }, { archive: file, to: "a/b:1" }] })[0],
            /imports\[1\]\.to repeats "a\/b:1": two imports would overwrite each other's tag/,
        );
        assert.match(problems({ imports: [{ image: "a/b", extra: 1 }] })[0], /imports\[0\]\.extra/);
        assert.match(
            problems({ imports: [{ image: "a/b" }], registry: { proxy: { remoteUrl: "https://registry-1.docker.io" } } }, ["registry"]).join("\n"),
            /imports cannot be used with registry.proxy: a pull-through cache refuses pushes/,
        );
        assert.match(
            problems({ imports: [{ image: "a/b" }], dockerHost: "ssh://deploy@build.example", bindAddress: "127.0.0.1" })[0],
            /imports needs the registry reachable from the machine that runs up, but it listens on "127.0.0.1" of the remote Docker host/,
        );
    });
});

describe("replicas and loadBalancer", () => {
    it("one replica by default and no balancer; above one, the balancer with its defaults or what the stack says", () => {
        const one = ok({});
        assert.equal(one.replicas, 1);
        assert.equal(one.loadBalancer, undefined);
        const two = ok({ replicas: "2", registry: { redis: { addrs: ["redis.internal:6379"] }, blobDescriptorCache: "redis" } });
        assert.equal(two.replicas, 2);
        assert.deepEqual(two.loadBalancer, { image: "haproxy:3.0", checkIntervalMs: 1000 });
        assert.deepEqual(two.warnings, []);
        assert.deepEqual(ok({ replicas: 3, loadBalancer: { image: "mirror.internal/haproxy:3.0", checkIntervalMs: 500 } }).loadBalancer, {
            image: "mirror.internal/haproxy:3.0",
            checkIntervalMs: 500,
        });
    });

    it("refuses a count outside 1-16 and a bad balancer; warns about a balancer for one replica and about per-replica caches", () => {
        assert.match(problems({ replicas: 0 })[0], /replicas must be an integer 1-16/);
        assert.match(problems({ replicas: 17 })[0], /replicas must be an integer 1-16/);
        assert.match(problems({ replicas: 2, loadBalancer: { image: "HAProxy" } })[0], /loadBalancer\.image must be an image reference/);
        assert.match(problems({ replicas: 2, loadBalancer: { checkIntervalMs: 10 } })[0], /loadBalancer\.checkIntervalMs must be an integer 100-60000/);
        assert.match(problems({ replicas: 2, loadBalancer: { mode: "http" } })[0], /loadBalancer\.mode/);
        assert.match(ok({ loadBalancer: { image: "haproxy:3.0" } }).warnings.join("\n"), /loadBalancer applies only with replicas above 1/);
        assert.match(ok({ replicas: 2 }).warnings.join("\n"), /replicas runs 2 registries with a blob-descriptor cache each in memory/);
    });
});

describe("replicaHosts", () => {
    const s3 = { storage: { driver: "s3", region: "eu-west-1", bucket: "b" } };
    const hosts = [
        { dockerHost: "ssh://root@10.0.0.12" },
        { dockerHost: "ssh://deploy@replica-2.example:2222", address: "10.0.1.13", port: 5443, sshOpts: ["-i", "/k"] },
    ];

    it("one replica per host, reached at the ssh host or the address given, on the endpoint's port by default; the balancer always", () => {
        const s = ok({ ...s3, replicaHosts: hosts, registry: { redis: { addrs: ["redis.internal:6379"] }, blobDescriptorCache: "redis" } });
        assert.equal(s.replicas, 2);
        assert.deepEqual(s.replicaHosts, [
            { docker: { host: "ssh://root@10.0.0.12", sshOpts: [] }, address: "10.0.0.12", port: 5000, bindAddress: "0.0.0.0" },
            { docker: { host: "ssh://deploy@replica-2.example:2222", sshOpts: ["-i", "/k"] }, address: "10.0.1.13", port: 5443, bindAddress: "0.0.0.0" },
        ]);
        assert.deepEqual(s.loadBalancer, { image: "haproxy:3.0", checkIntervalMs: 1000 });
        assert.deepEqual(s.warnings, []);
        const one = ok({ ...s3, replicaHosts: [{ dockerHost: "ssh://[fd00::12]" }] });
        assert.equal(one.replicaHosts[0].address, "fd00::12");
        assert.ok(one.loadBalancer, "a single replica host still sits behind the balancer");
    });

    it("refuses what would not work, naming the key: a bad or repeated host, a loopback or missing address, a count that disagrees, a port the balancer takes", () => {
        const at = (v: Record<string, unknown>) => problems({ ...s3, ...v });
        assert.match(
            at({ replicaHosts: [{ dockerHost: "tcp://10.0.0.12:2375" }] })[0],
            /^private-registry:replicaHosts\[0\]\.dockerHost must be unix:\/\/\/<socket path> or ssh:/,
        );
        assert.match(at({ replicaHosts: [{}] })[0], /^private-registry:replicaHosts\[0\]\.dockerHost is required/);
        assert.match(
            at({ replicaHosts: [hosts[0], hosts[0]] })[0],
            /^private-registry:replicaHosts\[1\]\.dockerHost repeats "ssh:\/\/\*\*\*@10\.0\.0\.12": one replica per Docker host/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "ssh://root@127.0.0.1" }] })[0],
            /^private-registry:replicaHosts\[0\]\.address is "127\.0\.0\.1", a loopback address/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "unix:///var/run/docker.sock", port: 5001 }] })[0],
            /^private-registry:replicaHosts\[0\]\.address is required with a unix:\/\/ dockerHost/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "unix:///var/run/docker.sock", address: "10.0.0.2" }] })[0],
            /^private-registry:replicaHosts\[0\]\.port is 5000 on the load balancer's own Docker host/,
        );
        assert.deepEqual(
            ok({ ...s3, replicaHosts: [{ dockerHost: "unix:///var/run/docker.sock", address: "10.0.0.2", port: 5001 }] }).replicaHosts[0].port,
            5001,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "ssh://h", bindAddress: "h" }] })[0],
            /^private-registry:replicaHosts\[0\]\.bindAddress must be an IPv4 or IPv6 address/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "unix:///run/d.sock", address: "10.0.0.2", sshOpts: ["-v"] }] }).join("\n"),
            /replicaHosts\[0\]\.sshOpts applies only to an ssh:\/\//,
        );
        assert.match(at({ replicaHosts: [{ dockerHost: "ssh://h", ports: 1 }] })[0], /^private-registry:replicaHosts\[0\]\.ports/);
        assert.match(at({ replicaHosts: hosts, replicas: 3 })[0], /^private-registry:replicas is 3, but replicaHosts lists 2 hosts/);
        assert.match(
            at({ replicaHosts: Array.from({ length: 17 }, (_, i) => ({ dockerHost: `ssh://h${i}` })) }).join("\n"),
            /replicaHosts lists 17 hosts; at most 16/,
        );
    });

    it("refuses what runs on one host only (the program's Redis, scheduled GC) and filesystem storage unless the stack vouches for a shared path", () => {
        const at = (v: Record<string, unknown>) => problems({ replicaHosts: hosts, ...v }).join("\n");
        assert.match(at({ ...s3, redisCache: {} }), /^private-registry:redisCache runs Redis on the load balancer's Docker host.*give registry\.redis/m);
        assert.match(at({ ...s3, gcSchedule: {} }), /^private-registry:gcSchedule runs on one Docker host.*collect by hand/m);
        assert.match(at({}), /^private-registry:replicaHosts puts replicas on several Docker hosts, each with its own filesystem storage/m);
        assert.match(at({ data: { hostPath: "/srv/registry" } }), /^private-registry:replicaHosts puts replicas on several Docker hosts/m);
        assert.deepEqual(ok({ replicaHosts: hosts, data: { hostPath: "/mnt/nfs/registry", shared: true } }).data, {
            kind: "hostPath",
            hostPath: "/mnt/nfs/registry",
            shared: true,
        });
        assert.match(problems({ data: { volumeName: "v", shared: true } })[0], /^private-registry:data\.shared applies only with data\.hostPath/);
        assert.match(problems({ data: { hostPath: "/srv/r", shared: "yes" } })[0], /^private-registry:data\.shared must be true or false/);
    });
});

describe("tls.ca rollover", () => {
    it("generation 1 and no rollover by default; the stages with a raised generation", () => {
        const ca = (v: Record<string, unknown>) => {
            const c = ok({ tls: { ca: v } }).tls.ca;
            return c.mode === "generate" ? [c.generation, c.rollover] : [];
        };
        assert.deepEqual(ca({}), [1, undefined]);
        assert.deepEqual(ca({ generation: 2, rollover: "trust" }), [2, "trust"]);
        assert.deepEqual(ca({ generation: 2, rollover: "serve" }), [2, "serve"]);
        assert.deepEqual(ca({ generation: 2 }), [2, undefined]);
    });

    it("refuses a rollover without a new generation, an unknown stage, and a rollover of a supplied CA", () => {
        assert.match(problems({ tls: { ca: { rollover: "trust" } } })[0], /tls\.ca\.rollover needs tls\.ca\.generation raised to 2 or more/);
        assert.match(problems({ tls: { ca: { generation: 2, rollover: "finish" } } })[0], /tls\.ca\.rollover must be one of "trust", "serve"/);
        assert.match(problems({ tls: { ca: { generation: 0 } } })[0], /tls\.ca\.generation must be an integer 1-1000/);
    });
});

describe("redisCache", () => {
    it("a Redis run by the program, with its defaults or the stack's; it quiets the replicas' cache warning", () => {
        assert.equal(ok({}).redisCache, undefined);
        const s = ok({ replicas: 2, redisCache: {} });
        assert.deepEqual(s.redisCache, { image: "redis:7.4", memoryMb: 256 });
        assert.deepEqual(s.warnings, []);
        assert.deepEqual(ok({ redisCache: { image: "mirror.internal/redis:7.4", memoryMb: 64 } }).redisCache, {
            image: "mirror.internal/redis:7.4",
            memoryMb: 64,
        });
    });

    it("refuses it beside registry.redis, a bad image or memory, an unknown key", () => {
        assert.match(
            problems({ redisCache: {}, registry: { redis: { addrs: ["r:6379"] } } }).join("\n"),
            /redisCache and registry\.redis both give the registry a Redis/,
        );
        assert.match(problems({ redisCache: { image: "Redis" } })[0], /redisCache\.image must be an image reference/);
        assert.match(problems({ redisCache: { memoryMb: 4 } })[0], /redisCache\.memoryMb must be an integer 16-65536/);
        assert.match(problems({ redisCache: { persist: true } })[0], /redisCache\.persist/);
    });
});

describe("gcSchedule", () => {
    it("weekly with the docker CLI image by default; the stack's interval, image and --delete-untagged on 3.x", () => {
        assert.equal(ok({}).gcSchedule, undefined);
        assert.deepEqual(ok({ gcSchedule: {} }).gcSchedule, { intervalHours: 168, deleteUntagged: false, image: "docker:27-cli" });
        assert.deepEqual(ok({ gcSchedule: { intervalHours: 24, deleteUntagged: true, image: "mirror.internal/docker:27-cli" } }).gcSchedule, {
            intervalHours: 24,
            deleteUntagged: true,
            image: "mirror.internal/docker:27-cli",
        });
    });

    it("refuses --delete-untagged on 2.x, an interval outside 1-8760 hours, a bad image", () => {
        assert.match(
            problems({ image: "registry:2.8.3", gcSchedule: { deleteUntagged: true } })[0],
            /gcSchedule\.deleteUntagged is refused on distribution 2: .*distribution#3178/,
        );
        assert.match(problems({ gcSchedule: { intervalHours: 0 } })[0], /gcSchedule\.intervalHours must be an integer 1-8760/);
        assert.match(problems({ gcSchedule: { image: "Docker CLI" } })[0], /gcSchedule\.image must be an image reference/);
    });
});
