/**
 * `npm run preview|up|refresh|destroy [-- --diff] [--replace <urn>]`: the program on a stack through
 * the Pulumi engine, with a local file state backend, so no account is needed; `npm run pulumi --
 * <args>` runs any other CLI command on the same stack, backend and passphrase. The CLI is the one
 * `scripts/engine.sh` prints (PATH, the npm package's cache, or a build from the Go module proxy);
 * the program runs inline (Automation API), so the CLI needs no language plugin of its own.
 * STACK picks the stack (default dev); PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) are
 * honoured; the dev stack gets a fixed passphrase, as it holds only a generated local password.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { ignoreMonitorTerminating } from "./monitorTerminating";
import { recoverInterrupted } from "./recover";

const root = path.resolve(__dirname, "..");
const OPS = ["preview", "up", "refresh", "destroy"] as const;
type Op = (typeof OPS)[number];

/** A problem the user fixes (a missing passphrase, no CLI): one line, no stack trace. */
export class UserError extends Error {}

/** The stack, the CLI's directory, and the backend, passphrase and PATH every command gets. */
function environment(): { stackName: string; binDir: string; env: Record<string, string> } {
    const stackName = process.env.STACK ?? "dev";
    const env: Record<string, string> = {};
    if (!process.env.PULUMI_BACKEND_URL) {
        fs.mkdirSync(path.join(root, ".pulumi-state"), { recursive: true });
        env.PULUMI_BACKEND_URL = `file://${path.join(root, ".pulumi-state")}`;
    }
    if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        if (stackName !== "dev") throw new UserError(`set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for stack '${stackName}'`);
        env.PULUMI_CONFIG_PASSPHRASE = "private-registry-dev";
    }
    let binDir: string;
    try {
        binDir = execFileSync("bash", [path.join(root, "scripts", "engine.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    } catch {
        throw new UserError("no Pulumi CLI to run: the engine: lines above say what was tried and what to do");
    }
    // First on PATH, so that whatever runs `pulumi` (the Automation API, the CLI's own plugin
    // lookup) gets this one, wherever it lives.
    env.PATH = `${binDir}${path.delimiter}${process.env.PATH ?? ""}`;
    return { stackName, binDir, env };
}

/** What `npm run <op> -- …` takes: `--diff`, and `--replace <urn>` (repeatable) for preview and up. */
function opOptions(op: Op, args: string[]): { diff: boolean; replace: string[] } {
    try {
        const { values } = parseArgs({
            args,
            options: { diff: { type: "boolean", default: false }, replace: { type: "string", multiple: true, default: [] } },
        });
        if (values.replace.length > 0 && op !== "preview" && op !== "up") throw new Error("--replace applies to preview and up");
        return values;
    } catch (e) {
        throw new UserError(`${(e as Error).message.split(". ")[0]} (usage: npm run ${op} -- [--diff] [--replace <urn>]…)`);
    }
}

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

async function run(op: Op, args: string[]): Promise<void> {
    const { diff, replace } = opOptions(op, args);
    const stack = await openStack();
    const backend = process.env.PULUMI_BACKEND_URL ?? `file://${path.join(root, ".pulumi-state")}`;
    for (const line of recoverInterrupted(backend, "private-registry", stack.name)) console.error(line);
    const common = { onOutput: (s: string) => process.stdout.write(s), color: "auto" as const };
    switch (op) {
        case "preview":
            await stack.preview({ ...common, diff, replace });
            break;
        case "up":
            await stack.up({ ...common, diff, replace });
            break;
        case "refresh":
            // The state against what exists; running the program would only add late registrations.
            await stack.refresh({ ...common, runProgram: false });
            break;
        case "destroy":
            await stack.destroy(common);
            break;
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

function cli(args: string[]): never {
    const { stackName, binDir, env } = environment();
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
        console.error(`usage: npm run <${OPS.join("|")}> [-- --diff] [--replace <urn>], or npm run pulumi -- <pulumi arguments>`);
        process.exit(2);
    } else {
        run(op as Op, rest).catch((e) => fail(e, op));
    }
}
