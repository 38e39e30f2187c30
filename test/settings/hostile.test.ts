/** `parseSettings`: hostile input. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { NAMESPACE, parseSettings, SettingsError } from "../../settings";
import { MAX_BUNDLE_BYTES, MAX_NESTING, MAX_VALUE_BYTES } from "../../settings/limits";
import { foreignKeyWarnings } from "../../settings/namespaces";
import { SSH_KEY, HOST_KEY, raw, ok } from "./support";

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
