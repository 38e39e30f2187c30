/**
 * Properties of the pure renderers, over generated inputs (fast-check): shell quoting survives any
 * text, certs.d folder names read back as the address they name, the daemon.json merge is
 * idempotent and keeps what it does not manage, restore is the inverse of apply on a scratch tree,
 * and any text in a config.yml value reads back unchanged as YAML 1.1 (the registry's parser).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { certsDirName, renderDaemonApply, renderDaemonRestore, runScript, shQuote } from "../../components/render/clientScripts";
import { mergeDaemonJson } from "../../components/render/daemonJson";
import { renderRegistryConfig } from "../../components/render/registryConfig";
import type { RegistryConfigModel } from "../../components/render/registryConfigModel";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pr-properties-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Text a process argument or file can hold: any Unicode except NUL. */
const text = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0"));

/** Runs a command line under `sh -c`, as sshd hands it to the login shell. */
function sh(commandLine: string, stdin = ""): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("sh", ["-c", commandLine], { input: stdin, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("shQuote", () => {
    it("hands any text to the command unchanged", () => {
        fc.assert(
            fc.property(text, (s) => {
                assert.equal(sh(`printf '%s' ${shQuote(s)}`).stdout, s);
            }),
            { numRuns: 60 },
        );
    });
});

describe("certsDirName", () => {
    const port = fc.integer({ min: 1, max: 65535 });
    const ipv6 = fc.ipV6();
    const name = fc.oneof(fc.domain(), fc.ipV4());
    it("reads back as the host and port it names (IPv6 in brackets, no port on 443)", () => {
        fc.assert(
            fc.property(fc.oneof(name, ipv6), port, (host, p) => {
                const dir = certsDirName(host, p);
                const url = new URL(`https://${dir}/`);
                const expectedHost = host.includes(":") ? new URL(`https://[${host}]/`).hostname : new URL(`https://${host}/`).hostname;
                assert.equal(url.hostname, expectedHost);
                assert.equal(url.port, p === 443 ? "" : String(p));
                assert.ok(!dir.includes("/"), "one folder");
            }),
        );
    });
});

/** An existing daemon.json: any JSON object of the operator's own keys. */
const existingObject = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });
const desired = fc.record(
    {
        registryMirrors: fc.array(fc.webUrl(), { maxLength: 2 }),
        maxConcurrentDownloads: fc.integer({ min: 1, max: 20 }),
        maxConcurrentUploads: fc.integer({ min: 1, max: 20 }),
        liveRestore: fc.boolean(),
        logOpts: fc.dictionary(fc.constantFrom("max-size", "max-file", "compress"), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
        debug: fc.boolean(),
    },
    { requiredKeys: [] },
);
const insecure = fc.array(
    fc.domain().map((d) => `${d}:5000`),
    { maxLength: 2 },
);

describe("mergeDaemonJson", () => {
    it("is idempotent: merging again changes nothing and says so", () => {
        fc.assert(
            fc.property(existingObject, desired, insecure, (before, want, regs) => {
                const once = mergeDaemonJson(JSON.stringify(before), want, regs);
                const twice = mergeDaemonJson(once.text, want, regs);
                assert.equal(twice.text, once.text);
                assert.equal(twice.unchanged, true);
                assert.equal(twice.restartNeeded, false);
            }),
        );
    });

    it("keeps every key it does not manage exactly as it was", () => {
        fc.assert(
            fc.property(existingObject, desired, insecure, (generated, want, regs) => {
                const text = JSON.stringify(generated);
                // The file as dockerd would read it (JSON has no -0, for one).
                const before = JSON.parse(text) as Record<string, unknown>;
                const merged = mergeDaemonJson(text, want, regs);
                const after = JSON.parse(merged.text) as Record<string, unknown>;
                for (const [k, v] of Object.entries(before)) {
                    if (!merged.managedKeys.includes(k)) assert.deepEqual(after[k], v, k);
                }
            }),
        );
    });
});

describe("daemon.json apply and restore", () => {
    it("restore is the inverse of apply: the file (or its absence) and its mode come back byte for byte", () => {
        let n = 0;
        fc.assert(
            fc.property(fc.option(existingObject, { nil: undefined }), desired, fc.constantFrom(0o600, 0o644), (before, want, mode) => {
                const root = path.join(scratch, `tree-${n++}`);
                const file = path.join(root, "etc", "docker", "daemon.json");
                const p = { stateDir: path.join(root, "state"), daemonJson: file, managedKeys: [], restart: false, controlDaemon: false };
                fs.mkdirSync(path.dirname(file), { recursive: true });
                const original = before === undefined ? undefined : `${JSON.stringify(before, null, 4)}\n`;
                if (original !== undefined) fs.writeFileSync(file, original, { mode });
                const merged = mergeDaemonJson(original ?? "", want);
                const apply = sh(runScript(renderDaemonApply(p), false), merged.text);
                assert.equal(apply.status, 0, apply.stderr);
                assert.equal(fs.readFileSync(file, "utf8"), merged.text);
                const restore = sh(runScript(renderDaemonRestore(p), false));
                assert.equal(restore.status, 0, restore.stderr);
                if (original === undefined) assert.equal(fs.existsSync(file), false);
                else {
                    assert.equal(fs.readFileSync(file, "utf8"), original);
                    assert.equal(fs.statSync(file).mode & 0o777, mode);
                }
                assert.equal(fs.existsSync(p.stateDir), false, "no bookkeeping left behind");
            }),
            { numRuns: 40 },
        );
    });
});

describe("config.yml", () => {
    const model = (value: string, realm: string): RegistryConfigModel => ({
        version: 3,
        log: { level: "info", formatter: "text" },
        storage: { driver: "filesystem", rootDirectory: "/var/lib/registry" },
        http: { addr: ":5000", secret: "a-stable-http-secret", headers: { "X-Generated": [value] } },
        auth: { htpasswd: { realm, path: "/auth/htpasswd" } },
    });
    const printable = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 });
    it("any text in a value reads back unchanged through a YAML 1.1 parser", () => {
        let rendered = 0;
        let refused = 0;
        fc.assert(
            fc.property(printable, printable, (value, realm) => {
                let yamlText: string;
                try {
                    yamlText = renderRegistryConfig(model(value, realm));
                } catch {
                    refused++; // refused with an error is fine; written wrong is not
                    return;
                }
                rendered++;
                const back = parse(yamlText, { version: "1.1" });
                assert.deepEqual(back.http.headers["X-Generated"], [value]);
                assert.equal(back.auth.htpasswd.realm, realm);
            }),
            { numRuns: 300 },
        );
        assert.ok(rendered > refused * 4, `mostly rendered, not refused: ${rendered} rendered, ${refused} refused`);
    });
});
