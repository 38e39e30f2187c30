/**
 * The installer script of the registry's files (components/files/installScript.ts), run by a real
 * `sh` against temporary folders standing in for the volume, the staging folder and the data.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { FILES_DIR, installScript, STAGING_DIR, stagedPath } from "../../../components/files/installScript";

const FILES = [
    { path: `${FILES_DIR}/config.yml`, mode: "0600" },
    { path: `${FILES_DIR}/tls/registry.crt`, mode: "0644" },
    { path: `${FILES_DIR}/auth/htpasswd`, mode: "0600" },
];

/** Runs the script with its fixed folders moved under `root`, as this user. */
function run(script: string, root: string): void {
    const moved = script.replaceAll(FILES_DIR, `${root}/files`).replaceAll(STAGING_DIR, `${root}/staging`).replaceAll("/var/lib/registry", `${root}/data`);
    execFileSync("sh", ["-c", moved]);
}

function stage(root: string, files: typeof FILES, tag: string): void {
    for (const f of files) {
        const p = path.join(root, "staging", stagedPath(f).slice(STAGING_DIR.length));
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, `${tag} ${f.path}\n`, { mode: 0o600 });
    }
}

describe("the registry files installer", () => {
    const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

    it("puts every file in place with its mode, leaves no temporary file, and removes the staging folder", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "files-"));
        stage(root, FILES, "v1");
        fs.mkdirSync(path.join(root, "data"));
        run(installScript(FILES, me, "/var/lib/registry"), root);
        for (const f of FILES) {
            const p = path.join(root, "files", f.path.slice(FILES_DIR.length));
            assert.equal(fs.readFileSync(p, "utf8"), `v1 ${f.path}\n`);
            assert.equal((fs.statSync(p).mode & 0o777).toString(8).padStart(4, "0"), f.mode, f.path);
        }
        assert.equal(fs.existsSync(path.join(root, "staging")), false);
        assert.ok(fs.statSync(path.join(root, "data", "docker")).isDirectory(), "the data volume is never left empty");
        const all = execFileSync("find", [path.join(root, "files"), "-type", "f"])
            .toString()
            .trim()
            .split("\n");
        assert.equal(all.length, FILES.length, all.join("\n"));
    });

    it("replaces a file by rename (a new inode, so a reader never sees half of it) and drops files no longer delivered", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "files-"));
        stage(root, FILES, "v1");
        run(installScript(FILES, me), root);
        const htpasswd = path.join(root, "files", "auth", "htpasswd");
        const inode = fs.statSync(htpasswd).ino;
        const withoutTls = FILES.filter((f) => !f.path.includes("/tls/"));
        stage(root, withoutTls, "v2");
        run(installScript(withoutTls, me), root);
        assert.equal(fs.readFileSync(htpasswd, "utf8"), `v2 ${FILES_DIR}/auth/htpasswd\n`);
        assert.notEqual(fs.statSync(htpasswd).ino, inode);
        assert.equal(fs.existsSync(path.join(root, "files", "tls", "registry.crt")), false, "a file no longer delivered is removed");
    });

    it("quotes every path, and refuses a path outside the files folder or a bad mode", () => {
        const script = installScript(FILES, { uid: 10000, gid: 10000 }, "/var/lib/registry");
        assert.match(script, /chown 10000:10000 '\/etc\/private-registry\/config\.yml\.tmp'/);
        assert.match(script, /chown -R 10000:10000 '\/var\/lib\/registry'/);
        assert.throws(() => installScript([{ path: "/etc/passwd", mode: "0600" }], me), /cannot install/);
        assert.throws(() => installScript([{ path: `${FILES_DIR}/../x`, mode: "0600" }], me), /cannot install/);
        assert.throws(() => installScript([{ path: `${FILES_DIR}/x`, mode: "777" }], me), /cannot install/);
    });
});
