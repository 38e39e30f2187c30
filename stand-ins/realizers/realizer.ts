/**
 * Mocks that create the real thing: the fast lane for the provider realizations the stand-in
 * plugins of stand-ins/plugins/ serve to the real engine. One `Realizer` creates what a program
 * declares, on this machine, the way each provider realizes its resources:
 * - tls, random: real keys, certificates, passwords, bcrypt (stand-ins/offline/, shared with `render`);
 * - docker: the Engine API of each provider's `unix://` or `ssh://` host (docker.ts);
 * - command: remote.Command over real SSH (ssh.ts), remote.CopyToRemote over SFTP (copy.ts),
 *   local.Command through the interpreter (local.ts).
 * Secrets arrive wrapped and are unwrapped for the providers; the state handed back marks as secret
 * every echoed secret input, every output the provider or the SDK (`additionalSecretOutputs`)
 * marks secret, and `connection`.
 *
 * FIDELITY: what the engine does and mocks do not see, and what stands in for it here.
 * - `setMocks` hands `newResource` only type, name, inputs, provider and import ID. Resource options
 *   (dependsOn, parent, deleteBeforeReplace, retainOnDelete, protect, ignoreChanges,
 *   replaceOnChanges, additionalSecretOutputs, customTimeouts, hooks) are read from the SDK's
 *   internal `MockMonitor.registerResource` request (stand-ins/offline/monitorTap.ts, pinned SDK). Honoured:
 *   retainOnDelete (and `HarnessOptions.retain`), deleteBeforeReplace (containers always, as the
 *   docker bridge sets it), additionalSecretOutputs. NOT honoured: protect (destroy deletes protected resources),
 *   customTimeouts (the harness's own time-boxes apply), aliases, hooks, deletedWith, replaceWith.
 * - Ordering: the SDK sends a registration only after its inputs and dependsOn resolved, so creation
 *   order is a valid dependency order; destroy runs in reverse completion order, one at a time
 *   (the engine deletes independent resources in parallel).
 * - One run only: every resource is created, then `destroy` deletes them. Diffs, updates,
 *   replacements, refresh and previews are the real engine's (test/engine/), not emulated here.
 * - After a failure the engine starts no new steps: later registrations are left pending (they never
 *   resolve), as the real program is torn down; in-flight ones finish. `settled()` rejects at once.
 * - Provider autonaming (`<name>-<7 hex>`) is done here for docker Container/Volume/Network.
 * - Images are pulled only from loopback registries (network rule of these machines); any other
 *   missing image fails fast with the provider's pull error text.
 * - Invokes (`call`): only `command:local:run`; any other invoke fails loudly.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMonitorTap, tappedRegistrations, type Registration } from "../offline/monitorTap";
import { OFFLINE_REALIZERS } from "../offline";
import { containsSecret, unwrapSecrets } from "../offline/rpcSecrets";
import { copyToRemote } from "./copy";
import * as dockerR from "./docker";
import { globFiles, runLocal } from "./local";
import { runCommandResource, type Connection, type RunResult } from "./ssh";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** One realized resource: what was asked, what came back, and enough to delete it later. */
export interface RealizedResource {
    type: string;
    name: string;
    id: string;
    urn: string;
    /** Parent URN ("" for the stack's direct children). */
    parent: string;
    /** URNs the SDK reported as dependencies (dependsOn and inputs). */
    dependencies: string[];
    /** Provider reference `<providerURN>::<id>`; "" for a default provider. */
    provider: string;
    /** Completion order within this run (0-based): a valid dependency order. */
    seq: number;
    /** Inputs as the provider saw them: secrets unwrapped, assets and archives as plain descriptors. */
    inputs: Record<string, any>;
    /** Provider outputs (the state handed back is the inputs overlaid with these). */
    outputs: Record<string, unknown>;
    /** Output names handed back as secrets. */
    secretOutputs: string[];
    /** For docker resources: the engine of their provider. */
    docker?: dockerR.DockerEndpoint;
    /** Resource options seen on the registration. */
    options: Pick<Registration, "deleteBeforeReplace" | "retainOnDelete" | "protect" | "ignoreChanges" | "replaceOnChanges" | "additionalSecretOutputs">;
    /** Set when creation failed after the provider had already created something (partial state). */
    initError?: string;
}

