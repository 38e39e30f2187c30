/**
 * The docker CLI with a host's ssh arguments (components/containers/dockerCli.ts), run by a real `sh`
 * with a stand-in `docker` (it dials its host the way the CLI does: `ssh … -- host docker system
 * dial-stdio`) and a stand-in `ssh` that records the arguments it gets.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { dockerCliCommand, dockerCliEnv, renderRetireBalancer } from "../../../components/containers/dockerCli";
import { renderImageLoad } from "../../../components/files/installScript";

/** A folder with the stand-ins, first on PATH; `ssh` writes each argument on its own line to `args`. */
function standIns(): { dir: string; bin: string; record: string; tmp: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-cli-"));
    const bin = path.join(dir, "bin");
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(bin);
    fs.mkdirSync(tmp);
    const record = path.join(dir, "args");
    fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${JSON.stringify(record)}\n`, { mode: 0o755 });
    fs.writeFileSync(
        path.join(bin, "docker"),
        '#!/bin/sh\nhost=$(echo "$DOCKER_HOST" | sed "s#^ssh://##")\nssh -o ConnectTimeout=30 -T -- "$host" docker system dial-stdio\necho "docker $*"\n[ -n "$DOCKER_EXIT" ] || DOCKER_EXIT=0\nexit "$DOCKER_EXIT"\n',
        { mode: 0o755 },
    );
    return { dir, bin, record, tmp };
}

/**
 * Spawns `c` with fresh stand-ins (PATH the stand-ins' folder first, or that folder only with
 * `onlyStandIns`), and returns the result with what ssh got and what is left in the temporary folder.
 */
function spawnWith(c: { file: string; args: string[]; env: Record<string, string> }, opts: { onlyStandIns?: boolean; withoutSsh?: boolean } = {}) {
    const s = standIns();
    if (opts.withoutSsh) fs.rmSync(path.join(s.bin, "ssh"));
    const r = spawnSync(c.file, c.args, { env: { PATH: opts.onlyStandIns ? s.bin : `${s.bin}:/usr/bin:/bin`, TMPDIR: s.tmp, ...c.env }, encoding: "utf8" });
    const recorded = fs.existsSync(s.record) ? fs.readFileSync(s.record, "utf8").split("\n").slice(0, -1) : undefined;
    const left = fs.readdirSync(s.tmp);
    fs.rmSync(s.dir, { recursive: true, force: true });
    return { ...r, command: c, recorded, left };
}

/** `docker <args>` against `host` with its ssh arguments, as the program runs it. */
function run(host: string, sshOpts: string[], args: string[], extraEnv: Record<string, string> = {}) {
    const c = dockerCliCommand(host, sshOpts, args);
    return spawnWith({ ...c, env: { ...c.env, ...extraEnv } });
}

describe("docker CLI with a host's ssh arguments", () => {
    it("without ssh arguments runs docker itself, with DOCKER_HOST", () => {
        const r = run("ssh://deploy@host-1:2222", [], ["image", "inspect", "x"]);
        assert.equal(r.command.file, "docker");
        assert.deepEqual(r.command.env, { DOCKER_HOST: "ssh://deploy@host-1:2222" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "docker image inspect x");
        assert.deepEqual(r.recorded, ["-o", "ConnectTimeout=30", "-T", "--", "deploy@host-1:2222", "docker", "system", "dial-stdio"]);
    });

    it("gives ssh every argument exactly, before the CLI's own, whatever it holds", () => {
        const opts = ["-i", "/keys/my key", "-o", "UserKnownHostsFile=/k/known hosts", "-o", "ProxyCommand=nc %h %p", "it's", "$HOME", 'a"b', "*", "\\n"];
        const r = run("ssh://root@10.0.0.12", opts, ["load", "-i", "/srv/a b.tar"]);
        assert.equal(r.command.file, "/bin/sh");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "docker load -i /srv/a b.tar");
        assert.deepEqual(r.recorded, [...opts, "-o", "ConnectTimeout=30", "-T", "--", "root@10.0.0.12", "docker", "system", "dial-stdio"]);
    });

    it("keeps docker's exit status and leaves no wrapper behind, on failure too", () => {
        for (const code of ["0", "3"]) {
            const r = run("ssh://h", ["-p", "22"], ["ps"], { DOCKER_EXIT: code });
            assert.equal(r.status, Number(code), r.stderr);
            assert.deepEqual(r.left, [], "the wrapper's folder is removed");
        }
    });

    it("says so when this machine has no ssh", () => {
        const r = spawnWith(dockerCliCommand("ssh://h", ["-p", "22"], ["ps"]), { onlyStandIns: true, withoutSsh: true });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /ssh is not installed on this machine/);
    });

    it("the image load script runs its docker commands through the wrapper", () => {
        const r = spawnWith({
            file: "/bin/sh",
            args: ["-c", renderImageLoad()],
            env: { IMAGE: "registry:3.1.2", ARCHIVE: "/a.tar", ...dockerCliEnv("ssh://h", ["-i", "/k"]) },
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.recorded?.slice(0, 2), ["-i", "/k"]);
        assert.deepEqual(r.left, []);
    });
});

describe("retiring a balancer left from several replicas (renderRetireBalancer)", () => {
    /** Runs the script with a stand-in docker that lists `listed` for its ps and records every call. */
    function retire(listed: string) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retire-"));
        const calls = path.join(dir, "calls");
        fs.writeFileSync(
            path.join(dir, "docker"),
            `#!/bin/sh\necho "$*" >> ${JSON.stringify(calls)}\n[ "$1" = ps ] && printf '%s' ${JSON.stringify(listed)}\nexit 0\n`,
            {
                mode: 0o755,
            },
        );
        const r = spawnSync("sh", ["-c", renderRetireBalancer()], {
            env: { PATH: `${dir}:/usr/bin:/bin`, BALANCER: "reg-lb", ...dockerCliEnv("unix:///var/run/docker.sock", []) },
            encoding: "utf8",
        });
        const recorded = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [];
        fs.rmSync(dir, { recursive: true, force: true });
        return { ...r, recorded };
    }

    it("removes the container of that name carrying the program's balancer label, and says so", () => {
        const r = retire("0123abcd");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.recorded, ["ps -aq --filter name=^/reg-lb$ --filter label=private-registry.role=balancer", "rm -f 0123abcd"]);
        assert.match(r.stdout, /removed the load balancer reg-lb/);
    });

    it("does nothing when there is none (a stack that never had replicas, or another container of that name)", () => {
        const r = retire("");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.recorded, ["ps -aq --filter name=^/reg-lb$ --filter label=private-registry.role=balancer"]);
        assert.equal(r.stdout, "");
    });
});
