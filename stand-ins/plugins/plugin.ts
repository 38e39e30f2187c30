/**
 * The provider plugins the real engine loads in the tests: `node --import tsx plugin.ts <name>`,
 * installed as `pulumi-resource-<name>` at the version the SDK asks for (test/engine/engine.ts).
 * Each resource does what the provider does on the real host (stand-ins/realizers/: Docker's Engine API,
 * real SSH and SFTP, real keys and certificates); the engine around them is the real one.
 */
import * as crypto from "node:crypto";
import { OFFLINE_REALIZERS } from "../offline";
import { copyToRemote } from "../realizers/copy";
import * as docker from "../realizers/docker";
import { runLocal } from "../realizers/local";
import { runCommandResource, type Connection } from "../realizers/ssh";
import { PartialCreate, serve, type Context, type ProviderDef, type Props, type ResourceType } from "./server";

const pinged = new Map<string, Promise<void>>();

/** The Docker engine of this provider instance (`host`, else $DOCKER_HOST), pinged once. */
async function engineOf(ctx: Context): Promise<docker.DockerEndpoint> {
    const ep = ctx.config.host ? docker.endpointOf(String(ctx.config.host), docker.providerInput<string[]>(ctx.config.sshOpts, [])) : docker.defaultEndpoint();
    if (docker.providerInput<boolean>(ctx.config.disableDockerDaemonCheck, false) !== true) {
        const key = JSON.stringify(ep);
        if (!pinged.has(key)) pinged.set(key, docker.ping(ep));
        await pinged.get(key);
    }
    return ep;
}

const dockerOpts = (ctx: Context) => ({ log: ctx.log });

/** A Docker object's inspect document, or undefined when Docker says it does not exist (404). */
async function inspectOrGone(ctx: Context, apiPath: string): Promise<any | undefined> {
    return docker.dockerApi(await engineOf(ctx), "GET", apiPath).catch((e: Error) => {
        if (/404|no such/i.test(e.message)) return undefined;
        throw e;
    });
}

/** Computed with the offline realizers (real keys, certificates, passwords); delete is a no-op. */
function offline(token: string, inPlace: string[] = []): ResourceType {
    return {
        inPlace: new Set(inPlace),
        async create(inputs) {
            const r = await OFFLINE_REALIZERS[token](inputs);
            return { id: r.id, outs: r.outputs, secrets: r.secretOutputs };
        },
    };
}

/** memory_swap as the provider's Read sets it (MiB, or -1), absent where Docker has none (0: the same to the diff). */
function memorySwapOf(info: any): Props {
    const swap = Number(info?.HostConfig?.MemorySwap ?? 0);
    if (swap === 0) return {};
    return { memorySwap: swap > 0 ? swap / 1024 / 1024 : swap };
}

/**
 * A container's state after Create or Update as the provider stores it: the planned
 * `capabilities` (Read alone stores Docker's names), and `memorySwap` only where Docker has one.
 */
function stored(outputs: Props, inputs: Props): Props {
    const { memorySwap, ...rest } = outputs;
    return { ...rest, capabilities: inputs.capabilities, ...(memorySwap === 0 ? {} : { memorySwap }) };
}

