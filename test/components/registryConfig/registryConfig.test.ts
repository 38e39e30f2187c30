/**
 * The registry config renderer: golden files (UPDATE_GOLDEN=1 rewrites them), facts read back with
 * a YAML parser, the version rules that throw, and the image/path helpers.
 *
 * Run: node --import tsx --test test/components/registryConfig/registryConfig.test.ts
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { RegistryConfigError, registryVersionFromImage, renderRegistryConfig, validateRegistryConfigModel } from "../../../components/registryConfig";
import type { RegistryConfigModel } from "../../../components/registryConfig/model";

const GOLDEN_DIR = path.join(__dirname, "..", "..", "golden", "registry");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = any;

/** Reads a rendered config the way the registry's go-yaml (YAML 1.1) would. */
function read(text: string): Yaml {
    return parse(text, { version: "1.1" });
}

const TLS = { certificatePath: "/certs/tls.crt", keyPath: "/certs/tls.key" };
const HTPASSWD = { htpasswd: { realm: "Registry Realm", path: "/auth/htpasswd" } };
const HEALTH = { storageDriver: { enabled: true, interval: "10s", threshold: 3 } };

const RGW_S3 = {
    driver: "s3" as const,
    region: "us-east-1",
    bucket: "registry",
    accessKey: "AKIARGWEXAMPLE",
    secretKey: "rgw-secret-key",
    regionEndpoint: "http://rgw.example:7480",
    v4Auth: true,
    secure: false,
};

function base(version: 2 | 3): RegistryConfigModel {
    return {
        version,
        log: { level: "info", formatter: "text", fields: { service: "registry" } },
        storage: { driver: "filesystem", rootDirectory: "/var/lib/registry" },
        http: { addr: ":5000", secret: "a-stable-http-secret", tls: { ...TLS } },
        auth: HTPASSWD,
        health: HEALTH,
    };
}

/** One model per golden file, named after the file. */
const GOLDEN: Record<string, RegistryConfigModel> = {
    "v2-filesystem": {
        ...base(2),
        http: {
            addr: ":5000",
            secret: "a-stable-http-secret",
            tls: {
                ...TLS,
                minimumTls: "tls1.2",
                cipherSuites: ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
            },
        },
    },
    "v3-filesystem": { ...base(3), storage: { driver: "filesystem", rootDirectory: "/var/lib/registry", maxThreads: 50 } },
    "v2-s3-rgw": { ...base(2), storage: { ...RGW_S3 }, storageOptions: { redirectDisable: true } },
    "v3-s3-rgw": { ...base(3), storage: { ...RGW_S3 }, storageOptions: { redirectDisable: true } },
    "v2-swift-rgw": {
        ...base(2),
        storage: {
            driver: "swift",
            authUrl: "http://rgw.example:7480/auth/v1",
            username: "registry:swift",
            password: "swift-secret",
            container: "registry",
            authVersion: 1,
        },
    },
    "v3-azure": {
        ...base(3),
        storage: {
            driver: "azure",
            accountName: "registryacct",
            accountKey: "YmFzZTY0LWtleQ==",
            container: "registry",
            realm: "core.windows.net",
            rootDirectory: "/registry",
        },
    },
    "v3-gcs": {
        ...base(3),
        storage: { driver: "gcs", bucket: "my-registry", keyfile: "/secrets/gcs.json", rootDirectory: "/registry", chunkSize: 5242880 },
    },
    "v3-inmemory": { version: 3, storage: { driver: "inmemory" }, http: { addr: ":5000" } },
    "v2-redis": {
        ...base(2),
        storageOptions: { blobDescriptorCache: "redis" },
        redis: {
            addrs: ["redis.example:6379"],
            password: "redis-secret",
            db: 1,
            dialTimeout: "10ms",
            readTimeout: "10ms",
            writeTimeout: "10ms",
            maxIdle: 16,
            maxActive: 64,
            idleTimeout: "300s",
        },
    },
    "v3-redis": {
        ...base(3),
        storageOptions: { blobDescriptorCache: "redis" },
        redis: {
            addrs: ["redis-0.example:6379", "redis-1.example:6379"],
            username: "registry",
            password: "redis-secret",
            db: 1,
            dialTimeout: "10ms",
            readTimeout: "10ms",
            writeTimeout: "10ms",
            maxIdle: 16,
            maxActive: 64,
            idleTimeout: "300s",
        },
    },
    "v3-proxy": {
        ...base(3),
        storageOptions: { deleteEnabled: false },
        proxy: { remoteUrl: "https://registry-1.docker.io", username: "hubuser", password: "hub-token", ttl: "72h" },
    },
    "v3-full": {
        version: 3,
        log: {
            level: "debug",
            formatter: "json",
            accessLogDisabled: true,
            fields: { zone: "b", service: "registry", environment: "on" },
        },
        storage: { driver: "filesystem" },
        storageOptions: {
            deleteEnabled: true,
            blobDescriptorCache: "inmemory",
            uploadPurging: { enabled: true, age: "72h" },
            readOnly: false,
            redirectDisable: true,
        },
        http: {
            addr: ":5000",
            secret: "yes",
            host: "https://registry.example:5000",
            prefix: "/",
            relativeUrls: true,
            drainTimeout: "60s",
            headers: {
                "X-Frame-Options": ["DENY"],
                "Strict-Transport-Security": ["max-age=63072000; includeSubDomains"],
            },
            tls: { ...TLS, clientCaPaths: ["/certs/client-ca.crt"], minimumTls: "tls1.3" },
            debugAddr: "127.0.0.1:5001",
            prometheusPath: "/metrics",
        },
        auth: HTPASSWD,
        health: HEALTH,
        notifications: {
            endpoints: [
                {
                    name: "audit",
                    url: "https://audit.example/events",
                    headers: { Authorization: ["Bearer audit-token"], "X-Source": ["registry"] },
                    timeout: "1s",
                    threshold: 10,
                    backoff: "1s",
                    ignoredMediaTypes: ["application/octet-stream"],
                },
                { name: "spare", url: "http://spare.example/hook", disabled: true },
            ],
        },
    },
};

