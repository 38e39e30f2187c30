/**
 * Mocks that create the real thing: one `Realizer` is one `pulumi up` of the program, realized on
 * this machine the way each provider realizes its resources (provider-fidelity.md):
 * - tls and random: real keys, certificates, passwords and bcrypt (scripts/offline/);
 * - docker: the engine API (docker.ts) of each explicit provider's `unix://` or `ssh://` host;
 * - command.remote.Command: real SSH (ssh.ts); remote.CopyToRemote: SFTP (copy.ts), never deleted;
 *   local.Command: `/bin/sh -c` (local.ts).
 *
 * The engine's part is emulated only as far as the scenarios need, and said here: with
 * `previous`, a resource whose type, name and inputs are unchanged keeps its state (no-op); a
 * changed one is replaced or updated per its provider (containers, images, volumes and tls/random
 * replace; a command's `triggers` replace, any other change re-runs `update` or else `create`);
 * resources no longer declared are deleted. `deleteBeforeReplace` and `retainOnDelete` come from
 * the registrations (scripts/monitorTap.ts). Not emulated: diffs of computed outputs, refresh,
 * ignoreChanges, aliases, protect.
 */
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { installMonitorTap, tappedRegistrations } from "../../scripts/monitorTap";
import { OFFLINE_REALIZERS } from "../../scripts/offline";
import { unwrapSecrets as unwrap } from "../../scripts/rpcSecrets";
import { copyToRemote } from "./copy";
import * as dockerR from "./docker";
import { runLocal } from "./local";
import { runRemote, type Connection } from "./ssh";

/** One realized resource: enough to compare it with the next run and to delete it. */
export interface RealizedResource {
    type: string;
    name: string;
    id: string;
    /** Inputs as declared, secrets unwrapped. */
    inputs: Record<string, any>;
    /** Provider outputs (merged over the inputs in the state given back). */
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    /** The Docker engine of the resource's provider, for docker resources. */
    socket?: dockerR.DockerEndpoint;
    /** What happened in this run. */
    action: "create" | "same" | "update" | "replace";
}

/** Options of a run. */
export interface RealizerOptions {
    /** The previous run on the same infrastructure: its state is this run's starting point. */
    previous?: Realizer;
    log?: (m: string) => void;
    /** Per command run. Defaults to 5 minutes. */
    commandTimeoutMs?: number;
}

/** Types whose every input forces a replacement (no in-place update worth emulating). */
const REPLACE_ON_CHANGE = /^(tls:|random:|docker:index\/(container|remoteImage|volume|network):)/;

/** Commands: a trigger change replaces, any other change updates (re-runs update, or create). */
const COMMANDS = /^command:(remote:(Command|CopyToRemote)|local:Command)$/;

export class Realizer {
    readonly records: RealizedResource[] = [];
    readonly failures: { type: string; name: string; error: Error }[] = [];
    private readonly inflight = new Set<Promise<unknown>>();
    private readonly previous: Map<string, RealizedResource>;
    private readonly log: (m: string) => void;
    private readonly providers = new Map<string, { host: string; sshOpts: string[] }>();
    private readonly onRejection = (e: unknown) => this.log(`unhandled: ${(e as Error)?.message ?? e}`);

    constructor(private readonly opts: RealizerOptions = {}) {
        this.log = opts.log ?? (() => undefined);
        this.previous = new Map((opts.previous?.records ?? []).map((r) => [`${r.type}::${r.name}`, r]));
        // A failed registration rejects every output of the resource; the test inspects
        // `failures` instead of letting Node exit on them.
        process.on("unhandledRejection", this.onRejection);
        installMonitorTap();
    }

    /** The mocks to pass to `pulumi.runtime.setMocks`. */
    mocks(): pulumi.runtime.Mocks {
        return {
            newResource: (args) => {
                const p = this.register(args.type, args.name, args.inputs, args.provider ?? "", args.custom !== false);
                this.inflight.add(p);
                p.catch(() => undefined).finally(() => this.inflight.delete(p));
                return p;
            },
            call: (args) => args.inputs,
        };
    }

