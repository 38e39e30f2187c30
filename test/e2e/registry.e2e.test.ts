/**
 * End to end without the Pulumi engine: the program runs on Pulumi.e2e.yaml under mocks that create
 * the real thing (test/harness), on a test network with client-host containers that each run sshd
 * and their own Docker daemon (test/e2e/infra). Then a real Docker client uses the result the way
 * an operator would, trusting only what the program installed.
 *
 * The registry is reached from the client hosts as registry.test on the test network, never over
 * loopback: dockerd treats any registry on 127.0.0.0/8 as insecure and would skip verification.
 * This machine talks to the registry's published 127.0.0.1 port with SNI registry.test.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../../scripts/stackFile";
import { Realizer } from "../harness/realizer";
import { isolate, REGISTRY, sshExec, startInfra, stopInfra, type TestHost, type TestInfra } from "./infra/hosts";
import { api, timed, type RegistryTarget } from "./support";

const root = path.resolve(__dirname, "..", "..");
const log = (m: string) => {
    if (process.env.E2E_VERBOSE) console.log(`    ${m}`);
};

let infra: TestInfra;
let hostA: TestHost;
let hostB: TestHost;
let hostC: TestHost;
let main: typeof import("../../program").main;
let current: Realizer | undefined;
let target: RegistryTarget;
let passwords: Record<string, string>;
const etcBefore: Record<string, string> = {};
const image = `${REGISTRY.name}:${REGISTRY.port}/e2e/hello:1`;
let pushedDigest = "";

/** A picture of /etc/docker on a host: every path with its type, mode and content hash. */
async function etcDockerHash(h: TestHost): Promise<string> {
    const r = await sshExec(infra, h, "cd /etc/docker && find . -printf '%y %m %p\\n' | sort && find . -type f -exec sha256sum {} + | sort");
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
}

/** One `pulumi up` of the program on the e2e stack, with `overrides` as extra config. */
async function up(opts: { previous?: Realizer; set?: Record<string, string>; forget?: RegExp } = {}): Promise<Realizer> {
    const previous = opts.previous;
    if (previous && opts.forget) {
        // Lost state for these resources: they are created again on hosts already configured.
        previous.records.splice(0, previous.records.length, ...previous.records.filter((r) => !opts.forget!.test(r.name)));
    }
    const realizer = new Realizer({ previous, log });
    await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "e2e", false);
    const cfg = readStackConfig(path.join(root, "Pulumi.e2e.yaml"), {
        namespace: "private-registry",
        set: opts.set,
        setSecret: { sshPrivateKey: infra.sshKey.privateKeyPem },
    });
    pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
    const out = main();
    const values = new Promise<[string, Record<string, string>]>((resolve) =>
        pulumi.all([out.caCertPem, out.passwords]).apply(([ca, pw]) => resolve([ca, pw])),
    );
    await realizer.settled();
    realizer.close();
    const [ca, pw] = await values;
    target = { host: "127.0.0.1", port: REGISTRY.port, servername: REGISTRY.name, ca };
    passwords = pw;
    // The registry container is the program's: isolate it as the suite isolates its own.
    isolate(REGISTRY.container);
    current = realizer;
    return realizer;
}

before(async () => {
    await timed("infrastructure: network and 3 client hosts", async () => {
        infra = await startInfra(3, log);
    });
    [hostA, hostB, hostC] = infra.hosts;
    // Keys an operator already had in daemon.json must survive the merge.
    const pre = await sshExec(infra, hostA, `mkdir -p /etc/docker && cat > /etc/docker/daemon.json && kill -HUP $(pidof dockerd)`, {
        stdin: '{\n  "labels": ["e2e=existing"],\n  "max-download-attempts": 4\n}\n',
    });
    assert.equal(pre.code, 0, pre.stderr);
    etcBefore.a = await etcDockerHash(hostA);
    etcBefore.b = await etcDockerHash(hostB);
    ({ main } = await import("../../program"));
    await timed("pulumi up (realized)", () => up());
});

after(async () => {
    if (process.env.E2E_KEEP === "1") {
        console.log("E2E_KEEP=1: the registry, hosts and network are left running (remove with docker rm -f / docker network rm)");
        return;
    }
    if (current) await current.destroy().catch((e) => console.error(`destroy: ${e.message}`));
    stopInfra();
});