describe("renderRegistryConfig golden files", () => {
    for (const [name, model] of Object.entries(GOLDEN)) {
        test(name, () => {
            const text = renderRegistryConfig(model);
            const file = path.join(GOLDEN_DIR, `${name}.yml`);
            if (UPDATE) {
                fs.mkdirSync(GOLDEN_DIR, { recursive: true });
                fs.writeFileSync(file, text);
            }
            assert.ok(fs.existsSync(file), `missing ${file}; run with UPDATE_GOLDEN=1 to create it`);
            assert.equal(text, fs.readFileSync(file, "utf8"));
            assert.equal(renderRegistryConfig(model), text, "rendering is deterministic");
            assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"), "one trailing newline");
            assert.match(text, /^version: 0\.1\n/, "version: 0.1 first, plain (the registry reads the raw text)");
        });
    }
});

/** Every key in registry spelling: lower case, except inside user-named maps (headers, log fields). */
function assertLowerCaseKeys(node: Yaml, where: string): void {
    if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) assertLowerCaseKeys(n, `${where}[${i}]`);
        return;
    }
    if (node === null || typeof node !== "object") {
        return;
    }
    for (const [k, v] of Object.entries(node)) {
        assert.match(k, /^[a-z0-9]+$/, `key ${where}.${k} is not in the registry's lower-case spelling`);
        if (k === "headers" || k === "fields") {
            continue;
        }
        assertLowerCaseKeys(v, `${where}.${k}`);
    }
}