    /** Waits until every registration has been realized; rejects with the first failure's text. */
    async settled(timeoutMs = 600_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            if (this.failures.length > 0) {
                const f = this.failures[0];
                throw new Error(`failed to register new resource ${f.name} [${f.type}]: ${f.error.message}`);
            }
            let before = -1;
            while (this.inflight.size > 0 || before !== this.records.length) {
                before = this.records.length;
                if (this.inflight.size > 0) await Promise.race([...this.inflight].map((p) => p.catch(() => undefined)));
                await new Promise((r) => setTimeout(r, 50));
                if (this.failures.length > 0) break;
                if (Date.now() > deadline) throw new Error(`resources still in flight after ${timeoutMs} ms`);
            }
            if (this.failures.length === 0) break;
        }
        // What the previous run had and this one no longer declares is deleted, newest first.
        const current = new Set(this.records.map((r) => `${r.type}::${r.name}`));
        for (const old of [...this.previous.values()].reverse()) {
            if (!current.has(`${old.type}::${old.name}`)) await this.deleteOne(old);
        }
    }

    /** `pulumi destroy`: every resource deleted in reverse creation order. */
    async destroy(): Promise<void> {
        for (const r of [...this.records].reverse()) await this.deleteOne(r);
        process.off("unhandledRejection", this.onRejection);
    }

    /** Stops listening for this run's rejections without deleting anything. */
    close(): void {
        process.off("unhandledRejection", this.onRejection);
    }

    private retained(r: RealizedResource): boolean {
        return tappedRegistrations().some((g) => g.type === r.type && g.name === r.name && g.retainOnDelete);
    }

    private deleteBeforeReplace(type: string, name: string): boolean {
        // The docker bridge sets DeleteBeforeReplace on containers (pulumi-docker resources.go).
        if (type === "docker:index/container:Container") return true;
        return tappedRegistrations().some((g) => g.type === type && g.name === name && g.deleteBeforeReplace);
    }

    private async register(type: string, name: string, rawInputs: Record<string, unknown>, provider: string, custom: boolean) {
        const inputs = unwrap(rawInputs);
        try {
            if (!custom) return { id: "", state: {} };
            const r = await this.realize(type, name, inputs, provider);
            this.records.push(r);
            const state: Record<string, unknown> = { ...rawInputs };
            for (const [k, v] of Object.entries(r.outputs)) state[k] = r.secretOutputs.includes(k) ? pulumi.secret(v) : v;
            return { id: r.id, state };
        } catch (e) {
            this.failures.push({ type, name, error: e as Error });
            this.log(`FAILED ${type}::${name}: ${(e as Error).message}`);
            throw e;
        }
    }

    private socketOf(provider: string): dockerR.DockerEndpoint {
        if (!provider) return (process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");
        const id = provider.split("::").pop()!;
        const p = this.providers.get(id);
        if (!p) throw new Error(`unknown provider ${provider}`);
        if (p.host.startsWith("unix://")) return p.host.slice("unix://".length);
        if (p.host.startsWith("ssh://")) return { ssh: p.host, sshOpts: p.sshOpts };
        throw new Error(`the harness reaches Docker hosts over unix:// and ssh:// only, got ${p.host}`);
    }

    private async realize(type: string, name: string, inputs: Record<string, any>, provider: string): Promise<RealizedResource> {
        const key = `${type}::${name}`;
        const prev = this.previous.get(key);
        if (type === "pulumi:providers:docker") {
            const id = `docker-provider-${name}`;
            // Non-string provider inputs arrive JSON-encoded (provider-fidelity.md §2.4).
            const sshOpts = typeof inputs.sshOpts === "string" ? (JSON.parse(inputs.sshOpts) as string[]) : (inputs.sshOpts ?? []);
            this.providers.set(id, { host: inputs.host ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock", sshOpts });
            return { type, name, id, inputs, outputs: {}, secretOutputs: [], action: prev ? "same" : "create" };
        }
        const socket = type.startsWith("docker:") ? this.socketOf(provider) : undefined;
        if (prev && isDeepStrictEqual(prev.inputs, inputs)) {
            return { ...prev, action: "same" };
        }
        const commandTriggersChanged = COMMANDS.test(type) && prev && !isDeepStrictEqual(prev.inputs.triggers, inputs.triggers);
        if (prev && (REPLACE_ON_CHANGE.test(type) || commandTriggersChanged)) {
            return this.replace(prev, inputs, socket);
        }
        if (prev && type === "command:remote:CopyToRemote") {
            // Re-copied only when the source or remotePath changed: a connection change alone copies nothing.
            if (!isDeepStrictEqual(prev.inputs.source, inputs.source) || prev.inputs.remotePath !== inputs.remotePath) {
                await copyToRemote(inputs.connection as Connection, inputs.source, inputs.remotePath, this.log);
            }
            return { ...prev, inputs, action: "update" };
        }
        if (prev && COMMANDS.test(type)) {
            this.log(`update ${key}`);
            const out = await this.runCommand(type, inputs, inputs.update ?? inputs.create);
            return { type, name, id: prev.id, inputs, outputs: out, secretOutputs: prev.secretOutputs, action: "update" };
        }
        return { ...(await this.create(type, name, inputs, socket)), action: "create" };
    }

    /** Replaces `prev`: delete first when the resource asks for it, else create first. */
    private async replace(prev: RealizedResource, inputs: Record<string, any>, socket?: dockerR.DockerEndpoint): Promise<RealizedResource> {
        this.log(`replace ${prev.type}::${prev.name}`);
        if (this.deleteBeforeReplace(prev.type, prev.name)) {
            await this.deleteOne(prev);
            return { ...(await this.create(prev.type, prev.name, inputs, socket)), action: "replace" };
        }
        const created = await this.create(prev.type, prev.name, inputs, socket);
        await this.deleteOne(prev);
        return { ...created, action: "replace" };
    }

    private async create(type: string, name: string, inputs: Record<string, any>, socket?: dockerR.DockerEndpoint): Promise<RealizedResource> {
        this.log(`create ${type}::${name}`);
        const base = { type, name, inputs, socket, action: "create" as const };
        const realizeTlsRandom = OFFLINE_REALIZERS[type];
        if (realizeTlsRandom) {
            const r = await realizeTlsRandom(inputs);
            return { ...base, id: r.id, outputs: r.outputs, secretOutputs: r.secretOutputs };
        }
        switch (type) {
            case "docker:index/remoteImage:RemoteImage": {
                const r = await dockerR.remoteImage(socket!, inputs);
                return { ...base, ...r, secretOutputs: [] };
            }
            case "docker:index/volume:Volume": {
                const r = await dockerR.volume(socket!, `${name}-${Math.random().toString(16).slice(2, 9)}`, inputs);
                return { ...base, ...r, secretOutputs: [] };
            }
            case "docker:index/container:Container": {
                const r = await dockerR.container(socket!, name, inputs, this.log);
                return { ...base, ...r, secretOutputs: [] };
            }
            case "docker:index/network:Network": {
                const r = await dockerR.network(socket!, `${name}-${Math.random().toString(16).slice(2, 9)}`, inputs);
                return { ...base, ...r, secretOutputs: [] };
            }
            case "command:remote:Command":
            case "command:local:Command": {
                const outputs = inputs.create ? await this.runCommand(type, inputs, inputs.create) : { stdout: "", stderr: "" };
                const secretOutputs = type === "command:remote:Command" ? ["connection"] : [];
                return { ...base, id: `${name}${Math.random().toString(16).slice(2, 10)}`, outputs, secretOutputs };
            }
            case "command:remote:CopyToRemote": {
                await copyToRemote(inputs.connection as Connection, inputs.source, inputs.remotePath, this.log);
                return { ...base, id: Math.random().toString(16).slice(2, 10), outputs: {}, secretOutputs: ["connection"] };
            }
            default:
                throw new Error(`the harness does not realize ${type}`);
        }
    }

    private async runCommand(type: string, inputs: Record<string, any>, command: string): Promise<{ stdout: string; stderr: string }> {
        if (type === "command:local:Command") {
            return runLocal(command, {
                interpreter: inputs.interpreter,
                dir: inputs.dir,
                environment: inputs.environment,
                stdin: inputs.stdin,
                timeoutMs: this.opts.commandTimeoutMs,
            });
        }
        return runRemote(inputs.connection as Connection, command, {
            stdin: inputs.stdin,
            environment: inputs.environment,
            timeoutMs: this.opts.commandTimeoutMs,
            log: this.log,
        });
    }

    private async deleteOne(r: RealizedResource): Promise<void> {
        if (this.retained(r)) {
            this.log(`retain ${r.type}::${r.name}`);
            return;
        }
        this.log(`delete ${r.type}::${r.name}`);
        switch (r.type) {
            case "docker:index/container:Container":
                return dockerR.deleteContainer(r.socket!, r.id, r.inputs);
            case "docker:index/remoteImage:RemoteImage":
                return dockerR.deleteRemoteImage(r.socket!, r.inputs);
            case "docker:index/volume:Volume":
                return dockerR.deleteVolume(r.socket!, r.id);
            case "docker:index/network:Network":
                return dockerR.deleteNetwork(r.socket!, r.id);
            case "command:local:Command":
                if (r.inputs.delete) {
                    await runLocal(r.inputs.delete, {
                        interpreter: r.inputs.interpreter,
                        dir: r.inputs.dir,
                        // Set directly for local commands, so they always arrive.
                        environment: { ...(r.inputs.environment ?? {}), PULUMI_COMMAND_STDOUT: String(r.outputs.stdout ?? ""), PULUMI_COMMAND_STDERR: String(r.outputs.stderr ?? "") },
                        stdin: r.inputs.stdin,
                    });
                }
                return;
            case "command:remote:Command":
                if (r.inputs.delete) {
                    // PULUMI_COMMAND_STDOUT/ERR go through SSH setenv, which Debian's sshd refuses:
                    // the provider only warns, and so does this.
                    if (r.outputs.stdout || r.outputs.stderr) this.log("warning: Unable to set 'PULUMI_COMMAND_STDOUT'");
                    await runRemote(r.inputs.connection as Connection, r.inputs.delete, {
                        stdin: r.inputs.stdin,
                        environment: r.inputs.environment,
                        timeoutMs: this.opts.commandTimeoutMs,
                        log: this.log,
                    });
                }
                return;
            default:
                return; // tls, random and providers live only in state.
        }
    }
}
