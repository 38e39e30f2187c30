/**
 * `npm run setup`: what a bare `pulumi up` in this folder needs, as a normal Pulumi install has it.
 * The CLI that scripts/engine.sh finds or builds, with the nodejs language host beside it (a release
 * ships one; a CLI built here gets the one `npm run providers` built); the provider plugins built
 * here installed into the CLI's PULUMI_HOME; the stack (STACK, default dev) created on the project's
 * backend (Pulumi.yaml: `.pulumi-state/`) and selected. What it did goes to stderr; stdout is the one
 * line that puts that CLI first on PATH.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { installBuiltPlugins, isInstalled, pulumiHome, requiredPlugins } from "./plugins";
import { DEV_PASSPHRASE, fail, UserError } from "./pulumi";

const root = path.resolve(__dirname, "..");

/** What `npm run setup` found and did. */
export interface SetupResult {
    /** The folder holding `pulumi`. */
    binDir: string;
    /** Whether the nodejs language host is beside the CLI, so that a bare `pulumi up` can run the program. */
    languageHost: boolean;
    /** One line per thing done or missing, for stderr. */
    report: string[];
}

/** Finds or makes the CLI, installs the plugins built here, creates and selects the stack. */
export function setup(env: NodeJS.ProcessEnv = process.env): SetupResult {
    const home = pulumiHome(env);
    const childEnv = { ...env, PULUMI_HOME: home };
    let binDir: string;
    try {
        binDir = execFileSync("bash", [path.join(root, "scripts", "engine.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            env: { ...childEnv, PULUMI_ENGINE_VERBOSE: "1" },
        }).trim();
    } catch {
        throw new UserError("no Pulumi CLI: the engine: lines above say what was tried and what to do");
    }
    const cli = path.join(binDir, "pulumi");
    const report: string[] = [`CLI: ${cli}; PULUMI_HOME: ${home}`];
    const languageHost = fs.existsSync(path.join(binDir, "pulumi-language-nodejs"));
    report.push(
        languageHost
            ? `language host: ${path.join(binDir, "pulumi-language-nodejs")} (bare pulumi up runs the program through it)`
            : "language host: none beside the CLI, so a bare pulumi up cannot run the program here: npm run up does (inline); npm run providers -- <a git copy of pulumi/pulumi> builds one (docs/engine.md)",
    );
    report.push(...installBuiltPlugins(cli, childEnv));
    for (const { name, version } of requiredPlugins()) {
        if (!isInstalled(childEnv, name, version))
            report.push(
                `plugin ${name} v${version}: not installed and not built here; the engine downloads it at the first up (needs internet), or npm run providers -- <folders> builds it`,
            );
    }
    const stack = env.STACK ?? "dev";
    const noPassphrase = env.PULUMI_CONFIG_PASSPHRASE === undefined && !env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (noPassphrase && stack !== "dev") {
        report.push(`stack ${stack}: not selected; set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and run npm run setup again`);
        return { binDir, languageHost, report };
    }
    const r = spawnSync(cli, ["stack", "select", "--create", stack], {
        cwd: root,
        encoding: "utf8",
        env: { ...childEnv, ...(noPassphrase ? { PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE } : {}) },
    });
    if (r.status !== 0) throw new UserError(`pulumi stack select --create ${stack} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
    report.push(`stack ${stack}: selected on ${env.PULUMI_BACKEND_URL ?? "the backend in Pulumi.yaml (.pulumi-state/)"}`);
    return { binDir, languageHost, report };
}

if (require.main === module) {
    try {
        const { binDir, languageHost, report } = setup();
        for (const line of report) console.error(`setup: ${line}`);
        if (languageHost) {
            console.error("setup: then, in this folder (the dev stack's passphrase; set your own for other stacks):");
            console.error(`setup:   export PULUMI_CONFIG_PASSPHRASE=${DEV_PASSPHRASE}; pulumi up`);
        } else {
            console.error("setup: then, in this folder (no language host: the wrapper runs the program inline, the dev passphrase set for you):");
            console.error("setup:   npm run up");
        }
        console.log(`export PATH="${binDir}:$PATH"`);
    } catch (e) {
        fail(e, "setup");
    }
}
