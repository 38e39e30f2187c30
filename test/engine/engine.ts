/**
 * The real Pulumi engine for the tests: the CLI from `scripts/engine.sh` (found or built from the
 * Go module proxy), driven through the Automation API, a file backend and a passphrase in a
 * temporary directory, update checks and plugin downloads off. The project's own program runs as a
 * bare `pulumi up` runs it, a copy of the project folder through the nodejs language host, wherever
 * scripts/engine.sh put one beside the CLI; elsewhere, and for a test's own program, inline (the SDK
 * serves it to the engine from this process, so no language host is needed). The provider plugins
 * are the real ones where they have been built, the stand-ins in providers/ elsewhere (plugins.ts
 * chooses), installed with `pulumi plugin install --file`; each process says which, and each stack
 * how its program runs (docs/engine.md).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type ConfigMap, type EngineEvent, type OpType, type Stack } from "@pulumi/pulumi/automation";
import { ignoreMonitorTerminating } from "../../scripts/monitorTerminating";
import { choosePlugins, describePlugins, type PluginChoice } from "./plugins";
import { tsxCommand } from "../../stand-ins/plugins/pluginProcess";

const root = path.resolve(__dirname, "..", "..");

/** Where the engine and its plugins are. */
export interface Engine {
    /** Directory holding the `pulumi` executable. */
    binDir: string;
    /** PULUMI_HOME with the provider plugins installed. */
    home: string;
    version: string;
    /** Which plugin of each provider is installed: real or stand-in. */
    plugins: PluginChoice[];
    /** The nodejs language host beside the CLI, which runs the project's program, or undefined: inline. */
    languageHost?: string;
}

/**
 * The language host the project's program runs through: the one beside the CLI, unless
 * PRIVATE_REGISTRY_PROGRAM is `inline`; with `language-host`, its absence is an error.
 */
export function chooseLanguageHost(binDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const mode = env.PRIVATE_REGISTRY_PROGRAM ?? "";
    if (!["", "inline", "language-host"].includes(mode)) throw new Error(`PRIVATE_REGISTRY_PROGRAM=${mode}: use inline or language-host`);
    const host = path.join(binDir, "pulumi-language-nodejs");
    if (mode === "inline") return undefined;
    if (fs.existsSync(host)) return host;
    if (mode === "language-host")
        throw new Error(
            `PRIVATE_REGISTRY_PROGRAM=language-host, but ${binDir} has no pulumi-language-nodejs: npm run providers -- <a pulumi/pulumi copy> builds it, scripts/engine.sh puts it there (docs/engine.md)`,
        );
    return undefined;
}

let engine: Promise<Engine> | undefined;

/** The CLI on the path `scripts/engine.sh` chooses, and a PULUMI_HOME with the plugins, once per process. */
export function getEngine(log: (m: string) => void = () => undefined): Promise<Engine> {
    engine ??= (async () => {
        const binDir = execFileSync("bash", [path.join(root, "scripts", "engine.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            env: { ...process.env, PULUMI_ENGINE: process.env.PULUMI_ENGINE ?? "build" },
        }).trim();
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "pr-pulumi-home-"));
        // Each holds a copy of every plugin (about 250 MB): left behind, a few hundred test files had
        // filled the disk (50 GB of them under /tmp here).
        process.once("exit", () => fs.rmSync(home, { recursive: true, force: true }));
        const version = execFileSync(path.join(binDir, "pulumi"), ["version"], { encoding: "utf8" }).trim();
        const plugins = choosePlugins();
        const languageHost = chooseLanguageHost(binDir);
        installPlugins(binDir, home, plugins);
        log(`engine: pulumi ${version} from ${binDir}, PULUMI_HOME ${home}`);
        // Always said, whatever the caller logs: a result means nothing without it.
        console.log(`  [engine] ${describePlugins(plugins)}`);
        return { binDir, home, version, plugins, languageHost };
    })();
    return engine;
}

/**
 * Installs each chosen plugin at the version its SDK asks for, with `pulumi plugin install --file`:
 * a real plugin's binary, or a wrapper that starts the stand-in.
 */