/** Options of one run. */
export interface HarnessOptions {
    log?: (msg: string) => void;
    /** Time-box per command or copy run. Defaults to 5 minutes. */
    commandTimeoutMs?: number;
    /** Keeps a resource on destroy, in addition to the `retainOnDelete` option seen on its registration. */
    retain?: (r: RealizedResource) => boolean;
    /** Whether a missing docker image may be pulled. Defaults to registries on loopback only. */
    allowPull?: (image: string) => boolean;
}

/** The former name of `HarnessOptions`. */
export type RealizerOptions = HarnessOptions;

type Inputs = Record<string, any>;
type Created = { id: string; outputs: Record<string, unknown>; secretOutputs?: string[] };

const T = {
    container: "docker:index/container:Container",
    image: "docker:index/remoteImage:RemoteImage",
    volume: "docker:index/volume:Volume",
    network: "docker:index/network:Network",
    remoteCommand: "command:remote:Command",
    copy: "command:remote:CopyToRemote",
    localCommand: "command:local:Command",
} as const;

/** Secret outputs per the providers' schemas (the SDKs also send them as additionalSecretOutputs). */
const PROVIDER_SECRETS: Record<string, string[]> = {
    [T.remoteCommand]: ["connection"],
    [T.copy]: ["connection"],
};

const hex = (n: number) =>
    crypto
        .randomBytes(Math.ceil(n / 2))
        .toString("hex")
        .slice(0, n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fileHash(p: string): string {
    const h = crypto.createHash("sha256");
    const walk = (abs: string, rel: string) => {
        const st = fs.statSync(abs);
        if (st.isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(abs, e), `${rel}/${e}`);
        else h.update(`${rel}\0`).update(fs.readFileSync(abs));
    };
    try {
        walk(p, "");
        return h.digest("hex");
    } catch {
        return "";
    }
}

/** Assets and archives (whose fields are Promises under mocks) as plain, comparable descriptors. */
async function describeAssets(v: unknown): Promise<unknown> {
    const a = pulumi.asset;
    const get = async (o: unknown, k: string) => (await (o as Record<string, unknown>)[k]) as string;
    if (v instanceof a.StringAsset) return { __asset: "StringAsset", text: await get(v, "text") };
    if (v instanceof a.FileAsset) {
        const p = await get(v, "path");
        return { __asset: "FileAsset", path: p, sha256: fileHash(p) };
    }
    if (v instanceof a.RemoteAsset) return { __asset: "RemoteAsset", uri: await get(v, "uri") };
    if (v instanceof a.FileArchive) {
        const p = await get(v, "path");
        return { __archive: "FileArchive", path: p, sha256: fileHash(p) };
    }
    if (v instanceof a.RemoteArchive) return { __archive: "RemoteArchive", uri: await get(v, "uri") };
    if (v instanceof a.AssetArchive) {
        const assets = (await (v as unknown as { assets: Promise<Record<string, unknown>> }).assets) ?? {};
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(assets)) out[k] = await describeAssets(x);
        return { __archive: "AssetArchive", assets: out };
    }
    if (Array.isArray(v)) return Promise.all(v.map(describeAssets));
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = await describeAssets(x);
        return out;
    }
    return v;
}

export class Realizer {
    /** Every realized custom resource of this run (providers included), in completion order. */
    readonly records: RealizedResource[] = [];
    /** Registrations the providers failed, in order. */
    readonly failures: { type: string; name: string; error: Error }[] = [];
    private readonly inflight = new Set<Promise<unknown>>();
    private readonly log: (m: string) => void;
    private readonly providers = new Map<string, { endpoint?: dockerR.DockerEndpoint; check: boolean; ping?: Promise<void> }>();
    private readonly deleted = new Set<RealizedResource>();
    private readonly failureWaiters: (() => void)[] = [];
    private listening = true;
    private readonly onRejection = (e: unknown) => this.log(`unhandled rejection (failed registration): ${(e as Error)?.message ?? e}`);

    constructor(private readonly opts: HarnessOptions = {}) {
        this.log = opts.log ?? (() => undefined);
        // A failed registration rejects every output of its resource with nobody listening; tests
        // inspect `failures` (or `settled()`) instead of letting Node exit on them.
        process.on("unhandledRejection", this.onRejection);
        installMonitorTap();
    }

