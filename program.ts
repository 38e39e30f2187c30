/**
 * The whole program: settings from stack config, then one PrivateRegistry. `index.ts` exports
 * what this returns as stack outputs; tests call it under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { PrivateRegistry, type PrivateRegistryArgs } from "./components";
import { SettingsError } from "./settings";
import { loadSettings } from "./settings/stackConfig";
import type { Settings } from "./settings/types";

/**
 * A bad config, as the engine should show it: the message alone, not a stack trace. The SDK prints
 * a `pulumi.RunError` that way, recognising one by its `__pulumiRunError` marker (`RunError.isInstance`)
 * rather than by its class; an error has one class, and callers and tests match this one as a
 * SettingsError.
 */
class SettingsRunError extends SettingsError {
    readonly __pulumiRunError = true;
}

/** {@link loadSettings}, a bad config thrown as a {@link SettingsRunError}. */
function settingsFromConfig(): Settings {
    try {
        return loadSettings();
    } catch (e) {
        if (e instanceof SettingsError) throw new SettingsRunError(e.problems);
        throw e;
    }
}

/** The stack outputs. */
export interface StackOutputs {
    endpoint: pulumi.Output<string>;
    endpoints: pulumi.Output<string[]>;
    caCertPem: pulumi.Output<string>;
    usernames: pulumi.Output<string[]>;
    /** Secret. */
    passwords: pulumi.Output<Record<string, string>>;
    loginCommands: pulumi.Output<Record<string, string>>;
    clientStatus: pulumi.Output<Record<string, string>>;
    containerName: pulumi.Output<string>;
    imported: pulumi.Output<Record<string, string>>;
    replicaAddresses: pulumi.Output<Record<string, string>>;
}

/** The component's arguments from the settings: every value as read, secrets still `Secret`s (the component wraps them). */
function argsOf(settings: Settings): PrivateRegistryArgs {
    const { warnings: _, ...args } = settings;
    return args;
}

/** Reads the config (failing before any resource on a bad value) and declares the registry. */
export function main(): StackOutputs {
    const settings = settingsFromConfig();
    for (const warning of settings.warnings) pulumi.log.warn(warning);
    const registry = new PrivateRegistry("registry", argsOf(settings));
    return {
        endpoint: registry.endpoint,
        endpoints: registry.endpoints,
        caCertPem: registry.caCertPem,
        usernames: registry.usernames,
        passwords: registry.passwords,
        loginCommands: registry.loginCommands,
        clientStatus: registry.clientStatus,
        containerName: registry.containerName,
        imported: registry.imported,
        replicaAddresses: registry.replicaAddresses,
    };
}
