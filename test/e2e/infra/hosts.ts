/**
 * The end-to-end test's own network and client hosts (docs/testing.md).
 * Network safety first: everything sits on a bridge network this module creates; each container's
 * default route is deleted once it is up, so no address outside the test subnet is reachable;
 * containers resolve names only through /etc/hosts (`--dns 127.0.0.1`); a client host's Docker
 * daemon runs with `--bridge=none --iptables=false` and without NET_ADMIN; nothing uses
 * `--network host`. A replica host (`servers`) runs registry containers: its daemon gets NET_ADMIN
 * for a bridge and NAT rules in that host container's own network namespace, which has no default
 * route either.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { privateKey } from "../../../stand-ins/offline/tls";
import { runRemote } from "../../../stand-ins/realizers/ssh";

export const CLIENT_IMAGE = "private-registry-test/client-host:bookworm";
export const REGISTRY_IMAGE = "private-registry-test/registry:2.8";

/** The test network (matches Pulumi.e2e.yaml). */
export const NETWORK = { name: "pr-e2e-net", subnet: "10.231.77.0/24", gateway: "10.231.77.1" };
export const REGISTRY = { name: "registry.test", ip: "10.231.77.2", port: 5000, container: "pr-e2e-registry", volume: "pr-e2e-registry-data" };

/** One client-host container. */
export interface TestHost {
    name: string;
    container: string;
    ip: string;
    /** A replica host: its Docker daemon runs containers (publishing ports on `ip`). */
    serves?: boolean;
    /** A containerd-only client host: containerd runs as its own service, no dockerd. */
    containerdOnly?: boolean;
}

/** Everything the suite created. */
export interface TestInfra {
    /** RSA key (PKCS#1 PEM) accepted by every host for root and `deploy`. */
    sshKey: { privateKeyPem: string; publicKeyOpenssh: string };
    hosts: TestHost[];
}

function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Capability names by bit number (linux/capability.h), for the sandbox's bounding set. */
const CAPS = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
];

/**
 * `--privileged` fails in this sandbox (its bounding set lacks some capabilities), so a client host
 * gets every capability the sandbox has, except NET_ADMIN: its Docker daemon must not be able
 * to touch any network. A replica host keeps NET_ADMIN, for its own namespace's bridge.
 */
function capabilityArgs(serves: boolean): string[] {
    const line = fs
        .readFileSync("/proc/self/status", "utf8")
        .split("\n")
        .find((l) => l.startsWith("CapBnd:"))!;
    const mask = BigInt(`0x${line.split(/\s+/)[1]}`);
    return CAPS.filter((name, bit) => (mask >> BigInt(bit)) & 1n && (serves || name !== "NET_ADMIN")).flatMap((name) => ["--cap-add", name]);
}

/** Deletes a container's default route: any address outside the test subnet becomes unreachable. */
export function isolate(container: string, allow?: string): void {
    const pid = docker("inspect", "-f", "{{.State.Pid}}", container);
    const ip = (...args: string[]) => execFileSync("nsenter", ["-n", "-t", pid, "ip", ...args], { encoding: "utf8" });
    const routes = ip("route", "show", "default");
    if (routes.trim() === "") return;
    ip("route", "del", "default");
    // One host beyond the container's own networks (this machine's address on the test network,
    // where the test's Ceph gateway listens), through the gateway the default route used.
    const via = /via (\S+)/.exec(routes)?.[1];
    if (allow && via) ip("route", "replace", `${allow}/32`, "via", via);
}

