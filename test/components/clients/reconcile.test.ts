/**
 * Client-host changes on scratch hosts (test/support/fakeHost.ts): the real host-side scripts
 * under the real `sh`, planned by the real ledger. Each scenario ends with the host compared,
 * path by path with modes, symlinks and bytes, to what it was before the first change.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import { type ClientWants, mirrorOf } from "../../../components/clients/runtimes";
import { reconcile } from "../../../components/clients/reconcile";
import { type FakeHost, fakeHost } from "../../support/fakeHost";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const CA2 = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";

const wants = (over: Partial<ClientWants> = {}): ClientWants => ({
    addresses: ["registry.test:5000", "10.0.0.2:5000"],
    caCertPem: CA,
    daemonJson: { "log-opts": { "max-size": "10m" }, "max-concurrent-downloads": 5 },
    insecureRegistries: [],
    login: { username: "pusher", password: "s3cret" },
    ...over,
});

const hosts: FakeHost[] = [];
const host = (commands?: string[]) => {
    const h = fakeHost(commands);
    hosts.push(h);
    return h;
};
afterEach(() => {
    for (const h of hosts.splice(0)) h.cleanup();
});

/** A host as an operator left it: a daemon.json with their keys, an existing login, a folder of theirs. */
function lived(h: FakeHost): void {
    h.write("/etc/docker/daemon.json", '{\n    "data-root": "/srv/docker",\n    "log-opts": {"max-file": "3"}\n}\n', 0o600);
    h.write("/root/.docker/config.json", '{\n\t"auths": {\n\t\t"other.example": {\n\t\t\t"auth": "b3RoZXI6cHc="\n\t\t}\n\t}\n}', 0o600);
    h.write("/etc/docker/certs.d/other.example/ca.crt", "theirs\n");
}

const daemon = (h: FakeHost) => JSON.parse(h.read("/etc/docker/daemon.json"));
const config = (h: FakeHost) => JSON.parse(h.read("/root/.docker/config.json"));

