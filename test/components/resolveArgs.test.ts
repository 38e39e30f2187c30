/**
 * The front door's defaults and the registry model's provenance: `resolveArgs` gives an empty
 * argument list what the settings give an empty stack file (one home per default, two readers),
 * leaves complete settings as they are, and the one model builder records the argument (= the
 * config key) of every part it builds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArgsError, type PrivateRegistryArgs, resolveArgs } from "../../components";
import { sourceOf, traceRegistryConfig, registryModelArgs } from "../../components/registry/registryModel";
import { parseSettings, SettingsError } from "../../settings";
import { rawConfigFrom } from "../../settings/reader";
import type { Settings } from "../../settings/types";
import { readStackConfig } from "../../scripts/stackFile";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** A value as the engine would see it: undefined fields dropped. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
/** A stack file's config as the program's settings read it. */
function stackSettings(file: string, setSecret: Record<string, string> = {}): Settings {
    const cfg = readStackConfig(file, { namespace: "private-registry", setSecret });
    return parseSettings(
        rawConfigFrom(Object.entries(cfg.values).map(([key, value]) => ({ key, value: String(value), secret: cfg.secretKeys.includes(key) }))),
    );
}
const argsOf = ({ warnings: _, ...args }: Settings): PrivateRegistryArgs => args;
const settingsOf = (values: Record<string, unknown>) =>
    parseSettings({
        values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        secretKeys: new Set(),
    });

describe("resolveArgs", () => {
    it("gives no arguments what the settings give a stack file without keys (the same defaults, read from defaults.ts)", () => {
        const fromConfig = argsOf(settingsOf({ hostnames: ["localhost"], ipAddresses: ["127.0.0.1"] }));
        assert.deepEqual(plain(resolveArgs({})), plain(fromConfig));
    });

    it("leaves a stack's parsed settings exactly as they are (they are complete arguments)", () => {
        const stacks = [
            stackSettings("Pulumi.dev.yaml"),
            settingsOf({
                hostnames: ["r.lab"],
                replicas: "2",
                redisCache: {},
                gcSchedule: {},
                clients: [{ name: "b", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: true }],
            }),
        ];
        for (const s of stacks) {
            const args = argsOf(s);
            assert.deepEqual(plain(resolveArgs(args)), plain(args));
        }
    });

    it("fills a partial section field by field, and derives what depends on other arguments", () => {
        const r = resolveArgs({
            containerName: "lab",
            registry: { logLevel: "debug" },
            replicas: 3,
            clients: [{ name: "b", host: "10.0.0.5", user: "deploy" }],
        });
        assert.equal(r.registry.logLevel, "debug");
        assert.equal(r.registry.deleteEnabled, true);
        assert.equal(r.registry.realm, "private-registry");
        assert.deepEqual(r.data, { kind: "volume", volumeName: "lab-data", keepOnDestroy: true });
        assert.deepEqual(r.loadBalancer, { image: "haproxy:3.0", checkIntervalMs: 1000 });
        assert.equal(r.reachFromHere, "127.0.0.1");
        assert.deepEqual({ port: r.clients[0].port, sudo: r.clients[0].sudo, loginAs: r.clients[0].loginAs }, { port: 22, sudo: true, loginAs: "admin" });
        assert.equal(resolveArgs({ tls: { enabled: false }, clients: [{ name: "b", host: "h" }] }).clients[0].loginAs, undefined);
    });

    it("refuses what has no default, naming the argument", () => {
        assert.throws(
            () => resolveArgs({ users: [] }),
            (e: unknown) => e instanceof ArgsError && /^users: /.test(e.message),
        );
        assert.throws(
            () => resolveArgs({ image: "registry:edge" }),
            (e: unknown) => e instanceof ArgsError && /^registryVersion: /.test(e.message),
        );
    });
});

describe("the registry model's provenance", () => {
    it("records, for every part it builds, the argument it came from: the stack file's key", () => {
        const s = stackSettings("Pulumi.dev.yaml");
        const { sources } = traceRegistryConfig(
            registryModelArgs({ ...s, registry: { ...s.registry, proxy: { remoteUrl: "https://r.example", ttl: "1h" }, prometheus: true, debugPort: 5002 } }),
        );
        const cases: [string, string][] = [
            ["proxy.ttl", "registry.proxy.ttl"],
            ["storageOptions.deleteEnabled", "registry.deleteEnabled"],
            ["http.addr", "port"],
            ["http.tls.minimumTls", "tls.minimumTls"],
            ["http.debugAddr", "registry.debugPort"],
            ["http.prometheusPath", "registry.prometheus"],
            ["log.level", "registry.logLevel"],
            ["auth.htpasswd.realm", "registry.realm"],
            ["storage.rootDirectory", "storage.rootDirectory"],
            ["version", "registryVersion"],
        ];
        assert.deepEqual(
            cases.map(([field]) => [field, sourceOf(sources, field)]),
            cases,
        );
    });

    it("reports a model rule under the key the model recorded, on a v3 and on a v2 registry", () => {
        const keysOf = (values: Record<string, unknown>) => {
            try {
                settingsOf(values);
                return [];
            } catch (e) {
                if (!(e instanceof SettingsError)) throw e;
                return e.problems.map((p) => p.key);
            }
        };
        assert.deepEqual(keysOf({ hostnames: ["localhost"], registry: { proxy: { remoteUrl: "https://r.example", ttl: "soon" } } }), [
            "private-registry:registry.proxy.ttl",
        ]);
        assert.deepEqual(
            keysOf({
                hostnames: ["localhost"],
                registryVersion: "2",
                image: "registry:2.8.3",
                registry: { proxy: { remoteUrl: "https://r.example", ttl: "1h" } },
            }),
            ["private-registry:registry.proxy.ttl"],
        );
    });
});
