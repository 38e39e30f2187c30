/**
 * The registry-config rules that span several values (v2/v3 differences, pairs that go together,
 * unique names). They are written once, in the renderer's validator
 * (`components/registryConfig/validate.ts`); here the settings are turned into the model the
 * program would render and each problem is reported under the config key it came from.
 */
import { registryConfigProblems } from "../components/registryConfig";
import { registryConfigDraft, withHttpSecret } from "../components/registry/registryModel";
import type { Reader } from "./reader";
import type { Settings } from "../components/args";

/** Model field → config key, first match wins; `$n` are the pattern's groups. */
const KEY_OF_FIELD: [RegExp, string][] = [
    [/^version$/, "registryVersion"],
    [/^storage(\..*)?$/, "storage$1"],
    [/^storageOptions\.(.*)$/, "registry.$1"],
    [/^http\.headers(.*)$/, "registry.headers$1"],
    [/^http\.tls\.minimumTls$/, "tls.minimumTls"],
    [/^http\.prometheusPath$/, "registry.prometheus"],
    [/^http\.debugAddr$/, "registry.debugPort"],
    [/^http\.addr$/, "port"],
    [/^auth\.htpasswd\.realm$/, "registry.realm"],
    [/^log\.level$/, "registry.logLevel"],
    [/^health\..*$/, "registry.storageHealthCheck"],
    [/^notifications\.endpoints(.*)$/, "registry.notifications$1"],
    [/^(proxy|redis)(.*)$/, "registry.$1$2"],
];

/** The config key a model field comes from. */
export function configKeyOf(field: string): string {
    for (const [pattern, key] of KEY_OF_FIELD) {
        if (pattern.test(field)) return field.replace(pattern, key);
    }
    return field;
}

/**
 * Records the validator's problems with the registry config these settings render to. A key that
 * already has a problem (or lies under one that has) is not reported twice.
 */
export function checkRegistryConfig(r: Reader, s: Pick<Settings, "registryVersion" | "port" | "storage" | "registry" | "tls">): void {
    const draft = registryConfigDraft({ ...s, tls: s.tls.enabled ? { minimumTls: s.tls.minimumTls } : undefined, htpasswd: true });
    const reported = r.problems.map((p) => p.key);
    for (const { field, message } of registryConfigProblems(withHttpSecret(draft, "-"))) {
        const key = configKeyOf(field);
        const full = r.fullKey(key);
        if (reported.some((k) => k === full || full.startsWith(`${k}.`) || full.startsWith(`${k}[`))) continue;
        r.fail(key, message);
        reported.push(full);
    }
}
