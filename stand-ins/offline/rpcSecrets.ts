/**
 * Secrets as mocks receive them: `{<sig>: <secret sig>, value}` wrappers around the top-level
 * input that holds them (the SDK's wire form of a secret).
 */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VAL = "1b47061264138c4ac30d75fd1eb44270";

/** True for a secret wrapper. */
export function isWrappedSecret(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_VAL;
}

/** True when a value holds a secret wrapper at any depth. */
export function containsSecret(v: unknown): boolean {
    if (isWrappedSecret(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecret);
    if (v && typeof v === "object") return Object.values(v).some(containsSecret);
    return false;
}

/** The value with every secret wrapper removed. */
export function unwrapSecrets(v: unknown): any {
    if (isWrappedSecret(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}
