/**
 * A throw-away single-node Ceph with a RADOS Gateway (S3 and Swift APIs) for tests: one mon, one
 * memstore OSD and radosgw, all on 127.0.0.1, every file under one scratch directory, no mgr, no
 * cephx. The recipe and its pitfalls are in /work/shared/reference/e2e-infrastructure.md ("A real
 * Ceph RADOS Gateway", "More Ceph RGW findings"). Needs the Debian packages ceph-mon, ceph-osd,
 * radosgw and ceph-common (test/e2e/infra/setup.sh installs them).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { S3Target } from "../../../components/storage/s3Bucket";

/** A running gateway: where to reach it, its test credentials, and how to end it. */
export interface Ceph {
    /** The S3 endpoint, `http://127.0.0.1:<port>`. */
    endpoint: string;
    accessKey: string;
    secretKey: string;
    /** Swift v1 auth, `http://127.0.0.1:<port>/auth/v1`. */
    swiftAuthUrl: string;
    /** The Swift subuser, `demo:swift`. */
    swiftUser: string;
    swiftKey: string;
    /** The daemons' logs, last lines of each, for failure messages. */
    logs(): string;
    /** The gateway's port (on 127.0.0.1, and on `alsoListenOn` when given). */
    port: number;
    /** Kills radosgw (the cluster stays up). */
    stopGateway(): Promise<void>;
    /** Starts radosgw again and waits until it answers. */
    startGateway(): Promise<void>;
    /** Kills radosgw, the OSD and the mon by PID and removes the scratch directory. */
    stop(): Promise<void>;
}

/** Options for {@link startCeph}. */
export interface CephOptions {
    /** Where progress and the retry notice go; default stderr. */
    log?: (line: string) => void;
    /**
     * A second address for the gateway: the gateway IP of a Docker network the test created, so
     * that containers on that network (and only they) reach it. Loopback alone otherwise.
     */
    alsoListenOn?: string;
    /** The memstore OSD's size, bytes (it holds everything in memory). Default 2 GiB. */
    memstoreBytes?: number;
}

const ACCESS_KEY = "PRTESTACCESSKEY00001";
const SECRET_KEY = "pr-test-secret-key-0000000000000000000001";
const SWIFT_USER = "demo:swift";
const SWIFT_KEY = "pr-test-swift-key-000000000000000000000001";
const CLI_TIMEOUT_S = 20;
const MON_UP_TIMEOUT_MS = 60_000;
const START_ATTEMPTS = 3;
const OSD_UP_TIMEOUT_MS = 30_000;
const RGW_UP_TIMEOUT_MS = 60_000;
/** Ports: mon, radosgw, then the OSD's pinned messenger range. */
const PORTS = 12;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.once("error", () => resolve(false));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
}

/** `count` consecutive free loopback ports below the kernel's ephemeral range, so no outgoing connection takes one meanwhile. */
async function freeRange(count: number): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
        const base = 20_000 + Math.floor(Math.random() * 12_000);
        let ok = true;
        for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
        if (ok) return base;
    }
    throw new Error(`ceph: no ${count} consecutive free ports found`);
}

/** Runs a Ceph CLI under `timeout`: without a mgr some commands would hang forever. */
function cli(cmd: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            "timeout",
            ["-k", "5", String(CLI_TIMEOUT_S), cmd, ...args],
            { encoding: "utf8", timeout: (CLI_TIMEOUT_S + 10) * 1000 },
            (err, stdout, stderr) => {
                if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
                else resolve(stdout);
            },
        );
    });
}

function httpStatus(url: string): Promise<number> {
    return new Promise((resolve) => {
        const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(0));
    });
}

