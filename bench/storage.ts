/**
 * The storage section of `npm run bench`: push and pull throughput of a 512 MiB image through the
 * registry as the program deploys it (TLS, htpasswd), on filesystem storage, on a real Ceph RGW
 * through S3 with one replica, and with two replicas behind the load balancer: one stack, three
 * `up`s, each configuration measured in the same run, rounds interleaved (A B C, then C B A…), so
 * that load from elsewhere falls on all three alike. Ratios are to the filesystem.
 *
 * The gateway listens on loopback and on the gateway address of a network this section creates;
 * the registry containers reach it there. Pulls are served by the registry (redirects off), so the
 * figures are the registry's and the store's, not the client's own path to the store.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Ceph, cephS3Storage, startCeph } from "../test/e2e/infra/ceph";
import { buildClient, type ClientTarget, runClient } from "./client";
import { createStack, type TestStack } from "../test/engine/engine";

const NAME = "bench-storage";
const NETWORK = { name: `${NAME}-net`, subnet: "10.231.79.0/24", gateway: "10.231.79.1" };
const PORT = 5113;
const BUCKET = "bench-storage";
const FILE_BYTES = 512 * 1024 * 1024;
const MIB = 1024 * 1024;
const log = (m: string) => console.error(`[bench] ${m}`);

type Setup = "filesystem" | "s3" | "s3x2";
const LABELS: Record<Setup, string> = {
    filesystem: "filesystem (volume), 1 replica",
    s3: "Ceph RGW over S3, 1 replica",
    s3x2: "Ceph RGW over S3, 2 replicas behind HAProxy",
};

function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}
function quiet(...args: string[]): string {
    try {
        return docker(...args);
    } catch {
        return "";
    }
}

/** Removes what this section makes, and only that: containers, volumes and networks named `bench-storage*`. */
function removeOwn(): void {
    const ours = (out: string) => out.split("\n").filter((n) => n.startsWith(NAME));
    for (const c of ours(quiet("ps", "-a", "--format", "{{.Names}}"))) quiet("rm", "-f", "-v", c);
    for (const v of ours(quiet("volume", "ls", "--format", "{{.Name}}"))) quiet("volume", "rm", "-f", v);
    for (const n of ours(quiet("network", "ls", "--format", "{{.Name}}"))) quiet("network", "rm", n);
}

function config(setup: Setup, ceph: Ceph): Record<string, { value: string; secret?: boolean }> {
    const storage = setup === "filesystem" ? { driver: "filesystem" } : cephS3Storage(ceph, BUCKET, `http://${NETWORK.gateway}:${ceph.port}`);
    return {
        "private-registry:storage": { value: JSON.stringify(storage), secret: true },
        "private-registry:replicas": { value: setup === "s3x2" ? "2" : "1" },
        "private-registry:registry": { value: JSON.stringify({ redirectDisable: true }) },
    };
}