describe("end to end: a real registry, real client hosts, a real Docker client", () => {
    it("1. /v2/ over TLS verified against the program's CA: 401 without or with a wrong password, 200 with the generated one; TLS 1.1 refused", async () => {
        await timed("scenario 1", async () => {
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
    });

    it("2. host A logs in with the program's credentials and pushes; host B pulls the same digest", async () => {
        await timed("scenario 2", async () => {
            const ca = await sshExec(infra, hostA, `cat /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port}/ca.crt`);
            assert.equal(`${ca.stdout}\n`, target.ca, "host A trusts exactly the CA the program made");
            const cfg = await sshExec(infra, hostA, "cat /root/.docker/config.json");
            assert.match(cfg.stdout, /registry\.test:5000/, "the program logged host A in");
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
        });
    });

    it("3. negative controls: an unconfigured host gets 'x509: certificate signed by unknown authority'; with trust but no login, push needs credentials", async () => {
        await timed("scenario 3", async () => {
            const pull = await sshExec(infra, hostC, `docker pull ${image}`);
            assert.notEqual(pull.code, 0);
            assert.match(pull.stdout, /x509: certificate signed by unknown authority/);
            const trust = await sshExec(infra, hostC, `mkdir -p /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port} && cat > /etc/docker/certs.d/${REGISTRY.name}:${REGISTRY.port}/ca.crt`, {
                stdin: target.ca,
            });
            assert.equal(trust.code, 0);
            const push = await sshExec(infra, hostC, `set -e; d=$(mktemp -d); echo c > $d/c.txt; tar -C $d -c . | docker import - ${REGISTRY.name}:${REGISTRY.port}/e2e/c:1 >/dev/null; docker push ${REGISTRY.name}:${REGISTRY.port}/e2e/c:1`);
            assert.notEqual(push.code, 0);
            assert.match(push.stdout, /no basic auth credentials|unauthorized|authentication required/);
        });
    });

    it("4. the runbook's API calls: _catalog, tags/list, manifest HEAD with its digest, DELETE manifest and blob → 202", async () => {
        await timed("scenario 4", async () => {
            const auth = { user: "pusher", password: passwords.pusher };
            const push = await sshExec(infra, hostA, `set -e; d=$(mktemp -d); echo gone > $d/x.txt; tar -C $d -c . | docker import - ${REGISTRY.name}:${REGISTRY.port}/e2e/deleteme:1 >/dev/null; docker push ${REGISTRY.name}:${REGISTRY.port}/e2e/deleteme:1`);
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

    it("5. daemon.json: existing keys kept, configured keys present and applied by the reload, daemon running", async () => {
        await timed("scenario 5", async () => {
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

    it("a daemon.json that dockerd rejects fails the step loudly instead of leaving the old config in force", async () => {
        await timed("rejected daemon.json", async () => {
            const { renderDaemonApply, renderDaemonRestore, runScript } = await import("../../components/render/clientScripts");
            const p = { stateDir: "/var/lib/private-registry/e2e-bad", managedKeys: ["debug"], restart: false, expect: { debug: true } };
            const r = await sshExec(infra, hostC, runScript(renderDaemonApply(p), false), { stdin: '{"debug": true, "labels": ["not-key-value"]}\n' });
            assert.notEqual(r.code, 0);
            assert.match(r.stdout, /dockerd did not apply the new daemon.json/);
            const restore = await sshExec(infra, hostC, runScript(renderDaemonRestore(p), false));
            assert.equal(restore.code, 0, restore.stdout);
            assert.equal((await sshExec(infra, hostC, "test -e /etc/docker/daemon.json")).code, 1, "the host is back to no daemon.json");
        });
    });

    it("8. a second up on the same infrastructure converges: unchanged state is a no-op, and the client steps applied again over configured hosts change nothing", async () => {
        await timed("scenario 8", async () => {
            const first = current!;
            const same = await up({ previous: first });
            assert.deepEqual([...new Set(same.records.map((r) => r.action))], ["same"]);
            const hashA = await etcDockerHash(hostA);
            const again = await up({ previous: same, forget: /-client-/ });
            assert.ok(again.records.filter((r) => r.type === "command:remote:Command").every((r) => r.action === "create"));
            assert.equal(await etcDockerHash(hostA), hashA, "re-applying the steps leaves /etc/docker as it was");
            assert.equal((await api(target, "GET", "/v2/", { user: "pusher", password: passwords.pusher })).status, 200);
        });
    });

    it("6. data survives a change that replaces the container: the same digest is pulled afterwards", async () => {
        await timed("scenario 6", async () => {
            const before = execFileSync("docker", ["inspect", "-f", "{{.Id}}", REGISTRY.container]).toString().trim();
            const changed = await up({ previous: current, set: { registry: JSON.stringify({ deleteEnabled: true, logLevel: "debug" }) } });
            const replaced = changed.records.find((r) => r.type === "docker:index/container:Container")!;
            assert.equal(replaced.action, "replace");
            const afterId = execFileSync("docker", ["inspect", "-f", "{{.Id}}", REGISTRY.container]).toString().trim();
            assert.notEqual(afterId, before, "a new container");
            const pull = await sshExec(infra, hostB, `docker rmi ${image} >/dev/null && docker pull ${image} && docker inspect --format '{{index .RepoDigests 0}}' ${image}`);
            assert.equal(pull.code, 0, pull.stdout);
            assert.ok(pull.stdout.trim().endsWith(`@${pushedDigest}`));
        });
    });

    it("7. destroy: the container is gone, /etc/docker on every client is byte-identical to before up, the data volume is kept", async () => {
        await timed("scenario 7", async () => {
            await current!.destroy();
            current = undefined;
            assert.throws(() => execFileSync("docker", ["inspect", REGISTRY.container], { stdio: "ignore" }));
            assert.equal(await etcDockerHash(hostA), etcBefore.a, "host A's /etc/docker is as it was");
            assert.equal(await etcDockerHash(hostB), etcBefore.b, "host B's /etc/docker is as it was");
            execFileSync("docker", ["volume", "inspect", REGISTRY.volume], { stdio: "ignore" });
            const cfg = await sshExec(infra, hostA, "cat /root/.docker/config.json");
            assert.doesNotMatch(cfg.stdout, /registry\.test:5000/, "logged out");
        });
    });
});
