/**
 * A client host in a scratch folder: the host-side scripts run under the real `sh` with `$R` set
 * to the folder, on a PATH that holds only the tools they use and stand-ins for the runtimes'
 * commands (the stand-in `pidof` finds no daemon unless a test says so, so nothing here ever
 * signals a real process). `tree()` records every path with its type, mode and bytes, to compare
 * a host before and after.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../../components/clients/reconcile";

const TOOLS = [
    "sh",
    "awk",
    "mkdir",
    "find",
    "rm",
    "cat",
    "base64",
    "tr",
    "stat",
    "readlink",
    "chmod",
    "chown",
    "mv",
    "ln",
    "rmdir",
    "dirname",
    "id",
    "sleep",
    "grep",
    "cut",
    "tail",
    "printf",
    "mktemp",
];

/** A scratch host. */
export interface FakeHost {
    root: string;
    run: Run;
    /** Runs a script and returns its stdout, failing on a non-zero exit. */
    sh(script: string): string;
    /** Puts a stand-in command on the host's PATH (a shell script body). */
    command(name: string, body: string): void;
    /** Every path under the root (our tools aside) → "type mode [bytes|target]". */
    tree(): Record<string, string>;
    /** Writes a file at a host path, creating its folders. */
    write(p: string, content: string, mode?: number): void;
    read(p: string): string;
    cleanup(): void;
}

/** A host with Docker's CLI (and whatever `commands` names) installed. */
export function fakeHost(commands: string[] = ["docker"]): FakeHost {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pr-fakehost-"));
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "pr-fakehost-bin-"));
    for (const t of TOOLS) {
        const where = ["/usr/bin", "/bin"].map((d) => path.join(d, t)).find((p) => fs.existsSync(p));
        if (where) fs.symlinkSync(where, path.join(bin, t));
    }
    const command = (name: string, body: string) => {
        // The folder's tools are symlinks to this machine's: a stand-in replaces the link, never writes through it.
        fs.rmSync(path.join(bin, name), { force: true });
        fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    };
    command("pidof", "exit 1");
    // The host's users: root only, with its home where the scratch root has it.
    command("getent", '[ "$1" = passwd ] && echo "root:x:0:0:root:/root:/bin/sh"');
    for (const c of commands) command(c, 'echo "stand-in $0 $*" >&2; exit 0');
    fs.mkdirSync(path.join(root, "root"), { recursive: true });
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.mkdirSync(path.join(root, "var", "lib"), { recursive: true });
    const env = { PATH: bin, R: root, HOME: "/root", LC_ALL: "C" };
    const run: Run = (script) =>
        new Promise((resolve) => {
            const p = spawn(path.join(bin, "sh"), ["-s"], { env });
            let stdout = "";
            let stderr = "";
            p.stdout.on("data", (d) => {
                stdout += d;
            });
            p.stderr.on("data", (d) => {
                stderr += d;
            });
            p.on("close", (code) => resolve({ stdout, stderr, code: code ?? 1 }));
            p.stdin.end(script);
        });
    const tree = () => {
        const out: Record<string, string> = {};
        const walk = (dir: string) => {
            for (const name of fs.readdirSync(dir).sort()) {
                const full = path.join(dir, name);
                const rel = full.slice(root.length);
                const st = fs.lstatSync(full);
                const mode = (st.mode & 0o7777).toString(8);
                if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(full)}`;
                else if (st.isDirectory()) {
                    out[rel] = `dir ${mode}`;
                    walk(full);
                } else out[rel] = `file ${mode} ${fs.readFileSync(full, "utf8")}`;
            }
        };
        walk(root);
        return out;
    };
    return {
        root,
        run,
        sh: (script) => {
            const r = require("node:child_process").spawnSync(path.join(bin, "sh"), ["-s"], { env, input: script, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${r.stderr}`);
            return r.stdout;
        },
        command,
        tree,
        write: (p, content, mode = 0o644) => {
            fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
            fs.writeFileSync(path.join(root, p), content, { mode });
            fs.chmodSync(path.join(root, p), mode);
        },
        read: (p) => fs.readFileSync(path.join(root, p), "utf8"),
        cleanup: () => {
            fs.rmSync(root, { recursive: true, force: true });
            fs.rmSync(bin, { recursive: true, force: true });
        },
    };
}
