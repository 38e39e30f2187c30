/**
 * `npm run preview|up|refresh|destroy [-- --diff]`: the program on a stack through the Pulumi
 * engine (and `npm run pulumi -- <args>` for any other CLI command on that stack), with a local file state backend, so no account is needed. The CLI is the one
 * `scripts/engine.sh` finds (PATH, the npm package's cache, or a build from the Go module proxy);
 * the program runs inline (Automation API), so the CLI needs no language plugin of its own.
 * STACK picks the stack (default dev); PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) are
 * honoured; the dev stack gets a fixed passphrase, as it holds only a generated local password.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";

const root = path.resolve(__dirname, "..");
const OPS = ["preview", "up", "refresh", "destroy"] as const;
type Op = (typeof OPS)[number];

/** The stack, the CLI's directory, and the backend and passphrase settings every command gets. */
function environment(): { stackName: string; binDir: string; env: Record<string, string> } {
    const stackName = process.env.STACK ?? "dev";
    const env: Record<string, string> = {};
    if (!process.env.PULUMI_BACKEND_URL) {
        fs.mkdirSync(path.join(root, ".pulumi-state"), { recursive: true });
        env.PULUMI_BACKEND_URL = `file://${path.join(root, ".pulumi-state")}`;
    }
    if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        if (stackName !== "dev") throw new Error(`Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for stack '${stackName}'.`);
        env.PULUMI_CONFIG_PASSPHRASE = "private-registry-dev";
    }
    const binDir = execFileSync("bash", [path.join(root, "scripts", "engine.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    return { stackName, binDir, env };
}

async function run(op: Op, args: string[]): Promise<void> {
    const { stackName, binDir, env } = environment();
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(binDir), skipVersionCheck: true });
    const { main } = await import("../program");
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: "private-registry", program: async () => ({ ...main() }) },
        { workDir: root, pulumiCommand, secretsProvider: "passphrase", envVars: env },
    );
    const common = { onOutput: (s: string) => process.stdout.write(s), color: "auto" as const };
    const diff = args.includes("--diff");
    switch (op) {
        case "preview":
            await stack.preview({ ...common, diff });
            break;
        case "up":
            await stack.up({ ...common, diff });
            break;
        case "refresh":
            await stack.refresh(common);
            break;
        case "destroy":
            await stack.destroy(common);
            break;
    }
}

const [op, ...rest] = process.argv.slice(2);
if (op === "cli") {
    // `npm run pulumi -- <args>`: the same CLI, backend and passphrase, for anything else
    // (`stack output passwords --show-secrets`, `config set`, `stack export`…).
    const { stackName, binDir, env } = environment();
    const r = spawnSync(path.join(binDir, "pulumi"), [...rest, ...(rest.includes("--stack") || rest.includes("-s") ? [] : ["--stack", stackName])], {
        cwd: root,
        stdio: "inherit",
        env: { ...process.env, ...env },
    });
    process.exit(r.status ?? 1);
}
if (!OPS.includes(op as Op)) {
    console.error(`usage: npm run <${OPS.join("|")}> [-- --diff]`);
    process.exit(2);
}
run(op as Op, rest).catch((e: Error) => {
    // The engine's own output has already been streamed; its summary error is the last line.
    console.error(`\n${op} failed: ${(e.message.split("\n").filter(Boolean).pop() ?? e.message).trim()}`);
    process.exit(1);
});