export function installPlugins(binDir: string, home: string, plugins: PluginChoice[]): void {
    const wrappers = fs.mkdtempSync(path.join(os.tmpdir(), "pr-plugins-"));
    const record = process.env.PRIVATE_REGISTRY_RECORD;
    /** `pulumi-resource-<name>`: a script that runs a TypeScript entry of providers/ with `args` and the engine's own. */
    const wrapper = (name: string, entry: string, args: string[]) => {
        const file = path.join(wrappers, `pulumi-resource-${name}`);
        const argv = tsxCommand(path.join(root, "stand-ins", "plugins", entry), ...args).map((a) => `"${a}"`);
        fs.writeFileSync(file, `#!/bin/sh\nexec ${argv.join(" ")} "$@"\n`, { mode: 0o755 });
        return file;
    };
    for (const p of plugins) {
        const file = !p.binary
            ? wrapper(p.name, "plugin.ts", [p.name])
            : record
              ? // Re-recording the stand-ins' contract: the real plugin behind a recording proxy.
                wrapper(p.name, "record.ts", [p.name, p.binary, path.resolve(record)])
              : p.binary;
        execFileSync(path.join(binDir, "pulumi"), ["plugin", "install", "resource", p.name, p.version, "--file", file], {
            env: { ...process.env, ...engineEnv(home) },
            stdio: ["ignore", "ignore", "pipe"],
        });
    }
    // The install copied each wrapper into the home.
    fs.rmSync(wrappers, { recursive: true, force: true });
}

/** The environment every engine command gets: no update check, no plugin download, this PULUMI_HOME. */
export function engineEnv(home: string): Record<string, string> {
    return {
        PULUMI_HOME: home,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        PULUMI_CONFIG_PASSPHRASE: "private-registry-test",
    };
}

/** One stack of the project in its own temporary directory (project file, stack file, file backend). */
export interface TestStack {
    stack: Stack;
    dir: string;
    /** The state file of the file backend. */
    stateFile: string;
    engine: Engine;
    /** How the engine runs the program: through the language host, as a bare `pulumi up` does, or inline. */
    programMode: "language host" | "inline";
}

/** What the project folder holds besides its program: left out of a stack's copy of it. */
const NOT_PROGRAM = new Set(["node_modules", ".git", ".pulumi-state", ".render", "bin", "build", "test", "docs", ".ci"]);

/**
 * Copies the project folder's program (Pulumi.yaml, package.json, tsconfig.json, the sources, no
 * stack file) into `dir`, so that the language host runs it there and the CLI writes nothing into
 * the checkout.
 */
export function copyProject(dir: string): void {
    for (const entry of fs.readdirSync(root)) {
        if (NOT_PROGRAM.has(entry) || /^Pulumi\..+\.yaml$/.test(entry)) continue;
        fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
    }
}

/**
 * Creates the stack `name` from `Pulumi.<from>.yaml` (copied, so the repository's files are never
 * written), with `config` set on top. Without `program`, the project's own program: with
 * `viaLanguageHost`, the project folder (copied) through the language host where there is one, as a
 * bare `pulumi up` runs it; otherwise `main()` inline. A `program` (a test's own) runs inline.
 */
export async function createStack(opts: {
    from: string;
    name?: string;
    config?: ConfigMap;
    program?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
    viaLanguageHost?: boolean;
    log?: (m: string) => void;
}): Promise<TestStack> {
    ignoreMonitorTerminating();
    const eng = await getEngine(opts.log);
    const name = opts.name ?? opts.from;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pr-stack-${name}-`));
    const viaHost = !opts.program && opts.viaLanguageHost === true && eng.languageHost !== undefined;
    if (viaHost) copyProject(dir);
    else fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    // Without the shipped encryptionsalt: the tests' stacks have a passphrase of their own.
    const stackFile = fs.readFileSync(path.join(root, `Pulumi.${opts.from}.yaml`), "utf8").replace(/^encryptionsalt:.*\n/m, "");
    fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), stackFile);
    fs.mkdirSync(path.join(dir, "state"));
    // The language host and the dynamic provider host (`pulumi-resource-pulumi-nodejs`) resolve
    // @pulumi/pulumi and the providers' libraries from the stack's folder.
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(eng.binDir), skipVersionCheck: true });
    const workspace = {
        pulumiHome: eng.home,
        pulumiCommand,
        secretsProvider: "passphrase",
        envVars: { ...engineEnv(eng.home), PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}` },
    };
    let stack: Stack;
    if (viaHost) {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: dir }, workspace);
    } else {
        const program = opts.program ?? (await projectProgram());
        stack = await LocalWorkspace.createOrSelectStack(
            { stackName: name, projectName: "private-registry", program: async () => program() },
            { ...workspace, workDir: dir },
        );
    }
    const programMode = viaHost ? "language host" : "inline";
    const why = viaHost
        ? eng.languageHost
        : opts.program
          ? "the test's own program"
          : !opts.viaLanguageHost
            ? "as this test runs it"
            : process.env.PRIVATE_REGISTRY_PROGRAM === "inline"
              ? "PRIVATE_REGISTRY_PROGRAM=inline"
              : `no pulumi-language-nodejs beside ${eng.binDir}`;
    // Always said, as the plugins are: what ran the program is part of every result.
    console.log(`  [engine] stack ${name}: program ${programMode} (${why})`);
    if (opts.config) await stack.setAllConfig(opts.config);
    return { stack, dir, stateFile: path.join(dir, "state", ".pulumi", "stacks", "private-registry", `${name}.json`), engine: eng, programMode };
}