    /** The mocks to pass to `pulumi.runtime.setMocks(realizer.mocks(), project, stack, false)`. */
    mocks(): pulumi.runtime.Mocks {
        return {
            newResource: (args) => {
                // The engine starts no new step after a failure: the registration stays pending.
                if (this.failures.length > 0) {
                    this.log(`not started after a failure: ${args.type}::${args.name}`);
                    return new Promise<never>(() => undefined);
                }
                const p = this.register(args);
                this.inflight.add(p);
                p.catch(() => undefined).finally(() => this.inflight.delete(p));
                return p;
            },
            call: async (args) => {
                if (args.token === "command:local:run") {
                    const i = unwrapSecrets(args.inputs) as Inputs;
                    const r = await runLocal(String(i.command), { ...this.localOptions(i), timeoutMs: this.opts.commandTimeoutMs, log: this.log });
                    return { ...i, ...r };
                }
                throw new Error(`harness: the invoke ${args.token} is not realized`);
            },
        };
    }

    /**
     * Resolves once every registration of the program has been realized. Rejects as soon as a registration
     * failed, with `failed to register new resource <name> [<type>]: <provider error>`; rejects
     * after `timeoutMs` naming what is still in flight. Never hangs.
     */
    async settled(timeoutMs = 600_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        const failed = new Promise<void>((resolve) => this.failureWaiters.push(resolve));
        for (;;) {
            this.throwIfFailed();
            const left = deadline - Date.now();
            if (left <= 0) {
                throw new Error(`harness: still in flight after ${timeoutMs} ms: ${this.inflightNames()}`);
            }
            if (this.inflight.size > 0) {
                await Promise.race([...[...this.inflight].map((p) => p.catch(() => undefined)), failed, sleep(Math.min(left, 1000))]);
                continue;
            }
            // Nothing in flight: wait for the SDK's RPC queue (registrations still awaiting inputs,
            // outputs, invokes) to drain, or for a quiet moment when something is stuck elsewhere.
            const before = tappedRegistrations().length;
            const drained = await Promise.race([
                sdkSettings.waitForRPCs().then(() => true),
                failed.then(() => false),
                sleep(Math.min(left, 2000)).then(() => false),
            ]);
            await sleep(20);
            this.throwIfFailed();
            if (this.inflight.size === 0 && tappedRegistrations().length === before) {
                if (!drained) this.log("settled: the SDK's RPC queue did not drain, but nothing is in flight");
                break;
            }
        }
    }

    /**
     * `pulumi destroy`: waits for in-flight creations, then deletes every resource of this run in
     * reverse completion order with its provider's delete semantics. Retained resources are left.
     * Stops at the first failed delete, like the engine (the rest stays; calling again retries).
     */
    async destroy(timeoutMs = 600_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (this.inflight.size > 0 && Date.now() < deadline) {
            await Promise.race([...[...this.inflight].map((p) => p.catch(() => undefined)), sleep(1000)]);
        }
        for (const r of [...this.records].reverse()) {
            if (this.deleted.has(r)) continue;
            if (Date.now() > deadline) throw new Error(`harness: destroy did not finish within ${timeoutMs} ms`);
            await this.deleteOne(r).catch((e) => {
                throw new Error(`deleting ${r.type} ${r.name}: ${(e as Error).message}`);
            });
        }
        this.close();
    }

    /** Stops listening for this run's unhandled rejections, without deleting anything. */
    close(): void {
        if (this.listening) process.off("unhandledRejection", this.onRejection);
        this.listening = false;
    }

    private throwIfFailed(): void {
        const f = this.failures[0];
        if (f) throw new Error(`failed to register new resource ${f.name} [${f.type}]: ${f.error.message}`);
    }

    private inflightNames(): string {
        return tappedRegistrations()
            .filter((g) => g.custom && !this.records.some((r) => r.type === g.type && r.name === g.name))
            .map((g) => `${g.type}::${g.name}`)
            .join(", ");
    }

    private registrationOf(type: string, name: string): Registration | undefined {
        const all = tappedRegistrations();
        for (let i = all.length - 1; i >= 0; i--) if (all[i].type === type && all[i].name === name) return all[i];
        return undefined;
    }

    private retained(r: RealizedResource): boolean {
        return r.options.retainOnDelete || (this.opts.retain?.(r) ?? false);
    }