const CONTAINER_APPLIED = new Set(["restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "cpuSet", "memorySwap", "mustRun"]);

/**
 * Docker's log stream as lines: each frame has an 8-byte header (stream, size) unless the
 * container has a TTY; `discardHeaders` strips them, as the provider does.
 */
function logLines(raw: Buffer, discardHeaders: boolean): string[] {
    let text = raw.toString("utf8");
    if (discardHeaders && raw.length >= 8 && raw[0] <= 2 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0) {
        const parts: Buffer[] = [];
        for (let i = 0; i + 8 <= raw.length; ) {
            const size = raw.readUInt32BE(i + 4);
            parts.push(raw.subarray(i + 8, i + 8 + size));
            i += 8 + size;
        }
        text = Buffer.concat(parts).toString("utf8");
    }
    return text.split("\n").filter((l) => l !== "");
}

const dockerDef: ProviderDef = {
    name: "docker",
    version: "5.2.0",
    invokes: {
        // getLogs: a container's logs by name (the program shows them when its end-of-up check fails).
        "docker:index/getLogs:getLogs": async (args, ctx) => {
            const q = new URLSearchParams({
                stdout: String(args.showStdout ?? true),
                stderr: String(args.showStderr ?? true),
                tail: String(args.tail ?? "all"),
            });
            const raw: Buffer = await docker.dockerApiRaw(await engineOf(ctx), "GET", `/containers/${encodeURIComponent(String(args.name))}/logs?${q}`);
            return { ...args, id: String(args.name), logsListStrings: args.logsListStringEnabled ? logLines(raw, args.discardHeaders === true) : [] };
        },
    },
    types: {
        "docker:index/container:Container": {
            inPlace: new Set([
                ...CONTAINER_APPLIED,
                "cpuPeriod",
                "cpuQuota",
                "deviceReadBps",
                "deviceReadIops",
                "deviceWriteBps",
                "deviceWriteIops",
                "rm",
                "start",
                "attach",
                "logs",
                "wait",
                "waitTimeout",
                "destroyGraceSeconds",
                "removeVolumes",
                "tmpfs",
                "init",
                "containerReadRefreshTimeoutMilliseconds",
                // Computed (network_data): filled in, never a reason to replace.
                "networkDatas",
            ]),
            // log_opts is Optional and ForceNew, not Computed: Read stores what dockerd reports,
            // daemon.json's log-opts merged in (kreuzwerker/terraform-provider-docker#473).
            // memory_swap is Optional, not Computed: Read stores what Docker set (twice `memory`
            // when only that was given), and the provider's Create ends with a Read.
            // capabilities: Create keeps the inputs' names, Read stores Docker's (CAP_CHOWN for CHOWN).
            readBack: new Set(["logOpts", "memorySwap", "capabilities"]),
            deleteBeforeReplace: true,
            async create(inputs, ctx) {
                const ep = await engineOf(ctx);
                let made: string | undefined;
                const r = await docker
                    .container(ep, inputs.name ?? docker.autoName(ctx.name), inputs, { ...dockerOpts(ctx), onCreated: (id) => (made = id) })
                    .catch((e: Error) => {
                        // Made but not healthy: the bridge records a partial create, its state the inputs alone.
                        throw made ? new PartialCreate(made, { entrypoints: null, networkDatas: null }, e.message) : e;
                    });
                return { id: r.id, outs: stored(r.outputs, inputs) };
            },
            // A partial create's state holds null for what Read computes: the provider's plan fills
            // them in, and `entrypoints` is ForceNew, so the next up replaces it (network_data is
            // only computed).
            forceReplace: (olds) => (olds.networkDatas == null ? ["entrypoints"] : []),
            forceChange: (olds) => (olds.networkDatas == null ? ["networkDatas"] : []),
            async read(id, state, ctx) {
                const info = await inspectOrGone(ctx, `/containers/${id}/json`);
                if (!info) return undefined;
                const hc = info.HostConfig ?? {};
                const capabilities = hc.CapAdd?.length || hc.CapDrop?.length ? { adds: hc.CapAdd ?? [], drops: hc.CapDrop ?? [] } : undefined;
                return { id, outs: { logOpts: hc.LogConfig?.Config ?? {}, ...memorySwapOf(info), ...(capabilities ? { capabilities } : {}) } };
            },
            async update(id, olds, news, changed, ctx) {
                if (!changed.some((k) => CONTAINER_APPLIED.has(k))) return {};
                return stored(await docker.updateContainer(await engineOf(ctx), id, news), news);
            },
            async delete(id, state, ctx) {
                await docker.deleteContainer(await engineOf(ctx), id, state);
            },
        },
        "docker:index/remoteImage:RemoteImage": {
            inPlace: new Set(["keepLocally", "forceRemove"]),
            async create(inputs, ctx) {
                const r = await docker.remoteImage(await engineOf(ctx), inputs, dockerOpts(ctx));
                return { id: r.id, outs: r.outputs };
            },
            async delete(id, state, ctx) {
                await docker.deleteRemoteImage(await engineOf(ctx), state);
            },
        },
        "docker:index/volume:Volume": {
            async create(inputs, ctx) {
                const r = await docker.volume(await engineOf(ctx), inputs.name ?? docker.autoName(ctx.name), inputs);
                return { id: r.id, outs: r.outputs };
            },
            async read(id, state, ctx) {
                return (await inspectOrGone(ctx, `/volumes/${encodeURIComponent(id)}`)) ? { id, outs: {} } : undefined;
            },
            async delete(id, state, ctx) {
                await docker.deleteVolume(await engineOf(ctx), id);
            },
        },
        "docker:index/network:Network": {
            async create(inputs, ctx) {
                const r = await docker.network(await engineOf(ctx), inputs.name ?? docker.autoName(ctx.name), inputs);
                return { id: r.id, outs: r.outputs };
            },
            async delete(id, state, ctx) {
                await docker.deleteNetwork(await engineOf(ctx), id);
            },
        },
    },
};

/**
 * The tls provider's renewal (`modifyPlanIfCertificateReadyForRenewal`): once the clock is within
 * `earlyRenewalHours` of the stored `validityEndTime`, the plan replaces the certificate.
 */
function certificate(token: string): ResourceType {
    return {
        ...offline(token, ["earlyRenewalHours"]),
        forceReplace(olds, news) {
            const end = Date.parse(String(olds.validityEndTime ?? ""));
            const early = Number(news.earlyRenewalHours ?? 0) * 3_600_000;
            return Number.isFinite(end) && Date.now() >= end - early ? ["readyForRenewal"] : [];
        },
    };
}

const tlsDef: ProviderDef = {
    name: "tls",
    version: "5.6.1",
    types: {
        "tls:index/privateKey:PrivateKey": offline("tls:index/privateKey:PrivateKey"),
        "tls:index/selfSignedCert:SelfSignedCert": certificate("tls:index/selfSignedCert:SelfSignedCert"),
        "tls:index/certRequest:CertRequest": offline("tls:index/certRequest:CertRequest"),
        "tls:index/locallySignedCert:LocallySignedCert": certificate("tls:index/locallySignedCert:LocallySignedCert"),
    },
};

const randomDef: ProviderDef = {
    name: "random",
    version: "4.21.2",
    types: {
        "random:index/randomPassword:RandomPassword": offline("random:index/randomPassword:RandomPassword"),
        "random:index/randomId:RandomId": offline("random:index/randomId:RandomId"),
    },
};

const timeoutMs = (ctx: Context) => (ctx.timeoutSeconds > 0 ? ctx.timeoutSeconds * 1000 : undefined);
const hex = (n: number) => crypto.randomBytes(n).toString("hex");

/** remote.Command runs over real SSH; only `triggers` replace (the engine applies replaceOnChanges). */
const remoteCommand: ResourceType = {
    replaceOn: new Set(["triggers"]),
    secretOutputs: ["connection"],
    async create(inputs, ctx) {
        const out = inputs.create === undefined ? { stdout: "", stderr: "" } : await run(inputs, inputs.create, ctx);
        return { id: `${ctx.name}${hex(4)}`, outs: out };
    },
    async update(id, olds, news, changed, ctx) {
        const cmd = news.update ?? news.create;
        const previous = { stdout: String(olds.stdout ?? ""), stderr: String(olds.stderr ?? "") };
        return cmd === undefined ? previous : run(news, cmd, ctx, previous);
    },
    async delete(id, state, ctx) {
        // The stored delete, with the stored connection, environment and stdin.
        if (state.delete !== undefined) await run(state, state.delete, ctx, { stdout: String(state.stdout ?? ""), stderr: String(state.stderr ?? "") });
    },
};

function localRun(inputs: Props, command: string, ctx: Context, previous?: { stdout: string; stderr: string }) {
    return runLocal(command, {
        interpreter: inputs.interpreter as string[] | undefined,
        dir: inputs.dir as string | undefined,
        environment: inputs.environment as Record<string, string> | undefined,
        stdin: inputs.stdin as string | undefined,
        previous,
        logging: inputs.logging as string | undefined,
        timeoutMs: timeoutMs(ctx),
        log: ctx.log,
    });
}

function run(inputs: Props, command: string, ctx: Context, previous?: { stdout: string; stderr: string }) {
    return runCommandResource(inputs, command, { previous, timeoutMs: timeoutMs(ctx), log: ctx.log });
}

const commandDef: ProviderDef = {
    name: "command",
    version: "1.2.1",
    types: {
        "command:remote:Command": remoteCommand,
        // local.Command: create (or update) runs `create` (`update`) with `environment`; delete runs `delete`.
        "command:local:Command": {
            replaceOn: new Set(["triggers"]),
            async create(inputs, ctx) {
                const out = inputs.create === undefined ? { stdout: "", stderr: "" } : await localRun(inputs, String(inputs.create), ctx);
                return { id: `${ctx.name}${hex(4)}`, outs: out };
            },
            async update(id, olds, news, changed, ctx) {
                const cmd = news.update ?? news.create;
                const previous = { stdout: String(olds.stdout ?? ""), stderr: String(olds.stderr ?? "") };
                return cmd === undefined ? previous : localRun(news, String(cmd), ctx, previous);
            },
            async delete(id, state, ctx) {
                if (state.delete !== undefined) await localRun(state, String(state.delete), ctx);
            },
        },
        "command:remote:CopyToRemote": {
            replaceOn: new Set(["triggers"]),
            secretOutputs: ["connection"],
            async create(inputs, ctx) {
                await copyToRemote(inputs.connection as Connection, inputs.source, String(inputs.remotePath), ctx.log, timeoutMs(ctx));
                return { id: hex(4), outs: {} };
            },
            async update(id, olds, news, changed, ctx) {
                if (changed.includes("source") || changed.includes("remotePath"))
                    await copyToRemote(news.connection as Connection, news.source, String(news.remotePath), ctx.log, timeoutMs(ctx));
                return {};
            },
        },
    },
    invokes: {
        "command:local:run": async (args, ctx) => ({
            ...args,
            ...(await runLocal(String(args.command), {
                interpreter: args.interpreter,
                dir: args.dir,
                environment: args.environment,
                stdin: args.stdin,
                logging: args.logging,
                log: ctx.log,
            })),
        }),
    },
};

const DEFS: Record<string, ProviderDef> = { docker: dockerDef, tls: tlsDef, random: randomDef, command: commandDef };

/** Name and version of every plugin this file serves. */
export const PLUGINS = Object.values(DEFS).map((d) => ({ name: d.name, version: d.version }));

if (require.main === module) {
    const def = DEFS[process.argv[2] ?? ""];
    if (!def) {
        process.stderr.write(`usage: plugin.ts <${Object.keys(DEFS).join("|")}> [engine address]\n`);
        process.exit(2);
    }
    serve(def).catch((e) => {
        process.stderr.write(`${(e as Error).stack ?? e}\n`);
        process.exit(1);
    });
}
