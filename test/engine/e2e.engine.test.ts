/**
 * End to end on the real Pulumi engine: the CLI built here, the Automation API, a file backend,
 * the provider plugins plugins.ts chooses, real Docker engines and real SSH hosts; the project
 * folder through the language host where it is beside the CLI, inline elsewhere. The e2e stack
 * (Pulumi.e2e.yaml) on a test network with client-host containers (test/e2e/infra), then a real
 * Docker client uses the result the way an operator would, trusting only what the program installed.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { hostKeyOf, isolate, REGISTRY, sshExec, startInfra, stopInfra, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { api, e2eLog as log, timed, type RegistryTarget } from "../e2e/support";
import { createE2eStack, engineEnv, setStackConfig, StepLog, type TestStack } from "./engine";

let infra: TestInfra;
let hostA: TestHost;
let hostB: TestHost;
let hostC: TestHost;
let ts: TestStack;
let target: RegistryTarget;
let passwords: Record<string, string>;
const etcBefore: Record<string, string> = {};
const image = `${REGISTRY.name}:${REGISTRY.port}/e2e/hello:1`;
let pushedDigest = "";

const CONTAINER = "docker:index/container:Container";
const HOST = "pulumi-nodejs:dynamic/private-registry:HostConfiguration";

/** A picture of what we may touch on a host: /etc, root's ~/.docker and our state folder, every path with type, mode, owner, link target and content hash. */
async function hostPicture(h: TestHost): Promise<string> {
    const r = await sshExec(
        infra,
        h,
        [
            'cd / && set -- etc; for d in root/.docker var/lib/private-registry; do [ -e "$d" ] && set -- "$@" "$d"; done',
            // What the container runtime itself rewrites is left out.
            "find \"$@\" \\( -path etc/ssh -o -path etc/hostname -o -path etc/hosts -o -path etc/resolv.conf \\) -prune -o -printf '%y %m %u:%g %p %l\\n' | sort",
            'find "$@" \\( -path etc/ssh -o -path etc/hostname -o -path etc/hosts -o -path etc/resolv.conf \\) -prune -o -type f -exec sha256sum {} + | sort',
        ].join("\n"),
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
}

/** SSH sessions each host's sshd has accepted so far (sshd -e logs to the container's stderr). */
function sshSessions(h: TestHost): number {
    const log = spawnSync("docker", ["logs", h.container], { encoding: "utf8" });
    return `${log.stdout}\n${log.stderr}`.split("\n").filter((l) => /Accepted publickey/.test(l)).length;
}

/** `pulumi up`, with the steps the engine reported; the outputs become the test's target. */
async function up(): Promise<StepLog> {
    const steps = new StepLog();
    const res = await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    const o = res.outputs;
    target = { host: "127.0.0.1", port: REGISTRY.port, servername: REGISTRY.name, ca: String(o.caCertPem.value) };
    passwords = o.passwords.value as Record<string, string>;
    isolate(REGISTRY.container);
    return steps;
}

/** Each host's real ed25519 host key (`clients[].hostKey` must pin it), by address. */
const hostKeys: Record<string, string> = {};

async function setConfig(key: string, value: unknown, secret = false): Promise<void> {
    // A client list set here gets its host's real key, as an operator's stack file would carry it.
    const v = key === "clients" ? (value as { host: string }[]).map((c) => ({ hostKey: hostKeys[c.host], ...c })) : value;
    await setStackConfig(ts.stack, key, v, secret);
}

/** The registry container's ID and start time: unchanged means it was neither replaced nor restarted. */
function containerRun(): string {
    return execFileSync("docker", ["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", REGISTRY.container]).toString().trim();
}

const INSTALLER = `${CONTAINER}::registry-registry-files-installer`;

before(async () => {
    await timed("infrastructure: network and 3 client hosts", async () => {
        infra = await startInfra(3, log);
    });
    [hostA, hostB, hostC] = infra.hosts;
    for (const h of infra.hosts) hostKeys[h.ip] = hostKeyOf(h);
    // Keys an operator already had in daemon.json must survive the merge.
    const pre = await sshExec(infra, hostA, `mkdir -p /etc/docker && cat > /etc/docker/daemon.json && kill -HUP $(pidof dockerd)`, {
        stdin: '{\n  "labels": ["e2e=existing"],\n  "max-download-attempts": 4\n}\n',
    });
    assert.equal(pre.code, 0, pre.stderr);
    etcBefore.a = await hostPicture(hostA);
    etcBefore.b = await hostPicture(hostB);
    ts = await timed("engine and stack", () => createE2eStack({ sshPrivateKeyPem: infra.sshKey.privateKeyPem, log, viaLanguageHost: true }));
    // Pulumi.e2e.yaml lists host-a and host-b; their keys exist only now.
    await ts.stack.setConfig("private-registry:clients[0].hostKey", { value: hostKeys[hostA.ip] }, true);
    await ts.stack.setConfig("private-registry:clients[1].hostKey", { value: hostKeys[hostB.ip] }, true);
});

after(async () => {
    if (process.env.E2E_KEEP === "1") {
        console.log(`E2E_KEEP=1: the stack (${ts?.dir}), registry, hosts and network are left running`);
        return;
    }
    if (ts) await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    stopInfra();
});

describe("end to end on the real engine: e2e stack, real client hosts, a real Docker client", () => {
    it("preview from nothing: every resource in the plan, no error", async () => {
        await timed("preview", async () => {
            const steps = new StepLog();
            const p = await ts.stack.preview({ diff: true, onEvent: steps.onEvent, color: "never" });
            assert.deepEqual(
                steps.diagnostics.filter((d) => d.startsWith("error")),
                [],
            );
            const creates = p.changeSummary.create ?? 0;
            assert.ok(creates >= 20, `the plan creates every resource: ${JSON.stringify(p.changeSummary)}`);
            assert.deepEqual(Object.keys(p.changeSummary).sort(), ["create"]);
        });
    });

    it("up: /v2/ over TLS verified against caCertPem: 401 anonymously, 200 with the stack's passwords", async () => {
        await timed("up", async () => {
            const steps = await up();
            assert.ok(
                steps.steps.every((s) => s.op === "create"),
                steps.changes().join("\n"),
            );
        });
        assert.equal((await api(target, "GET", "/v2/")).status, 401);
        assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: "wrong" })).status, 401);
        assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: passwords.pusher })).status, 200);
        assert.equal((await api(target, "GET", "/v2/", { user: "puller", password: passwords.puller })).status, 200);
        await assert.rejects(api(target, "GET", "/v2/", { maxVersion: "TLSv1.1" }), /protocol|version|alert|EPROTO/i);
        // Another CA is refused: the endpoint really is verified.
        const other = execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null", "-subj", "/CN=other", "-days", "1"], {
            stdio: ["ignore", "pipe", "ignore"],
        }).toString();
        await assert.rejects(api({ ...target, ca: other }, "GET", "/v2/"), /self[- ]signed|unable to verify|certificate/i);
    });

    it("the container: non-root, read-only root, memory (GOMEMLIMIT, a hard limit 4 × it) and process limits, its files 0600 and its own; the debug server unreachable from the network", async () => {
        const info = JSON.parse(execFileSync("docker", ["inspect", REGISTRY.container]).toString())[0];
        assert.equal(info.Config.User, "10000:10000");
        assert.equal(info.HostConfig.ReadonlyRootfs, true);
        // The registry's own memory is Go's soft limit; the hard limit (4 × it by default) leaves room for the page cache of served blobs.
        assert.ok((info.Config.Env as string[]).includes("GOMEMLIMIT=1024MiB"), info.Config.Env.join(" "));
        assert.equal(info.HostConfig.Memory, 4096 * 1048576);
        assert.equal(info.HostConfig.MemorySwap, 4096 * 1048576);
        assert.deepEqual(info.HostConfig.Ulimits, [{ Name: "nproc", Soft: 1024, Hard: 1024 }]);
        assert.deepEqual(info.HostConfig.CapDrop, ["ALL"]);
        const top = execFileSync("docker", ["top", REGISTRY.container, "-o", "pid,uid,comm"]).toString();
        assert.match(top, /^\s*\d+\s+10000\s+registry$/m, `the registry process runs as uid 10000:\n${top}`);
        const files = "/etc/private-registry/config.yml /etc/private-registry/auth/htpasswd /etc/private-registry/tls/registry.key";
        const modes = execFileSync("docker", ["exec", REGISTRY.container, "sh", "-c", `stat -c '%a %u:%g' ${files}`]).toString();
        assert.deepEqual(modes.trim().split("\n"), ["600 10000:10000", "600 10000:10000", "600 10000:10000"]);
        const write = spawnSync("docker", ["exec", REGISTRY.container, "sh", "-c", "echo x > /etc/x"], { encoding: "utf8" });
        assert.notEqual(write.status, 0, "the root filesystem is read-only");
        assert.match(write.stderr, /Read-only file system/);
        // Another container on the same network: the registry port answers, the debug port does not.
        const reg = await sshExec(infra, hostC, `curl -sk -o /dev/null -w '%{http_code}' https://${REGISTRY.ip}:${REGISTRY.port}/v2/`);
        assert.equal(reg.stdout, "401", "positive control: the network path to the registry works");
        const debug = await sshExec(infra, hostC, `curl -s -m 5 -o /dev/null http://${REGISTRY.ip}:5001/debug/vars; echo "exit $?"`);
        assert.match(debug.stdout, /exit 7/, "connection refused: the debug server listens on the container's loopback only");
        assert.equal(info.State.Health.Status, "healthy", "the healthcheck still reaches the debug server inside");
    });

    it("host A pushes with the program's login; host B pulls the same digest; an unconfigured host is refused", async () => {
        await timed("push and pull", async () => {
            const ca = await sshExec(infra, hostA, `cat /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port}/ca.crt`);
            assert.equal(`${ca.stdout}\n`, target.ca, "host A trusts exactly the CA the program made");
            const marker = crypto.randomBytes(8).toString("hex");
            const push = await sshExec(
                infra,
                hostA,
                `set -e; d=$(mktemp -d); echo ${marker} > $d/hello.txt; tar -C $d -c . | docker import - ${image} >/dev/null; docker push ${image}`,
            );
            assert.equal(push.code, 0, push.stdout);
            pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1] ?? "";
            assert.match(pushedDigest, /^sha256:/);
            const pull = await sshExec(infra, hostB, `docker pull ${image} && docker inspect --format '{{index .RepoDigests 0}}' ${image}`);
            assert.equal(pull.code, 0, pull.stdout);
            assert.ok(pull.stdout.trim().endsWith(`@${pushedDigest}`), `host B has ${pull.stdout}`);
            const refused = await sshExec(infra, hostC, `docker pull ${image}`);
            assert.notEqual(refused.code, 0);
            assert.match(refused.stdout, /x509: certificate signed by unknown authority/);
        });
    });

    it("containerd and the containers/image family on host A: each pulls the pushed image through the files the program installed, and fails without them with its own certificate error", async () => {
        await timed("containerd and skopeo", async () => {
            await setConfig("clients", [
                { name: "host-a", host: hostA.ip, login: "pusher", runtimes: ["docker", "containerd", "podman"] },
                { name: "host-b", host: hostB.ip, user: "deploy", login: "puller" },
            ]);
            const steps = await up();
            assert.deepEqual(steps.changes(), [`update ${HOST}::registry-client-host-a-config`]);
            const hosts = await sshExec(infra, hostA, `cat /etc/containerd/certs.d/${REGISTRY.name}:${REGISTRY.port}/hosts.toml`);
            assert.match(hosts.stdout, /ca = "\/etc\/containerd\/certs\.d\/registry\.test:5000\/ca\.crt"/);
            // ctr (containerd 1.6, Docker's own daemon here): hosts.toml with the CA, never skip_verify.
            const ctr = (hostsDir: string) =>
                sshExec(
                    infra,
                    hostA,
                    `ctr --address /run/docker/containerd/containerd.sock -n e2e content fetch --hosts-dir ${hostsDir} --user pusher:"$(cat)" ${image} >/dev/null`,
                    { stdin: passwords.pusher },
                );
            const fetched = await ctr("/etc/containerd/certs.d");
            assert.equal(fetched.code, 0, fetched.stderr);
            const untrusted = await ctr("/nonexistent");
            assert.notEqual(untrusted.code, 0);
            assert.match(untrusted.stderr, /x509: certificate signed by unknown authority/);
            // skopeo reads /etc/containers/certs.d/<host:port>/ as Podman, CRI-O and Buildah do.
            const skopeo = (extra: string) =>
                sshExec(infra, hostA, `skopeo inspect ${extra} --creds pusher:"$(cat)" --format '{{.Digest}}' docker://${image}`, { stdin: passwords.pusher });
            const inspected = await skopeo("");
            assert.equal(inspected.code, 0, inspected.stderr);
            assert.equal(inspected.stdout.trim(), pushedDigest);
            const refused = await skopeo("--cert-dir /nonexistent");
            assert.notEqual(refused.code, 0);
            assert.match(refused.stderr, /x509: certificate signed by unknown authority/);
        });
    });

    it("negative control: with the CA trusted but no login, a push needs credentials", async () => {
        await timed("no login", async () => {
            const trust = await sshExec(
                infra,
                hostC,
                `mkdir -p /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port} && cat > /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port}/ca.crt`,
                {
                    stdin: target.ca,
                },
            );
            assert.equal(trust.code, 0);
            const push = await sshExec(
                infra,
                hostC,
                `set -e; d=$(mktemp -d); echo c > $d/c.txt; tar -C $d -c . | docker import - ${REGISTRY.name}:${REGISTRY.port}/e2e/c:1 >/dev/null; docker push ${REGISTRY.name}:${REGISTRY.port}/e2e/c:1`,
            );
            assert.notEqual(push.code, 0);
            assert.match(push.stdout, /no basic auth credentials|unauthorized|authentication required/);
        });
    });

    it("the runbook's API calls: _catalog, tags/list, manifest HEAD with its digest, DELETE manifest and blob → 202", async () => {
        await timed("API calls", async () => {
            const auth = { user: "pusher", password: passwords.pusher };
            const push = await sshExec(
                infra,
                hostA,
                `set -e; d=$(mktemp -d); echo gone > $d/x.txt; tar -C $d -c . | docker import - ${REGISTRY.name}:${REGISTRY.port}/e2e/deleteme:1 >/dev/null; docker push ${REGISTRY.name}:${REGISTRY.port}/e2e/deleteme:1`,
            );
            assert.equal(push.code, 0, push.stdout);
            const catalog = await api(target, "GET", "/v2/_catalog", auth);
            assert.equal(catalog.status, 200);
            assert.ok(JSON.parse(catalog.body).repositories.includes("e2e/hello"));
            const tags = await api(target, "GET", "/v2/e2e/hello/tags/list", auth);
            assert.deepEqual(JSON.parse(tags.body), { name: "e2e/hello", tags: ["1"] });
            const accept = { accept: "application/vnd.docker.distribution.manifest.v2+json" };
            const head = await api(target, "HEAD", "/v2/e2e/hello/manifests/1", { ...auth, headers: accept });
            assert.equal(head.status, 200);
            assert.equal(head.headers["docker-content-digest"], pushedDigest);
            const m = await api(target, "GET", "/v2/e2e/deleteme/manifests/1", { ...auth, headers: accept });
            const digest = String(m.headers["docker-content-digest"]);
            const layer = JSON.parse(m.body).layers[0].digest as string;
            assert.equal((await api(target, "DELETE", `/v2/e2e/deleteme/manifests/${digest}`, auth)).status, 202);
            assert.equal((await api(target, "DELETE", `/v2/e2e/deleteme/blobs/${layer}`, auth)).status, 202);
            assert.equal((await api(target, "GET", `/v2/e2e/deleteme/manifests/${digest}`, { ...auth, headers: accept })).status, 404);
        });
    });

    it("daemon.json: existing keys kept, configured keys present and applied by the reload, daemon running", async () => {
        await timed("daemon.json merge", async () => {
            const r = await sshExec(infra, hostA, "cat /etc/docker/daemon.json; echo; docker info --format 'debug={{.Debug}}'; pidof dockerd");
            assert.equal(r.code, 0, r.stderr);
            const json = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf("}") + 1));
            assert.deepEqual(json.labels, ["e2e=existing"]);
            assert.equal(json["max-download-attempts"], 4);
            assert.equal(json.debug, true);
            assert.equal(json["max-concurrent-downloads"], 4);
            const dockerdLog = /debug=true/.test(r.stdout) ? "" : (await sshExec(infra, hostA, "grep -i reload /var/log/dockerd.log | tail -n 5")).stdout;
            assert.match(r.stdout, /debug=true/, `the SIGHUP reload applied the new config; dockerd says:\n${dockerdLog}`);
            const b = await sshExec(infra, hostB, "cat /etc/docker/daemon.json");
            assert.deepEqual(JSON.parse(b.stdout), { debug: true, "max-concurrent-downloads": 4 });
            // Host B is reached as the non-root user deploy, its steps run through sudo -n: root's login.
            assert.ok(
                spawnSync("docker", ["logs", hostB.container], { encoding: "utf8" }).stderr.includes("Accepted publickey for deploy"),
                "host B's steps logged in as deploy",
            );
            const auth = await sshExec(infra, hostB, "cat /root/.docker/config.json");
            assert.ok(JSON.parse(auth.stdout).auths[`${REGISTRY.name}:${REGISTRY.port}`]?.auth, "puller's credentials in root's config.json");
        });
    });

    it("network safety: test hosts and the registry reach nothing outside the test subnet", async () => {
        await timed("network safety", async () => {
            // 192.0.2.1 is TEST-NET-1: never routed. Without a default route nothing is even sent.
            const out = await sshExec(infra, hostA, "ip route show default | wc -l; (echo > /dev/tcp/192.0.2.1/80) 2>&1 | head -n1; true");
            const [routes, ...rest] = out.stdout.split("\n");
            assert.equal(routes.trim(), "0", "no default route");
            assert.match(rest.join("\n"), /Network is unreachable/);
            const inside = await sshExec(infra, hostA, `(echo > /dev/tcp/${REGISTRY.ip}/${REGISTRY.port}) && echo reachable`);
            assert.match(inside.stdout, /reachable/);
            const pid = execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", REGISTRY.container]).toString().trim();
            const registryRoutes = execFileSync("nsenter", ["-n", "-t", pid, "ip", "route", "show", "default"]).toString();
            assert.equal(registryRoutes.trim(), "", "the registry container has no default route either");
        });
    });

    it("a daemon.json that dockerd refuses on reload: the step fails naming the host, every file of the step is put back, dockerd runs on", async () => {
        await timed("refused daemon.json, rolled back", async () => {
            // dockerd started without a file; the operator then wrote one it will refuse at the next reload.
            const pre = await sshExec(infra, hostC, "mkdir -p /etc/docker && printf '%s\\n' '{\"labels\": [\"not-key-value\"]}' > /etc/docker/daemon.json");
            assert.equal(pre.code, 0, pre.stderr);
            const etcC = await hostPicture(hostC);
            await setConfig("clients", [
                { name: "host-a", host: hostA.ip, login: "pusher" },
                { name: "host-b", host: hostB.ip, user: "deploy", login: "puller" },
                { name: "host-c", host: hostC.ip, login: false },
            ]);
            try {
                await assert.rejects(up(), (e: Error) => {
                    assert.match(
                        e.message,
                        /registry-client-host-c \(10\.231\.77\.13\): dockerd did not come back with the new \/etc\/docker\/daemon\.json in force/,
                    );
                    assert.match(e.message, /the host is as it was before this step/);
                    return true;
                });
                assert.equal(await hostPicture(hostC), etcC, "host C is exactly as it was: ca.crt, daemon.json and the ledger all put back");
                assert.equal((await sshExec(infra, hostC, "docker info --format '{{.ServerVersion}}'")).code, 0, "dockerd answers");
            } finally {
                await setConfig("clients", [
                    { name: "host-a", host: hostA.ip, login: "pusher" },
                    { name: "host-b", host: hostB.ip, user: "deploy", login: "puller" },
                ]);
                await sshExec(infra, hostC, "rm -f /etc/docker/daemon.json");
                // The failed create left host C's (empty) component in the state: converge.
                await up();
            }
        });
    });

    it("the state file holds no plaintext secret; `stack output --show-secrets` shows the passwords", async () => {
        const state = fs.readFileSync(ts.stateFile, "utf8");
        for (const [user, pw] of Object.entries(passwords)) assert.ok(!state.includes(pw), `${user}'s password is not in the state in plaintext`);
        assert.doesNotMatch(state, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/, "no private key in plaintext");
        assert.doesNotMatch(state, /\$2[aby]\$\d\d\$/, "no bcrypt hash in plaintext");
        assert.doesNotMatch(state, /secret: [A-Za-z0-9+/=_-]{16,}/, "no http.secret in plaintext");
        // Host A's daemon.json had the operator's own keys before up: what we read there stays secret.
        assert.ok(!state.includes("e2e=existing"), "the host's daemon.json is not in the state in plaintext");
        const shown = JSON.parse(
            execFileSync(`${ts.engine.binDir}/pulumi`, ["stack", "output", "passwords", "--show-secrets", "--json", "--stack", "e2e"], {
                cwd: ts.dir,
                encoding: "utf8",
                env: { ...process.env, ...engineEnv(ts.engine.home), PULUMI_BACKEND_URL: `file://${ts.dir}/state` },
            }),
        );
        assert.deepEqual(shown, passwords);
    });

    it("a second up with no change: 0 changes, and no SSH session is opened on any host", async () => {
        await timed("no-change up", async () => {
            const before = infra.hosts.map(sshSessions);
            const steps = await up();
            assert.deepEqual(steps.changes(), []);
            assert.deepEqual(infra.hosts.map(sshSessions), before, "no remote command ran");
        });
    });

    it("lost state: with the client steps dropped from the state, the next up runs them again over configured hosts and changes nothing there", async () => {
        await timed("lost state", async () => {
            const hashA = await hostPicture(hostA);
            const exported = await ts.stack.exportStack();
            const resources = (exported.deployment as { resources: { urn: string }[] }).resources;
            const kept = resources.filter((r) => !/::registry-client-host-[ab]-/.test(r.urn));
            assert.ok(kept.length < resources.length);
            await ts.stack.importStack({ ...exported, deployment: { ...exported.deployment, resources: kept } });
            const steps = await up();
            const changed = steps.changes();
            assert.ok(changed.length > 0 && changed.every((c) => c.startsWith(`create ${HOST}::registry-client-host-`)), changed.join("\n"));
            assert.equal(await hostPicture(hostA), hashA, "re-applying the steps leaves /etc/docker as it was");
            assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: passwords.pusher })).status, 200);
        });
    });

    it("logLevel: only the container and its files installer are replaced, and the data survives (same digest pulled)", async () => {
        await timed("logLevel change", async () => {
            const idBefore = execFileSync("docker", ["inspect", "-f", "{{.Id}}", REGISTRY.container]).toString().trim();
            await setConfig("registry", { deleteEnabled: true, logLevel: "debug" });
            const steps = await up();
            assert.deepEqual(steps.changes().sort(), [`replace ${CONTAINER}::registry-registry-container`, `replace ${INSTALLER}`]);
            const idAfter = execFileSync("docker", ["inspect", "-f", "{{.Id}}", REGISTRY.container]).toString().trim();
            assert.notEqual(idAfter, idBefore);
            const pull = await sshExec(
                infra,
                hostB,
                `docker rmi ${image} >/dev/null && docker pull ${image} && docker inspect --format '{{index .RepoDigests 0}}' ${image}`,
            );
            assert.equal(pull.code, 0, pull.stdout);
            assert.ok(pull.stdout.trim().endsWith(`@${pushedDigest}`));
        });
    });

    it("users change without a restart: a pull loop sees 0 errors while a user is added and a password changed; the container's start time is unchanged", async () => {
        await timed("users without restart", async () => {
            const before = containerRun();
            const manifest = "/v2/e2e/hello/manifests/1";
            const accept = { accept: "application/vnd.docker.distribution.manifest.v2+json" };
            let stop = false;
            const results: number[] = [];
            const loop = (async () => {
                while (!stop) {
                    const m = await api(target, "GET", manifest, { user: "pusher", password: passwords.pusher, headers: accept }).catch(() => ({
                        status: 0,
                        body: "",
                    }));
                    results.push(m.status);
                    if (m.status === 200) {
                        const layer = JSON.parse(String(m.body)).layers[0].digest;
                        const blob = await api(target, "GET", `/v2/e2e/hello/blobs/${layer}`, { user: "pusher", password: passwords.pusher }).catch(() => ({
                            status: 0,
                        }));
                        results.push(blob.status === 307 ? 200 : blob.status);
                    }
                }
            })();
            const oldPuller = passwords.puller;
            try {
                await setConfig("users", [{ name: "pusher" }, { name: "puller", password: "puller-supplied-password-1" }, { name: "extra" }], true);
                const steps = await up();
                assert.deepEqual(steps.changes().sort(), [
                    `create random:index/randomPassword:RandomPassword::registry-users-password-extra`,
                    `delete random:index/randomPassword:RandomPassword::registry-users-password-puller`,
                    `replace ${INSTALLER}`,
                    `update ${HOST}::registry-client-host-b-config`,
                ]);
            } finally {
                stop = true;
                await loop;
            }
            assert.equal(containerRun(), before, "the same container, never restarted");
            const errors = results.filter((r) => r !== 200);
            assert.ok(results.length >= 10, `the loop ran (${results.length} requests)`);
            assert.deepEqual(errors, [], `${errors.length} of ${results.length} requests failed during the change`);
            assert.equal((await api(target, "GET", "/v2/", { user: "extra", password: passwords.extra })).status, 200);
            assert.equal((await api(target, "GET", "/v2/", { user: "puller", password: "puller-supplied-password-1" })).status, 200);
            assert.equal((await api(target, "GET", "/v2/", { user: "puller", password: oldPuller })).status, 401, "the old password no longer works");
            const pull = await sshExec(infra, hostB, `docker rmi ${image} >/dev/null; docker pull ${image}`);
            assert.equal(pull.code, 0, `host B logged in again with the new password: ${pull.stdout}`);
            const htpasswd = execFileSync("docker", ["exec", REGISTRY.container, "cat", "/etc/private-registry/auth/htpasswd"]).toString();
            assert.match(htpasswd, /^extra:\$2b\$04\$/m, "a generated password is hashed at the lowest cost");
            assert.match(htpasswd, /^puller:\$2b\$10\$/m, "a supplied one at a slow cost");
        });
    });

    it("a new image tag with keepImage false: the new image, then the container replaced, then the old tag removed once nothing uses it", async () => {
        await timed("new image tag", async () => {
            // A different image (not only another tag: the container follows the image ID).
            const made = execFileSync("docker", ["create", "private-registry-test/registry:2.8"]).toString().trim();
            execFileSync("docker", ["commit", "--change", "LABEL e2e=new-tag", made, "private-registry-test/registry:2.8-e2e"], { stdio: "ignore" });
            execFileSync("docker", ["rm", "-v", made], { stdio: "ignore" });
            try {
                await setConfig("image", "private-registry-test/registry:2.8-e2e");
                await setConfig("keepImage", "false");
                const steps = await up();
                assert.deepEqual(steps.changes().sort(), [
                    `replace ${CONTAINER}::registry-registry-container`,
                    `replace ${INSTALLER}`,
                    "replace docker:index/remoteImage:RemoteImage::registry-registry-image",
                ]);
                const ops = steps.steps.map((x) => `${x.op} ${x.name}`);
                const imageDeleted = ops.indexOf("delete-replaced registry-registry-image");
                const containerCreated = ops.indexOf("create-replacement registry-registry-container");
                assert.ok(
                    containerCreated >= 0 && imageDeleted > containerCreated,
                    `the old image is deleted after the new container exists: ${ops.join(", ")}`,
                );
                const newId = execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", "private-registry-test/registry:2.8-e2e"]).toString().trim();
                assert.equal(
                    execFileSync("docker", ["inspect", "-f", "{{.Image}}", REGISTRY.container]).toString().trim(),
                    newId,
                    "the container runs the new image",
                );
                assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: passwords.pusher })).status, 200);
                await setConfig("image", "private-registry-test/registry:2.8");
                await setConfig("keepImage", "true");
                await up();
                assert.throws(
                    () => execFileSync("docker", ["image", "inspect", "private-registry-test/registry:2.8-e2e"], { stdio: "ignore" }),
                    "keepImage false removed the old tag",
                );
            } finally {
                spawnSync("docker", ["rmi", "private-registry-test/registry:2.8-e2e"], { stdio: "ignore" });
            }
        });
    });

    it("refresh after the container was removed by hand: the next up recreates it", async () => {
        await timed("refresh", async () => {
            execFileSync("docker", ["rm", "-f", "-v", REGISTRY.container]);
            // The state alone: with the program, the engine would close on its late registrations.
            const r = await ts.stack.refresh({ color: "never", runProgram: false });
            assert.equal(r.summary.resourceChanges?.delete, 1, JSON.stringify(r.summary.resourceChanges));
            const steps = await up();
            assert.deepEqual(steps.changes(), [`create ${CONTAINER}::registry-registry-container`]);
            assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: passwords.pusher })).status, 200);
        });
    });

    it("one client's daemonJson key: only that host's daemon.json step is updated, and the key is in force there", async () => {
        await timed("client daemonJson", async () => {
            await setConfig("clients", [
                { name: "host-a", host: hostA.ip, login: "pusher", daemonJson: { maxConcurrentUploads: 2 } },
                { name: "host-b", host: hostB.ip, user: "deploy", login: "puller" },
            ]);
            const steps = await up();
            assert.deepEqual(steps.changes(), [`update ${HOST}::registry-client-host-a-config`]);
            const a = JSON.parse((await sshExec(infra, hostA, "cat /etc/docker/daemon.json")).stdout);
            assert.equal(a["max-concurrent-uploads"], 2);
            assert.deepEqual(a.labels, ["e2e=existing"], "the operator's keys are still there");
        });
    });

    it("a new client whose daemon.json is not JSON fails the up naming host and file while the others converge; removed again, its host is exactly as it was", async () => {
        await timed("bad daemon.json, then removal", async () => {
            const clients = [
                { name: "host-a", host: hostA.ip, login: "pusher" },
                { name: "host-b", host: hostB.ip, user: "deploy", login: "puller" },
            ];
            assert.equal((await sshExec(infra, hostC, "rm -rf /etc/docker/certs.d && printf '{not json' > /etc/docker/daemon.json")).code, 0);
            const etcC = await hostPicture(hostC);
            await setConfig("clients", [...clients, { name: "host-c", host: hostC.ip }]);
            await setConfig("daemonJson", { debug: true, maxConcurrentDownloads: 3 });
            await assert.rejects(up(), (e: Error) => {
                assert.match(e.message, /registry-client-host-c \(10\.231\.77\.13\): \/etc\/docker\/daemon\.json is not valid JSON/);
                return true;
            });
            const a = await sshExec(infra, hostA, "cat /etc/docker/daemon.json");
            assert.equal(JSON.parse(a.stdout)["max-concurrent-downloads"], 3, "host A converged in the failed up");
            assert.equal((await sshExec(infra, hostC, "cat /etc/docker/daemon.json")).stdout, "{not json", "host C's file is untouched");

            await setConfig("clients", clients);
            const steps = await up();
            const changed = steps.changes();
            assert.ok(changed.length > 0 && changed.every((x) => x.startsWith("delete ") && /host-c/.test(x)), changed.join("\n"));
            assert.equal(await hostPicture(hostC), etcC, "host C's /etc/docker is as it was before it was added");
        });
    });

    it("a client host that is down fails the up naming it while the others converge; back up, the next up converges", async () => {
        await timed("host down", async () => {
            const pid = execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", hostB.container]).toString().trim();
            const rule = ["-n", "-t", pid, "iptables", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset"];
            execFileSync("nsenter", [...rule.slice(0, 4), "-A", ...rule.slice(4)]);
            try {
                await setConfig("daemonJson", { debug: true, maxConcurrentDownloads: 5 });
                await assert.rejects(up(), /host-b/);
                const a = await sshExec(infra, hostA, "cat /etc/docker/daemon.json");
                assert.equal(JSON.parse(a.stdout)["max-concurrent-downloads"], 5, "host A converged");
            } finally {
                execFileSync("nsenter", [...rule.slice(0, 4), "-D", ...rule.slice(4)]);
            }
            await up();
            const b = await sshExec(infra, hostB, "cat /etc/docker/daemon.json");
            assert.equal(JSON.parse(b.stdout)["max-concurrent-downloads"], 5, "host B converged on the next up");
        });
    });

    it("garbage collection: a deleted image's space is freed, a push racing it is refused and then succeeds, the other images pull intact", async () => {
        await timed("gc", async () => {
            const { garbageCollect } = await import("../../scripts/operations/gc");
            await assert.rejects(garbageCollect(ts.stack, { deleteUntagged: true }), /--delete-untagged is refused on distribution 2/);
            const doomed = `${REGISTRY.name}:${REGISTRY.port}/e2e/gc-me:1`;
            const push = (tag: string, bytes: number) =>
                sshExec(
                    infra,
                    hostA,
                    `set -e; d=$(mktemp -d); head -c ${bytes} /dev/urandom > $d/blob; tar -C $d -c . | docker import - ${tag} >/dev/null; docker push ${tag}`,
                );
            const pushedDoomed = await push(doomed, 8_000_000);
            assert.equal(pushedDoomed.code, 0, pushedDoomed.stdout);
            const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushedDoomed.stdout)?.[1] ?? "";
            const del = await api(target, "DELETE", `/v2/e2e/gc-me/manifests/${digest}`, { user: "pusher", password: passwords.pusher });
            assert.equal(del.status, 202);
            const race = `${REGISTRY.name}:${REGISTRY.port}/e2e/race:1`;
            let refused = { code: 0, stdout: "" };
            const r = await garbageCollect(ts.stack, {
                log,
                whileReadOnly: async () => {
                    refused = await push(race, 1000);
                },
            });
            assert.notEqual(refused.code, 0, "a push while read-only is refused");
            // distribution 2.8 in read-only mode: 405 with a plain-text body (3.x: 405 and its own JSON error).
            assert.match(refused.stdout, /405|Method not allowed|unsupported/i, refused.stdout);
            assert.ok(r.beforeKiB !== undefined && r.afterKiB !== undefined);
            const freed = (r.beforeKiB ?? 0) - (r.afterKiB ?? 0);
            log(`gc: ${r.beforeKiB} KiB → ${r.afterKiB} KiB (${freed} KiB freed) in ${r.seconds.toFixed(0)} s; ${r.report.join(" | ")}`);
            assert.ok(freed >= 7000, `about the 8 MB image's size is freed, got ${freed} KiB`);
            const again = await push(race, 1000);
            assert.equal(again.code, 0, `the push succeeds once read-write again: ${again.stdout}`);
            const pull = await sshExec(
                infra,
                hostB,
                `docker rmi -f ${image} >/dev/null 2>&1; docker pull ${image} >/dev/null && docker inspect --format '{{index .RepoDigests 0}}' ${image}`,
            );
            assert.ok(pull.stdout.trim().endsWith(`@${pushedDigest}`), `the first image still pulls with its digest: ${pull.stdout}`);
            const config = await ts.stack.getAllConfig();
            assert.equal(config["private-registry:registry"]?.value.includes("readOnly"), false, "the stack file is as it was");
        });
    });

    it("npm run status: every check ok with the registry up, the registry check failing (exit 1) while it is stopped", async () => {
        const { registryStatus } = await import("../../scripts/operations/status");
        const up1 = await registryStatus(ts.stack, { connect: "127.0.0.1" });
        assert.equal(up1.ok, true, up1.checks.map((c) => `${c.name}: ${c.detail}`).join("\n"));
        const names = up1.checks.map((c) => c.name);
        for (const n of ["registry", "server certificate", "CA", "last gc", "client host-a", "client host-b"])
            assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
        assert.match(up1.checks.find((c) => c.name === "server certificate")?.detail ?? "", /\(\d{3} days\)/);
        execFileSync("docker", ["stop", REGISTRY.container]);
        try {
            const down = await registryStatus(ts.stack, { connect: "127.0.0.1", timeout: 3 });
            assert.equal(down.ok, false);
            assert.match(
                down.checks.find((c) => c.name === "registry")?.detail ?? "",
                /registry\.test:5000 \(at 127\.0\.0\.1\): .*ECONNREFUSED|socket hang up|no answer/,
            );
        } finally {
            execFileSync("docker", ["start", REGISTRY.container]);
            isolate(REGISTRY.container);
        }
        for (
            let i = 0;
            i < 60 && execFileSync("docker", ["inspect", "-f", "{{.State.Health.Status}}", REGISTRY.container]).toString().trim() !== "healthy";
            i++
        ) {
            await new Promise((r) => setTimeout(r, 500));
        }
        const script = spawnSync("node", ["--import", "tsx", "scripts/status.ts", "--connect", "127.0.0.1"], {
            cwd: `${__dirname}/../..`,
            encoding: "utf8",
            env: { ...process.env, STACK: "e2e", PULUMI_BACKEND_URL: `file://${ts.dir}/state`, ...engineEnv(ts.engine.home) },
        });
        log(
            `npm run status:\n${script.stdout}${script.stderr
                .split("\n")
                .filter((l) => !l.startsWith("engine:"))
                .join("\n")}`,
        );
        assert.equal(script.status, 0, script.stdout + script.stderr);
        assert.match(script.stdout, /^ok {4}registry {2,}registry\.test:5000: \/v2\/ answers 200 as pusher over TLSv1\.[23]/m);
    });

    it("destroy: the container is gone, /etc/docker on every client is byte-identical to before up, the data volume is kept", async () => {
        await timed("destroy", async () => {
            await ts.stack.destroy({ color: "never" });
            assert.throws(() => execFileSync("docker", ["inspect", REGISTRY.container], { stdio: "ignore" }));
            assert.equal(await hostPicture(hostA), etcBefore.a, "host A's /etc/docker is as it was");
            assert.equal(await hostPicture(hostB), etcBefore.b, "host B's /etc/docker is as it was");
            execFileSync("docker", ["volume", "inspect", REGISTRY.volume], { stdio: "ignore" });
            assert.throws(
                () => execFileSync("docker", ["volume", "inspect", `${REGISTRY.container}-files`], { stdio: "ignore" }),
                "the files volume (secrets) is gone",
            );
            assert.throws(() => execFileSync("docker", ["inspect", `${REGISTRY.container}-installer`], { stdio: "ignore" }), "the installer is gone");
            const cfg = await sshExec(infra, hostA, "cat /root/.docker/config.json");
            assert.doesNotMatch(cfg.stdout, /registry\.test:5000/, "logged out");
        });
    });
});
