import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import {
    certsDirName,
    renderDaemonApply,
    renderDaemonRead,
    renderDaemonRestore,
    renderFailure,
    renderLogin,
    renderLogout,
    renderTrustInstall,
    renderTrustRemove,
    runScript,
    shQuote,
} from "../../components/render/clientScripts";
import { mergeDaemonJson } from "../../components/render/daemonJson";

/** Values that break naive quoting: quotes, $, backticks, newlines, spaces, globs, non-ASCII. */
const HOSTILE = [
    "plain",
    "it's",
    'say "hi"',
    "$(touch /tmp/pwned-by-test)",
    "`touch /tmp/pwned-by-test`",
    "a\nb",
    "two  spaces",
    "*",
    "-n",
    "ünïcødé ✓",
    "back\\slash",
    "semi;colon && echo x",
    "",
];

/** Runs a rendered command line the way sshd would: the login shell with `-c`. */
function sh(commandLine: string, stdin = ""): { code: number; stdout: string; stderr: string } {
    const r = spawnSync("/bin/bash", ["-c", commandLine], { input: stdin, encoding: "utf8" });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const scratch: string[] = [];
function tmpdir(): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "pr-scripts-"));
    scratch.push(d);
    return d;
}
after(() => {
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

/** A stable picture of a tree: every path with its mode and content hash. */
function treeHash(root: string): string {
    if (!fs.existsSync(root)) {
        return "absent";
    }
    const out: string[] = [];
    const walk = (p: string) => {
        const st = fs.lstatSync(p);
        const rel = path.relative(root, p);
        if (st.isDirectory()) {
            out.push(`d ${rel} ${(st.mode & 0o7777).toString(8)}`);
            for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
        } else {
            const h = crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
            out.push(`f ${rel} ${(st.mode & 0o7777).toString(8)} ${h}`);
        }
    };
    walk(root);
    return out.join("\n");
}

const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

describe("shQuote", () => {
    for (const v of HOSTILE) {
        it(`round-trips ${JSON.stringify(v)} through sh`, () => {
            const r = sh(`printf '%s' ${shQuote(v)}`);
            assert.equal(r.code, 0);
            assert.equal(r.stdout, v);
        });
    }
    it("keeps command substitution inert", () => {
        fs.rmSync("/tmp/pwned-by-test", { force: true });
        sh(`echo ${shQuote("$(touch /tmp/pwned-by-test)")} ${shQuote("`touch /tmp/pwned-by-test`")}`);
        assert.equal(fs.existsSync("/tmp/pwned-by-test"), false);
    });
});

describe("renderFailure", () => {
    it("fails with exactly the message on stderr, whatever it holds", () => {
        for (const v of HOSTILE) {
            const r = sh(runScript(renderFailure(`private-registry: ${v}`), false));
            assert.equal(r.code, 1);
            assert.equal(r.stderr, `private-registry: ${v}\n`);
            assert.equal(r.stdout, "");
        }
        assert.equal(fs.existsSync("/tmp/pwned-by-test"), false);
    });
});

describe("certsDirName", () => {
    it("is host:port, just the host on 443, and brackets IPv6", () => {
        assert.equal(certsDirName("registry.example", 5000), "registry.example:5000");
        assert.equal(certsDirName("registry.example", 443), "registry.example");
        assert.equal(certsDirName("10.0.0.5", 5000), "10.0.0.5:5000");
        assert.equal(certsDirName("fd00::5", 5000), "[fd00::5]:5000");
    });
});

describe("runScript", () => {
    it("runs under sh whatever the login shell, with sudo -n when asked", () => {
        assert.match(runScript("echo hi", false), /^sh -c 'echo hi'$/);
        assert.match(runScript("echo hi", true), /^sudo -n sh -c 'echo hi'$/);
        assert.equal(sh(runScript('echo "it\'s $((1+2))"', false)).stdout, "it's 3\n");
    });
});

describe("trust install / remove", () => {
    it("installs ca.crt in every folder and removing restores the tree byte for byte", () => {
        const root = tmpdir();
        const etc = path.join(root, "etc-docker");
        fs.mkdirSync(path.join(etc, "certs.d", "existing:5000"), { recursive: true });
        fs.writeFileSync(path.join(etc, "certs.d", "existing:5000", "ca.crt"), "OLD CA\n");
        fs.writeFileSync(path.join(etc, "daemon.json"), '{"debug": false}\n');
        const before = treeHash(etc);
        const paths = { certsRoot: path.join(etc, "certs.d"), stateDir: path.join(root, "state dir $x") };
        const dirs = ["registry.test:5000", "existing:5000", "10.1.2.3:5000"];

        const install = sh(runScript(renderTrustInstall(dirs, paths), false), CA);
        assert.equal(install.code, 0, install.stderr);
        for (const d of dirs) {
            assert.equal(fs.readFileSync(path.join(paths.certsRoot, d, "ca.crt"), "utf8"), CA);
            assert.equal(fs.statSync(path.join(paths.certsRoot, d, "ca.crt")).mode & 0o777, 0o644);
        }
        // Idempotent: a second run keeps the first backup of the overwritten ca.crt.
        assert.equal(sh(runScript(renderTrustInstall(dirs, paths), false), CA).code, 0);

        const remove = sh(runScript(renderTrustRemove(dirs, paths), false));
        assert.equal(remove.code, 0, remove.stderr);
        assert.equal(treeHash(etc), before);
        assert.equal(fs.existsSync(paths.stateDir), false);
    });

    it("creates certs.d itself when absent and removes it again", () => {
        const root = tmpdir();
        const etc = path.join(root, "docker");
        fs.mkdirSync(etc);
        const before = treeHash(etc);
        const paths = { certsRoot: path.join(etc, "certs.d"), stateDir: path.join(root, "state") };
        assert.equal(sh(runScript(renderTrustInstall(["r:5000"], paths), false), CA).code, 0);
        assert.ok(fs.existsSync(path.join(etc, "certs.d", "r:5000", "ca.crt")));
        assert.equal(sh(runScript(renderTrustRemove(["r:5000"], paths), false)).code, 0);
        assert.equal(treeHash(etc), before);
    });

    it("refuses stdin that is not a certificate", () => {
        const root = tmpdir();
        const r = sh(runScript(renderTrustInstall(["r:5000"], { certsRoot: root, stateDir: path.join(root, "s") }), false), "nope");
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /not a PEM certificate/);
    });

    for (const v of HOSTILE.filter((h) => h !== "" && !h.includes("\n") && h !== "*" && !h.includes("/"))) {
        it(`handles the hostile folder name ${JSON.stringify(v)} literally`, () => {
            const root = tmpdir();
            const paths = { certsRoot: path.join(root, "certs.d"), stateDir: path.join(root, `st ${v}`) };
            const r = sh(runScript(renderTrustInstall([v], paths), true).replace(/^sudo -n /, ""), CA);
            assert.equal(r.code, 0, r.stderr);
            assert.deepEqual(fs.readdirSync(paths.certsRoot), [v]);
            assert.equal(sh(runScript(renderTrustRemove([v], paths), false)).code, 0);
            assert.equal(fs.existsSync(paths.certsRoot), false);
        });
    }
});

describe("daemon.json read / apply / restore", () => {
    function setup(existing?: string) {
        const root = tmpdir();
        const file = path.join(root, "etc", "daemon.json");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        if (existing !== undefined) fs.writeFileSync(file, existing, { mode: 0o600 });
        return { root, file, paths: { daemonJson: file, stateDir: path.join(root, "state"), controlDaemon: false } };
    }

    it("merges into the existing file, keeps other keys, and restores the original exactly", () => {
        const original = '{\n  "data-root": "/srv/docker",\n  "registry-mirrors": ["https://m.example"]\n}\n';
        const { root, file, paths } = setup(original);
        const before = treeHash(path.dirname(file));
        const read = sh(runScript(renderDaemonRead(paths), false));
        assert.equal(read.stdout, original);
        const m = mergeDaemonJson(read.stdout, { maxConcurrentDownloads: 5, registryMirrors: ["https://n.example"] });
        const p = { ...paths, managedKeys: m.managedKeys, restart: m.restartNeeded };
        const apply = sh(runScript(renderDaemonApply(p), false), m.text);
        assert.equal(apply.code, 0, apply.stderr);
        const now = JSON.parse(fs.readFileSync(file, "utf8"));
        assert.equal(now["data-root"], "/srv/docker");
        assert.deepEqual(now["registry-mirrors"], ["https://m.example", "https://n.example"]);
        assert.equal(now["max-concurrent-downloads"], 5);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600, "keeps the file's mode");

        // A second run merges into the saved original, not into our own output.
        const again = sh(runScript(renderDaemonRead(paths), false));
        assert.equal(again.stdout, original);

        const restore = sh(runScript(renderDaemonRestore(p), false));
        assert.equal(restore.code, 0, restore.stderr);
        assert.equal(treeHash(path.dirname(file)), before);
        assert.equal(fs.existsSync(paths.stateDir), false);
        fs.rmSync(root, { recursive: true });
    });

    it("removes a daemon.json that did not exist before", () => {
        const { file, paths } = setup();
        const m = mergeDaemonJson("", { debug: true });
        const p = { ...paths, managedKeys: m.managedKeys, restart: false };
        assert.equal(sh(runScript(renderDaemonApply(p), false), m.text).code, 0);
        assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), { debug: true });
        assert.equal(sh(runScript(renderDaemonRead(paths), false)).stdout, "", "the saved original was 'no file'");
        assert.equal(sh(runScript(renderDaemonRestore(p), false)).code, 0);
        assert.equal(fs.existsSync(file), false);
    });

    it("quotes hostile paths", () => {
        for (const v of ["it's", "$(id)", "a b", "`x`", "ü"]) {
            const root = tmpdir();
            const file = path.join(root, v, "daemon.json");
            const paths = { daemonJson: file, stateDir: path.join(root, `s${v}`), controlDaemon: false };
            const p = { ...paths, managedKeys: ["debug"], restart: false };
            assert.equal(sh(runScript(renderDaemonApply(p), false), '{"debug": true}\n').code, 0);
            assert.equal(fs.readFileSync(file, "utf8"), '{"debug": true}\n');
            assert.equal(sh(runScript(renderDaemonRestore(p), false)).code, 0);
            assert.equal(fs.existsSync(file), false);
        }
    });

    it("checks dockerd's flags for keys set twice before signalling", () => {
        const script = renderDaemonApply({ stateDir: "/s", managedKeys: ["registry-mirrors", "debug"], restart: false });
        assert.match(script, /--registry-mirror\(=\|\$\)/);
        assert.match(script, /-D\(=\|\$\)/);
        assert.match(script, /kill -HUP/);
        assert.doesNotMatch(script, /restart docker/);
        const restart = renderDaemonApply({ stateDir: "/s", managedKeys: ["log-opts"], restart: true });
        assert.match(restart, /systemctl restart docker/);
        assert.doesNotMatch(restart, /kill -HUP/);
    });
});

