/**
 * The registry-config rules that span several values (v2/v3 differences, pairs that go together,
 * unique names). They are written once, in the renderer's validator
 * (`components/registryConfig/validate.ts`); here the settings are turned into the model the
 * component renders (the same function, from the same arguments) and each problem is reported
 * under the key the model recorded for that part.
 */
import { registryConfigProblems } from "../components/registryConfig";
import { isAtOrBelow, type RegistryModelArgs, sourceOf, traceRegistryConfig, withHttpSecret } from "../components/registry/registryModel";
import type { Reader } from "./reader";

/**
 * Records the validator's problems with the registry config these settings render to. A key that
 * already has a problem (or lies under one that has) is not reported twice.
 */
export function checkRegistryConfig(r: Reader, args: RegistryModelArgs): void {
    const { draft, sources } = traceRegistryConfig(args);
    const reported = r.problems.map((p) => p.key);
    for (const { field, message } of registryConfigProblems(withHttpSecret(draft, "-"))) {
        const key = sourceOf(sources, field);
        const full = r.fullKey(key);
        if (reported.some((k) => isAtOrBelow(full, k))) continue;
        r.fail(key, message);
        reported.push(full);
    }
}
