/**
 * `npm run preview|up|refresh|destroy [-- <flags of pulumi preview|up|refresh|destroy>]`: the
 * program on a stack through the Pulumi engine, with a local file state backend, so no account is
 * needed; as the CLI, up, refresh and destroy show the plan and ask in a terminal, and need --yes
 * without one; `npm run pulumi --
 * <args>` runs any other CLI command on the same stack, backend and passphrase. The CLI is the one
 * `scripts/engine.sh` prints (PATH, the npm package's cache, or a build from the Go module proxy);
 * the program runs inline (Automation API), so the CLI needs no language plugin of its own.
 * STACK picks the stack (default dev); PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) are
 * honoured; the dev stack gets a fixed passphrase, as it holds only a generated local password.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { ignoreMonitorTerminating } from "./monitorTerminating";
import { parseSettings, SettingsError } from "../settings";
import { rawConfigFrom } from "../settings/reader";
import { keptVolumeLines, retainedVolumes } from "./keptVolumes";
import { installBuiltPlugins, missingPluginHint, pulumiHome } from "./plugins";
import { recoverInterrupted } from "./recover";
import { unhealthyLogLines } from "./unhealthyLogs";
import type { Settings } from "../settings/types";

const root = path.resolve(__dirname, "..");
const OPS = ["preview", "up", "refresh", "destroy"] as const;
type Op = (typeof OPS)[number];

/** The state backend when PULUMI_BACKEND_URL is unset: the folder Pulumi.yaml's `backend.url` names for a bare `pulumi` here. */
export const DEFAULT_BACKEND = `file://${path.join(root, ".pulumi-state")}`;

/** The dev stack's passphrase: its state holds only a generated local password. Any other stack needs the user's own. */
export const DEV_PASSPHRASE = "private-registry-dev";

/** A problem the user fixes (a missing passphrase, no CLI): one line, no stack trace. */
export class UserError extends Error {}

/** The stack, the CLI's directory, and the backend, passphrase and PATH every command gets. */
let found: { stackName: string; binDir: string; env: Record<string, string> } | undefined;
function environment(): { stackName: string; binDir: string; env: Record<string, string> } {
    found ??= findEnvironment();
    return found;
}

function findEnvironment(): { stackName: string; binDir: string; env: Record<string, string> } {
    const stackName = process.env.STACK ?? "dev";
    const env: Record<string, string> = { PULUMI_HOME: pulumiHome() };
    if (!process.env.PULUMI_BACKEND_URL) {
        fs.mkdirSync(new URL(DEFAULT_BACKEND).pathname, { recursive: true });
        env.PULUMI_BACKEND_URL = DEFAULT_BACKEND;
    }
    if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        if (stackName !== "dev") throw new UserError(`set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for stack '${stackName}'`);
        env.PULUMI_CONFIG_PASSPHRASE = DEV_PASSPHRASE;
    }
    let binDir: string;
    try {
        binDir = execFileSync("bash", [path.join(root, "scripts", "engine.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            env: { ...process.env, PULUMI_HOME: env.PULUMI_HOME },
        }).trim();
    } catch {
        throw new UserError("no Pulumi CLI to run: the engine: lines above say what was tried and what to do");
    }
    // First on PATH, so that whatever runs `pulumi` (the Automation API, the CLI's own plugin
    // lookup) gets this one, wherever it lives.
    env.PATH = `${binDir}${path.delimiter}${process.env.PATH ?? ""}`;
    return { stackName, binDir, env };
}

/**
 * The flags of `pulumi <op>` the wrapper takes, each with the operations it applies to (as the
 * CLI's own), passed on through the Automation API. Anything else is refused naming the flag.
 */