    private async register(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, unknown> }> {
        const { type, name } = args;
        const raw = (args.inputs ?? {}) as Record<string, unknown>;
        try {
            if (args.custom === false) return { id: "", state: {} };
            if (args.id) throw new Error(`harness: reading or importing an existing resource (id ${args.id}) is not realized`);
            const reg = this.registrationOf(type, name);
            const inputs = (await describeAssets(unwrapSecrets(raw))) as Inputs;
            const base = {
                type,
                name,
                urn: reg?.urn ?? "",
                parent: reg?.parent ?? "",
                dependencies: reg?.dependencies ?? [],
                provider: args.provider ?? "",
                options: {
                    deleteBeforeReplace: reg?.deleteBeforeReplace ?? false,
                    retainOnDelete: reg?.retainOnDelete ?? false,
                    protect: reg?.protect ?? false,
                    ignoreChanges: reg?.ignoreChanges ?? [],
                    replaceOnChanges: reg?.replaceOnChanges ?? [],
                    additionalSecretOutputs: reg?.additionalSecretOutputs ?? [],
                },
            };
            const r = await this.realize(base, inputs);
            r.seq = this.records.length;
            this.records.push(r);
            return { id: r.id, state: this.stateOf(r, raw) };
        } catch (e) {
            const error = e instanceof Error ? e : new Error(String(e));
            this.failures.push({ type, name, error });
            this.log(`FAILED ${type}::${name}: ${error.message}`);
            for (const w of this.failureWaiters.splice(0)) w();
            throw error;
        }
    }