/** A client host's real ed25519 host key, one line (`ssh-ed25519 AAAA…`), read without SSH. */
export function hostKeyOf(h: TestHost): string {
    return docker("exec", h.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").trim();
}

/** Removes everything a (crashed) earlier run of the suite may have left. */
export function cleanup(): void {
    const names = docker("ps", "-a", "--filter", "label=private-registry-e2e", "--format", "{{.Names}}").split("\n").filter(Boolean);
    const replicas = [`${REGISTRY.container}-2`, `${REGISTRY.container}-3`, `${REGISTRY.container}-lb`, `${REGISTRY.container}-redis`];
    for (const n of [...names, REGISTRY.container, `${REGISTRY.container}-installer`, ...replicas]) {
        try {
            docker("rm", "-f", "-v", n);
        } catch {
            /* absent */
        }
    }
    try {
        docker("network", "rm", `${REGISTRY.container}-replicas`);
    } catch {
        /* absent */
    }
    try {
        docker("network", "rm", NETWORK.name);
    } catch {
        /* absent */
    }
    for (const v of [REGISTRY.volume, `${REGISTRY.container}-files`]) {
        try {
            docker("volume", "rm", "-f", v);
        } catch {
            /* absent */
        }
    }
}

/**
 * Creates the network and `count` client hosts (`host-a`, `host-b`, …), then `servers` replica
 * hosts (the letters after), ready for SSH.
 */
export async function startInfra(
    count: number,
    log: (m: string) => void = () => undefined,
    opts: { servers?: number; containerdOnly?: string[] } = {},
): Promise<TestInfra> {
    cleanup();
    const key = privateKey({ algorithm: "RSA", rsaBits: 2048 });
    const sshKey = { privateKeyPem: String(key.outputs.privateKeyPem), publicKeyOpenssh: String(key.outputs.publicKeyOpenssh).trim() };
    docker(
        "network",
        "create",
        "--driver",
        "bridge",
        "--subnet",
        NETWORK.subnet,
        "--gateway",
        NETWORK.gateway,
        "--label",
        "private-registry-e2e",
        NETWORK.name,
    );
    const hosts: TestHost[] = [];
    for (let i = 0; i < count + (opts.servers ?? 0); i++) {
        const letter = String.fromCharCode(97 + i);
        const serves = i >= count;
        const containerdOnly = opts.containerdOnly?.includes(`host-${letter}`) === true;
        const host = {
            name: `host-${letter}`,
            container: `pr-e2e-host-${letter}`,
            ip: `10.231.77.${11 + i}`,
            ...(serves ? { serves } : {}),
            ...(containerdOnly ? { containerdOnly } : {}),
        };
        docker(
            "run",
            "-d",
            "--name",
            host.container,
            "--hostname",
            host.name,
            "--label",
            "private-registry-e2e",
            "--network",
            NETWORK.name,
            "--ip",
            host.ip,
            "--dns",
            "127.0.0.1",
            "--add-host",
            `${REGISTRY.name}:${REGISTRY.ip}`,
            "--init",
            ...capabilityArgs(serves),
            // A replica host's containers reach the test network through NAT in its namespace.
            ...(serves ? ["--sysctl", "net.ipv4.ip_forward=1", "-e", `SERVE_BIP=10.232.${i}.1/24`] : []),
            ...(containerdOnly ? ["-e", "CLIENT_RUNTIME=containerd"] : []),
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "apparmor=unconfined",
            "--device-cgroup-rule",
            "a *:* rwm",
            "-e",
            `AUTHORIZED_KEY=${sshKey.publicKeyOpenssh}`,
            CLIENT_IMAGE,
        );
        isolate(host.container);
        hosts.push(host);
    }
    // Ready when SSH answers and the host's own dockerd (or containerd) answers (it starts before sshd).
    await Promise.all(
        hosts.map(async (h) => {
            const deadline = Date.now() + 60_000;
            for (;;) {
                try {
                    await runRemote(
                        { host: h.ip, privateKey: sshKey.privateKeyPem, dialErrorLimit: 0, perDialTimeout: 3 },
                        h.containerdOnly ? "ctr version >/dev/null" : "docker info >/dev/null",
                    );
                    return;
                } catch (e) {
                    if (Date.now() > deadline) throw new Error(`${h.name} did not become ready: ${(e as Error).message}\n${docker("logs", h.container)}`);
                    await new Promise((r) => setTimeout(r, 300));
                }
            }
        }),
    );
    log(`started ${hosts.map((h) => `${h.name}=${h.ip}`).join(", ")}`);
    return { sshKey, hosts };
}

/** Runs a command on a host as root (or `user`) over SSH; returns code and output, never throws on exit codes. */
export async function sshExec(
    infra: TestInfra,
    host: TestHost,
    command: string,
    opts: { stdin?: string; user?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const r = await runRemote({ host: host.ip, user: opts.user ?? "root", privateKey: infra.sshKey.privateKeyPem }, command, { stdin: opts.stdin });
        return { code: 0, ...r };
    } catch (e) {
        const m = /^Process exited with status (\d+): running [\s\S]*?:\n([\s\S]*)$/.exec((e as Error).message);
        if (!m) throw e;
        return { code: Number(m[1]), stdout: m[2], stderr: m[2] };
    }
}

/** Removes the hosts and the network. */
export function stopInfra(): void {
    cleanup();
}
