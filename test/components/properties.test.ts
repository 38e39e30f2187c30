/**
 * Properties of the pure renderers, over generated inputs (fast-check): shell quoting survives any
 * text, certs.d folder names read back as the address they name, the client-host ledger is
 * idempotent, keeps what it does not own, and puts every file back byte for byte whatever order
 * its owners leave in, and any text in a config.yml value reads back unchanged as YAML 1.1 (the
 * registry's parser).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { type Ledger, type PathState, type Plan, type Snapshot, emptyLedger, plan } from "../../components/clients/ledger";
import { DIR_ROOTS, certsDirName, desiredItems, dockerDaemonKeys } from "../../components/clients/runtimes";
import { parseProbe } from "../../components/clients/shell";
import { shQuote } from "../../components/sh";
import { renderRegistryConfig } from "../../components/registryConfig";
import type { RegistryConfigModel } from "../../components/registryConfig/model";

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

/** A host in memory: the plan's writes applied to the snapshot, as the commit script does. */
function applyPlan(snap: Snapshot, p: Plan): Snapshot {
    const paths = { ...snap.paths };
    for (const d of p.mkdirs) paths[d] = { kind: "dir", mode: "0755", uid: 0, gid: 0 };
    for (const w of p.writes) paths[w.path] = w.state;
    for (const d of p.rmdirs) if (!Object.keys(paths).some((k) => k.startsWith(`${d}/`) && paths[k].kind !== "absent")) paths[d] = { kind: "absent" };
    return { paths };
}
const present = (s: Snapshot) => Object.fromEntries(Object.entries(s.paths).filter(([, v]) => v.kind !== "absent"));
const wantsOf = (want: Parameters<typeof dockerDaemonKeys>[0], regs: string[], address: string) => ({
    addresses: [address],
    caCertPem: `-----BEGIN CERTIFICATE-----\n${address}\n-----END CERTIFICATE-----\n`,
    daemonJson: dockerDaemonKeys(want),
    insecureRegistries: regs,
    login: { username: "u", password: address },
});
const probe = parseProbe("home\t/root\ncommand\tdocker\n");

describe("the client-host ledger", () => {
    const hostOf = (before: Record<string, unknown> | undefined, mode: string): Snapshot => {
        const dir: PathState = { kind: "dir", mode: "0755", uid: 0, gid: 0 };
        const paths: Record<string, PathState> = { "/etc": dir, "/root": dir };
        if (before !== undefined) paths["/etc/docker"] = dir;
        if (before !== undefined)
            paths["/etc/docker/daemon.json"] = {
                kind: "file",
                b64: Buffer.from(`${JSON.stringify(before, null, 4)}\n`).toString("base64"),
                mode,
                uid: 0,
                gid: 0,
            };
        return { paths };
    };
    const step = (snap: Snapshot, ledger: Ledger, owner: string, wants: ReturnType<typeof wantsOf> | undefined) => {
        const p = plan(owner, wants ? desiredItems(wants, ["docker"], probe) : [], snap, ledger, DIR_ROOTS);
        return { snap: applyPlan(snap, p), ledger: p.ledger, plan: p };
    };

    it("is idempotent: a second apply of the same wants writes nothing", () => {
        fc.assert(
            fc.property(fc.option(existingObject, { nil: undefined }), desired, insecure, (before, want, regs) => {
                const once = step(hostOf(before, "0644"), emptyLedger(), "o", wantsOf(want, regs, "r:5000"));
                const twice = step(once.snap, once.ledger, "o", wantsOf(want, regs, "r:5000"));
                assert.deepEqual(twice.plan.writes, []);
                assert.deepEqual(twice.plan.report, []);
            }),
        );
    });

    it("keeps every key it does not own exactly as it was", () => {
        fc.assert(
            fc.property(existingObject, desired, insecure, (generated, want, regs) => {
                const before = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>;
                const wants = wantsOf(want, regs, "r:5000");
                const once = step(hostOf(before, "0644"), emptyLedger(), "o", wants);
                const file = once.snap.paths["/etc/docker/daemon.json"];
                if (file?.kind !== "file") return;
                const after = JSON.parse(Buffer.from(file.b64, "base64").toString("utf8")) as Record<string, unknown>;
                const owned = new Set([...Object.keys(wants.daemonJson), ...(regs.length > 0 ? ["insecure-registries"] : [])]);
                for (const [k, v] of Object.entries(before)) if (!owned.has(k)) assert.deepEqual(after[k], v, k);
            }),
        );
    });

    it("two owners leaving in either order put every file back byte for byte, mode included", () => {
        fc.assert(
            fc.property(
                fc.option(existingObject, { nil: undefined }),
                desired,
                desired,
                insecure,
                fc.constantFrom("0600", "0644"),
                fc.boolean(),
                (before, w1, w2, regs, mode, firstLeavesFirst) => {
                    const start = hostOf(before === undefined ? undefined : JSON.parse(JSON.stringify(before)), mode);
                    let h = step(start, emptyLedger(), "a", wantsOf(w1, regs, "r:5000"));
                    h = step(h.snap, h.ledger, "b", wantsOf(w2, [], "s:5000"));
                    const order = firstLeavesFirst ? ["a", "b"] : ["b", "a"];
                    h = step(h.snap, h.ledger, order[0], undefined);
                    h = step(h.snap, h.ledger, order[1], undefined);
                    assert.deepEqual(present(h.snap), present(start));
                    assert.deepEqual(h.ledger.entries, {});
                    assert.deepEqual(h.ledger.dirs, {});
                },
            ),
            { numRuns: 200 },
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