    /** The state handed back: inputs (secret ones stay secret) overlaid with the outputs. */
    private stateOf(r: RealizedResource, raw: Record<string, unknown>): Record<string, unknown> {
        const secret = new Set([...r.secretOutputs, ...r.options.additionalSecretOutputs, ...(PROVIDER_SECRETS[r.type] ?? [])]);
        const state: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(raw)) state[k] = containsSecret(v) ? pulumi.secret(unwrapSecrets(v)) : v;
        for (const [k, v] of Object.entries(r.outputs)) {
            if (v === undefined) continue;
            state[k] = secret.has(k) || containsSecret(raw[k]) ? pulumi.secret(v) : v;
        }
        for (const k of secret) {
            if (k in state && !pulumi.Output.isInstance(state[k])) state[k] = pulumi.secret(k in r.outputs ? r.outputs[k] : unwrapSecrets(raw[k]));
        }
        return state;
    }

    private async realize(base: Omit<RealizedResource, "id" | "seq" | "inputs" | "outputs" | "secretOutputs">, inputs: Inputs): Promise<RealizedResource> {
        const { type } = base;
        if (type.startsWith("pulumi:providers:")) return this.provider(base, inputs);
        const docker = type.startsWith("docker:") ? await this.dockerOf(base.provider) : undefined;
        const c = await this.create(base, inputs, docker);
        return { ...base, ...c, inputs, docker, seq: 0, secretOutputs: c.secretOutputs ?? [] };
    }

    private async provider(base: Omit<RealizedResource, "id" | "seq" | "inputs" | "outputs" | "secretOutputs">, inputs: Inputs): Promise<RealizedResource> {
        const id = crypto.randomUUID();
        let docker: dockerR.DockerEndpoint | undefined;
        if (base.type === "pulumi:providers:docker") {
            docker = dockerR.endpointOf(inputs.host ?? process.env.DOCKER_HOST, dockerR.providerInput<string[]>(inputs.sshOpts, []));
            this.providers.set(id, { endpoint: docker, check: dockerR.providerInput<boolean>(inputs.disableDockerDaemonCheck, false) !== true });
        } else this.providers.set(id, { check: false });
        return { ...base, id, inputs, outputs: {}, secretOutputs: [], docker, seq: 0 };
    }

    /** The docker engine of a provider reference (default provider: $DOCKER_HOST), pinged once. */
    private async dockerOf(ref: string): Promise<dockerR.DockerEndpoint> {
        const id = ref ? ref.slice(ref.lastIndexOf("::") + 2) : "";
        let p = this.providers.get(id);
        if (!p) {
            if (ref) throw new Error(`harness: unknown provider ${ref}`);
            p = { endpoint: dockerR.defaultEndpoint(), check: true };
            this.providers.set("", p);
        }
        if (p.check) p.ping ??= dockerR.ping(p.endpoint!);
        await p.ping;
        return p.endpoint!;
    }

    private async create(
        base: Omit<RealizedResource, "id" | "seq" | "inputs" | "outputs" | "secretOutputs">,
        inputs: Inputs,
        docker?: dockerR.DockerEndpoint,
    ): Promise<Created> {
        const { type, name } = base;
        this.log(`create ${type}::${name}`);
        const offline = OFFLINE_REALIZERS[type];
        if (offline) return offline(inputs);
        const dopts = { allowPull: this.opts.allowPull, log: this.log };
        switch (type) {
            case T.image:
                return dockerR.remoteImage(docker!, inputs, dopts);
            case T.volume:
                return dockerR.volume(docker!, inputs.name ?? dockerR.autoName(name), inputs);
            case T.network:
                return dockerR.network(docker!, inputs.name ?? dockerR.autoName(name), inputs);
            case T.container: {
                let partial: string | undefined;
                try {
                    return await dockerR.container(docker!, inputs.name ?? dockerR.autoName(name), inputs, { ...dopts, onCreated: (id) => (partial = id) });
                } catch (e) {
                    // The bridge keeps what was created, with the error: destroy deletes it.
                    if (partial) {
                        this.records.push({
                            ...base,
                            id: partial,
                            seq: this.records.length,
                            inputs,
                            outputs: {},
                            secretOutputs: [],
                            docker,
                            initError: (e as Error).message,
                        });
                    }
                    throw e;
                }
            }
            case T.remoteCommand:
            case T.localCommand: {
                const outputs = inputs.create === undefined ? { stdout: "", stderr: "" } : await this.runCommand(type, inputs, inputs.create);
                return { id: `${name}${hex(8)}`, outputs: { ...outputs, ...(type === T.localCommand ? this.localArtifacts(inputs) : {}) } };
            }
            case T.copy:
                await this.copy(inputs);
                return { id: hex(8), outputs: {} };
            default:
                throw new Error(`harness: ${type} is not realized`);
        }
    }

    private async copy(inputs: Inputs): Promise<void> {
        await copyToRemote(inputs.connection as Connection, inputs.source, String(inputs.remotePath), this.log, this.opts.commandTimeoutMs);
    }

    private localOptions(inputs: Inputs) {
        return {
            interpreter: inputs.interpreter,
            dir: inputs.dir,
            environment: inputs.environment,
            stdin: inputs.stdin,
            addPreviousOutputInEnv: inputs.addPreviousOutputInEnv,
            logging: inputs.logging,
        };
    }

    /** local.Command's `assets` / `archive` outputs from `assetPaths` / `archivePaths`. */
    private localArtifacts(inputs: Inputs): Record<string, unknown> {
        const dir = inputs.dir ?? process.cwd();
        const out: Record<string, unknown> = {};
        if (inputs.assetPaths?.length)
            out.assets = Object.fromEntries(globFiles(dir, inputs.assetPaths).map((f) => [f, new pulumi.asset.FileAsset(path.join(dir, f))]));
        if (inputs.archivePaths?.length) {
            out.archive = new pulumi.asset.AssetArchive(
                Object.fromEntries(globFiles(dir, inputs.archivePaths).map((f) => [f, new pulumi.asset.FileAsset(path.join(dir, f))])),
            );
        }
        return out;
    }

    private async runCommand(type: string, inputs: Inputs, command: string, previous?: RunResult): Promise<RunResult> {
        if (type === T.localCommand) return runLocal(command, { ...this.localOptions(inputs), previous, timeoutMs: this.opts.commandTimeoutMs, log: this.log });
        return runCommandResource(inputs, command, { previous, timeoutMs: this.opts.commandTimeoutMs, log: this.log });
    }

    /** One delete with the provider's semantics (tls, random, providers, CopyToRemote: nothing to do). */
    private async deleteOne(r: RealizedResource): Promise<void> {
        if (this.deleted.has(r)) return;
        if (this.retained(r)) {
            this.log(`retain ${r.type}::${r.name}`);
            this.deleted.add(r);
            return;
        }
        this.log(`delete ${r.type}::${r.name}`);
        const previous = { stdout: String(r.outputs.stdout ?? ""), stderr: String(r.outputs.stderr ?? "") };
        switch (r.type) {
            case T.container:
                await dockerR.deleteContainer(r.docker!, r.id, r.inputs);
                break;
            case T.image:
                await dockerR.deleteRemoteImage(r.docker!, r.inputs);
                break;
            case T.volume:
                await dockerR.deleteVolume(r.docker!, r.id);
                break;
            case T.network:
                await dockerR.deleteNetwork(r.docker!, r.id);
                break;
            case T.remoteCommand:
            case T.localCommand:
                // The stored delete, with the stored (old) connection, environment and stdin, and the
                // last stdout/stderr as PULUMI_COMMAND_STDOUT/ERR.
                if (r.inputs.delete !== undefined) await this.runCommand(r.type, r.inputs, r.inputs.delete, previous);
                break;
        }
        this.deleted.add(r);
    }
}
