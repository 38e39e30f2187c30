/**
 * The invalid-config corpus (test/fixtures/invalid/*.yaml): each file is a stack file whose
 * `# expect:` line names the key its error must mention. `{secure: X}` marks a value set as a
 * secret (plaintext X here). Every case must fail in parseSettings AND in the whole program before
 * any resource is registered.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { readStackConfig } from "../scripts/stackFile";
import { NAMESPACE, parseSettings, SettingsError } from "../settings";
import { resetRecords, settle, setupMocks, type MockRun } from "./support/mocks";

const dir = path.join(__dirname, "fixtures", "invalid");
const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();

let run: MockRun;
let main: typeof import("../program").main;
before(async () => {
    run = setupMocks();
    ({ main } = await import("../program"));
});

function load(file: string) {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    const expected = [...text.matchAll(/^# expect: (.+?)\s*$/gm)].map((m) => m[1]);
    const cfg = readStackConfig(text, { namespace: NAMESPACE, secureIsPlaintext: true });
    const short = (k: string) => k.slice(NAMESPACE.length + 1);
    const raw = {
        values: Object.fromEntries(Object.entries(cfg.values).map(([k, v]) => [short(k), v])),
        secretKeys: new Set(cfg.secretKeys.map(short)),
    };
    // The plaintexts of `{secure: …}` values: no error message may quote them.
    const secrets: string[] = [];
    const collect = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === "object") {
            const o = v as Record<string, unknown>;
            if (Object.keys(o).length === 1 && "secure" in o) secrets.push(String(o.secure));
            else Object.values(o).forEach(collect);
        }
    };
    collect((parseYaml(text) as { config?: unknown } | null)?.config);
    return { expected, cfg, raw, secrets: secrets.filter((x) => x.length >= 8) };
}

function problemsOf(e: unknown): string[] {
    assert.ok(e instanceof SettingsError, `expected a SettingsError, got ${e}`);
    return (e as SettingsError).problems.map((p) => p.key);
}

describe("invalid-config corpus", () => {
    it("has at least 200 cases, each naming the key it expects", () => {
        assert.ok(files.length >= 200, `only ${files.length} cases`);
        for (const f of files) assert.ok(load(f).expected.length > 0, `${f} has no # expect: line`);
    });

    for (const file of files) {
        it(`${file.replace(/\.yaml$/, "")}: fails naming its key, and registers no resource`, async () => {
            const { expected, cfg, raw, secrets } = load(file);
            let keys: string[] = [];
            assert.throws(
                () => parseSettings(raw),
                (e: unknown) => {
                    keys = problemsOf(e);
                    for (const secret of secrets) assert.ok(!(e as Error).message.includes(secret), "the message quotes a secret value");
                    return true;
                },
            );
            for (const k of expected) {
                assert.ok(keys.includes(k), `expected a problem at ${k}; got ${keys.join(", ")}`);
            }
            // The message names the key too, as the CLI shows it.
            assert.throws(() => parseSettings(raw), new RegExp(expected[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));

            resetRecords(run);
            pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
            assert.throws(() => main(), SettingsError);
            await settle(20);
            assert.equal(run.records.length, 0, "no resource reached the engine");
            assert.equal(run.registrations().length, 0);
        });
    }

    it("never prints a secret value in an error", () => {
        const raw = {
            values: { users: JSON.stringify([{ name: "a:b", password: "TOPSECRET-1" }]), sshPrivateKey: "TOPSECRET-2" },
            secretKeys: new Set(["users", "sshPrivateKey"]),
        };
        assert.throws(
            () => parseSettings(raw),
            (e: unknown) => {
                assert.doesNotMatch((e as Error).message, /TOPSECRET/);
                return true;
            },
        );
    });
});

describe("config under another namespace", () => {
    it("is not silently ignored: loadSettings warns, naming the key and the namespace this program reads", async () => {
        const { loadSettings } = await import("../settings/stackConfig");
        pulumi.runtime.setAllConfig({ "private_registry:port": "5001", "other-project:clients": "[]", "docker:host": "unix:///x", "aws:region": "r" }, []);
        assert.deepStrictEqual(loadSettings().warnings, [
            "private_registry:port is not read: this program reads only the private-registry namespace (did you mean private-registry:port?)",
            "other-project:clients is not read: this program reads only the private-registry namespace (did you mean private-registry:clients?)",
        ]);
    });
});
