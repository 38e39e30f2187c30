/**
 * Reads this stack's Pulumi config, once, into typed settings. The only module that touches
 * `pulumi.Config` (and {@link READ_ONLY_ENV}); components receive typed arguments.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseSettings, type RawConfig } from ".";
import { rawConfigFrom } from "./reader";
import { foreignKeyWarnings } from "./namespaces";
import type { Settings } from "./types";

// The SDK knows which keys were set with --secret but exports that only internally. We need it to
// refuse secrets given as plain config, which would be stored unencrypted in the stack file.
const runtimeConfig: { isConfigSecret?: (key: string) => boolean } = require("@pulumi/pulumi/runtime/config");

/**
 * `true` runs the program as if the stack had `registry.readOnly: true`: `npm run gc` sets it in
 * its own process for its read-only `up`, so maintenance never edits `Pulumi.<stack>.yaml` and a
 * run killed anywhere leaves nothing to put back (the next `up` is read-write again).
 */
export const READ_ONLY_ENV = "PRIVATE_REGISTRY_READ_ONLY";

/**
 * `raw` with `registry.readOnly` true, the rest of `registry` as it is. A `registry` value that is
 * not a JSON object is left for the parser to report.
 */
function withReadOnlyRegistry(raw: RawConfig): RawConfig {
    let registry: unknown;
    try {
        registry = raw.values.registry === undefined ? {} : JSON.parse(raw.values.registry);
    } catch {
        return raw;
    }
    if (registry === null || typeof registry !== "object" || Array.isArray(registry)) return raw;
    return { ...raw, values: { ...raw.values, registry: JSON.stringify({ ...registry, readOnly: true }) } };
}

/** The raw config of this project's namespace, with which keys were set as secrets. */
export function readRawConfig(): RawConfig {
    return rawConfigFrom(
        Object.entries(pulumi.runtime.allConfig()).map(([key, value]) => ({ key, value, secret: runtimeConfig.isConfigSecret?.(key) ?? false })),
    );
}

/**
 * Parses this stack's config; throws a `SettingsError` naming every bad key before anything is
 * created. Keys under another namespace that look meant for this program are warnings: in
 * `warnings` of the result, or logged here when the config is refused.
 */
export function loadSettings(): Settings {
    const foreign = foreignKeyWarnings(Object.keys(pulumi.runtime.allConfig()));
    const readOnly = process.env[READ_ONLY_ENV] === "true";
    const notes = readOnly
        ? [`registry.readOnly is true for this run (${READ_ONLY_ENV}=true: npm run gc's maintenance mode; the stack file is unchanged)`]
        : [];
    let settings: Settings;
    try {
        const raw = readRawConfig();
        settings = parseSettings(readOnly ? withReadOnlyRegistry(raw) : raw);
    } catch (e) {
        for (const w of [...notes, ...foreign]) pulumi.log.warn(w);
        throw e;
    }
    return { ...settings, warnings: [...notes, ...foreign, ...settings.warnings] };
}
