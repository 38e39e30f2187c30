/**
 * The scheduled collection's script under the real `sh`, against a stand-in `docker` that records
 * each call (and which config was in place when garbage-collect ran): the read-only window, the
 * replicas restarted one at a time around it, the config put back, a run cut off finished at start.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { gcSchedulerScript } from "../../../components/gc/gcScript";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "pr-gc-scheduler-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function setup(name: string) {
    const dir = path.join(root, name);
    const files = path.join(dir, "files");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(files, { recursive: true });
    fs.mkdirSync(bin);
    const log = path.join(dir, "calls");
    fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/sh\ncase "$1" in\n  inspect) echo healthy ;;\n  run) echo "$* [config: $(cat ${files}/config.yml)]" >> ${log}; echo "blobs eligible for deletion: 3" ;;\n  *) echo "$*" >> ${log} ;;\nesac\n`,
        { mode: 0o755 },
    );
    fs.writeFileSync(path.join(files, "config.yml"), "read-write");
    fs.writeFileSync(path.join(files, "config.readonly.yml"), "read-only");
    const script = gcSchedulerScript({
        replicas: ["reg", "reg-2"],
        image: "sha256:abc",
        filesVolume: "reg-files",
        configPath: "/etc/private-registry/config.yml",
        data: { source: "reg-data", target: "/var/lib/registry" },
        network: "none",
        runAs: { uid: 10000, gid: 10000 },
        memoryLimitMb: 4096,
        env: ["GOMEMLIMIT=1024MiB", "OTEL_TRACES_EXPORTER=none", "SSL_CERT_DIR=/etc/private-registry/storage-ca"],
        pidsLimit: 1024,
        intervalSeconds: 3600,
        deleteUntagged: false,
        filesDir: files,
    });
    let out = "";
    const start = (): ChildProcess => {
        const p = spawn("sh", ["-c", script], { env: { PATH: `${bin}:${process.env.PATH}` }, stdio: ["ignore", "pipe", "pipe"] });
        p.stdout?.on("data", (c) => {
            out += c;
        });
        p.stderr?.on("data", (c) => {
            out += c;
        });
        return p;
    };
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
    return { files, start, calls, out: () => out };
}

async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; !ok(); i++) {
        assert.ok(i < 100, what);
        await new Promise((r) => setTimeout(r, 50));
    }
}

describe("the scheduled garbage collection's script", () => {
    it("USR1: read-only config in, replicas restarted one by one, garbage-collect on it, config back, restarted again", async () => {
        const t = setup("run");
        const p = t.start();
        await until("it waits", () => t.out().includes("every 3600 s"));
        p.kill("SIGUSR1");
        await until(`a run finishes: ${t.out()}`, () => t.out().includes("gc-scheduler: done at"));
        assert.deepEqual(t.calls(), [
            "restart -t 10 reg",
            "restart -t 10 reg-2",
            "run --rm --network none --user 10000:10000 --read-only --tmpfs /tmp:rw,noexec,nosuid,nodev,size=64m --cap-drop ALL --security-opt no-new-privileges:true --pids-limit 1024 --memory 4096m --memory-swap 4096m -e GOMEMLIMIT=1024MiB -e OTEL_TRACES_EXPORTER=none -e SSL_CERT_DIR=/etc/private-registry/storage-ca -v reg-files:/etc/private-registry:ro -v reg-data:/var/lib/registry sha256:abc garbage-collect /etc/private-registry/config.yml [config: read-only]",
            "restart -t 10 reg",
            "restart -t 10 reg-2",
        ]);
        assert.equal(fs.readFileSync(path.join(t.files, "config.yml"), "utf8"), "read-write");
        assert.ok(!fs.existsSync(path.join(t.files, "config.yml.saved")));
        assert.match(t.out(), /blobs eligible for deletion: 3/);
        p.kill("SIGTERM");
        await new Promise((r) => p.once("exit", r));
    });

    it("a run cut off (the saved config left behind) is put back and the replicas restarted when the scheduler starts", async () => {
        const t = setup("cut");
        fs.writeFileSync(path.join(t.files, "config.yml.saved"), "read-write");
        fs.writeFileSync(path.join(t.files, "config.yml"), "read-only");
        const p = t.start();
        await until("it waits", () => t.out().includes("every 3600 s"));
        assert.match(t.out(), /a run was cut off/);
        assert.equal(fs.readFileSync(path.join(t.files, "config.yml"), "utf8"), "read-write");
        assert.deepEqual(t.calls(), ["restart -t 10 reg", "restart -t 10 reg-2"]);
        p.kill("SIGTERM");
        await new Promise((r) => p.once("exit", r));
    });
});
