/**
 * `@pulumi/docker` resources realized on a real Docker engine through its HTTP API (the unix
 * socket), the way kreuzwerker/terraform-provider-docker 4.x does it
 * (shared/reference/provider-fidelity.md §2).
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as http from "node:http";
import { Duplex } from "node:stream";

type Inputs = Record<string, any>;

/**
 * Where a provider's engine is: a unix socket path, or an `ssh://[user@]host[:port]` URL reached the
 * way docker/cli's connhelper does it (the provider's transport): the system `ssh` binary running
 * `docker system dial-stdio` on the host, with the provider's `sshOpts` first.
 */
export type DockerEndpoint = string | { ssh: string; sshOpts: string[] };

/** The argv the provider spawns for an ssh:// host. */
export function sshDialArgs(url: string, sshOpts: string[]): string[] {
    const u = new URL(url);
    const args = [...sshOpts, "-o", "ConnectTimeout=30", "-T"];
    if (u.username) args.push("-l", decodeURIComponent(u.username));
    if (u.port) args.push("-p", u.port);
    const socketPath = u.pathname && u.pathname !== "/" ? u.pathname : "";
    return [...args, "--", u.hostname, "docker", ...(socketPath ? [`--host=unix://${socketPath}`] : []), "system", "dial-stdio"];
}

function connectionFor(endpoint: DockerEndpoint): Pick<http.RequestOptions, "socketPath" | "createConnection"> {
    if (typeof endpoint === "string") return { socketPath: endpoint };
    return {
        createConnection: () => {
            const child = spawn("ssh", sshDialArgs(endpoint.ssh, endpoint.sshOpts), { stdio: ["pipe", "pipe", "pipe"] });
            let stderr = "";
            child.stderr.on("data", (d) => (stderr += d));
            const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
            child.on("exit", (code) => {
                if (code) duplex.destroy(new Error(`ssh to ${endpoint.ssh} exited ${code}: ${stderr.trim()}`));
            });
            return duplex as unknown as import("node:net").Socket;
        },
    };
}

/** One Docker Engine API call. Throws on a status >= 400 with the engine's message. */
export function dockerApi(socket: DockerEndpoint, method: string, path: string, body?: unknown, raw?: Buffer): Promise<any> {
    return new Promise((resolve, reject) => {
        const payload = raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
        const req = http.request(
            {
                ...connectionFor(socket),
                method,
                path: `/v1.41${path}`,
                headers: payload
                    ? { "content-type": raw ? "application/x-tar" : "application/json", "content-length": payload.length }
                    : {},
                timeout: 120_000,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: any = text;
                    try {
                        parsed = text ? JSON.parse(text) : undefined;
                    } catch {
                        /* plain text */
                    }
                    if ((res.statusCode ?? 500) >= 400) {
                        const err = new Error(parsed?.message ?? text) as Error & { status?: number };
                        err.status = res.statusCode;
                        reject(err);
                    } else resolve(parsed);
                });
            },
        );
        req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}

