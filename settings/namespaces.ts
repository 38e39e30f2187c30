/**
 * Config set under the wrong namespace: Pulumi hands the program every key of the stack, and one
 * under `private_registry:` or another project's name is silently ignored. Pure: `stackConfig.ts`
 * passes the full keys in and logs what comes out.
 */
import { TOP_KEYS } from "./index";
import { editDistance, NAMESPACE } from "./reader";

/** Namespaces of the providers this program uses, and Pulumi's own: their keys are theirs. */
const PROVIDER_NAMESPACES: ReadonlySet<string> = new Set(["docker", "tls", "random", "command", "pulumi"]);

/**
 * A warning for each full config key (`namespace:name`) that is probably meant for this program
 * but is not read: its namespace is close to ours (`private_registry`, `privateregistry`), or its
 * name is one of our top-level keys (`other-project:clients`). Each names the key and the
 * namespace to use.
 */
export function foreignKeyWarnings(fullKeys: readonly string[]): string[] {
    const ours: readonly string[] = TOP_KEYS;
    const warnings: string[] = [];
    for (const fullKey of fullKeys) {
        const colon = fullKey.indexOf(":");
        if (colon < 0) continue;
        const namespace = fullKey.slice(0, colon);
        const name = fullKey.slice(colon + 1);
        if (namespace === NAMESPACE || PROVIDER_NAMESPACES.has(namespace)) continue;
        const nearUs = Math.abs(namespace.length - NAMESPACE.length) <= 2 && editDistance(namespace.toLowerCase(), NAMESPACE) <= 2;
        if (!nearUs && !ours.includes(name)) continue;
        const shown = fullKey.length > 100 ? `${fullKey.slice(0, 97)}...` : fullKey;
        const meant = ours.includes(name) ? `${NAMESPACE}:${name}` : `a key under ${NAMESPACE}:`;
        warnings.push(`${shown} is not read: this program reads only the ${NAMESPACE} namespace (did you mean ${meant}?)`);
    }
    return warnings;
}
