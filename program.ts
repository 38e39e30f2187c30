/**
 * The whole program: settings from stack config, then one PrivateRegistry. `index.ts` exports
 * what this returns as stack outputs; tests call it under mocks.
 */
import type * as pulumi from "@pulumi/pulumi";
import { PrivateRegistry } from "./components/privateRegistry";
import { loadSettings } from "./settings/stackConfig";

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
}

/** Reads the config (failing before any resource on a bad value) and declares the registry. */
export function main(): StackOutputs {
    const settings = loadSettings();
    const registry = new PrivateRegistry("registry", settings);
    return {
        endpoint: registry.endpoint,
        endpoints: registry.endpoints,
        caCertPem: registry.caCertPem,
        usernames: registry.usernames,
        passwords: registry.passwords,
        loginCommands: registry.loginCommands,
        clientStatus: registry.clientStatus,
        containerName: registry.containerName,
    };
}
