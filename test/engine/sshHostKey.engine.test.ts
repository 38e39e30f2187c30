/**
 * SSH connections that verify who answers, on the real engine: the client hosts are the program's
 * dynamic provider (components/clients/ssh.ts, ssh2), run by the engine's real nodejs dynamic-provider
 * host. The e2e stack against client-host containers with real sshd, each host's real ed25519 host
 * key read from the container.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { hostKeyOf, startInfra, stopInfra, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { e2eLog as log, timed } from "../e2e/support";
import { createE2eStack, StepLog, type TestStack } from "./engine";

let infra: TestInfra;
let hostA: TestHost, hostB: TestHost, hostC: TestHost;
let ts: TestStack;
const keys: Record<string, string> = {};
/** An ssh-agent of this test's own; it outlives the destroy, which runs the deletes over the stored connections. */
let agent: ChildProcess | undefined;

/** sshd's own log (sshd -e writes it to the container's stderr). */
function sshdLog(h: TestHost): string[] {
    const r = spawnSync("docker", ["logs", h.container], { encoding: "utf8" });
    return `${r.stdout}\n${r.stderr}`.split("\n");
}

/** Whether `path` exists on the host, looked at without SSH (an SSH check would itself be a session). */
const exists = (h: TestHost, path: string) => spawnSync("docker", ["exec", h.container, "test", "-e", path]).status === 0;

async function setClients(clients: Record<string, unknown>[]): Promise<void> {
    await ts.stack.setConfig("private-registry:clients", { value: JSON.stringify(clients) });
}

async function up(): Promise<StepLog> {
    const steps = new StepLog();
    await ts.stack.up({ onEvent: steps.onEvent, color: "never" });
    return steps;
}

const CA = "/etc/docker/certs.d/registry.test:5000/ca.crt";
const clientA = () => ({ name: "host-a", host: hostA.ip, login: "pusher", hostKey: keys.a });

before(async () => {
    await timed("infrastructure: network and 3 client hosts", async () => {
        infra = await startInfra(3, log);
    });
    [hostA, hostB, hostC] = infra.hosts;
    keys.a = hostKeyOf(hostA);
    keys.b = hostKeyOf(hostB);
    keys.c = hostKeyOf(hostC);
    assert.notEqual(keys.a, keys.b, "each host has a key of its own");
    ts = await createE2eStack({ name: "ssh-host-key", sshPrivateKeyPem: infra.sshKey.privateKeyPem, log });
    await setClients([clientA()]);
});

after(async () => {
    if (ts) await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    agent?.kill();
    stopInfra();
});