const FLAGS = {
    yes: { type: "boolean", short: "y", ops: ["up", "refresh", "destroy"] },
    "skip-preview": { type: "boolean", short: "f", ops: ["up", "refresh", "destroy"] },
    diff: { type: "boolean", ops: ["preview", "up", "refresh", "destroy"] },
    replace: { type: "string", multiple: true, ops: ["preview", "up"] },
    target: { type: "string", multiple: true, short: "t", ops: ["preview", "up", "refresh", "destroy"] },
    "target-dependents": { type: "boolean", ops: ["preview", "up", "refresh", "destroy"] },
    exclude: { type: "string", multiple: true, ops: ["preview", "up", "refresh", "destroy"] },
    "exclude-dependents": { type: "boolean", ops: ["preview", "up", "refresh", "destroy"] },
    refresh: { type: "boolean", short: "r", ops: ["preview", "up", "destroy"] },
    "expect-no-changes": { type: "boolean", ops: ["preview", "up", "refresh"] },
    parallel: { type: "string", short: "p", ops: ["preview", "up", "refresh", "destroy"] },
    message: { type: "string", short: "m", ops: ["preview", "up", "refresh", "destroy"] },
    "continue-on-error": { type: "boolean", ops: ["up", "destroy"] },
} as const satisfies Record<string, { type: "boolean" | "string"; short?: string; multiple?: boolean; ops: readonly Op[] }>;

/** What `npm run <op> -- <flags>` asked for. */
export interface OpOptions {
    yes: boolean;
    skipPreview: boolean;
    /** The Automation API's options for the operation. */
    api: {
        diff?: boolean;
        replace?: string[];
        target?: string[];
        targetDependents?: boolean;
        exclude?: string[];
        excludeDependents?: boolean;
        refresh?: boolean;
        expectNoChanges?: boolean;
        parallel?: number;
        message?: string;
        continueOnError?: boolean;
    };
}

/** Parses the flags of `npm run <op> -- …`, refusing one the CLI's `<op>` does not take or the wrapper cannot pass on. */
export function opOptions(op: Op, args: string[]): OpOptions {
    const options = Object.fromEntries(
        Object.entries(FLAGS).map(([k, f]) => [
            k,
            { type: f.type, ...("short" in f ? { short: f.short } : {}), ...("multiple" in f ? { multiple: true } : {}) },
        ]),
    );
    let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
    try {
        ({ values } = parseArgs({ args, options: options as NonNullable<ParseArgsConfig["options"]>, strict: true, allowPositionals: false }));
    } catch (e) {
        const flag = /'(-[^']+)'/.exec((e as Error).message)?.[1];
        throw new UserError(
            flag
                ? `${flag} is not a flag the wrapper passes on to pulumi ${op} (it takes ${flagList(op)}); for others: npm run pulumi -- ${op} ${flag} …`
                : `${(e as Error).message.split(". ")[0]} (usage: npm run ${op} -- [${flagList(op)}])`,
        );
    }
    for (const [k, v] of Object.entries(values)) {
        if (v !== undefined && !(FLAGS[k as keyof typeof FLAGS].ops as readonly Op[]).includes(op))
            throw new UserError(`--${k} does not apply to ${op} (pulumi ${op} does not take it)`);
    }
    const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
    if (parallel !== undefined && !(Number.isInteger(parallel) && parallel > 0))
        throw new UserError(`--parallel must be a positive integer, got ${values.parallel}`);
    const list = (k: string) => ((values[k] as string[] | undefined)?.length ? (values[k] as string[]) : undefined);
    const api: OpOptions["api"] = {
        diff: values.diff as boolean | undefined,
        replace: list("replace"),
        target: list("target"),
        targetDependents: values["target-dependents"] as boolean | undefined,
        exclude: list("exclude"),
        excludeDependents: values["exclude-dependents"] as boolean | undefined,
        refresh: values.refresh as boolean | undefined,
        expectNoChanges: values["expect-no-changes"] as boolean | undefined,
        parallel,
        message: values.message as string | undefined,
        continueOnError: values["continue-on-error"] as boolean | undefined,
    };
    return {
        yes: values.yes === true,
        skipPreview: values["skip-preview"] === true,
        api: Object.fromEntries(Object.entries(api).filter(([, v]) => v !== undefined)) as OpOptions["api"],
    };
}

const flagList = (op: Op) =>
    Object.entries(FLAGS)
        .filter(([, f]) => (f.ops as readonly Op[]).includes(op))
        .map(([k]) => `--${k}`)
        .join(", ");