/** A one-file tar archive (ustar), as the provider builds for each upload. */
export function tarOne(file: string, content: Buffer, mode: number): Buffer {
    const name = file.replace(/^\/+/, "");
    const header = Buffer.alloc(512);
    const put = (s: string, off: number, len: number) => header.write(s, off, Math.min(len, Buffer.byteLength(s)), "utf8");
    const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
    let prefix = "";
    let base = name;
    if (Buffer.byteLength(name) > 100) {
        const cut = name.lastIndexOf("/", 155);
        prefix = name.slice(0, cut);
        base = name.slice(cut + 1);
    }
    put(base, 0, 100);
    put(octal(mode, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(content.length, 12), 124, 12);
    put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
    header.fill(" ", 148, 156);
    put("0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    put(prefix, 345, 155);
    let sum = 0;
    for (const b of header) sum += b;
    put(octal(sum, 7).slice(0, 6) + "\0 ", 148, 8);
    const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
    return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** Go `time.ParseDuration` for the forms healthchecks use, in nanoseconds. */
function durationNs(d: string | undefined): number {
    if (!d) return 0;
    const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    let total = 0;
    for (const m of d.matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
    return Math.round(total);
}

/**
 * `docker.RemoteImage`: present locally → no pull. Absent → the provider would pull; no registry
 * is reachable from here and a pull would send traffic off the machine, so the harness never asks
 * the engine to pull and fails with the provider's error instead.
 */
export async function remoteImage(socket: DockerEndpoint, inputs: Inputs) {
    const name = String(inputs.name);
    let image: any;
    try {
        image = await dockerApi(socket, "GET", `/images/${encodeURIComponent(name)}/json`);
    } catch (e) {
        if ((e as { status?: number }).status !== 404) throw e;
        throw new Error(
            `Unable to read Docker image into resource: unable to pull image ${name}: error pulling image ${name}: ` +
                "the test harness never pulls (no registry is reachable from this machine)",
        );
    }
    const digests: string[] = image.RepoDigests ?? [];
    const repo = name.replace(/[:@][^/]*$/, "");
    const repoDigest = digests.length === 0 ? "" : digests.length === 1 ? digests[0] : (digests.find((d) => d.startsWith(`${repo}@`)) ?? digests[0]);
    return { id: `${image.Id}${name}`, outputs: { imageId: image.Id, repoDigest, keepLocally: inputs.keepLocally ?? false } };
}

/** Removes an image unless `keepLocally`, as the provider's delete does. */
export async function deleteRemoteImage(socket: DockerEndpoint, inputs: Inputs) {
    if (inputs.keepLocally === true) return;
    await dockerApi(socket, "DELETE", `/images/${encodeURIComponent(String(inputs.name))}?force=${inputs.forceRemove === true}`).catch((e) => {
        if ((e as { status?: number }).status !== 404) throw e;
    });
}

/** `docker.Volume` (create is idempotent in the engine, like `docker volume create`). */
export async function volume(socket: DockerEndpoint, name: string, inputs: Inputs) {
    const v = await dockerApi(socket, "POST", "/volumes/create", {
        Name: inputs.name ?? name,
        Driver: inputs.driver ?? "local",
        DriverOpts: inputs.driverOpts ?? {},
        Labels: Object.fromEntries((inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
    });
    return { id: v.Name, outputs: { name: v.Name, driver: v.Driver, mountpoint: v.Mountpoint } };
}

/** Removes a volume, retrying while it is in use. */
export async function deleteVolume(socket: DockerEndpoint, name: string) {
    for (let i = 0; ; i++) {
        try {
            await dockerApi(socket, "DELETE", `/volumes/${encodeURIComponent(name)}?force=true`);
            return;
        } catch (e) {
            const status = (e as { status?: number }).status;
            if (status === 404) return;
            if (status !== 409 || i > 30) throw e;
            await new Promise((r) => setTimeout(r, 1000));
        }
    }
}

/** `docker.Container`: create, networks, uploads before start, start, then `wait` on the healthcheck. */
export async function container(socket: DockerEndpoint, name: string, inputs: Inputs, log: (m: string) => void) {
    const image = String(inputs.image);
    // findImage: an absent image is pulled, even without a RemoteImage (here: the pull error).
    await remoteImage(socket, { name: image });
    const cname = inputs.name ?? `${name}-${crypto.randomBytes(4).toString("hex").slice(0, 7)}`;
    const ports: any[] = inputs.ports ?? [];
    const hc = inputs.healthcheck;
    const body = {
        Image: image,
        Env: inputs.envs ?? [],
        Cmd: inputs.command,
        Entrypoint: inputs.entrypoints,
        User: inputs.user ?? "",
        WorkingDir: inputs.workingDir ?? "",
        Hostname: inputs.hostname ?? "",
        Labels: Object.fromEntries((inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.internal}/${p.protocol ?? "tcp"}`, {}])),
        Healthcheck: hc
            ? {
                  Test: hc.tests,
                  Interval: durationNs(hc.interval),
                  Timeout: durationNs(hc.timeout),
                  StartPeriod: durationNs(hc.startPeriod),
                  Retries: hc.retries ?? 0,
              }
            : undefined,
        HostConfig: {
            Binds: (inputs.volumes ?? []).map(
                (v: any) => `${v.hostPath ?? v.volumeName}:${v.containerPath}:${v.readOnly ? "ro" : "rw"}`,
            ),
            PortBindings: Object.fromEntries(
                ports.map((p) => [`${p.internal}/${p.protocol ?? "tcp"}`, [{ HostIp: p.ip ?? "0.0.0.0", HostPort: p.external ? String(p.external) : "" }]]),
            ),
            RestartPolicy: { Name: inputs.restart ?? "no", MaximumRetryCount: inputs.maxRetryCount ?? 0 },
            CapAdd: inputs.capabilities?.adds ?? [],
            CapDrop: inputs.capabilities?.drops ?? [],
            SecurityOpt: inputs.securityOpts ?? [],
            LogConfig: inputs.logDriver ? { Type: inputs.logDriver, Config: inputs.logOpts ?? {} } : undefined,
            ReadonlyRootfs: inputs.readOnly ?? false,
            Privileged: inputs.privileged ?? false,
            Init: inputs.init,
            NetworkMode: inputs.networkMode ?? "bridge",
            Dns: inputs.dns ?? [],
            ExtraHosts: (inputs.hosts ?? []).map((h: { host: string; ip: string }) => `${h.host}:${h.ip}`),
            Memory: inputs.memory ? inputs.memory * 1024 * 1024 : 0,
        },
    };
    const created = await dockerApi(socket, "POST", `/containers/create?name=${encodeURIComponent(cname)}`, body);
    const id: string = created.Id;
    if (inputs.networksAdvanced?.length) {
        await dockerApi(socket, "POST", "/networks/bridge/disconnect", { Container: id, Force: false }).catch(() => undefined);
        for (const n of inputs.networksAdvanced) {
            await dockerApi(socket, "POST", `/networks/${encodeURIComponent(n.name)}/connect`, {
                Container: id,
                EndpointConfig: { IPAMConfig: n.ipv4Address ? { IPv4Address: n.ipv4Address } : undefined, Aliases: n.aliases ?? [] },
            });
        }
    }
    for (const u of inputs.uploads ?? []) {
        const content = u.content !== undefined ? Buffer.from(u.content) : Buffer.from(u.contentBase64 ?? "", "base64");
        const mode = u.permissions ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
        await dockerApi(socket, "PUT", `/containers/${id}/archive?path=/`, undefined, tarOne(u.file, content, mode));
    }
    if (inputs.start !== false) {
        await dockerApi(socket, "POST", `/containers/${id}/start`);
        if (inputs.wait === true) {
            const timeout = Number(inputs.waitTimeout ?? 60);
            const deadline = Date.now() + timeout * 1000;
            for (;;) {
                const state = (await dockerApi(socket, "GET", `/containers/${id}/json`)).State;
                if (!state.Health) {
                    throw new Error("you have supplied a 'wait' argument, but the container does not have a healthcheck defined");
                }
                if (state.Health.Status === "healthy") break;
                if (Date.now() > deadline) {
                    const last = state.Health.Log?.slice(-1)[0]?.Output ?? "";
                    log(`container ${cname} health: ${state.Health.Status} ${last}`);
                    throw new Error("container failed to be in healthy state");
                }
                await new Promise((r) => setTimeout(r, 1000));
            }
        }
    }
    const info = await dockerApi(socket, "GET", `/containers/${id}/json`);
    const networkDatas = Object.entries(info.NetworkSettings.Networks ?? {}).map(([networkName, n]: [string, any]) => ({
        networkName,
        ipAddress: n.IPAddress,
        ipPrefixLength: n.IPPrefixLen,
        gateway: n.Gateway,
        macAddress: n.MacAddress,
    }));
    return {
        id,
        outputs: {
            name: cname,
            restart: inputs.restart ?? "no",
            mustRun: true,
            start: inputs.start ?? true,
            wait: inputs.wait ?? false,
            waitTimeout: inputs.waitTimeout ?? 60,
            removeVolumes: inputs.removeVolumes ?? true,
            networkDatas,
            hostname: info.Config.Hostname,
            exitCode: info.State.ExitCode,
        },
    };
}

/** Stops (grace `destroyGraceSeconds`, else 0) and removes a container with its anonymous volumes. */
export async function deleteContainer(socket: DockerEndpoint, id: string, inputs: Inputs) {
    const grace = Number(inputs.destroyGraceSeconds ?? 0);
    await dockerApi(socket, "POST", `/containers/${id}/stop?t=${grace}`).catch(() => undefined);
    await dockerApi(socket, "DELETE", `/containers/${id}?force=true&v=${inputs.removeVolumes !== false}`).catch((e) => {
        if ((e as { status?: number }).status !== 404) throw e;
    });
}

/** `docker.Network` (bridge by default, with IPAM configs). */
export async function network(socket: DockerEndpoint, name: string, inputs: Inputs) {
    const netName = inputs.name ?? name;
    const created = await dockerApi(socket, "POST", "/networks/create", {
        Name: netName,
        Driver: inputs.driver ?? "bridge",
        Internal: inputs.internal ?? false,
        Attachable: inputs.attachable ?? false,
        EnableIPv6: inputs.ipv6 ?? false,
        IPAM: {
            Driver: inputs.ipamDriver ?? "default",
            Config: (inputs.ipamConfigs ?? []).map((c: any) => ({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ipRange })),
        },
        Options: inputs.options ?? {},
        Labels: Object.fromEntries((inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        CheckDuplicate: true,
    });
    return { id: created.Id as string, outputs: { name: netName, driver: inputs.driver ?? "bridge", scope: "local" } };
}

/** Removes a network ("not found" is fine). */
export async function deleteNetwork(socket: DockerEndpoint, id: string) {
    await dockerApi(socket, "DELETE", `/networks/${id}`).catch((e) => {
        if ((e as { status?: number }).status !== 404) throw e;
    });
}
