/**
 * Which provider plugins the engine tests load: the real ones wherever they have been built
 * (`npm run providers -- <source folders>`, scripts/providers.sh), the stand-ins in providers/
 * elsewhere. Run as a script, it prints the choice as one line (scripts/test.sh does, for the
 * summary).
 *
 * PRIVATE_REGISTRY_PROVIDERS:
 *   unset       real plugins from the cache where present, stand-ins for the rest;
 *   stand-ins   the stand-ins for all four;
 *   real        the real plugins for all four, or an error naming what is missing;
 *   <folder>    real plugins from that folder (`pulumi-resource-<name>` in it, or the cache's
 *               `<name>-<version>-<commit>/` layout), stand-ins for the rest.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { findBinary, providersCache } from "../../scripts/plugins";
import { PLUGINS } from "../../stand-ins/plugins/plugin";

/** One plugin as the engine tests load it. */
export interface PluginChoice {
    name: string;
    /** The version the SDK asks for, which the plugin is installed as. */
    version: string;
    kind: "real" | "stand-in";
    /** The real plugin's binary. */
    binary?: string;
    /** The real plugin's source commits, from its provenance.json. */
    sources?: string;
}

function sourcesOf(binary: string): string | undefined {
    try {
        const p = JSON.parse(fs.readFileSync(path.join(path.dirname(binary), "provenance.json"), "utf8")) as {
            sources: { repository: string; commit: string }[];
        };
        return p.sources.map((s) => `${s.repository}@${s.commit.slice(0, 12)}`).join(" + ");
    } catch {
        return undefined;
    }
}

/** The plugins to load, per PRIVATE_REGISTRY_PROVIDERS (see the file's header). */
export function choosePlugins(env: NodeJS.ProcessEnv = process.env): PluginChoice[] {
    const mode = env.PRIVATE_REGISTRY_PROVIDERS ?? "";
    const dir = mode === "" || mode === "real" ? providersCache() : mode;
    const choices = PLUGINS.map((p): PluginChoice => {
        const binary = mode === "stand-ins" ? undefined : findBinary(dir, p.name, p.version);
        return binary ? { ...p, kind: "real", binary, sources: sourcesOf(binary) } : { ...p, kind: "stand-in" };
    });
    const missing = choices.filter((c) => c.kind === "stand-in").map((c) => `${c.name} ${c.version}`);
    if (mode === "real" && missing.length > 0) {
        throw new Error(
            `PRIVATE_REGISTRY_PROVIDERS=real, but ${dir} has no build of ${missing.join(", ")}: run \`npm run providers -- <source folders>\` (docs/engine.md)`,
        );
    }
    return choices;
}

/** `providers: docker=real tls=real random=stand-in command=real`. */
export function describePlugins(choices: PluginChoice[]): string {
    return `providers: ${choices.map((c) => `${c.name}=${c.kind}`).join(" ")}`;
}

if (require.main === module) {
    const choices = choosePlugins();
    console.log(describePlugins(choices));
    if (process.argv.includes("--verbose"))
        for (const c of choices) if (c.binary) console.log(`  ${c.name}: ${c.binary} (${c.sources ?? "no provenance.json"})`);
}