/** The project's program (`main()` of program.ts), to run inline. */
async function projectProgram(): Promise<() => Record<string, unknown>> {
    const { main } = await import("../../program");
    return () => ({ ...main() });
}

/** Sets `private-registry:<key>` on `stack`: a string as it is, anything else as JSON. */
export async function setStackConfig(stack: Stack, key: string, value: unknown, secret = false): Promise<void> {
    await stack.setConfig(`private-registry:${key}`, { value: typeof value === "string" ? value : JSON.stringify(value), secret });
}

/**
 * Runs `fn`, then puts the config `keys` of `stack` back as they were (removed if they were unset),
 * even when `fn` throws: one failed test must not leave its config to the tests after it.
 */
export async function withConfigRestored<T>(stack: Stack, keys: string[], fn: () => Promise<T>): Promise<T> {
    const all = await stack.getAllConfig();
    const saved = keys.map((k) => ({ key: `private-registry:${k}`, value: all[`private-registry:${k}`] }));
    try {
        return await fn();
    } finally {
        for (const { key, value } of saved) {
            if (value) await stack.setConfig(key, value);
            else await stack.removeConfig(key);
        }
    }
}

/**
 * Moves the stored `validityEndTime` of the certificate resources named `name` to `end`, as time
 * passing would (the tls provider renews at `up` once `now >= validityEndTime - earlyRenewalHours`):
 * the provider, not the test, then decides. Returns how many resources were moved.
 */
export async function ageCertificate(stack: Stack, name: string, end: Date): Promise<number> {
    const state = await stack.exportStack();
    let moved = 0;
    for (const r of (state.deployment?.resources ?? []) as { urn: string; outputs?: Record<string, unknown> }[]) {
        if (r.urn.endsWith(`::${name}`) && r.outputs && "validityEndTime" in r.outputs) {
            r.outputs.validityEndTime = end.toISOString().replace(/\.\d{3}Z$/, "Z");
            moved++;
        }
    }
    await stack.importStack(state);
    return moved;
}

/**
 * The e2e stack (Pulumi.e2e.yaml) with the program, for client hosts reached with `sshPrivateKeyPem`
 * (set as the secret `sshPrivateKey`), plus `config`. `viaLanguageHost` runs the project folder
 * through the language host where there is one (see {@link createStack}); otherwise inline.
 */
export async function createE2eStack(opts: {
    name?: string;
    sshPrivateKeyPem: string;
    config?: ConfigMap;
    log?: (m: string) => void;
    viaLanguageHost?: boolean;
}): Promise<TestStack> {
    return createStack({
        from: "e2e",
        name: opts.name,
        config: { "private-registry:sshPrivateKey": { value: opts.sshPrivateKeyPem, secret: true }, ...opts.config },
        viaLanguageHost: opts.viaLanguageHost,
        log: opts.log,
    });
}

/** What the engine did to each resource in one operation, from its events: `<type>::<name>` → op. */
export class StepLog {
    readonly steps: { urn: string; type: string; name: string; op: OpType }[] = [];
    readonly diagnostics: string[] = [];
    /** Info messages, such as a provider's progress lines. */
    readonly info: string[] = [];

    readonly onEvent = (e: EngineEvent): void => {
        const m = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
        if (m && e.resOutputsEvent) this.steps.push({ urn: m.urn, type: m.type, name: m.urn.slice(m.urn.lastIndexOf("::") + 2), op: m.op });
        if (e.diagnosticEvent && /error|warning/.test(e.diagnosticEvent.severity))
            this.diagnostics.push(`${e.diagnosticEvent.severity}: ${e.diagnosticEvent.message}`);
        if (e.diagnosticEvent?.severity === "info") this.info.push(e.diagnosticEvent.message.trim());
    };

    /**
     * Steps that changed something, as `op type::name`: not `same` or `read`, a replacement once
     * (as `replace`, without its `create-replacement` and `delete-replaced` halves), and not the
     * dynamic providers' host taking new config.
     */
    changes(): string[] {
        const quiet = new Set(["same", "read", "create-replacement", "delete-replaced"]);
        // The SDK hands the dynamic providers' host the stack's config as its own inputs, so any
        // config change "updates" that provider; it configures nothing, so it is not a change.
        const configOnly = (s: { op: OpType; type: string }) => s.op === "update" && s.type === "pulumi:providers:pulumi-nodejs";
        return this.steps.filter((s) => !quiet.has(s.op) && !configOnly(s)).map((s) => `${s.op} ${s.type}::${s.name}`);
    }
}
