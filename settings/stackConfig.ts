/**
 * Reads this stack's Pulumi config, once, into typed settings. The only module that touches
 * `pulumi.Config`; components receive typed arguments.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseSettings, type RawConfig } from ".";
import { rawConfigFrom } from "./reader";
import { foreignKeyWarnings } from "./namespaces";
import type { Settings } from "./types";

// The SDK knows which keys were set with --secret but exports that only internally. We need it to
// refuse secrets given as plain config, which would be stored unencrypted in the stack file.
const runtimeConfig: { isConfigSecret?: (key: string) => boolean } = require("@pulumi/pulumi/runtime/config");

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
    let settings: Settings;
    try {
        settings = parseSettings(readRawConfig());
    } catch (e) {
        for (const w of foreign) pulumi.log.warn(w);
        throw e;
    }
    return { ...settings, warnings: [...foreign, ...settings.warnings] };
}