/** The stack (STACK, default dev) with the program inline, on the backend and CLI every command uses. */
export async function openStack(): Promise<Stack> {
    ignoreMonitorTerminating();
    const { stackName, binDir, env } = environment();
    process.env.PATH = env.PATH;
    // PulumiCommand.get takes an installation root and runs `<root>/bin/pulumi`; a CLI elsewhere
    // (a release tarball's `pulumi/` folder on PATH) is found through PATH instead.
    const pulumiCommand = await PulumiCommand.get({ root: path.basename(binDir) === "bin" ? path.dirname(binDir) : undefined, skipVersionCheck: true });
    const { main } = await import("../program");
    return LocalWorkspace.createOrSelectStack(
        { stackName, projectName: "private-registry", program: async () => ({ ...main() }) },
        { workDir: root, pulumiCommand, secretsProvider: "passphrase", envVars: env },
    );
}

/**
 * The stack's config parsed as the program will parse it, before the engine starts: a bad value
 * is one error naming its key, printed once, with nothing run (through the engine, the SDK prints
 * a program's error twice).
 */
async function refuseBadConfig(stack: Stack): Promise<Settings> {
    const all = await stack.getAllConfig();
    const raw = rawConfigFrom(Object.entries(all).map(([key, v]) => ({ key, value: v.value, secret: v.secret === true })));
    try {
        return parseSettings(raw);
    } catch (e) {
        if (e instanceof SettingsError) throw new UserError(e.message);
        throw e;
    }
}

/** Asks on the terminal, as the CLI does before it changes anything; true for "yes". */
async function confirm(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    try {
        const answer = await rl.question(`${question} [yes/no] `);
        return /^y(es)?$/i.test(answer.trim());
    } finally {
        rl.close();
    }
}

async function run(op: Op, args: string[]): Promise<void> {
    const { yes, skipPreview, api } = opOptions(op, args);
    // As `pulumi up`: a plan and a question in a terminal; without one, --yes or nothing.
    if (op !== "preview" && !yes && !process.stdin.isTTY) {
        throw new UserError(`${op} changes the stack: without a terminal to ask on, add --yes (npm run ${op} -- --yes), as pulumi ${op} needs`);
    }
    const stack = await openStack();
    const settings = await refuseBadConfig(stack);
    for (const line of installBuiltPlugins(path.join(environment().binDir, "pulumi"), { ...process.env, ...environment().env })) console.error(line);
    const backend = process.env.PULUMI_BACKEND_URL ?? DEFAULT_BACKEND;
    for (const line of recoverInterrupted(backend, "private-registry", stack.name)) console.error(line);
    const common = { onOutput: (s: string) => process.stdout.write(s), color: "auto" as const };
    try {
        if (op === "preview") {
            await stack.preview({ ...common, ...api });
            return;
        }
        if (!yes) {
            if (!skipPreview) {
                if (op === "up") await stack.preview({ ...common, ...api });
                // The Automation API's preview of a destroy or refresh: the same operation, previewOnly.
                else if (op === "destroy") await stack.destroy({ ...common, ...api, previewOnly: true });
                else await stack.refresh({ ...common, ...api, runProgram: false, previewOnly: true });
            }
            const question = {
                up: "Do you want to perform this update?",
                refresh: "Do you want to perform this refresh?",
                destroy: "Do you want to perform this destroy?",
            }[op];
            if (!(await confirm(question))) {
                console.error("confirmation declined, not proceeding with the operation");
                process.exit(1);
            }
        }
        switch (op) {
            case "up":
                await stack.up({ ...common, ...api });
                break;
            case "refresh":
                // The state against what exists; running the program would only add late registrations.
                await stack.refresh({ ...common, ...api, runProgram: false });
                break;
            case "destroy": {
                const retained = retainedVolumes((await stack.exportStack()).deployment);
                try {
                    await stack.destroy({ ...common, ...api });
                } finally {
                    // Also after a failed destroy: a volume it let go is out of the state, and no later destroy would name it.
                    const after = retained.length === 0 ? undefined : await stack.exportStack().catch(() => undefined);
                    if (after) for (const line of keptVolumeLines(retained, after.deployment)) console.error(line);
                }
                break;
            }
        }
    } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        for (const block of unhealthyLogLines(message, settings)) console.error(block);
        const hint = missingPluginHint(message);
        if (hint) console.error(hint);
        throw e;
    }
}