/** One attempt: a fresh fsid and directory. Throws (after tearing everything down) when a step fails. */
async function attempt(log: (line: string) => void, alsoListenOn?: string, memstoreBytes = 2 * 1024 ** 3): Promise<Ceph> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-ceph-"));
    const conf = path.join(dir, "ceph.conf");
    const fsid = randomUUID();
    const base = await freeRange(PORTS);
    const monAddr = `v1:127.0.0.1:${base}`;
    const rgwPort = base + 1;
    const daemons: { name: string; proc: ChildProcess }[] = [];

    const tail = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").slice(-15).join("\n") : "");
    const logs = () => ["mon.a", "osd.0", "client.rgw.a"].map((n) => `--- ${n}\n${tail(path.join(dir, "log", `${n}.log`))}`).join("\n");
    const stop = async () => {
        // radosgw first, then the OSD, then the mon; memstore keeps nothing. SIGTERM first: a daemon
        // writes its log lines out on the way down, which a failed start's message then shows.
        for (const { proc } of [...daemons].reverse()) {
            if (proc.exitCode !== null || proc.signalCode !== null) continue;
            const exited = new Promise((r) => proc.once("exit", r));
            proc.kill("SIGTERM");
            if ((await Promise.race([exited.then(() => true), sleep(3000).then(() => false)])) === false) {
                proc.kill("SIGKILL");
                await Promise.race([exited, sleep(5000)]);
            }
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    const daemon = (name: string, cmd: string, args: string[]) => {
        // -f: foreground, so the PID is the daemon's own; it logs to its file under the scratch dir.
        const proc = spawn(cmd, ["-c", conf, "-f", ...args], { cwd: dir, stdio: "ignore" });
        proc.on("error", (e) => log(`ceph: ${name}: ${e.message}`));
        daemons.push({ name, proc });
        return proc;
    };
    const ceph = (...args: string[]) => cli("ceph", ["-c", conf, ...args]);

    try {
        for (const d of ["mon", "osd/ceph-0", "run", "log", "rgw"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
        fs.writeFileSync(
            conf,
            [
                "[global]",
                `fsid = ${fsid}`,
                `mon host = ${monAddr}`,
                "public addr = 127.0.0.1",
                "cluster addr = 127.0.0.1",
                "auth cluster required = none",
                "auth service required = none",
                "auth client required = none",
                "osd pool default size = 1",
                "osd pool default min size = 1",
                "osd pool default pg autoscale mode = off",
                "osd pool default pg num = 8",
                "osd pool default pgp num = 8",
                "mon allow pool size one = true",
                "osd crush chooseleaf type = 0",
                "osd objectstore = memstore",
                `memstore device bytes = ${memstoreBytes}`,
                // Test-only: radosgw creates 7 pools at first start, each otherwise ~1 s of paxos.
                "paxos propose interval = 0.1",
                // The monitor refuses to start (exit 28) when its data's filesystem has under 5% free:
                // 13 GiB free of a 252 GiB disk did it here. Its data is a few MiB; the OSD keeps all in memory.
                "mon data avail crit = 0",
                // Against the `wrong fsid` race: the OSD must not send CRUSH updates before it knows the cluster.
                "osd crush update on start = false",
                "osd class update on start = false",
                `ms bind port min = ${base + 2}`,
                `ms bind port max = ${base + PORTS - 1}`,
                `run dir = ${dir}/run`,
                "admin socket = $run_dir/$name.asok",
                `log file = ${dir}/log/$name.log`,
                `mon data = ${dir}/mon/$cluster-$id`,
                `osd data = ${dir}/osd/$cluster-$id`,
                `rgw data = ${dir}/rgw`,
                "",
                "[client.rgw.a]",
                `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}${alsoListenOn ? ` endpoint=${alsoListenOn}:${rgwPort}` : ""}`,
                "",
            ].join("\n"),
        );
        const monmap = path.join(dir, "monmap");
        await cli("monmaptool", ["-c", conf, "--create", "--add", "a", monAddr, "--fsid", fsid, monmap]);
        await cli("ceph-mon", ["-c", conf, "--mkfs", "-i", "a", "--monmap", monmap]);
        const mon = daemon("mon.a", "ceph-mon", ["-i", "a"]);
        // The monitor answers once it has formed its quorum of one; on a loaded machine (Docker hosts
        // still loading images) that has taken longer than one CLI timeout.
        const monDeadline = Date.now() + MON_UP_TIMEOUT_MS;
        for (;;) {
            const answered = await ceph("mon", "stat").then(
                () => true,
                () => false,
            );
            if (answered) break;
            if (mon.exitCode !== null || Date.now() > monDeadline) throw new Error(`the monitor did not answer (exit ${mon.exitCode})`);
            await sleep(250);
        }

        const osdUuid = randomUUID();
        const id = (await ceph("osd", "create", osdUuid)).trim();
        if (id !== "0") throw new Error(`ceph osd create gave ${JSON.stringify(id)}, not 0`);
        await cli("ceph-osd", ["-c", conf, "-i", "0", "--mkfs", "--osd-uuid", osdUuid]);
        await ceph("osd", "crush", "add", "osd.0", "1.0", "host=localhost", "root=default");
        const osd = daemon("osd.0", "ceph-osd", ["-i", "0"]);
        const osdDeadline = Date.now() + OSD_UP_TIMEOUT_MS;
        for (;;) {
            const dump = JSON.parse(await ceph("osd", "dump", "--format", "json")) as { osds: { osd: number; up: number }[] };
            if (dump.osds.some((o) => o.osd === 0 && o.up === 1)) break;
            if (osd.exitCode !== null || Date.now() > osdDeadline) throw new Error(`the OSD did not come up (exit ${osd.exitCode})`);
            await sleep(250);
        }

        const endpoint = `http://127.0.0.1:${rgwPort}`;
        const startGateway = async () => {
            const rgw = daemon("client.rgw.a", "radosgw", ["-n", "client.rgw.a"]);
            const rgwDeadline = Date.now() + RGW_UP_TIMEOUT_MS;
            while ((await httpStatus(`${endpoint}/`)) !== 200) {
                if (rgw.exitCode !== null || Date.now() > rgwDeadline) throw new Error(`radosgw did not answer on ${endpoint} (exit ${rgw.exitCode})`);
                await sleep(250);
            }
        };
        const stopGateway = async () => {
            for (const d of daemons.filter((x) => x.name === "client.rgw.a" && x.proc.exitCode === null && x.proc.signalCode === null)) {
                const exited = new Promise((r) => d.proc.once("exit", r));
                d.proc.kill("SIGKILL");
                await Promise.race([exited, sleep(5000)]);
            }
        };
        await startGateway();

        const admin = (...args: string[]) => cli("radosgw-admin", ["-c", conf, ...args]);
        await admin("user", "create", "--uid=demo", "--display-name=demo", `--access-key=${ACCESS_KEY}`, `--secret-key=${SECRET_KEY}`);
        await admin("subuser", "create", "--uid=demo", `--subuser=${SWIFT_USER}`, "--access=full", "--key-type=swift", `--secret-key=${SWIFT_KEY}`);
        return {
            endpoint,
            accessKey: ACCESS_KEY,
            secretKey: SECRET_KEY,
            swiftAuthUrl: `${endpoint}/auth/v1`,
            swiftUser: SWIFT_USER,
            swiftKey: SWIFT_KEY,
            logs,
            port: rgwPort,
            stopGateway,
            startGateway,
            stop,
        };
    } catch (e) {
        const message = `${e instanceof Error ? e.message : String(e)}\n${logs()}`;
        await stop();
        throw new Error(message);
    }
}

/**
 * Starts a fresh cluster and gateway, with an S3 user (fixed test keys) and a Swift subuser. A
 * failed start (e.g. the OSD's rare `wrong fsid` race) is torn down and retried with a fresh fsid
 * and ports, up to {@link START_ATTEMPTS} in all; each retry is logged.
 */
export async function startCeph(opts: CephOptions = {}): Promise<Ceph> {
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    for (let n = 1; ; n++) {
        try {
            return await attempt(log, opts.alsoListenOn, opts.memstoreBytes);
        } catch (e) {
            if (n >= START_ATTEMPTS) throw e;
            log(`ceph: start ${n} of ${START_ATTEMPTS} failed, retrying with a fresh fsid: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
        }
    }
}

/** How an S3 client reaches this gateway (its loopback endpoint, path style, the test keys): add a bucket for the program's bucket functions. */
export function cephS3(ceph: Ceph): Omit<S3Target, "bucket"> {
    return { region: "us-east-1", endpoint: ceph.endpoint, forcePathStyle: true, accessKey: ceph.accessKey, secretKey: ceph.secretKey };
}

/** Every key (and size) in a bucket, through the S3 API. */
export async function bucketKeys(s3: S3Client, bucket: string): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    let token: string | undefined;
    do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        for (const o of page.Contents ?? []) keys.set(o.Key ?? "", o.Size ?? -1);
        token = page.NextContinuationToken;
    } while (token);
    return keys;
}

/** Where distribution keeps a blob's data in an object store, below its `rootdirectory`. */
export function blobKey(digest: string): string {
    const hex = digest.slice("sha256:".length);
    return `docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
}

/** A stack's (or a rendered config's) `storage` for `bucket` on this gateway, reached at `endpoint`: S3 with the test keys, plain HTTP. */
export function cephS3Storage(ceph: Ceph, bucket: string, endpoint = ceph.endpoint) {
    return { driver: "s3", region: "us-east-1", bucket, regionEndpoint: endpoint, accessKey: ceph.accessKey, secretKey: ceph.secretKey, secure: false };
}

/** A stack's `storage` on the gateway's Swift API as the runbook has it (the `demo:swift` subuser, v1 auth), reached at `gateway`. */
export function cephSwiftStorage(ceph: Ceph, container: string, gateway: string) {
    return { driver: "swift", authUrl: `http://${gateway}:${ceph.port}/auth/v1`, username: ceph.swiftUser, password: ceph.swiftKey, container, authVersion: 1 };
}
