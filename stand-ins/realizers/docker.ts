/**
 * `@pulumi/docker` 5.x resources realized on a real Docker engine through its HTTP API (API 1.41),
 * the way kreuzwerker/terraform-provider-docker 4.x does it:
 * `unix://` hosts over the socket; `ssh://` hosts through the system `ssh` binary running
 * `docker system dial-stdio`, with docker/cli's exact argv (one ssh process per request).
 * A missing image is pulled only from a registry on loopback (nothing else is reachable, and nothing
 * else may be tried from here); otherwise the provider's pull error comes back at once.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { Duplex } from "node:stream";

type Inputs = Record<string, any>;
type Log = (m: string) => void;

/** Where a provider's daemon is. */
export type DockerEndpoint = { kind: "unix"; host: string; socketPath: string } | { kind: "ssh"; host: string; argv: string[] };

/**
 * The argv docker/cli's connhelper gives `ssh` for an `ssh://[user@]host[:port][/socket]` host:
 * `<sshOpts…> -o ConnectTimeout=30 -T [-l user] [-p port] -- host docker [--host=unix://socket] system dial-stdio`.
 * `-o ConnectTimeout=30` is one argv element and is left out when sshOpts mention ConnectTimeout;
 * `-T` is left out when sshOpts have it (addSSHTimeout, disablePseudoTerminalAllocation).
 */
export function sshDialArgs(url: string, sshOpts: string[]): string[] {
    const u = new URL(url);
    const args = [...sshOpts];
    if (!args.join("").includes("ConnectTimeout")) args.push("-o ConnectTimeout=30");
    if (!args.includes("-T")) args.push("-T");
    if (u.username) args.push("-l", decodeURIComponent(u.username));
    if (u.port) args.push("-p", u.port);
    const socketPath = u.pathname && u.pathname !== "/" ? u.pathname : "";
    return [...args, "--", u.hostname, "docker", ...(socketPath ? [`--host=unix://${socketPath}`] : []), "system", "dial-stdio"];
}

/** The endpoint of a provider's `host` and `sshOpts`. */
export function endpointOf(host: string | undefined, sshOpts: string[] = []): DockerEndpoint {
    const h = host || "unix:///var/run/docker.sock";
    if (h.startsWith("unix://")) return { kind: "unix", host: h, socketPath: h.slice("unix://".length) };
    if (h.startsWith("ssh://")) return { kind: "ssh", host: h, argv: sshDialArgs(h, sshOpts) };
    throw new Error(`the harness reaches Docker hosts over unix:// and ssh:// only, got ${h}`);
}

/** The default provider's endpoint: $DOCKER_HOST, $DOCKER_SSH_OPTS (split on spaces). */
export function defaultEndpoint(): DockerEndpoint {
    return endpointOf(
        process.env.DOCKER_HOST,
        (process.env.DOCKER_SSH_OPTS ?? "").split(" ").filter((s) => s !== ""),
    );
}

/** A socket-like Duplex over `ssh … docker system dial-stdio`; `onFail` hears why ssh exited. */
function sshConnection(argv: string[], onFail: (err: Error) => void): Duplex {
    const child = spawn("ssh", argv, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const sock = new Duplex({
        write(chunk, _enc, cb) {
            if (child.stdin.destroyed) cb();
            else child.stdin.write(chunk, () => cb());
        },
        final(cb) {
            child.stdin.end();
            cb();
        },
        read() {
            /* fed from the child's stdout */
        },
        destroy(err, cb) {
            if (child.exitCode === null) child.kill();
            cb(err);
        },
    });
    child.stdout.on("data", (d: Buffer) => sock.push(d));
    child.stdout.on("end", () => sock.push(null));
    child.stdin.on("error", () => undefined);
    child.on("error", (e) => onFail(e));
    child.on("exit", (code) => {
        if (code) {
            onFail(
                new Error(
                    `command [ssh ${argv.join(" ")}] has exited with exit status ${code}, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=${stderr.trim()}`,
                ),
            );
        }
    });
    return Object.assign(sock, { setTimeout: () => sock, setNoDelay: () => sock, setKeepAlive: () => sock, ref: () => sock, unref: () => sock });
}

/** An Engine API error, worded as the Go client words it, with the HTTP status. */
export class DockerApiError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
    }
}

const isStatus = (e: unknown, ...s: number[]) => e instanceof DockerApiError && s.includes(e.status);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One Engine API call. `target` is an endpoint or a unix socket path. Rejects with a
 * `DockerApiError` (`Error response from daemon: …`) on a status >= 400; time-boxed.
 */
export function dockerApi(target: DockerEndpoint | string, method: string, path: string, body?: unknown, raw?: Buffer, timeoutMs = 120_000): Promise<any> {
    return call(target, method, path, body, raw, timeoutMs, false);
}