describe("login / logout", () => {
    for (const user of HOSTILE.filter((h) => h !== "")) {
        it(`passes the username ${JSON.stringify(user)} as one argument and the password only on stdin`, () => {
            const bin = tmpdir();
            // A stand-in docker that prints its argv and stdin, to see exactly what it receives.
            fs.writeFileSync(path.join(bin, "docker"), '#!/bin/sh\nfor a in "$@"; do printf "<%s>" "$a"; done; printf "\\nstdin=%s" "$(cat)"\n', {
                mode: 0o755,
            });
            const line = runScript(renderLogin("registry.test:5000", user), false);
            assert.ok(!line.includes("s3cr3t"));
            const r = sh(`PATH=${shQuote(bin)}:$PATH; ${line}`, "s3cr3t");
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, `<login><--username><${user}><--password-stdin><registry.test:5000>\nstdin=s3cr3t`);
            const out = sh(`PATH=${shQuote(bin)}:$PATH; ${runScript(renderLogout("registry.test:5000"), false)}`, "");
            assert.match(out.stdout, /^<logout><registry.test:5000>/);
        });
    }
});

describe("rendered scripts are valid POSIX sh", () => {
    it("parses every script with sh -n (and dash when present)", () => {
        const paths = { stateDir: "/var/lib/private-registry/x" };
        const scripts = [
            renderTrustInstall(["a:1", "it's:2"], paths),
            renderTrustRemove(["a:1"], paths),
            renderDaemonRead(paths),
            renderDaemonApply({ ...paths, managedKeys: ["debug", "log-opts"], restart: true }),
            renderDaemonRestore({ ...paths, managedKeys: ["debug"], restart: false }),
            renderLogin("r:1", "u"),
            renderLogout("r:1"),
        ];
        const shells = ["/bin/sh", "/bin/dash"].filter((s) => fs.existsSync(s));
        for (const shell of shells) {
            for (const s of scripts) {
                execFileSync(shell, ["-n", "-c", s]);
            }
        }
        assert.ok(shells.length > 0);
    });
});
