/**
 * Reads a `Pulumi.<stack>.yaml` into the flat config map the Pulumi language host gives a program
 * (`<namespace>:<key>` → string; objects and lists as JSON), with the keys that hold secrets.
 * Used where the Pulumi CLI is not available: `render` and the end-to-end suite.
 */
import * as fs from "node:fs";
import { parse } from "yaml";

/** A stack's config as the language host passes it to the program. */
export interface StackConfig {
    /** Full key (`private-registry:port`) → value as Pulumi serializes it. */
    values: Record<string, string>;
    /** Full keys whose value is (or holds) a secret. */
    secretKeys: string[];
}

/** A value the CLI would have to decrypt: `{secure: "v1:…"}`. */
export class EncryptedSecretError extends Error {
    constructor(readonly key: string) {
        super(
            `${key} is encrypted in the stack file; without the Pulumi CLI it cannot be decrypted here. ` +
                `Pass it with --secret ${key.replace(/^[^:]+:/, "")}=<value> (or =@<file>).`,
        );
    }
}

function serialize(v: unknown): string {
    return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Converts one config value: `{secure: …}` markers (the stack file's form of a secret) become their
 * plaintext when `secureIsPlaintext` (test fixtures write plaintext there), else an error.
 */
function resolveSecure(key: string, v: unknown, secureIsPlaintext: boolean, found: { secret: boolean }): unknown {
    if (v && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && "secure" in o) {
            found.secret = true;
            if (!secureIsPlaintext) throw new EncryptedSecretError(key);
            return o.secure;
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveSecure(key, x, secureIsPlaintext, found)]));
    }
    if (Array.isArray(v)) return v.map((x) => resolveSecure(key, x, secureIsPlaintext, found));
    return v;
}

/** Options for {@link readStackConfig}. */
export interface ReadOptions {
    /** Treat `{secure: X}` as the plaintext X, marked secret (test fixtures). Default false. */
    secureIsPlaintext?: boolean;
    /** Plain overrides, short or full keys, values as YAML text (`port=5001`, `users=[{name: a}]`). */
    set?: Record<string, string>;
    /** Secret overrides: taken literally, except JSON objects and lists. */
    setSecret?: Record<string, string>;
    /** Namespace for short keys. */
    namespace: string;
}

/** Reads a stack file (or YAML text) into {@link StackConfig}. */
export function readStackConfig(fileOrText: string, opts: ReadOptions): StackConfig {
    const text = fs.existsSync(fileOrText) ? fs.readFileSync(fileOrText, "utf8") : fileOrText;
    const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, string> = {};
    const secret = new Set<string>();
    const full = (k: string) => (k.includes(":") ? k : `${opts.namespace}:${k}`);
    const overridden = new Set([...Object.keys(opts.set ?? {}), ...Object.keys(opts.setSecret ?? {})].map(full));
    for (const [key, raw] of Object.entries(doc.config ?? {})) {
        // An override replaces the file's value, encrypted or not.
        if (overridden.has(key)) continue;
        const found = { secret: false };
        const v = resolveSecure(key, raw, opts.secureIsPlaintext ?? false, found);
        values[key] = serialize(v);
        if (found.secret) secret.add(key);
    }
    for (const [k, v] of Object.entries(opts.set ?? {})) {
        values[full(k)] = serialize(parse(v));
        secret.delete(full(k));
    }
    for (const [k, v] of Object.entries(opts.setSecret ?? {})) {
        // Keys and passwords are taken literally (a PEM would read as YAML document markers);
        // only JSON objects and lists are parsed.
        values[full(k)] = /^\s*[[{]/.test(v) ? serialize(JSON.parse(v)) : v;
        secret.add(full(k));
    }
    return { values, secretKeys: [...secret].sort() };
}