/** CLI commands that refuse `--stack`. */
const NO_STACK_FLAG = new Set(["version", "login", "logout", "whoami", "plugin", "help", "new", "gen-completion", "completion", "org", "schema", "convert"]);
/** `stack` subcommands whose positional argument is the stack itself: `--stack` too is refused. */
const STACK_AS_ARGUMENT = new Set(["init", "new", "select", "rm", "remove"]);
/** Flags that take the next argument as their value, so that it is not read as a command word. */
const VALUE_FLAGS = new Set(["-C", "--cwd", "--color", "--secrets-provider", "--copy-config-from", "--teams", "--tracing", "--profiling", "--logflow"]);

/**
 * The arguments for `npm run pulumi -- <args>`: `--stack <STACK>` is added where the command takes
 * it and none is given (`stack init` with no name creates STACK).
 */
export function cliArgs(args: string[], stackName: string): string[] {
    if (args.some((a) => a === "--stack" || a === "-s" || a.startsWith("--stack=") || a.startsWith("-s="))) return args;
    const words = args.filter((a, i) => !a.startsWith("-") && !VALUE_FLAGS.has(args[i - 1] ?? ""));
    const [command, sub, argument] = words;
    if (command === undefined || NO_STACK_FLAG.has(command)) return args;
    if (command === "stack" && sub !== undefined && STACK_AS_ARGUMENT.has(sub) && argument !== undefined) return args;
    return [...args, "--stack", stackName];
}

/** The commands that run the program, which the CLI runs through its nodejs language host. */
const RUNS_PROGRAM = new Set(["up", "update", "preview", "pre", "refresh", "destroy", "down", "watch"]);

/** Why `npm run pulumi -- <args>` cannot run (a command that runs the program, and no language host beside the CLI or on PATH), or undefined. */
export function languageHostProblem(args: string[], binDir: string, pathVar = process.env.PATH ?? ""): string | undefined {
    const command = args.find((a) => !a.startsWith("-"));
    if (command === undefined || !RUNS_PROGRAM.has(command)) return undefined;
    const dirs = [binDir, ...pathVar.split(path.delimiter).filter(Boolean)];
    if (dirs.some((d) => fs.existsSync(path.join(d, "pulumi-language-nodejs")))) return undefined;
    const op = command === "update" ? "up" : command === "pre" ? "preview" : command === "down" ? "destroy" : command;
    return (
        `pulumi ${command} runs the program through the nodejs language host, and there is none beside ${path.join(binDir, "pulumi")} or on PATH. ` +
        `Run it inline instead: npm run ${OPS.includes(op as Op) ? op : "up"} -- ${args.filter((a) => a !== command).join(" ")}`.trimEnd() +
        " (or build the language host: npm run providers -- <a git copy of pulumi/pulumi>, then npm run setup; docs/engine.md)"
    );
}

function cli(args: string[]): never {
    const { stackName, binDir, env } = environment();
    const problem = languageHostProblem(args, binDir);
    if (problem) throw new UserError(problem);
    const r = spawnSync(path.join(binDir, "pulumi"), cliArgs(args, stackName), { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
    if (r.error) throw new UserError(`${path.join(binDir, "pulumi")}: ${r.error.message}`);
    process.exit(r.status ?? 1);
}

export function fail(e: unknown, what: string): never {
    if (e instanceof UserError) {
        console.error(`${what}: ${e.message}`);
        process.exit(1);
    }
    // The engine's own output has already been streamed; its summary error is the last line.
    const message = e instanceof Error ? e.message : String(e);
    console.error(`\n${what} failed: ${(message.split("\n").filter(Boolean).pop() ?? message).trim()}`);
    process.exit(1);
}

if (require.main === module) {
    const [op, ...rest] = process.argv.slice(2);
    if (op === "cli") {
        try {
            cli(rest);
        } catch (e) {
            fail(e, "pulumi");
        }
    } else if (!OPS.includes(op as Op)) {
        console.error(`usage: npm run <${OPS.join("|")}> [-- <flags of pulumi ${OPS.join("|")}>], or npm run pulumi -- <pulumi arguments>`);
        process.exit(2);
    } else {
        run(op as Op, rest).catch((e) => fail(e, op));
    }
}