/** `up` in one configuration; the target the client uses. */
async function deploy(stack: TestStack, setup: Setup, ceph: Ceph, caFile: string): Promise<ClientTarget> {
    await stack.stack.setAllConfig(config(setup, ceph));
    // The data volume is the filesystem's only; the object store holds the data otherwise.
    if (setup === "filesystem")
        await stack.stack.setConfig("private-registry:data", { value: JSON.stringify({ volumeName: `${NAME}-data`, keepOnDestroy: false }) });
    else await stack.stack.removeConfig("private-registry:data");
    const res = await stack.stack.up({ color: "never" });
    const out = (k: string) => res.outputs[k]?.value;
    const user = (out("usernames") as string[])[0];
    fs.writeFileSync(caFile, String(out("caCertPem")));
    const target: ClientTarget = {
        port: PORT,
        tls: { servername: "localhost", caFile },
        auth: `Basic ${Buffer.from(`${user}:${(out("passwords") as Record<string, string>)[user]}`).toString("base64")}`,
    };
    return target;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the section and returns its table. Everything it creates is removed again. */
export async function benchStorage(rounds: number): Promise<string> {
    const { main } = await import("../program");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${NAME}-`));
    let stack: TestStack | undefined;
    let ceph: Ceph | undefined;
    let client: { dir: string; bin: string } | undefined;
    removeOwn();
    try {
        client = buildClient();
        docker("network", "create", "--driver", "bridge", "--subnet", NETWORK.subnet, "--gateway", NETWORK.gateway, NETWORK.name);
        // Every push leaves 512 MiB in the store, and a push copies its upload once more inside it.
        ceph = await startCeph({ log, alsoListenOn: NETWORK.gateway, memstoreBytes: (rounds * 2 * 2 + 2) * FILE_BYTES });
        stack = await createStack({
            from: "dev",
            name: NAME,
            config: {
                "private-registry:containerName": { value: NAME },
                "private-registry:port": { value: String(PORT) },
                "private-registry:bindAddress": { value: "127.0.0.1" },
                "private-registry:hostnames": { value: JSON.stringify(["localhost"]) },
                "private-registry:ipAddresses": { value: JSON.stringify(["127.0.0.1"]) },
                "private-registry:networks": { value: JSON.stringify([{ name: NETWORK.name }]) },
                "private-registry:users": { value: JSON.stringify([{ name: "bench" }]) },
                "private-registry:loadBalancer": { value: JSON.stringify({ image: "private-registry-test/haproxy:2.6", checkIntervalMs: 1000 }) },
            },
            program: () => ({ ...main() }),
        });
        const order: Setup[] = ["filesystem", "s3", "s3x2"];
        const figures: Record<Setup, { push: number[]; pull: number[] }> = {
            filesystem: { push: [], pull: [] },
            s3: { push: [], pull: [] },
            s3x2: { push: [], pull: [] },
        };
        for (let r = 1; r <= rounds; r++) {
            for (const setup of r % 2 ? order : [...order].reverse()) {
                const target = await deploy(stack, setup, ceph, path.join(tmp, "ca.crt"));
                await runClient(client.bin, "ping", target);
                const push = await runClient(client.bin, "push", target, { tag: `${setup}-${r}`, size: String(FILE_BYTES) });
                const pull = await runClient(client.bin, "pull", target, { tag: `${setup}-${r}`, manifest: String(push.manifest), n: "1" });
                const mib = (x: { bytes: number; seconds: number }) => x.bytes / MIB / x.seconds;
                figures[setup].push.push(mib(push));
                figures[setup].pull.push(mib(pull));
                log(`round ${r} ${setup}: push ${mib(push).toFixed(0)} MiB/s, pull ${mib(pull).toFixed(0)} MiB/s`);
            }
        }
        const fsPush = median(figures.filesystem.push);
        const fsPull = median(figures.filesystem.pull);
        const row = (s: Setup) => {
            const push = median(figures[s].push);
            const pull = median(figures[s].pull);
            return `| ${LABELS[s]} | ${push.toFixed(0)} | ${(push / fsPush).toFixed(2)} | ${pull.toFixed(0)} | ${(pull / fsPull).toFixed(2)} |`;
        };
        return [
            `Storage: one ${(FILE_BYTES / MIB).toFixed(0)} MiB layer pushed and pulled through the deployed registry (TLS, htpasswd, redirects off), ` +
                `${rounds} round${rounds === 1 ? "" : "s"}, the three configurations interleaved; medians, ratios to the filesystem. Ceph is one memstore OSD on this machine.`,
            "",
            "| storage | push (MiB/s) | × filesystem | pull (MiB/s) | × filesystem |",
            "|---|---:|---:|---:|---:|",
            row("filesystem"),
            row("s3"),
            row("s3x2"),
        ].join("\n");
    } finally {
        if (stack) await stack.stack.destroy({ color: "never" }).catch((e) => log(`destroy ${NAME}: ${(e as Error).message}`));
        await ceph?.stop();
        removeOwn();
        for (const dir of [tmp, stack?.dir, client?.dir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
}