describe("rendered facts, read back with a YAML 1.1 parser", () => {
    const parsed: Record<string, Yaml> = {};
    for (const [name, model] of Object.entries(GOLDEN)) {
        parsed[name] = read(renderRegistryConfig(model));
    }

    test("common to every golden: version, lower-case keys, nosniff, delete", () => {
        for (const [name, cfg] of Object.entries(parsed)) {
            assert.equal(cfg.version, 0.1, name);
            assertLowerCaseKeys(cfg, name);
            assert.deepEqual(cfg.http.headers["X-Content-Type-Options"], ["nosniff"], name);
            assert.equal(cfg.storage.delete.enabled, name !== "v3-proxy", name);
            assert.deepEqual(Object.keys(cfg).slice(0, 2), ["version", cfg.log ? "log" : "storage"], name);
        }
    });

    test("top-level key order follows distribution's docs", () => {
        const order = ["version", "log", "storage", "auth", "http", "notifications", "redis", "health", "proxy"];
        for (const [name, cfg] of Object.entries(parsed)) {
            const keys = Object.keys(cfg);
            assert.deepEqual(
                keys,
                order.filter((k) => keys.includes(k)),
                name,
            );
        }
    });

    test("S3 path style: forced on v3 with a regionEndpoint, absent on v2", () => {
        assert.equal(parsed["v3-s3-rgw"].storage.s3.forcepathstyle, true);
        assert.equal(parsed["v3-s3-rgw"].storage.s3.regionendpoint, "http://rgw.example:7480");
        assert.ok(!("forcepathstyle" in parsed["v2-s3-rgw"].storage.s3));
        assert.equal(parsed["v2-s3-rgw"].storage.s3.v4auth, true);
        assert.equal(parsed["v2-s3-rgw"].storage.redirect.disable, true);

        const explicitFalse = read(renderRegistryConfig({ ...GOLDEN["v3-s3-rgw"], storage: { ...RGW_S3, forcePathStyle: false } }));
        assert.equal(explicitFalse.storage.s3.forcepathstyle, false);
        const aws = read(renderRegistryConfig({ ...GOLDEN["v3-s3-rgw"], storage: { driver: "s3", region: "eu-west-1", bucket: "b" } }));
        assert.ok(!("forcepathstyle" in aws.storage.s3), "no endpoint, no forced path style");
        const v2PathStyleTrue = read(renderRegistryConfig({ ...GOLDEN["v2-s3-rgw"], storage: { ...RGW_S3, forcePathStyle: true } }));
        assert.ok(!("forcepathstyle" in v2PathStyleTrue.storage.s3), "v2 never gets the key");
    });

    test("swift on v2 uses the registry's key names", () => {
        assert.deepEqual(parsed["v2-swift-rgw"].storage.swift, {
            authurl: "http://rgw.example:7480/auth/v1",
            username: "registry:swift",
            password: "swift-secret",
            authversion: 1,
            container: "registry",
        });
    });

    test("azure, gcs and inmemory drivers", () => {
        assert.deepEqual(parsed["v3-azure"].storage.azure, {
            accountname: "registryacct",
            accountkey: "YmFzZTY0LWtleQ==",
            container: "registry",
            realm: "core.windows.net",
            rootdirectory: "/registry",
        });
        assert.equal(parsed["v3-gcs"].storage.gcs.keyfile, "/secrets/gcs.json");
        assert.equal(parsed["v3-gcs"].storage.gcs.chunksize, 5242880);
        assert.deepEqual(parsed["v3-inmemory"].storage, { inmemory: {}, delete: { enabled: true } });
        assert.equal(parsed["v3-filesystem"].storage.filesystem.maxthreads, 50);
        assert.equal(parsed["v3-full"].storage.filesystem.rootdirectory, "/var/lib/registry", "default written out");
    });

    test("redis: v2 addr + pool, v3 addrs + go-redis pool keys", () => {
        const v2 = parsed["v2-redis"].redis;
        assert.deepEqual(v2, {
            addr: "redis.example:6379",
            password: "redis-secret",
            db: 1,
            dialtimeout: "10ms",
            readtimeout: "10ms",
            writetimeout: "10ms",
            pool: { maxidle: 16, maxactive: 64, idletimeout: "300s" },
        });
        const v3 = parsed["v3-redis"].redis;
        assert.deepEqual(v3, {
            addrs: ["redis-0.example:6379", "redis-1.example:6379"],
            username: "registry",
            password: "redis-secret",
            db: 1,
            dialtimeout: "10ms",
            readtimeout: "10ms",
            writetimeout: "10ms",
            maxidleconns: 16,
            poolsize: 64,
            connmaxidletime: "300s",
        });
        assert.equal(parsed["v2-redis"].storage.cache.blobdescriptor, "redis");
    });

    test("proxy: ttl on v3", () => {
        assert.deepEqual(parsed["v3-proxy"].proxy, {
            remoteurl: "https://registry-1.docker.io",
            username: "hubuser",
            password: "hub-token",
            ttl: "72h",
        });
    });

    test("full v3: tls, debug/prometheus, sorted headers, notifications, maintenance, log", () => {
        const cfg = parsed["v3-full"];
        assert.deepEqual(cfg.log, {
            accesslog: { disabled: true },
            level: "debug",
            formatter: "json",
            fields: { environment: "on", service: "registry", zone: "b" },
        });
        assert.deepEqual(Object.keys(cfg.log.fields), ["environment", "service", "zone"], "log fields sorted");
        assert.deepEqual(cfg.http.tls, {
            certificate: "/certs/tls.crt",
            key: "/certs/tls.key",
            clientcas: ["/certs/client-ca.crt"],
            minimumtls: "tls1.3",
        });
        assert.deepEqual(cfg.http.debug, { addr: "127.0.0.1:5001", prometheus: { enabled: true, path: "/metrics" } });
        assert.deepEqual(Object.keys(cfg.http.headers), ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"]);
        assert.equal(cfg.http.secret, "yes", "a YAML 1.1 boolean word stays a string");
        assert.equal(cfg.http.relativeurls, true);
        assert.equal(cfg.http.draintimeout, "60s");
        assert.deepEqual(cfg.storage.maintenance, {
            uploadpurging: { enabled: true, age: "72h", interval: "24h", dryrun: false },
            readonly: { enabled: false },
        });
        assert.equal(cfg.storage.cache.blobdescriptor, "inmemory");
        assert.deepEqual(cfg.notifications.endpoints, [
            {
                name: "audit",
                url: "https://audit.example/events",
                headers: { Authorization: ["Bearer audit-token"], "X-Source": ["registry"] },
                timeout: "1s",
                threshold: 10,
                backoff: "1s",
                ignoredmediatypes: ["application/octet-stream"],
            },
            { name: "spare", disabled: true, url: "http://spare.example/hook" },
        ]);
        assert.deepEqual(cfg.health, { storagedriver: { enabled: true, interval: "10s", threshold: 3 } });
    });

    test("tls block on v2 with minimumtls and ciphersuites", () => {
        assert.deepEqual(parsed["v2-filesystem"].http.tls, {
            certificate: "/certs/tls.crt",
            key: "/certs/tls.key",
            minimumtls: "tls1.2",
            ciphersuites: ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
        });
        assert.match(renderRegistryConfig(GOLDEN["v2-filesystem"]), /\n {4}minimumtls: tls1\.2\n/, "tls1.2 stays plain");
    });

    test("uploadpurging disabled renders only enabled: false", () => {
        const cfg = read(renderRegistryConfig({ ...base(2), storageOptions: { uploadPurging: { enabled: false } } }));
        assert.deepEqual(cfg.storage.maintenance, { uploadpurging: { enabled: false } });
    });

    test("prometheus is rendered only with a debug address", () => {
        const noPrometheus = read(renderRegistryConfig({ ...base(3), http: { addr: ":5000", debugAddr: ":5001" } }));
        assert.deepEqual(noPrometheus.http.debug, { addr: ":5001" });
    });
});

describe("quoting and headers", () => {
    test("strings YAML 1.1 or 1.2 would read as something else survive the round trip", () => {
        const tricky = [
            "on",
            "off",
            "yes",
            "no",
            "y",
            "n",
            "true",
            "NULL",
            "~",
            "0.1",
            "1e3",
            "0x10",
            "012",
            ".5",
            "12:30",
            "2024-01-01",
            "-",
            "*x",
            "&a",
            "#c",
            "a: b",
            " lead",
            "",
        ];
        for (const s of tricky) {
            const text = renderRegistryConfig({
                ...base(3),
                http: { addr: ":5000", secret: s === "" ? "x" : s },
                log: { fields: { k: s } },
            });
            for (const version of ["1.1", "1.2"] as const) {
                const cfg = parse(text, { version });
                assert.equal(cfg.log.fields.k, s, `${JSON.stringify(s)} under YAML ${version}`);
            }
        }
    });

    test("long values are not folded", () => {
        const long = "x".repeat(300);
        const text = renderRegistryConfig({ ...base(3), http: { addr: ":5000", secret: long } });
        assert.ok(text.includes(`secret: ${long}\n`));
    });

    test("nosniff merges with a user header of any case, without duplicates", () => {
        const cfg = read(renderRegistryConfig({ ...base(3), http: { addr: ":5000", headers: { "x-content-type-options": ["nosniff"] } } }));
        assert.deepEqual(cfg.http.headers, { "x-content-type-options": ["nosniff"] });
        const header = read(renderRegistryConfig({ ...base(3), http: { addr: ":5000", headers: { "B-H": ["2"], "A-H": ["1"] } } }));
        assert.deepEqual(Object.keys(header.http.headers), ["A-H", "B-H", "X-Content-Type-Options"]);
    });

    test("header insertion order does not change the output", () => {
        const a = renderRegistryConfig({ ...base(3), http: { addr: ":5000", headers: { A: ["1"], B: ["2"] } } });
        const b = renderRegistryConfig({ ...base(3), http: { addr: ":5000", headers: { B: ["2"], A: ["1"] } } });
        assert.equal(a, b);
    });
});

describe("version rules and validation errors", () => {
    const cases: Array<[string, RegistryConfigModel, string, RegExp]> = [
        [
            "swift on v3",
            { ...GOLDEN["v2-swift-rgw"], version: 3 },
            "storage.driver",
            /"swift" was removed in distribution v3: use the S3 API of Ceph RGW.*2\.x image/,
        ],
        [
            "tls1.0 on v3",
            { ...base(3), http: { addr: ":5000", tls: { ...TLS, minimumTls: "tls1.0" } } },
            "http.tls.minimumTls",
            /v3 accepts only tls1\.2 or tls1\.3.*tls1\.0/,
        ],
        ["tls1.1 on v3", { ...base(3), http: { addr: ":5000", tls: { ...TLS, minimumTls: "tls1.1" } } }, "http.tls.minimumTls", /tls1\.1/],
        [
            "RC4 cipher on v3",
            { ...base(3), http: { addr: ":5000", tls: { ...TLS, cipherSuites: ["TLS_RSA_WITH_RC4_128_SHA"] } } },
            "http.tls.cipherSuites",
            /v3 does not know the cipher suite "TLS_RSA_WITH_RC4_128_SHA"/,
        ],
        [
            "cipher suites with tls1.3",
            { ...base(2), http: { addr: ":5000", tls: { ...TLS, minimumTls: "tls1.3", cipherSuites: ["TLS_AES_128_GCM_SHA256"] } } },
            "http.tls.cipherSuites",
            /no effect with minimumTls tls1\.3/,
        ],
        [
            "two redis addrs on v2",
            { ...GOLDEN["v3-redis"], version: 2, redis: { addrs: ["a:6379", "b:6379"] } },
            "redis.addrs",
            /exactly one address on distribution v2.*got \["a:6379","b:6379"\]/,
        ],
        ["no redis addr", { ...base(3), redis: { addrs: [] } }, "redis.addrs", /at least one/],
        [
            "redis username on v2",
            { ...base(2), redis: { addrs: ["a:6379"], username: "u" } },
            "redis.username",
            /supported only by distribution v3 \(ACL users\)/,
        ],
        ["proxy ttl on v2", { ...GOLDEN["v3-proxy"], version: 2 }, "proxy.ttl", /supported only by distribution v3 \(v2 always expires after 168h\)/],
        [
            "blobdescriptor redis without redis",
            { ...base(3), storageOptions: { blobDescriptorCache: "redis" } },
            "storageOptions.blobDescriptorCache",
            /needs the redis section/,
        ],
        [
            "forcePathStyle false on v2 with an endpoint",
            { ...GOLDEN["v2-s3-rgw"], storage: { ...RGW_S3, forcePathStyle: false } },
            "storage.forcePathStyle",
            /cannot be false on distribution v2: it always uses path-style addressing with a regionEndpoint/,
        ],
        [
            "forcePathStyle true on v2 without an endpoint",
            { ...base(2), storage: { driver: "s3", region: "eu-west-1", bucket: "b", forcePathStyle: true } },
            "storage.forcePathStyle",
            /does not exist on distribution v2/,
        ],
        ["azure rootDirectory on v2", { ...GOLDEN["v3-azure"], version: 2 }, "storage.rootDirectory", /not supported by the azure driver of distribution v2/],
        ["prometheus without debug addr", { ...base(3), http: { addr: ":5000", prometheusPath: "/metrics" } }, "http.prometheusPath", /needs http\.debugAddr/],
        [
            "bad duration",
            { ...base(3), storageOptions: { uploadPurging: { enabled: true, age: "7 days" } } },
            "storageOptions.uploadPurging.age",
            /not a Go duration/,
        ],
        [
            "s3 key without secret",
            { ...base(3), storage: { driver: "s3", region: "r", bucket: "b", accessKey: "a" } },
            "storage.secretKey",
            /is required with storage\.accessKey/,
        ],
        ["s3 chunk too small", { ...base(3), storage: { ...RGW_S3, chunkSize: 1024 } }, "storage.chunkSize", /5242880/],
        ["gcs chunk not 256 KiB aligned", { ...GOLDEN["v3-gcs"], storage: { driver: "gcs", bucket: "b", chunkSize: 1000000 } }, "storage.chunkSize", /262144/],
        ["filesystem maxThreads < 25", { ...base(2), storage: { driver: "filesystem", maxThreads: 10 } }, "storage.maxThreads", /from 25/],
        ["empty addr", { ...base(3), http: { addr: "" } }, "http.addr", /non-empty/],
        ["host without scheme", { ...base(3), http: { addr: ":5000", host: "registry.example" } }, "http.host", /not a URL/],
        ["case-duplicate headers", { ...base(3), http: { addr: ":5000", headers: { "X-A": ["1"], "x-a": ["2"] } } }, "http.headers", /same header/],
        [
            "duplicate notification endpoint",
            {
                ...base(3),
                notifications: {
                    endpoints: [
                        { name: "a", url: "http://a" },
                        { name: "a", url: "http://b" },
                    ],
                },
            },
            "notifications.endpoints[1].name",
            /repeats endpoint "a"/,
        ],
        ["unknown driver", { ...base(3), storage: { driver: "oss" } as unknown as RegistryConfigModel["storage"] }, "storage.driver", /unknown driver "oss"/],
        ["version 4", { ...base(3), version: 4 as unknown as 3 }, "version", /must be 2 or 3/],
        ["relative htpasswd path", { ...base(3), auth: { htpasswd: { realm: "r", path: "htpasswd" } } }, "auth.htpasswd.path", /absolute path/],
    ];

    for (const [name, model, field, message] of cases) {
        test(name, () => {
            for (const fn of [() => validateRegistryConfigModel(model), () => renderRegistryConfig(model)]) {
                assert.throws(fn, (e: unknown) => {
                    assert.ok(e instanceof RegistryConfigError, `expected RegistryConfigError, got ${String(e)}`);
                    assert.ok(e instanceof Error);
                    assert.equal(e.name, "RegistryConfigError");
                    assert.equal(e.field, field);
                    assert.ok(e.message.startsWith(`${field}: `), e.message);
                    assert.match(e.message, message);
                    return true;
                });
            }
        });
    }

    test("swift on v3 says what to do instead", () => {
        assert.throws(
            () => renderRegistryConfig({ ...GOLDEN["v2-swift-rgw"], version: 3 }),
            /removed in distribution v3.*S3 API.*2\.x image such as registry:2\.8\.3/,
        );
    });

    test("the allowed counterparts do not throw", () => {
        validateRegistryConfigModel({ ...base(2), http: { addr: ":5000", tls: { ...TLS, minimumTls: "tls1.0" } } });
        validateRegistryConfigModel({ ...base(2), http: { addr: ":5000", tls: { ...TLS, cipherSuites: ["TLS_RSA_WITH_RC4_128_SHA"] } } });
        validateRegistryConfigModel({ ...base(2), storage: { ...RGW_S3, forcePathStyle: true } });
        validateRegistryConfigModel({ ...base(3), storage: { ...RGW_S3, forcePathStyle: false } });
        validateRegistryConfigModel({ ...base(3), proxy: { remoteUrl: "https://r.example", ttl: "0" } });
        validateRegistryConfigModel({ ...base(3), storageOptions: { blobDescriptorCache: "inmemory" } });
        for (const model of Object.values(GOLDEN)) {
            validateRegistryConfigModel(model);
        }
    });
});

describe("registryVersionFromImage", () => {
    const table: Array<[string, 2 | 3 | undefined]> = [
        ["registry:2", 2],
        ["registry:2.8", 2],
        ["registry:2.8.3", 2],
        ["docker.io/library/registry:2.8.3", 2],
        ["ghcr.io/x/registry:v2.8.2", 2],
        ["registry:3", 3],
        ["registry:3.0.0", 3],
        ["docker.io/library/registry:3.0.0", 3],
        ["localhost:5000/registry:3.1", 3],
        ["registry:3.0.0-beta.1", 3],
        ["registry:latest", 3],
        ["registry", 3],
        ["docker.io/library/registry", 3],
        ["localhost:5000/registry", 3],
        [`registry@sha256:${"a".repeat(64)}`, undefined],
        [`localhost:5000/registry@sha256:${"a".repeat(64)}`, undefined],
        [`registry:2.8.3@sha256:${"a".repeat(64)}`, 2],
        [`localhost:5000/registry:3.1@sha256:${"a".repeat(64)}`, 3],
        ["registry:edge", undefined],
        ["registry:stable-2", undefined],
        ["registry:1.0", undefined],
        ["registry:4.0.0", undefined],
        ["registry:20.04", undefined],
        ["", undefined],
    ];
    for (const [image, expected] of table) {
        test(`${image || "(empty)"} → ${expected}`, () => {
            assert.equal(registryVersionFromImage(image), expected);
        });
    }
});
