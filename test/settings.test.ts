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
import { revealSecrets } from "../settings/secret";
import { Secret, type Settings } from "../settings/types";

const root = path.join(__dirname, "..");
const validDir = path.join(__dirname, "fixtures", "valid-configs");

const SSH_KEY = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const SSH_KEY_2 = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";

/** A RawConfig from short keys; objects and lists become JSON, other values their text. */
function raw(values: Record<string, unknown>, secretKeys: string[] = []): RawConfig {
    return {
        values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
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

function stackFile(file: string, setSecret: Record<string, string> = {}): RawConfig {
    const cfg = readStackConfig(file, { namespace: NAMESPACE, secureIsPlaintext: true, setSecret });
    const short = (k: string) => k.slice(NAMESPACE.length + 1);
    return {
        values: Object.fromEntries(Object.entries(cfg.values).map(([k, v]) => [short(k), v])),
        secretKeys: new Set(cfg.secretKeys.map(short)),
    };
}

/** What an empty stack deploys. */
const DEFAULTS: Settings = {
    docker: { host: "unix:///var/run/docker.sock", sshOpts: [] },
    image: "registry:3.1.2",
    registryVersion: 3,
    keepImage: true,
    containerName: "private-registry",
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
        },
        certificate: { mode: "generate", algorithm: "RSA", rsaBits: 2048, ecdsaCurve: "P256", validityHours: 8760, earlyRenewalHours: 720 },
    },
    users: [{ name: "admin", password: undefined, passwordLength: 32 }],
    storage: { driver: "filesystem" },
    data: { kind: "volume", volumeName: "private-registry-data", keepOnDestroy: true },
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
            s.clients.map((c) => ({ ...c, privateKey: c.privateKey.reveal().includes("QVBQMDEtS0VZ") ? "own" : "default" })),
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
        assert.doesNotThrow(() => parseSettings(stackFile(path.join(root, "Pulumi.prod.yaml"), { sshPrivateKey: SSH_KEY })));
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
            ca: { mode: "generate", algorithm: "ECDSA", rsaBits: 4096, ecdsaCurve: "P384", commonName: "Lab CA", organization: "Lab", validityHours: 1000 },
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
        const s = ok({ users: [{ name: "ci.bot@example" }, { name: "ops", password: "pw-ops-1" }, { name: "zoë", passwordLength: 72 }] }, ["users"]);
        assert.deepStrictEqual(
            s.users.map((u) => [u.name, u.passwordLength, u.password instanceof Secret]),
            [
                ["ci.bot@example", 32, false],
                ["ops", 32, true],
                ["zoë", 72, false],
            ],
        );
        assert.equal(s.users[1].password?.reveal(), "pw-ops-1");
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
        assert.deepStrictEqual(ok({ data: { hostPath: "/srv/registry" } }).data, { kind: "hostPath", hostPath: "/srv/registry" });
        assert.deepStrictEqual(ok({ data: {} }).data, DEFAULTS.data);
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
            { ...s.clients[0], privateKey: s.clients[0].privateKey.reveal() },
            {
                name: "a",
                host: "a.example",
                port: 22,
                user: "root",
                privateKey: SSH_KEY,
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
            s.clients.map((c) => [c.name, c.port, c.user, c.sudo, c.loginAs, c.privateKey.reveal() === SSH_KEY_2]),
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