/** One Engine API call whose answer is kept as bytes (logs, archives). */
export function dockerApiRaw(target: DockerEndpoint | string, method: string, path: string, timeoutMs = 120_000): Promise<Buffer> {
    return call(target, method, path, undefined, undefined, timeoutMs, true);
}

function call(
    target: DockerEndpoint | string,
    method: string,
    path: string,
    body: unknown,
    raw: Buffer | undefined,
    timeoutMs: number,
    bytes: boolean,
): Promise<any> {
    const ep: DockerEndpoint = typeof target === "string" ? { kind: "unix", host: `unix://${target}`, socketPath: target } : target;
    return new Promise((resolve, reject) => {
        let done = false;
        const finish = (e: Error | undefined, v?: unknown) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            if (e) {
                req.destroy();
                reject(e);
            } else resolve(v);
        };
        const payload = raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
        const headers: Record<string, string | number> = payload
            ? { "content-type": raw ? "application/x-tar" : "application/json", "content-length": payload.length }
            : {};
        const url = ep.kind === "unix" ? `http://%2F${ep.socketPath.slice(1).replace(/\//g, "%2F")}/v1.41${path}` : `http://docker.example.com/v1.41${path}`;
        const opts: http.RequestOptions = { method, path: `/v1.41${path}`, headers };
        if (ep.kind === "unix") opts.socketPath = ep.socketPath;
        else {
            headers.connection = "close";
            opts.host = "docker.example.com";
            opts.createConnection = () => sshConnection(ep.argv, (e) => finish(new Error(`error during connect: ${method} "${url}": ${e.message}`))) as never;
        }
        const req = http.request(opts, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", (e) => finish(e));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let parsed: any = text;
                try {
                    parsed = text ? JSON.parse(text) : undefined;
                } catch {
                    /* plain text, or a stream of JSON messages */
                }
                if ((res.statusCode ?? 500) >= 400)
                    finish(new DockerApiError(`Error response from daemon: ${parsed?.message ?? text.trim()}`, res.statusCode ?? 500));
                else finish(undefined, bytes ? Buffer.concat(chunks) : parsed);
                if (ep.kind === "ssh") req.socket?.destroy();
            });
        });
        const timer = setTimeout(() => finish(new Error(`harness: docker ${method} ${path} did not answer within ${timeoutMs} ms`)), timeoutMs);
        req.on("error", (e) => finish(new Error(`error during connect: ${method} "${url}": ${e.message}`)));
        if (payload) req.write(payload);
        req.end();
    });
}

/** What the provider does whenever it creates its client (unless disableDockerDaemonCheck). */
export async function ping(ep: DockerEndpoint): Promise<void> {
    try {
        await dockerApi(ep, "GET", "/_ping", undefined, undefined, 45_000);
    } catch (e) {
        throw new Error(`Error pinging Docker server: ${(e as Error).message}`);
    }
}

