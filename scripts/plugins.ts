/**
 * The provider plugins the program needs (docker, tls, random, command at the versions of their SDK
 * packages), where the engine finds them: the CLI downloads a missing one from get.pulumi.com, which
 * a machine without internet cannot reach. There, builds of ours from the providers' public source
 * (`npm run providers -- <folders>`, scripts/providers.sh) are installed into the engine's
 * PULUMI_HOME with the CLI's own `plugin install --file`; without them, an operation that fails on
 * a missing plugin is followed by the one command that fixes it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");

/** The resource plugins the program loads, at the versions of their SDK packages in node_modules. */
export function requiredPlugins(): { name: string; version: string }[] {
    return ["docker", "tls", "random", "command"].map((name) => ({
        name,
        version: (JSON.parse(fs.readFileSync(path.join(root, "node_modules", "@pulumi", name, "package.json"), "utf8")) as { version: string }).version,
    }));
}

/** The build cache of scripts/providers.sh. */
export function providersCache(): string {
    return (
        process.env.PRIVATE_REGISTRY_PROVIDERS_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "private-registry", "providers")
    );
}

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/** A real plugin's binary in `dir`: directly in it, or in the newest `<name>-<version>-*` build under it. */
export function findBinary(dir: string, name: string, version: string): string | undefined {
    const direct = path.join(dir, `pulumi-resource-${name}`);
    if (isExecutable(direct)) return direct;
    if (!fs.existsSync(dir)) return undefined;
    return fs
        .readdirSync(dir)
        .filter((d) => d.startsWith(`${name}-${version}-`))
        .map((d) => path.join(dir, d, `pulumi-resource-${name}`))
        .filter(isExecutable)
        .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}

/**
 * The engine's PULUMI_HOME, as the CLI resolves it: PULUMI_HOME when set and not empty, else
 * `.pulumi` in the home folder of the user's passwd entry, which the CLI reads instead of $HOME
 * (Go's os/user). Everything here (the wrapper, the plugin installer, `npm run setup`,
 * scripts/engine.sh) uses this one, so that a bare `pulumi` finds what they installed.
 */
export function pulumiHome(env: NodeJS.ProcessEnv = process.env): string {
    return env.PULUMI_HOME || path.join(os.userInfo().homedir || os.homedir(), ".pulumi");
}

/** Whether the resource plugin `name` at `version` is installed in the engine's PULUMI_HOME. */
export function isInstalled(env: NodeJS.ProcessEnv, name: string, version: string): boolean {
    return fs.existsSync(path.join(pulumiHome(env), "plugins", `resource-${name}-v${version}`, `pulumi-resource-${name}`));
}

/**
 * Installs each required plugin missing from PULUMI_HOME that a build of ours has, with `cli`'s
 * `plugin install resource <name> <version> --file <binary>`; returns a line per plugin installed.
 */
export function installBuiltPlugins(cli: string, env: NodeJS.ProcessEnv): string[] {
    const lines: string[] = [];
    for (const { name, version } of requiredPlugins()) {
        if (isInstalled(env, name, version)) continue;
        const binary = findBinary(providersCache(), name, version);
        if (!binary) continue;
        const r = spawnSync(cli, ["plugin", "install", "resource", name, version, "--file", binary], { env, encoding: "utf8" });
        lines.push(
            r.status === 0
                ? `installed the ${name} plugin v${version} from ${path.dirname(binary)} (built from its public source by npm run providers)`
                : `could not install the ${name} plugin v${version} from ${binary}: ${(r.stderr || r.stdout).trim()}`,
        );
    }
    return lines;
}

/** For an operation's error: what to do about a resource plugin the engine could not find, or undefined. */
export function missingPluginHint(message: string): string | undefined {
    const m =
        /no resource plugin 'pulumi-resource-(\w+)' found in the workspace at version v([\d.]+)|Could not automatically download and install resource plugin 'pulumi-resource-(\w+)'(?: at version v([\d.]+))?/.exec(
            message,
        );
    if (!m) return undefined;
    const name = m[1] ?? m[3];
    const version = m[2] ?? m[4] ?? requiredPlugins().find((p) => p.name === name)?.version ?? "<version>";
    return [
        `the engine has no ${name} plugin v${version} and could not download it (no internet to get.pulumi.com). Either:`,
        `  - where there is internet: npm run pulumi -- plugin install resource ${name} ${version}`,
        `  - without: build the four plugins from git copies of their public repositories, npm run providers -- <folders> (docs/engine.md, "The provider plugins"); the next npm run up installs them`,
    ].join("\n");
}