describe("client hosts: every change owned item by item, undone exactly", () => {
    it("installs trust, daemon.json keys and the login over a lived-in host, and destroy leaves it byte-identical", async () => {
        const h = host();
        lived(h);
        const before = h.tree();
        const r = await reconcile(h.run, "reg1/a@h:22", wants(), "a (h)");
        assert.deepEqual(r.runtimes, ["docker"]);
        assert.equal(h.read("/etc/docker/certs.d/registry.test:5000/ca.crt"), CA);
        assert.equal(h.read("/etc/docker/certs.d/10.0.0.2:5000/ca.crt"), CA);
        assert.deepEqual(daemon(h), { "data-root": "/srv/docker", "log-opts": { "max-file": "3", "max-size": "10m" }, "max-concurrent-downloads": 5 });
        assert.deepEqual(config(h).auths["registry.test:5000"], { auth: Buffer.from("pusher:s3cret").toString("base64") });
        assert.equal(config(h).auths["other.example"].auth, "b3RoZXI6cHc=");
        assert.match(h.read("/root/.docker/config.json"), /^\{\n\t"auths"/, "the file keeps its tab indentation");
        assert.equal(h.tree()["/var/lib/private-registry"], "dir 700");
        assert.match(h.tree()["/var/lib/private-registry/ledger.json"], /^file 600 /);
        await reconcile(h.run, "reg1/a@h:22", undefined, "a (h)");
        assert.deepEqual(h.tree(), before);
    });

    it("a second apply with nothing changed writes nothing", async () => {
        const h = host();
        await reconcile(h.run, "o", wants(), "h");
        const tree = h.tree();
        const r = await reconcile(h.run, "o", wants(), "h");
        assert.deepEqual(r.report, []);
        assert.deepEqual(h.tree(), tree);
    });

    for (const order of [
        ["reg1", "reg2"],
        ["reg2", "reg1"],
    ]) {
        it(`two registries on one host coexist and are destroyed in the order ${order.join(", ")}, leaving the host exact`, async () => {
            const h = host();
            lived(h);
            const before = h.tree();
            await reconcile(h.run, "reg1/a", wants(), "h");
            await reconcile(h.run, "reg2/a", wants({ addresses: ["other.test"], caCertPem: CA2, daemonJson: { "log-opts": { "max-size": "20m" } } }), "h");
            assert.equal(daemon(h)["log-opts"]["max-size"], "20m", "the later registry's value is in force");
            await reconcile(h.run, `${order[0]}/a`, undefined, "h");
            const expectSize = order[0] === "reg1" ? "20m" : "10m";
            assert.equal(daemon(h)["log-opts"]["max-size"], expectSize, "the other registry's value stays in force");
            const stillThere = order[0] === "reg1" ? "/etc/docker/certs.d/other.test/ca.crt" : "/etc/docker/certs.d/registry.test:5000/ca.crt";
            assert.ok(h.tree()[stillThere], `${stillThere} of the remaining registry is kept`);
            await reconcile(h.run, `${order[1]}/a`, undefined, "h");
            assert.deepEqual(h.tree(), before);
        });
    }

    it("rename: the new name's apply then the old name's removal leaves the host configured, and removing the new name restores it", async () => {
        const h = host();
        lived(h);
        const before = h.tree();
        await reconcile(h.run, "reg1/old@h:22", wants(), "h");
        const configured = h.tree();
        await reconcile(h.run, "reg1/new@h:22", wants(), "h");
        await reconcile(h.run, "reg1/old@h:22", undefined, "h");
        const after = h.tree();
        delete after["/var/lib/private-registry/ledger.json"];
        delete configured["/var/lib/private-registry/ledger.json"];
        assert.deepEqual(after, configured);
        await reconcile(h.run, "reg1/new@h:22", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("a port change moves trust and login to the new address and leaves nothing of the old one", async () => {
        const h = host();
        lived(h);
        const before = h.tree();
        await reconcile(h.run, "o", wants(), "h");
        await reconcile(h.run, "o", wants({ addresses: ["registry.test:5443"] }), "h");
        const t = h.tree();
        assert.ok(!t["/etc/docker/certs.d/registry.test:5000"], "the old folder is gone");
        assert.ok(!t["/etc/docker/certs.d/10.0.0.2:5000"]);
        assert.ok(t["/etc/docker/certs.d/registry.test:5443/ca.crt"]);
        assert.deepEqual(Object.keys(config(h).auths).sort(), ["other.example", "registry.test:5443"]);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("an existing login for the endpoint and an existing ca.crt are put back as they were", async () => {
        const h = host();
        h.write("/root/.docker/config.json", '{"auths":{"registry.test:5000":{"auth":"b2xkOm9sZA=="}}}', 0o640);
        h.write("/etc/docker/certs.d/registry.test:5000/ca.crt", "an older CA\n", 0o600);
        const before = h.tree();
        await reconcile(h.run, "o", wants(), "h");
        assert.notEqual(config(h).auths["registry.test:5000"].auth, "b2xkOm9sZA==");
        assert.equal(h.read("/etc/docker/certs.d/registry.test:5000/ca.crt"), CA);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("a symlinked daemon.json stays a symlink: its target is edited, then restored", async () => {
        const h = host();
        h.write("/srv/conf/daemon.json", '{"debug": false}\n');
        h.sh('mkdir -p "$R/etc/docker" && ln -s /srv/conf/daemon.json "$R/etc/docker/daemon.json"');
        // The link is absolute on the host; in the scratch root it points outside, so point it inside.
        h.sh('rm "$R/etc/docker/daemon.json" && ln -s "$R/srv/conf/daemon.json" "$R/etc/docker/daemon.json"');
        const before = h.tree();
        await reconcile(h.run, "o", wants(), "h");
        assert.match(h.tree()["/etc/docker/daemon.json"], /^link /);
        assert.equal(JSON.parse(h.read("/srv/conf/daemon.json"))["max-concurrent-downloads"], 5);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("admin edits between two ups are kept; a key of ours they changed is left as they set it, and reported", async () => {
        const h = host();
        await reconcile(h.run, "o", wants(), "h");
        const d = daemon(h);
        d.labels = ["admin"];
        h.write("/etc/docker/daemon.json", `${JSON.stringify(d, null, 2)}\n`);
        await reconcile(h.run, "o", wants({ daemonJson: { "log-opts": { "max-size": "10m" }, "max-concurrent-downloads": 7 } }), "h");
        assert.deepEqual(daemon(h).labels, ["admin"], "the admin's key survives our next apply");
        assert.equal(daemon(h)["max-concurrent-downloads"], 7);
        const d2 = daemon(h);
        d2["log-opts"]["max-size"] = "99m";
        h.write("/etc/docker/daemon.json", `${JSON.stringify(d2, null, 2)}\n`);
        const r = await reconcile(h.run, "o", undefined, "h");
        assert.ok(
            r.report.some((l) => /left \/etc\/docker\/daemon\.json key log-opts\.max-size as it is/.test(l)),
            r.report.join("\n"),
        );
        assert.deepEqual(daemon(h), { "log-opts": { "max-size": "99m" }, labels: ["admin"] });
    });

    it("an apply cut off after any line of its commit, run again, then destroyed, leaves the host exact", async () => {
        const base = host();
        lived(base);
        const before = base.tree();
        // The commit script of a first apply, captured to know how many lines to cut at.
        let commit = "";
        await reconcile(
            async (s) => {
                if (s.includes("trap ")) commit = s;
                return base.run(s);
            },
            "o",
            wants(),
            "h",
        );
        const n = commit.split("\n").length;
        for (let cut = 1; cut < n; cut += 1) {
            const h = host();
            lived(h);
            let first = true;
            await reconcile(
                (s) => {
                    if (first && s.includes("trap ")) {
                        first = false;
                        return h.run(`${s.split("\n").slice(0, cut).join("\n")}\nexit 1\n`).then(() => ({ stdout: "", stderr: "", code: 0 }));
                    }
                    return h.run(s);
                },
                "o",
                wants(),
                "h",
            );
            await reconcile(h.run, "o", wants(), "h");
            assert.equal(daemon(h)["max-concurrent-downloads"], 5, `cut at ${cut}: the rerun finishes the apply`);
            await reconcile(h.run, "o", undefined, "h");
            assert.deepEqual(h.tree(), before, `cut at line ${cut} of ${n}`);
            h.cleanup();
        }
    });

    it("dockerd that does not come back with the new daemon.json in force: every file of the step is put back and the step fails naming the host", async () => {
        const h = host();
        lived(h);
        // A daemon of our own to signal (it ignores SIGHUP), and a docker CLI that reports the old config.
        const daemon = spawn("sh", ["-c", 'trap "" HUP; sleep 60'], { stdio: "ignore" });
        try {
            h.command("pidof", `[ "$1" = dockerd ] && echo ${daemon.pid}`);
            h.command("docker", 'case "$*" in *Debug*) echo false ;; *) exit 0 ;; esac');
            const before = h.tree();
            // The script waits 20 s for the reload; two tries are enough here.
            const run = (s: string) => h.run(s.replace(/-ge 40 \]/g, "-ge 2 ]"));
            await assert.rejects(reconcile(run, "o", wants({ daemonJson: { debug: true } }), "a (h)"), (e: Error) => {
                assert.match(e.message, /a \(h\): dockerd did not come back with the new \/etc\/docker\/daemon\.json in force/);
                assert.match(e.message, /the host is as it was before this step/);
                return true;
            });
            assert.deepEqual(h.tree(), before);
        } finally {
            daemon.kill("SIGKILL");
        }
    });

    it("dockerd is restarted only when a key it cannot reload changes, signalled when only reloadable ones do, and left alone otherwise", async () => {
        const h = host();
        const commits: string[] = [];
        const run = (s: string) => {
            if (s.includes("trap ")) commits.push(s);
            return h.run(s);
        };
        const control = () => {
            const c = commits.at(-1) ?? "";
            return c.includes("systemctl restart docker") ? "restart" : c.includes('kill -HUP "$pid"') ? "reload" : "none";
        };
        await reconcile(run, "o", wants({ daemonJson: { "max-concurrent-downloads": 3 } }), "h");
        assert.equal(control(), "reload");
        await reconcile(run, "o", wants({ daemonJson: { "max-concurrent-downloads": 3, "log-opts": { "max-size": "5m" } } }), "h");
        assert.equal(control(), "restart", "log-opts are not reloadable");
        await reconcile(
            run,
            "o",
            wants({ daemonJson: { "max-concurrent-downloads": 3, "log-opts": { "max-size": "5m" } }, login: { username: "pusher", password: "new" } }),
            "h",
        );
        assert.equal(control(), "none", "a new password touches config.json only");
        await reconcile(run, "o", wants({ daemonJson: { "max-concurrent-downloads": 4, "log-opts": { "max-size": "5m" } } }), "h");
        assert.equal(control(), "reload", "log-opts unchanged: no restart, whatever the original had");
    });

    it("a daemon.json that is not JSON fails naming the file, and nothing is written", async () => {
        const h = host();
        h.write("/etc/docker/daemon.json", "{ not json");
        const before = h.tree();
        await assert.rejects(
            reconcile(h.run, "o", wants(), "a (h)"),
            (e: Error) => e.name === "HostError" && /a \(h\): \/etc\/docker\/daemon\.json is not valid JSON/.test(e.message),
        );
        assert.deepEqual(h.tree(), before);
    });

    it("a registries.yaml with a syntax error, or several documents, fails naming the host and the file; nothing is written and k3s is not restarted", async () => {
        const broken = {
            "a flow map left open": "configs:\n  other.example:\n    auth: {username: a\n",
            "a nested mapping in a compact one": "mirrors: 1\n  docker.io: {}\n",
            "two documents": "mirrors:\n  docker.io:\n    endpoint: [https://mirror.example]\n---\nconfigs: {}\n",
        };
        for (const [what, text] of Object.entries(broken)) {
            const h = host(["containerd", "k3s"]);
            h.write("/etc/rancher/k3s/registries.yaml", text);
            const scripts: string[] = [];
            const run = (s: string) => {
                scripts.push(s);
                return h.run(s);
            };
            const before = h.tree();
            await assert.rejects(reconcile(run, "o", wants({ daemonJson: {} }), "k (h)"), (e: Error) => {
                assert.equal(e.name, "HostError", what);
                assert.match(e.message, /k \(h\): \/etc\/rancher\/k3s\/registries\.yaml is not valid YAML/, what);
                return true;
            });
            assert.deepEqual(h.tree(), before, `${what}: nothing written`);
            assert.ok(!scripts.some((s) => /restart|k3s/.test(s) && s.includes("trap ")), `${what}: no commit ran`);
        }
    });

    it("a corrupt or mis-shaped ledger.json fails naming the host and the file, writes nothing and leaves no lock behind", async () => {
        const bad = {
            "not JSON": ["{ broken", /ledger\.json is not valid JSON/],
            "no entries": ['{"version": 1}', /ledger\.json has malformed entries/],
            "another version": ['{"version": 2, "entries": {}, "files": {}, "dirs": {}}', /ledger\.json has version 2, not 1/],
            "an entry without layers": [
                '{"version": 1, "entries": {"k": {"item": {"kind": "file", "path": "/x"}}}, "files": {}, "dirs": {}}',
                /malformed entries/,
            ],
        } as const;
        for (const [what, [text, message]] of Object.entries(bad)) {
            const h = host();
            h.write("/var/lib/private-registry/ledger.json", text, 0o600);
            // As our runs leave it: the state folder private.
            fs.chmodSync(path.join(h.root, "var/lib/private-registry"), 0o700);
            const before = h.tree();
            await assert.rejects(reconcile(h.run, "o", wants(), "a (h)"), (e: Error) => {
                assert.equal(e.name, "HostError", `${what}: ${e.message}`);
                assert.match(e.message, /^a \(h\): \/var\/lib\/private-registry\/ledger\.json /, what);
                assert.match(e.message, message, what);
                assert.match(e.message, /Restore it/, what);
                return true;
            });
            assert.deepEqual(h.tree(), before, `${what}: nothing written, the lock released`);
        }
    });

    it("a run whose lock another run took meanwhile writes nothing and leaves that run's lock in place", async () => {
        const h = host();
        lived(h);
        const before = h.tree();
        const theirs = "other-owner\nother-token\n";
        let took = false;
        const run = async (script: string) => {
            const r = await h.run(script);
            // Right after our snapshot took the lock: a run that judged it stale breaks it and takes it.
            if (!took && script.includes("until mkdir")) {
                took = true;
                h.write("/var/lib/private-registry/.lock/owner", theirs);
            }
            return r;
        };
        await assert.rejects(reconcile(run, "o", wants(), "a (h)"), /a \(h\): another run took this host's lock while this one planned/);
        assert.equal(h.read("/var/lib/private-registry/.lock/owner"), theirs, "the other run's lock is still there");
        const after = h.tree();
        for (const p of ["/var/lib/private-registry/.lock", "/var/lib/private-registry/.lock/owner"]) delete after[p];
        assert.deepEqual(after, { ...before, "/var/lib/private-registry": after["/var/lib/private-registry"] }, "nothing else written");
    });

    it("an administrator's edit between our read and our write stops the commit naming the file; their edit stays and the next run takes it in", async () => {
        const h = host();
        lived(h);
        const edited = '{\n    "data-root": "/srv/docker",\n    "debug": true\n}\n';
        const run = async (script: string) => {
            if (script.includes("trap ") && h.read("/etc/docker/daemon.json") !== edited) h.write("/etc/docker/daemon.json", edited, 0o600);
            return h.run(script);
        };
        await assert.rejects(reconcile(run, "o", wants(), "a (h)"), /a \(h\): \/etc\/docker\/daemon\.json changed while this run planned; nothing was written/);
        assert.equal(h.read("/etc/docker/daemon.json"), edited, "their edit is kept");
        assert.ok(!Object.keys(h.tree()).includes("/var/lib/private-registry/.lock"), "our lock is released");
        await reconcile(h.run, "o", wants(), "a (h)");
        assert.equal(daemon(h).debug, true, "the next run merges into their edit");
        assert.equal(daemon(h)["max-concurrent-downloads"], 5);
    });

    it("a log option the host's log driver does not know is refused before anything is written", async () => {
        const h = host();
        h.write("/etc/docker/daemon.json", '{"log-driver": "journald"}');
        const before = h.tree();
        await assert.rejects(reconcile(h.run, "o", wants(), "h"), /log-opts "max-size" is not an option of the "journald" log driver/);
        assert.deepEqual(h.tree(), before);
    });

    it("credentials kept by a credential helper are not overwritten: the step says to log in by hand", async () => {
        const h = host();
        h.write("/root/.docker/config.json", '{"credsStore": "pass"}');
        const before = h.tree();
        await assert.rejects(reconcile(h.run, "o", wants(), "h"), /credential helper/);
        assert.deepEqual(h.tree(), before);
    });

    it("containerd, Podman/CRI-O and k3s hosts get their own trust files and a merged registries.yaml, undone exactly", async () => {
        const h = host(["containerd", "podman", "k3s"]);
        h.write("/etc/rancher/k3s/registries.yaml", "mirrors:\n  docker.io:\n    endpoint:\n      - https://mirror.example\n");
        const before = h.tree();
        const r = await reconcile(h.run, "o", wants({ daemonJson: {} }), "h");
        assert.deepEqual(r.runtimes, ["containerd", "podman", "k3s"]);
        const toml = h.read("/etc/containerd/certs.d/registry.test:5000/hosts.toml");
        assert.match(toml, /server = "https:\/\/registry\.test:5000"/);
        assert.match(toml, /ca = "\/etc\/containerd\/certs.d\/registry\.test:5000\/ca\.crt"/);
        assert.equal(h.read("/etc/containerd/certs.d/registry.test:5000/ca.crt"), CA);
        assert.equal(h.read("/etc/containers/certs.d/registry.test:5000/ca.crt"), CA);
        const yaml = h.read("/etc/rancher/k3s/registries.yaml");
        assert.match(yaml, /mirror\.example/);
        assert.match(yaml, /registry\.test:5000:\n\s+tls:\n\s+ca_file: \/etc\/rancher\/k3s\/private-registry\/registry\.test:5000\/ca\.crt/);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("a file that holds a password is private from its first byte: a new registries.yaml is 0600, an existing 0644 one becomes 0600 and comes back 0644", async () => {
        for (const existing of [false, true]) {
            const h = host(["k3s"]);
            // The mode of every file chmod is given, just before chmod changes it.
            const log = `${h.root}.chmod-log`;
            h.command("chmod", `for a; do [ -f "$a" ] && stat -c '%a %n' "$a" >> '${log}'; done; exec /bin/chmod "$@"`);
            if (existing) h.write("/etc/rancher/k3s/registries.yaml", "mirrors:\n  docker.io:\n    endpoint:\n      - https://mirror.example\n", 0o644);
            const before = h.tree();
            await reconcile(h.run, "o", wants({ daemonJson: {} }), "h");
            assert.match(h.read("/etc/rancher/k3s/registries.yaml"), /password: s3cret/);
            assert.equal(h.tree()["/etc/rancher/k3s/registries.yaml"].split(" ")[1], "600");
            const written = require("node:fs").readFileSync(log, "utf8").trim().split("\n");
            assert.ok(written.length > 0);
            for (const line of written) assert.match(line, /^[0-7]00 /, `written private before its chmod: ${line}`);
            require("node:fs").rmSync(log);
            await reconcile(h.run, "o", undefined, "h");
            assert.deepEqual(h.tree(), before, "put back exactly, mode included");
        }
    });

    it("dockerd 23+ on a host without /etc/docker: the new daemon.json is validated and written, and destroy leaves no /etc/docker behind", async () => {
        const h = host(["docker"]);
        h.command(
            "dockerd",
            'case "$1" in --help) echo "      --validate   Validate daemon configuration and exit";; --validate) test -s "$3" && grep -q max-concurrent-downloads "$3";; esac',
        );
        const before = h.tree();
        assert.equal(before["/etc/docker"], undefined);
        await reconcile(h.run, "o", wants(), "h");
        assert.equal(daemon(h)["max-concurrent-downloads"], 5);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("secrets reach the host only on stdin: no script names a password outside what it pipes to a file", async () => {
        const h = host();
        const scripts: string[] = [];
        await reconcile(
            (s) => {
                scripts.push(s);
                return h.run(s);
            },
            "o",
            wants(),
            "h",
        );
        // The runner sends each script on stdin (`sh -s`); the command line is only that.
        assert.ok(scripts.length >= 3);
        assert.ok(!scripts.join("\n").includes("s3cret"), "the password is only inside base64 file contents");
    });

    it("containerd 1.x without a config: config.toml gets version 2 and the CRI config_path, and goes again on destroy", async () => {
        const h = host(["containerd"]);
        h.command("containerd", 'echo "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1"');
        const before = h.tree();
        const r = await reconcile(h.run, "o", wants({ daemonJson: {}, login: undefined }), "h");
        assert.deepEqual(r.runtimes, ["containerd"]);
        const toml = h.read("/etc/containerd/config.toml");
        assert.match(toml, /^version = 2$/m);
        assert.match(toml, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\nconfig_path = "\/etc\/containerd\/certs\.d"/);
        assert.ok(
            r.report.some((l) => /containerd is not an active service/.test(l)),
            r.report.join("\n"),
        );
        const again = await reconcile(h.run, "o", wants({ daemonJson: {}, login: undefined }), "h");
        assert.deepEqual(again.report, [], "the second apply keeps our config_path and writes nothing");
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("containerd 1.x whose config.toml has registry.mirrors or a configs TLS entry: refused naming host, file and key before anything is written; an auth-only configs entry is fine (issue 20, item 2)", async () => {
        const cri = '[plugins."io.containerd.grpc.v1.cri".registry';
        const refused = {
            mirrors: [
                `version = 2\n\n${cri}.mirrors."docker.io"]\nendpoint = ["https://mirror.example"]\n`,
                /registry\.mirrors, which containerd refuses beside config_path/,
            ],
            "configs TLS": [
                `version = 2\n\n${cri}.configs."other.example".tls]\nca_file = "/etc/ca.pem"\n`,
                /configs\."other\.example"\.tls, which containerd refuses/,
            ],
        } as const;
        for (const [what, [toml, message]] of Object.entries(refused)) {
            const h = host(["containerd"]);
            h.command("containerd", 'echo "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1"');
            h.write("/etc/containerd/config.toml", toml);
            const before = h.tree();
            await assert.rejects(reconcile(h.run, "o", wants({ daemonJson: {}, login: undefined }), "n (h)"), (e: Error) => {
                assert.equal(e.name, "HostError", what);
                assert.match(e.message, /^n \(h\): \/etc\/containerd\/config\.toml sets plugins\."io\.containerd\.grpc\.v1\.cri"\./, what);
                assert.match(e.message, message, what);
                return true;
            });
            assert.deepEqual(h.tree(), before, `${what}: nothing written`);
        }
        const h = host(["containerd"]);
        h.command("containerd", 'echo "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1"');
        h.write("/etc/containerd/config.toml", `version = 2\n\n${cri}.configs."other.example".auth]\nusername = "u"\n`);
        await reconcile(h.run, "o", wants({ daemonJson: {}, login: undefined }), "n (h)");
        assert.match(h.read("/etc/containerd/config.toml"), /config_path = "\/etc\/containerd\/certs\.d"/);
    });

    it("containerd that does not come back serving CRI after its restart: every file of the step is put back, containerd restarted on them, and the step fails naming the host", async () => {
        const h = host(["containerd"]);
        h.command("containerd", 'echo "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1"');
        const restarts = `${h.root}.restarts`;
        h.command("systemctl", `case "$1" in is-active) exit 0 ;; restart) echo "$2" >> '${restarts}' ;; esac`);
        // A CRI plugin that failed to load, as containerd lists it.
        h.command("ctr", 'echo "TYPE                   ID   PLATFORMS    STATUS"; echo "io.containerd.grpc.v1  cri  linux/amd64  error"');
        const before = h.tree();
        const run = (s: string) => h.run(s.replace(/-ge 40 \]/g, "-ge 2 ]"));
        await assert.rejects(reconcile(run, "o", wants({ daemonJson: {}, login: undefined }), "n (h)"), (e: Error) => {
            assert.match(e.message, /n \(h\): containerd did not come back serving after \/etc\/containerd\/config\.toml changed/);
            assert.match(e.message, /the host is as it was before this step/);
            return true;
        });
        assert.deepEqual(h.tree(), before);
        assert.equal(fs.readFileSync(restarts, "utf8"), "containerd\ncontainerd\n", "restarted on the new file, then again on the old one");
        fs.rmSync(restarts);
        // Serving CRI: the same step goes through.
        h.command("ctr", 'echo "io.containerd.grpc.v1  cri  linux/amd64  ok"');
        await reconcile(run, "o", wants({ daemonJson: {}, login: undefined }), "n (h)");
        assert.match(h.read("/etc/containerd/config.toml"), /config_path/);
    });

    it("containerd: an operator's config.toml gets our key and comes back byte for byte; 2.x's default needs nothing; another folder is reported", async () => {
        const h = host(["containerd"]);
        h.command("containerd", 'echo "containerd containerd.io 1.7.25 bcc810d6b9066471b0b6fa75f557a15a1cbf31bb"');
        h.write("/etc/containerd/config.toml", '# ours\nversion = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause:3.9"\n');
        const before = h.tree();
        await reconcile(h.run, "o", wants({ daemonJson: {}, login: undefined }), "h");
        assert.match(h.read("/etc/containerd/config.toml"), /sandbox_image = "pause:3\.9"[\s\S]*config_path = "\/etc\/containerd\/certs\.d"/);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before, "comments and layout are back");

        const v2 = host(["containerd"]);
        v2.command("containerd", 'echo "containerd github.com/containerd/containerd/v2 v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4"');
        await reconcile(v2.run, "o", wants({ daemonJson: {}, login: undefined }), "h");
        assert.equal(v2.tree()["/etc/containerd/config.toml"], undefined, "containerd 2.x reads /etc/containerd/certs.d by default");

        const other = host(["containerd"]);
        other.write("/etc/containerd/config.toml", 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/srv/certs.d"\n');
        const r = await reconcile(other.run, "o", wants({ daemonJson: {}, login: undefined }), "h");
        assert.ok(
            r.report.some((l) => /config_path to \/srv\/certs\.d: containerd's CRI does not read \/etc\/containerd\/certs\.d/.test(l)),
            r.report.join("\n"),
        );
    });

    it("BuildKit: the CA beside buildkitd.toml's registry entry, merged into an existing file and undone exactly", async () => {
        const h = host(["buildkitd"]);
        h.write("/etc/buildkit/buildkitd.toml", "debug = true\n\n[worker.oci]\n  enabled = true\n");
        const before = h.tree();
        const r = await reconcile(h.run, "o", wants({ daemonJson: {}, login: undefined }), "h");
        assert.deepEqual(r.runtimes, ["buildkit"]);
        const toml = h.read("/etc/buildkit/buildkitd.toml");
        assert.match(toml, /\[registry\."registry\.test:5000"\]\nca = \[ "\/etc\/buildkit\/certs\/registry\.test:5000\/ca\.crt" \]/);
        assert.match(toml, /debug = true/);
        assert.equal(h.read("/etc/buildkit/certs/registry.test:5000/ca.crt"), CA);
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });

    it("a pull-through cache of Docker Hub: Docker gets it as a registry mirror, containerd a docker.io hosts.toml through it; both undone exactly", async () => {
        assert.equal(mirrorOf("https://registry-1.docker.io"), "docker.io");
        assert.equal(mirrorOf("https://quay.io"), "quay.io");
        assert.equal(mirrorOf("http://10.0.0.30:5000"), "10.0.0.30:5000");
        const h = host(["docker", "containerd"]);
        h.command("containerd", 'echo "containerd github.com/containerd/containerd/v2 v2.0.2 c507a02"');
        lived(h);
        const before = h.tree();
        await reconcile(h.run, "o", wants({ runtimes: ["docker", "containerd"], mirrorOf: "docker.io", daemonJson: {} }), "h");
        assert.deepEqual(daemon(h)["registry-mirrors"], ["https://registry.test:5000"]);
        const toml = h.read("/etc/containerd/certs.d/docker.io/hosts.toml");
        assert.match(toml, /server = "https:\/\/registry-1\.docker\.io"/);
        assert.match(
            toml,
            /\[host\."https:\/\/registry\.test:5000"\]\n {2}capabilities = \["pull", "resolve"\]\n {2}ca = "\/etc\/containerd\/certs\.d\/registry\.test:5000\/ca\.crt"/,
        );
        await reconcile(h.run, "o", undefined, "h");
        assert.deepEqual(h.tree(), before);
    });
});