/** A one-file tar archive (ustar), as the provider builds for each upload. */
export function tarOne(file: string, content: Buffer, mode: number, uid = 0, gid = 0): Buffer {
    const name = file.replace(/^\/+/, "");
    const header = Buffer.alloc(512);
    const put = (s: string, off: number, len: number) => header.write(s, off, Math.min(len, Buffer.byteLength(s)), "utf8");
    const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;
    let prefix = "";
    let base = name;
    if (Buffer.byteLength(name) > 100) {
        const cut = name.lastIndexOf("/", 155);
        prefix = name.slice(0, cut);
        base = name.slice(cut + 1);
    }
    put(base, 0, 100);
    put(octal(mode, 8), 100, 8);
    put(octal(uid, 8), 108, 8);
    put(octal(gid, 8), 116, 8);
    put(octal(content.length, 12), 124, 12);
    put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
    header.fill(" ", 148, 156);
    put("0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    put(prefix, 345, 155);
    let sum = 0;
    for (const b of header) sum += b;
    put(`${octal(sum, 7).slice(0, 6)}\0 `, 148, 8);
    const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
    return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** Go `time.ParseDuration`, in nanoseconds. */
export function durationNs(d: string | undefined): number {
    if (!d) return 0;
    const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    let total = 0;
    for (const m of d.matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
    return Math.round(total);
}

/** Go `time.Duration.String()`, as Read writes durations back. */
export function durationString(ns: number): string {
    if (ns === 0) return "0s";
    if (ns < 1e3) return `${ns}ns`;
    if (ns < 1e6) return `${ns / 1e3}µs`;
    if (ns < 1e9) return `${ns / 1e6}ms`;
    const h = Math.floor(ns / 3600e9);
    const m = Math.floor((ns % 3600e9) / 60e9);
    const s = Number(((ns % 60e9) / 1e9).toFixed(9));
    return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/** A provider input the SDK sent JSON-encoded (it stringifies non-string provider config). */
export function providerInput<T>(v: unknown, fallback: T): T {
    if (v === undefined || v === null || v === "") return fallback;
    if (typeof v !== "string") return v as T;
    try {
        return (JSON.parse(v) ?? fallback) as T;
    } catch {
        return v as unknown as T;
    }
}

/** The bridge's autonaming (`SetAutonaming(255, "-")`): `<logicalName>-<7 random hex>`. */
export function autoName(logical: string): string {
    return `${logical}-${crypto.randomBytes(4).toString("hex").slice(0, 7)}`;
}

/** The registry an image name points at, as the provider's `parseImageOptions` finds it. */
function registryOf(image: string): string {
    const slash = image.indexOf("/");
    const first = slash === -1 ? "" : image.slice(0, slash);
    return (image.match(/\//g) ?? []).length > 1 || (slash !== -1 && (/[.:]/.test(first) || first === "localhost")) ? first : "";
}

/** True for images on a registry at a loopback address: the only pulls the harness may send. */
export function loopbackRegistry(image: string): boolean {
    const host = registryOf(image).replace(/:\d+$/, "");
    return host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "[::1]";
}

/** Options for realizing docker resources. */
export interface DockerOptions {
    log?: Log;
    /** Whether a missing image may really be pulled. Defaults to `loopbackRegistry`. */
    allowPull?: (image: string) => boolean;
}

async function inspectImage(ep: DockerEndpoint, name: string): Promise<any | undefined> {
    try {
        return await dockerApi(ep, "GET", `/images/${encodeURIComponent(name)}/json`);
    } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
    }
}

/** The provider's `findImage`: the local image if any (platform and freshness ignored), else a pull. */
export async function findImage(ep: DockerEndpoint, name: string, opts: DockerOptions = {}): Promise<any> {
    if (name === "") throw new Error("empty image name is not allowed");
    const local = await inspectImage(ep, name);
    if (local) return local;
    if (!(opts.allowPull ?? loopbackRegistry)(name)) {
        throw new Error(`unable to pull image ${name}: error pulling image ${name}: harness: not pulled (only registries on loopback are reachable from here)`);
    }
    const colon = name.lastIndexOf(":");
    const tagged = colon > name.lastIndexOf("/");
    const q = `fromImage=${encodeURIComponent(tagged ? name.slice(0, colon) : name)}&tag=${encodeURIComponent(tagged ? name.slice(colon + 1) : "latest")}`;
    try {
        // The provider reads the progress stream to its end and ignores errors inside it.
        await dockerApi(ep, "POST", `/images/create?${q}`, undefined, undefined, 300_000);
    } catch (e) {
        throw new Error(`unable to pull image ${name}: error pulling image ${name}: ${(e as Error).message}`);
    }
    const pulled = await inspectImage(ep, name);
    if (!pulled) throw new Error(`unable to find or pull image ${name}`);
    return pulled;
}

/** `docker.RemoteImage`; ID = imageId + name. */
export async function remoteImage(ep: DockerEndpoint, inputs: Inputs, opts: DockerOptions = {}) {
    const name = String(inputs.name);
    const image = await findImage(ep, name, opts).catch((e) => {
        throw new Error(`Unable to read Docker image into resource: ${(e as Error).message}`);
    });
    const digests: string[] = image.RepoDigests ?? [];
    const repo = name.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
    const repoDigest = digests.length === 0 ? "" : digests.length === 1 ? digests[0] : (digests.find((d) => d.startsWith(`${repo}@`)) ?? digests[0]);
    return {
        id: `${image.Id}${name}`,
        outputs: { name, imageId: image.Id, repoDigest, keepLocally: inputs.keepLocally, forceRemove: inputs.forceRemove, platform: inputs.platform ?? "" },
    };
}

/** RemoteImage delete: `ImageRemove(name, {Force: forceRemove})` unless `keepLocally`. */
export async function deleteRemoteImage(ep: DockerEndpoint, inputs: Inputs) {
    if (inputs.keepLocally === true) return;
    const name = String(inputs.name);
    if (!(await inspectImage(ep, name))) return;
    await dockerApi(ep, "DELETE", `/images/${encodeURIComponent(name)}?force=${inputs.forceRemove === true}`).catch((e) => {
        if (!isStatus(e, 404)) throw new Error(`Unable to remove Docker image: ${(e as Error).message}`);
    });
}

const labelMap = (labels: { label: string; value: string }[] | undefined) => (labels ? Object.fromEntries(labels.map((l) => [l.label, l.value])) : undefined);

/** `docker.Volume`; `name` already autonamed by the caller. ID = name. */
export async function volume(ep: DockerEndpoint, name: string, inputs: Inputs) {
    const v = await dockerApi(ep, "POST", "/volumes/create", {
        Name: name,
        Driver: inputs.driver ?? "local",
        DriverOpts: inputs.driverOpts ?? {},
        Labels: labelMap(inputs.labels) ?? {},
    }).catch((e) => {
        throw new Error(`Unable to create volume: ${(e as Error).message}`);
    });
    return { id: v.Name as string, outputs: { name: v.Name, driver: v.Driver, driverOpts: v.Options ?? {}, mountpoint: v.Mountpoint, labels: inputs.labels } };
}

/** Volume delete: force-remove, retried while the volume is in use (time-boxed). */
export async function deleteVolume(ep: DockerEndpoint, name: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            return void (await dockerApi(ep, "DELETE", `/volumes/${encodeURIComponent(name)}?force=true`));
        } catch (e) {
            if (isStatus(e, 404)) return;
            if (!isStatus(e, 409) || Date.now() > deadline) throw new Error(`Error removing volume ${name}: ${(e as Error).message}`);
            await sleep(500);
        }
    }
}

/** `docker.Network`; `name` already autonamed by the caller. ID = network ID. */
export async function network(ep: DockerEndpoint, name: string, inputs: Inputs) {
    const created = await dockerApi(ep, "POST", "/networks/create", {
        Name: name,
        CheckDuplicate: true,
        Driver: inputs.driver ?? "bridge",
        Internal: inputs.internal ?? false,
        Attachable: inputs.attachable ?? false,
        Ingress: inputs.ingress ?? false,
        EnableIPv6: inputs.ipv6 ?? false,
        IPAM: {
            Driver: inputs.ipamDriver ?? "default",
            Config: (inputs.ipamConfigs ?? []).map((c: Inputs) => ({
                Subnet: c.subnet ?? "",
                IPRange: c.ipRange ?? "",
                Gateway: c.gateway ?? "",
                AuxiliaryAddresses: c.auxAddress ?? {},
            })),
            Options: inputs.ipamOptions ?? {},
        },
        Options: inputs.options ?? {},
        Labels: labelMap(inputs.labels) ?? {},
    }).catch((e) => {
        throw new Error(`Unable to create network: ${(e as Error).message}`);
    });
    const n = await dockerApi(ep, "GET", `/networks/${created.Id}`);
    return {
        id: n.Id as string,
        outputs: {
            name: n.Name,
            driver: n.Driver,
            scope: n.Scope,
            internal: n.Internal,
            attachable: n.Attachable,
            ingress: n.Ingress,
            ipv6: n.EnableIPv6,
            ipamDriver: n.IPAM?.Driver ?? "default",
            ipamConfigs: (n.IPAM?.Config ?? []).map((c: any) => ({
                subnet: c.Subnet ?? "",
                ipRange: c.IPRange ?? "",
                gateway: c.Gateway ?? "",
                auxAddress: c.AuxiliaryAddresses ?? {},
            })),
            options: n.Options ?? {},
            labels: inputs.labels,
        },
    };
}

/** Network delete: retried while endpoints are still attached (time-boxed). */
export async function deleteNetwork(ep: DockerEndpoint, id: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            return void (await dockerApi(ep, "DELETE", `/networks/${encodeURIComponent(id)}`));
        } catch (e) {
            if (isStatus(e, 404)) return;
            if (!/active endpoints/.test((e as Error).message) || Date.now() > deadline)
                throw new Error(`Error removing network ${id}: ${(e as Error).message}`);
            await sleep(500);
        }
    }
}

/** An upload's owner/group: numeric IDs directly, names from this machine's databases (as the provider does). */
function idOf(value: string | undefined, db: "/etc/passwd" | "/etc/group"): number {
    if (value === undefined || value === "") return 0;
    if (/^\d+$/.test(value)) return Number(value);
    const line = fs
        .readFileSync(db, "utf8")
        .split("\n")
        .find((l) => l.split(":")[0] === value);
    if (!line) throw new Error(`unable to resolve ${db === "/etc/passwd" ? "user" : "group"} ${JSON.stringify(value)}`);
    return Number(line.split(":")[2]);
}

/** The container-create request the provider builds from these inputs, with its validations. */
export function containerCreateBody(inputs: Inputs): Record<string, unknown> {
    const ports: Inputs[] = inputs.ports ?? [];
    const hc = inputs.healthcheck;
    const command: string[] | undefined = inputs.command;
    if (command?.some((c) => c === "")) throw new Error("values for command may not be empty");
    const volumes: Record<string, object> = {};
    const binds: string[] = [];
    const volumesFrom: string[] = [];
    for (const v of inputs.volumes ?? []) {
        const from = v.fromContainer ?? "";
        const cp = v.containerPath ?? "";
        // volumeName when given, else hostPath (volumeSetToDockerVolumes); neither: an anonymous volume.
        const source = v.volumeName || v.hostPath || "";
        if (!from && !cp) throw new Error("Unable to parse volumes: Volume entry without container path or source container");
        if (from && cp) throw new Error("Unable to parse volumes: Both a container and a path specified in a volume entry");
        if (from) volumesFrom.push(from);
        else {
            volumes[cp] = {};
            if (source) binds.push(`${source}:${cp}:${v.readOnly ? "ro" : "rw"}${v.selinuxRelabel ? `,${v.selinuxRelabel}` : ""}`);
        }
    }
    const mounts = (inputs.mounts ?? []).map((m: Inputs) => ({
        Type: m.type,
        Target: m.target,
        Source: m.source ?? "",
        ReadOnly: m.readOnly ?? false,
        BindOptions: m.type === "bind" && m.bindOptions ? { Propagation: m.bindOptions.propagation ?? "" } : undefined,
        VolumeOptions:
            m.type === "volume" && m.volumeOptions
                ? {
                      NoCopy: m.volumeOptions.noCopy ?? false,
                      Labels: labelMap(m.volumeOptions.labels),
                      Subpath: m.volumeOptions.subpath,
                      DriverConfig:
                          m.volumeOptions.driverName || m.volumeOptions.driverOptions
                              ? { Name: m.volumeOptions.driverName ?? "", Options: m.volumeOptions.driverOptions ?? {} }
                              : undefined,
                  }
                : undefined,
        TmpfsOptions: m.type === "tmpfs" && m.tmpfsOptions ? { SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode } : undefined,
    }));
    const portKey = (p: Inputs) => `${p.internal}/${p.protocol ?? "tcp"}`;
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of ports) {
        bindings[portKey(p)] ??= [];
        bindings[portKey(p)].push({ HostIp: p.ip ?? "0.0.0.0", HostPort: p.external !== undefined ? String(p.external) : "" });
    }
    const mb = (n: number | undefined) => (n ? n * 1048576 : undefined);
    return {
        Image: inputs.image,
        Hostname: inputs.hostname ?? "",
        Domainname: inputs.domainname ?? "",
        Tty: inputs.tty ?? false,
        OpenStdin: inputs.stdinOpen ?? false,
        // A set in the schema: order irrelevant, duplicates merged.
        Env: [...new Set<string>(inputs.envs ?? [])],
        Cmd: command,
        Entrypoint: inputs.entrypoints,
        User: inputs.user ?? "",
        WorkingDir: inputs.workingDir ?? "",
        Labels: labelMap(inputs.labels) ?? {},
        ExposedPorts: ports.length ? Object.fromEntries(ports.map((p) => [portKey(p), {}])) : undefined,
        Volumes: Object.keys(volumes).length ? volumes : undefined,
        StopSignal: inputs.stopSignal,
        StopTimeout: inputs.stopTimeout,
        Healthcheck: hc
            ? {
                  Test: hc.tests,
                  Interval: durationNs(hc.interval),
                  Timeout: durationNs(hc.timeout),
                  StartPeriod: durationNs(hc.startPeriod),
                  ...(hc.startInterval ? { StartInterval: durationNs(hc.startInterval) } : {}),
                  Retries: hc.retries ?? 0,
              }
            : undefined,
        HostConfig: {
            Binds: binds.length ? binds : undefined,
            VolumesFrom: volumesFrom.length ? volumesFrom : undefined,
            Mounts: mounts,
            PortBindings: Object.keys(bindings).length ? bindings : undefined,
            PublishAllPorts: inputs.publishAllPorts ?? false,
            RestartPolicy: { Name: inputs.restart ?? "no", MaximumRetryCount: inputs.maxRetryCount ?? 0 },
            AutoRemove: inputs.rm ?? false,
            ReadonlyRootfs: inputs.readOnly ?? false,
            LogConfig: { Type: inputs.logDriver ?? "", Config: inputs.logOpts },
            Tmpfs: inputs.tmpfs,
            ExtraHosts: (inputs.hosts ?? []).map((h: { host: string; ip: string }) => `${h.host}:${h.ip}`),
            Ulimits: (inputs.ulimits ?? []).map((u: Inputs) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
            CapAdd: inputs.capabilities?.adds ?? [],
            CapDrop: inputs.capabilities?.drops ?? [],
            Devices: (inputs.devices ?? []).map((d: Inputs) => ({
                PathOnHost: d.hostPath,
                PathInContainer: d.containerPath || d.hostPath,
                CgroupPermissions: d.permissions || "rwm",
            })),
            Dns: inputs.dns ?? [],
            DnsOptions: inputs.dnsOpts ?? [],
            DnsSearch: inputs.dnsSearches ?? [],
            SecurityOpt: inputs.securityOpts ?? [],
            Memory: mb(inputs.memory),
            MemoryReservation: mb(inputs.memoryReservation),
            MemorySwap: inputs.memorySwap === undefined ? undefined : inputs.memorySwap > 0 ? inputs.memorySwap * 1048576 : inputs.memorySwap,
            ShmSize: mb(inputs.shmSize),
            CpuShares: inputs.cpuShares,
            CpusetCpus: inputs.cpuSet,
            NanoCpus: inputs.cpus ? Math.round(Number(inputs.cpus) * 1e9) : undefined,
            NetworkMode: inputs.networkMode ?? "bridge",
            UsernsMode: inputs.usernsMode,
            PidMode: inputs.pidMode,
            IpcMode: inputs.ipcMode,
            Sysctls: inputs.sysctls,
            GroupAdd: inputs.groupAdds,
            Privileged: inputs.privileged ?? false,
            Init: inputs.init ?? false,
            Runtime: inputs.runtime,
            StorageOpt: inputs.storageOpts,
            CgroupnsMode: inputs.cgroupnsMode,
            CgroupParent: inputs.cgroupParent,
        },
    };
}

/** One upload's bytes and tar header, validated as the provider does. */
function uploadOf(u: Inputs): { file: string; content: Buffer; mode: number; uid: number; gid: number } {
    const set = [u.content, u.contentBase64, u.source].filter((x) => x !== undefined && x !== "").length;
    if (set === 0) throw new Error("error with upload content: one of 'content', 'content_base64', or 'source' must be set");
    if (set > 1) throw new Error("error with upload content: only one of 'content', 'content_base64', or 'source' can be set");
    let content: Buffer;
    if (u.content) content = Buffer.from(u.content, "utf8");
    else if (u.contentBase64) content = Buffer.from(u.contentBase64, "base64");
    else {
        try {
            // Read where the provider runs, even for an ssh:// host.
            content = fs.readFileSync(u.source);
        } catch (e) {
            throw new Error(`could not read file: ${(e as Error).message}`);
        }
    }
    const mode = u.permissions ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
    return { file: String(u.file), content, mode, uid: idOf(u.owner, "/etc/passwd"), gid: idOf(u.group, "/etc/group") };
}

/** The state Read builds from an inspect, plus what the provider keeps as given (envs, labels, uploads, …). */
function containerOutputs(info: any, inputs: Inputs): Record<string, unknown> {
    const hc = info.Config.Healthcheck;
    const hostConfig = info.HostConfig;
    const ports: unknown[] = [];
    for (const key of Object.keys(info.NetworkSettings?.Ports ?? hostConfig.PortBindings ?? {}).sort((a, b) => parseInt(a, 10) - parseInt(b, 10))) {
        for (const b of info.NetworkSettings?.Ports?.[key] ?? hostConfig.PortBindings?.[key] ?? []) {
            ports.push({ internal: parseInt(key, 10), external: parseInt(b.HostPort, 10) || 0, ip: b.HostIp, protocol: key.split("/")[1] });
        }
    }
    const networkDatas = Object.entries(info.NetworkSettings?.Networks ?? {}).map(([networkName, n]: [string, any]) => ({
        networkName,
        ipAddress: n.IPAddress,
        ipPrefixLength: n.IPPrefixLen,
        gateway: n.Gateway,
        macAddress: n.MacAddress,
        globalIpv6Address: n.GlobalIPv6Address,
        globalIpv6PrefixLength: n.GlobalIPv6PrefixLen,
        ipv6Gateway: n.IPv6Gateway,
    }));
    const mb = (n: number | undefined) => Math.floor((n ?? 0) / 1048576);
    return {
        name: String(info.Name).replace(/^\//, ""),
        image: String(inputs.image).startsWith("sha256:") ? info.Image : info.Config.Image,
        hostname: info.Config.Hostname,
        domainname: info.Config.Domainname,
        command: info.Config.Cmd ?? [],
        entrypoints: info.Config.Entrypoint ?? [],
        user: info.Config.User,
        workingDir: info.Config.WorkingDir,
        envs: inputs.envs,
        labels: inputs.labels,
        dns: hostConfig.Dns ?? [],
        dnsOpts: hostConfig.DnsOptions ?? [],
        dnsSearches: hostConfig.DnsSearch ?? [],
        securityOpts: hostConfig.SecurityOpt ?? [],
        publishAllPorts: hostConfig.PublishAllPorts,
        restart: hostConfig.RestartPolicy?.Name || "no",
        maxRetryCount: hostConfig.RestartPolicy?.MaximumRetryCount ?? 0,
        init: hostConfig.Init ?? false,
        capabilities:
            hostConfig.CapAdd?.length || hostConfig.CapDrop?.length ? { adds: hostConfig.CapAdd ?? [], drops: hostConfig.CapDrop ?? [] } : inputs.capabilities,
        mounts: inputs.mounts,
        volumes: inputs.volumes,
        tmpfs: hostConfig.Tmpfs ?? {},
        hosts: (hostConfig.ExtraHosts ?? []).map((h: string) => ({ host: h.slice(0, h.indexOf(":")), ip: h.slice(h.indexOf(":") + 1) })),
        privileged: hostConfig.Privileged,
        memory: mb(hostConfig.Memory),
        memorySwap: hostConfig.MemorySwap > 0 ? mb(hostConfig.MemorySwap) : (hostConfig.MemorySwap ?? 0),
        memoryReservation: mb(hostConfig.MemoryReservation),
        shmSize: mb(hostConfig.ShmSize),
        cpuShares: hostConfig.CpuShares ?? 0,
        cpuSet: hostConfig.CpusetCpus ?? "",
        logDriver: hostConfig.LogConfig?.Type,
        logOpts: hostConfig.LogConfig?.Config ?? {},
        networkMode: hostConfig.NetworkMode,
        networksAdvanced: inputs.networksAdvanced,
        pidMode: hostConfig.PidMode,
        usernsMode: hostConfig.UsernsMode,
        ipcMode: hostConfig.IpcMode,
        runtime: hostConfig.Runtime,
        sysctls: hostConfig.Sysctls ?? {},
        groupAdds: hostConfig.GroupAdd ?? [],
        readOnly: hostConfig.ReadonlyRootfs,
        tty: info.Config.Tty,
        stdinOpen: info.Config.OpenStdin,
        stopSignal: info.Config.StopSignal ?? "",
        stopTimeout: info.Config.StopTimeout ?? 0,
        healthcheck: hc
            ? {
                  tests: hc.Test,
                  interval: durationString(hc.Interval ?? 0),
                  timeout: durationString(hc.Timeout ?? 0),
                  startPeriod: durationString(hc.StartPeriod ?? 0),
                  startInterval: durationString(hc.StartInterval ?? 0),
                  retries: hc.Retries ?? 0,
              }
            : undefined,
        ports,
        networkDatas,
        bridge: info.NetworkSettings?.Bridge ?? "",
        exitCode: info.State.Running ? undefined : info.State.ExitCode,
        uploads: inputs.uploads,
        mustRun: inputs.mustRun ?? true,
        start: inputs.start ?? true,
        attach: inputs.attach ?? false,
        logs: inputs.logs ?? false,
        wait: inputs.wait ?? false,
        waitTimeout: inputs.waitTimeout ?? 60,
        rm: inputs.rm ?? false,
        removeVolumes: inputs.removeVolumes ?? true,
        destroyGraceSeconds: inputs.destroyGraceSeconds,
        containerReadRefreshTimeoutMilliseconds: inputs.containerReadRefreshTimeoutMilliseconds ?? 15000,
        platform: inputs.platform ?? "",
    };
}

/**
 * `docker.Container` create: findImage (a missing image is pulled, even without a RemoteImage),
 * create, networksAdvanced (after leaving `bridge`), uploads (before start), start, `wait` on the
 * healthcheck (1 s polls, `waitTimeout`; "unhealthy" keeps polling), with `attach` the wait for it
 * to stop, then Read (with `mustRun`, a
 * container that already exited is deleted and fails `container exited immediately`).
 * `onCreated` hears the ID as soon as Docker has the container: a later failure leaves partial
 * state that can still be deleted.
 */
export async function container(ep: DockerEndpoint, name: string, inputs: Inputs, opts: DockerOptions & { onCreated?: (id: string) => void } = {}) {
    const log = opts.log ?? (() => undefined);
    const image = String(inputs.image);
    await findImage(ep, image, opts).catch((e) => {
        throw new Error(`Unable to create container with image ${image}: ${(e as Error).message}`);
    });
    const body = containerCreateBody(inputs);
    const uploads = (inputs.uploads ?? []).map(uploadOf);
    const created = await dockerApi(ep, "POST", `/containers/create?name=${encodeURIComponent(name)}`, body).catch((e) => {
        throw new Error(`Unable to create container: ${(e as Error).message}`);
    });
    const id: string = created.Id;
    opts.onCreated?.(id);
    if (inputs.networksAdvanced?.length) {
        await dockerApi(ep, "POST", "/networks/bridge/disconnect", { Container: id, Force: false }).catch((e) => {
            if (!/is not connected to the network/.test((e as Error).message))
                throw new Error(`Unable to disconnect the default network: ${(e as Error).message}`);
        });
        for (const n of inputs.networksAdvanced) {
            await dockerApi(ep, "POST", `/networks/${encodeURIComponent(n.name)}/connect`, {
                Container: id,
                EndpointConfig: {
                    IPAMConfig: { IPv4Address: n.ipv4Address ?? "", IPv6Address: n.ipv6Address ?? "", LinkLocalIPs: n.linkLocalIps ?? [] },
                    Aliases: n.aliases ?? [],
                    MacAddress: n.macAddress ?? "",
                    DriverOpts: n.driverOpts ? Object.fromEntries(n.driverOpts.map((o: string) => [o.split("=")[0], o.slice(o.indexOf("=") + 1)])) : undefined,
                    GwPriority: n.gwPriority,
                },
            }).catch((e) => {
                throw new Error(`Unable to connect to network '${n.name}': ${(e as Error).message}`);
            });
        }
    }
    for (const u of uploads) {
        await dockerApi(ep, "PUT", `/containers/${id}/archive?path=/`, undefined, tarOne(u.file, u.content, u.mode, u.uid, u.gid)).catch((e) => {
            throw new Error(`Unable to upload volume content: ${(e as Error).message}`);
        });
    }
    let startedAt = 0;
    if (inputs.start !== false) {
        startedAt = Date.now();
        await dockerApi(ep, "POST", `/containers/${id}/start`).catch((e) => {
            throw new Error(`Unable to start container: ${(e as Error).message}`);
        });
        if (inputs.wait === true) {
            const deadline = Date.now() + Number(inputs.waitTimeout ?? 60) * 1000;
            for (;;) {
                const state = (await dockerApi(ep, "GET", `/containers/${id}/json`)).State;
                if (!state.Health) throw new Error("you have supplied a 'wait' argument, but the container does not have a healthcheck defined");
                if (state.Health.Status === "healthy") break;
                if (Date.now() >= deadline) {
                    log(`container ${name}: ${state.Health.Status}: ${state.Health.Log?.slice(-1)[0]?.Output ?? ""}`);
                    throw new Error("container failed to be in healthy state");
                }
                await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
            }
        }
    }
    if (inputs.attach === true && startedAt) {
        // The provider attaches and returns once the container has stopped (ContainerWait).
        await dockerApi(ep, "POST", `/containers/${id}/wait?condition=not-running`, undefined, undefined, 10 * 60_000).catch((e) => {
            throw new Error(`Unable to wait container end of execution: ${(e as Error).message}`);
        });
    }
    // Read: a StateChangeConf with a 100 ms delay before its first refresh, then 100 ms polls.
    const readDeadline = Date.now() + Number(inputs.containerReadRefreshTimeoutMilliseconds ?? 15000);
    await sleep(100);
    let info = await dockerApi(ep, "GET", `/containers/${id}/json`);
    while (!info.State.Running && inputs.mustRun !== false && startedAt) {
        if (Date.parse(info.State.FinishedAt) >= startedAt - 1000) {
            await deleteContainer(ep, id, inputs).catch(() => undefined);
            throw new Error("container exited immediately");
        }
        if (Date.now() > readDeadline) throw new Error("container failed to be in running state");
        await sleep(100);
        info = await dockerApi(ep, "GET", `/containers/${id}/json`);
    }
    return { id, outputs: containerOutputs(info, inputs) };
}

/** In-place update (`ContainerUpdate`: restart policy and resources); `mustRun` back to true starts it. */
export async function updateContainer(ep: DockerEndpoint, id: string, inputs: Inputs) {
    const mb = (n: number | undefined) => (n ? n * 1048576 : 0);
    await dockerApi(ep, "POST", `/containers/${id}/update`, {
        RestartPolicy: { Name: inputs.restart ?? "no", MaximumRetryCount: inputs.maxRetryCount ?? 0 },
        CpuShares: inputs.cpuShares ?? 0,
        Memory: mb(inputs.memory),
        MemoryReservation: mb(inputs.memoryReservation),
        CpusetCpus: inputs.cpuSet ?? "",
        ...(inputs.memorySwap !== undefined ? { MemorySwap: inputs.memorySwap > 0 ? inputs.memorySwap * 1048576 : inputs.memorySwap } : {}),
    }).catch((e) => {
        throw new Error(`Unable to update a container: ${(e as Error).message}`);
    });
    let info = await dockerApi(ep, "GET", `/containers/${id}/json`);
    if (!info.State.Running && inputs.mustRun !== false) {
        await dockerApi(ep, "POST", `/containers/${id}/start`);
        info = await dockerApi(ep, "GET", `/containers/${id}/json`);
    }
    return containerOutputs(info, inputs);
}

/** Container delete: stop (grace `destroyGraceSeconds`, else 0) unless `attach`, force-remove with `removeVolumes`. */
export async function deleteContainer(ep: DockerEndpoint, id: string, inputs: Inputs) {
    if (inputs.rm === true) return;
    if (inputs.attach !== true) {
        const grace = Number(inputs.destroyGraceSeconds ?? 0);
        await dockerApi(ep, "POST", `/containers/${id}/stop?t=${grace}`, undefined, undefined, (grace + 60) * 1000).catch((e) => {
            if (!isStatus(e, 304, 404)) throw new Error(`Error stopping container ${id}: ${(e as Error).message}`);
        });
    }
    await dockerApi(ep, "DELETE", `/containers/${id}?force=true&v=${inputs.removeVolumes !== false}`).catch((e) => {
        if (!isStatus(e, 404) && !/No such container|is already in progress/.test((e as Error).message))
            throw new Error(`Error deleting container ${id}: ${(e as Error).message}`);
    });
}