describe("client hosts reached only when they show the pinned host key", () => {
    it("the right hostKey: the up configures the host", async () => {
        await timed("up with host-a pinned", async () => {
            const steps = await up();
            assert.deepEqual(
                steps.diagnostics.filter((d) => /insecureSkipHostKeyCheck/.test(d)),
                [],
            );
        });
        assert.ok(exists(hostA, CA), "host-a trusts the registry's CA");
    });

    it("another host's key: the step fails naming the host before any command ran there, and the pinned host is left alone", async () => {
        const accepted = sshdLog(hostB).filter((l) => /Accepted publickey/.test(l)).length;
        const preauth = sshdLog(hostB).filter((l) => /\[preauth\]/.test(l)).length;
        await setClients([clientA(), { name: "host-b", host: hostB.ip, sudo: true, login: "puller", hostKey: keys.a }]);
        await timed("up with host-b pinned to host-a's key", async () => {
            await assert.rejects(up(), (e: Error) => {
                assert.match(e.message, /registry-client-host-b-config/);
                assert.match(
                    e.message,
                    /ssh root@10\.231\.77\.12:22: the host key is not the one pinned \(hostKey\): it presented ssh-ed25519 .*nothing was sent to it/,
                );
                assert.doesNotMatch(e.message, /registry-client-host-a/);
                return true;
            });
        });
        const lines = sshdLog(hostB);
        assert.equal(lines.filter((l) => /Accepted publickey/.test(l)).length, accepted, "no session was accepted on host-b: no command could run");
        assert.ok(lines.filter((l) => /\[preauth\]/.test(l)).length > preauth, "the provider did reach host-b's sshd, and left before authenticating");
        assert.ok(!exists(hostB, "/var/lib/private-registry"), "host-b has none of the steps' bookkeeping");
        assert.ok(!exists(hostB, CA), "host-b has no CA from us");
    });

    it("the opt-out: the up runs, with a warning naming the host in the engine's output", async () => {
        await setClients([clientA(), { name: "host-b", host: hostB.ip, sudo: true, login: "puller", insecureSkipHostKeyCheck: true }]);
        await timed("up with host-b unchecked", async () => {
            const steps = await up();
            const warnings = steps.diagnostics.filter((d) => d.startsWith("warning") && /insecureSkipHostKeyCheck/.test(d));
            assert.equal(warnings.length, 1, steps.diagnostics.join("\n"));
            assert.match(warnings[0], /clients\[1\]\.insecureSkipHostKeyCheck is true: the SSH host key of host-b \(10\.231\.77\.12:22\) is not checked/);
        });
        assert.ok(exists(hostB, CA), "host-b is configured");
    });

    it("a bastion that is not the one pinned: the step fails naming the bastion, and nothing runs on the target", async () => {
        const viaWrongBastion = {
            name: "host-c",
            host: hostC.ip,
            login: false,
            hostKey: keys.c,
            proxy: { host: hostA.ip, hostKey: keys.b },
        };
        await setClients([clientA(), { name: "host-b", host: hostB.ip, sudo: true, login: "puller", insecureSkipHostKeyCheck: true }, viaWrongBastion]);
        await assert.rejects(up(), (e: Error) => {
            assert.match(e.message, /registry-client-host-c-config/);
            assert.match(e.message, /ssh root@10\.231\.77\.11:22: the host key is not the one pinned/);
            return true;
        });
        assert.ok(!exists(hostC, "/var/lib/private-registry"), "host-c was never reached");
        assert.ok(!exists(hostC, CA));
    });

    it("every login: an own key, ssh-agent alone, a passphrase-protected key through a bastion (host-a)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-ssh-login-"));
        const plain = path.join(dir, "id");
        fs.writeFileSync(plain, infra.sshKey.privateKeyPem, { mode: 0o600 });
        const socket = path.join(dir, "agent.sock");
        agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
        for (let i = 0; i < 50 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
        execFileSync("ssh-add", ["-q", plain], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: "ignore" });
        const encrypted = path.join(dir, "id-encrypted");
        fs.copyFileSync(plain, encrypted);
        execFileSync("ssh-keygen", ["-p", "-q", "-P", "", "-N", "correct horse battery", "-f", encrypted]);
        const encryptedKey = fs.readFileSync(encrypted, "utf8");
        assert.match(encryptedKey, /BEGIN OPENSSH PRIVATE KEY/);

        const fromA = () => sshdLog(hostC).filter((l) => l.includes(`Accepted publickey for root from ${hostA.ip} `)).length;
        assert.equal(fromA(), 0);
        await ts.stack.removeConfig("private-registry:sshPrivateKey");
        const clients = [
            { ...clientA(), privateKey: infra.sshKey.privateKeyPem },
            { name: "host-b", host: hostB.ip, sudo: true, login: "puller", hostKey: keys.b, sshAgent: socket },
            {
                name: "host-c",
                host: hostC.ip,
                login: false,
                hostKey: keys.c,
                privateKey: encryptedKey,
                privateKeyPassword: "correct horse battery",
                proxy: { host: hostA.ip, hostKey: keys.a },
            },
        ];
        await ts.stack.setConfig("private-registry:clients", { value: JSON.stringify(clients), secret: true });
        await timed("up: own key, agent, passphrase through a bastion", async () => {
            const steps = await up();
            assert.deepEqual(
                steps.diagnostics.filter((d) => d.startsWith("warning")),
                [],
            );
        });
        assert.ok(exists(hostB, CA), "host-b (agent only) is configured");
        assert.ok(exists(hostC, CA), "host-c (passphrase key, through host-a) is configured");
        assert.ok(fromA() > 0, "host-c was reached from host-a");
    });

    it("sshAgent: true is $SSH_AUTH_SOCK where each step runs: host-b removed from another login (another agent socket, the first one gone) is still undone (issue 20, item 10)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-ssh-agents-"));
        const key = path.join(dir, "id");
        fs.writeFileSync(key, infra.sshKey.privateKeyPem, { mode: 0o600 });
        const startAgent = async (socket: string) => {
            const a = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
            for (let i = 0; i < 50 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
            execFileSync("ssh-add", ["-q", key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: "ignore" });
            return a;
        };
        // The login's environment: the CLI's (and so the providers') and this process's, where the
        // inline program runs, as a user's shell gives both to `pulumi up`.
        const workspaceEnv = (ts.stack.workspace as unknown as { envVars: Record<string, string> }).envVars;
        const login = (socket: string | undefined) => {
            if (socket === undefined) {
                delete workspaceEnv.SSH_AUTH_SOCK;
                delete process.env.SSH_AUTH_SOCK;
            } else {
                workspaceEnv.SSH_AUTH_SOCK = socket;
                process.env.SSH_AUTH_SOCK = socket;
            }
        };
        await ts.stack.removeConfig("private-registry:sshPrivateKey");
        const first = path.join(dir, "first.sock");
        const firstAgent = await startAgent(first);
        login(first);
        const second = path.join(dir, "second.sock");
        const secondAgent = await startAgent(second);
        try {
            // The stack has no sshPrivateKey since the test above: host-a keeps its own key.
            const withKey = { ...clientA(), privateKey: infra.sshKey.privateKeyPem };
            const setSecretClients = (clients: Record<string, unknown>[]) =>
                ts.stack.setConfig("private-registry:clients", { value: JSON.stringify(clients), secret: true });
            await setSecretClients([withKey, { name: "host-b", host: hostB.ip, sudo: true, login: "puller", hostKey: keys.b, sshAgent: true }]);
            await timed("up: host-b through the agent at $SSH_AUTH_SOCK", () => up());
            assert.ok(exists(hostB, CA), "host-b is configured through the first agent");
            // The operator's next login: the first agent is gone, another socket is in SSH_AUTH_SOCK.
            firstAgent.kill();
            fs.rmSync(first, { force: true });
            login(second);
            await setSecretClients([withKey]);
            await timed("up: host-b removed, from the second login", () => up());
            assert.ok(!exists(hostB, CA), "host-b's changes were undone over the second agent");
        } finally {
            firstAgent.kill();
            secondAgent.kill();
            login(undefined);
        }
    });
});
