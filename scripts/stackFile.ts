/**
 * Reads a `Pulumi.<stack>.yaml` into the flat config map the Pulumi language host gives a program
 * (`<namespace>:<key>` → string; objects and lists as JSON), with the keys that hold secrets.
 * Used where the Pulumi CLI is not available: `render` and the end-to-end suite.
 */
import * as fs from "node:fs";
import { parse, parseDocument } from "yaml";

/** A stack's config as the language host passes it to the program. */
export interface StackConfig {
    /** Full key (`private-registry:port`) → value as Pulumi serializes it. */
    values: Record<string, string>;
    /** Full keys whose value is (or holds) a secret. */
    secretKeys: string[];
}

/** A stack file, or an override of one, that cannot be read: the message is one line. */
export class StackFileError extends Error {}

/** A value the CLI would have to decrypt: `{secure: "v1:…"}`, at the top of a key or inside it. */
export class EncryptedSecretError extends StackFileError {
    /**
     * @param key the full top-level key (`private-registry:storage`)
     * @param path where inside it, in `pulumi config set --path` form (`storage.secretKey`)
     */
    constructor(
        readonly key: string,
        readonly path: string = key.replace(/^[^:]+:/, ""),
    ) {
        const shown = `${key.replace(/:.*$/, "")}:${path}`;
        super(
            `${shown} is encrypted in the stack file; without the Pulumi CLI it cannot be decrypted here. ` +
                `Pass it with --secret ${path}=<value> (or =@<file>).`,
        );
    }
}

/** One step of a key path: an object field or a list index. */
type Step = string | number;

const isSecureMarker = (v: unknown): v is { secure: unknown } =>
    v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

/** `storage.secretKey`, `users[1].password`, `headers["X-Key"]`: the path as `pulumi config set --path` writes it. */
function showPath(top: string, path: Step[]): string {
    return path.reduce<string>(
        (s, p) => (typeof p === "number" ? `${s}[${p}]` : /^[A-Za-z_][\w-]*$/.test(p) ? `${s}.${p}` : `${s}[${JSON.stringify(p)}]`),
        top,
    );
}

/**
 * Splits an override key in the `pulumi config set --path` syntax into its full top-level key and
 * the path inside it: `storage.secretKey` → `private-registry:storage`, `["secretKey"]`.
 */
export function parseKeyPath(key: string, namespace: string): { top: string; path: Step[] } {
    const ns = /^[A-Za-z0-9_-]+:/.exec(key)?.[0] ?? `${namespace}:`;
    let rest = key.startsWith(ns) ? key.slice(ns.length) : key;
    const name = /^[^.[\]"]+/.exec(rest)?.[0];
    if (name === undefined) throw new StackFileError(`cannot read the key ${JSON.stringify(key)}: expected name, name.field or name[0]`);
    rest = rest.slice(name.length);
    const path: Step[] = [];
    while (rest !== "") {
        const m = /^\.([^.[\]"]+)/.exec(rest) ?? /^\[(\d+)\]/.exec(rest) ?? /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
        if (!m) throw new StackFileError(`cannot read the key path ${JSON.stringify(key)} at ${JSON.stringify(rest)}: expected .field, [0] or ["field"]`);
        path.push(m[0].startsWith(".") ? m[1] : m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : Number(m[1]));
        rest = rest.slice(m[0].length);
    }
    return { top: `${ns}${name}`, path };
}

/** `base` with `value` set at `path`, creating objects and lists on the way (as `config set --path` does). */
function setPath(base: unknown, path: Step[], value: unknown, where: { top: string; done: Step[] }): unknown {
    if (path.length === 0) return value;
    const [step, ...rest] = path;
    const here = showPath(where.top.replace(/^[^:]+:/, ""), where.done);
    if (isSecureMarker(base)) {
        throw new StackFileError(`${here} is encrypted in the stack file as a whole: pass all of it with --secret ${here}=<JSON>`);
    }
    const next = { top: where.top, done: [...where.done, step] };
    if (typeof step === "number") {
        if (base !== undefined && !Array.isArray(base))
            throw new StackFileError(`${here} is not a list in the stack file, so ${showPath(here, [step])} cannot be set`);
        const list = [...((base as unknown[] | undefined) ?? [])];
        if (step > list.length) throw new StackFileError(`${showPath(here, [step])}: ${here} has ${list.length} item(s); set [${list.length}] first`);
        list[step] = setPath(list[step], rest, value, next);
        return list;
    }
    if (base !== undefined && (base === null || typeof base !== "object" || Array.isArray(base))) {
        throw new StackFileError(`${here} is not an object in the stack file, so ${showPath(here, [step])} cannot be set`);
    }
    const obj = { ...((base as Record<string, unknown> | undefined) ?? {}) };
    obj[step] = setPath(obj[step], rest, value, next);
    return obj;
}

function serialize(v: unknown): string {
    return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Converts one config value: `{secure: …}` markers (the stack file's form of a secret) become their
 * plaintext when `secureIsPlaintext` (test fixtures write plaintext there), else an error naming
 * where the marker is.
 */
function resolveSecure(key: string, path: Step[], v: unknown, secureIsPlaintext: boolean, found: { secret: boolean }): unknown {
    if (isSecureMarker(v)) {
        found.secret = true;
        if (!secureIsPlaintext) throw new EncryptedSecretError(key, showPath(key.replace(/^[^:]+:/, ""), path));
        return v.secure;
    }
    if (Array.isArray(v)) return v.map((x, i) => resolveSecure(key, [...path, i], x, secureIsPlaintext, found));
    if (v && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveSecure(key, [...path, k], x, secureIsPlaintext, found)]));
    }
    return v;
}

/** The YAML text of a stack file, with a first error (a duplicate key…) as one line naming where. */
function parseStackYaml(text: string, label: string): { config?: Record<string, unknown> } {
    const doc = parseDocument(text);
    const [e] = doc.errors;
    if (e) {
        const line = e.linePos?.[0].line;
        const at = line === undefined ? label : `${label}:${line}`;
        if (e.code === "DUPLICATE_KEY" && line !== undefined) {
            const key = /^\s*(?:-\s+)?["']?(.+?)["']?:(?:\s|$)/.exec(text.split("\n")[line - 1] ?? "")?.[1] ?? "?";
            throw new StackFileError(`${at}: the key ${key} appears twice (YAML allows each key once; remove one)`);
        }
        throw new StackFileError(`${at}: not valid YAML: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`);
    }
    const data = doc.toJS() ?? {};
    if (typeof data !== "object" || Array.isArray(data) || (data.config != null && (typeof data.config !== "object" || Array.isArray(data.config)))) {
        throw new StackFileError(`${label}: expected a mapping with a \`config:\` mapping`);
    }
    return data;
}

/** Options for {@link readStackConfig}. */
export interface ReadOptions {
    /** Treat `{secure: X}` as the plaintext X, marked secret (test fixtures). Default false. */
    secureIsPlaintext?: boolean;
    /**
     * Plain overrides, values as YAML text (`port=5001`, `users=[{name: a}]`). Keys short or full,
     * and may be paths as `pulumi config set --path` takes them (`registry.logLevel`).
     */
    set?: Record<string, string>;
    /**
     * Secret overrides: taken literally, except JSON objects and lists. Keys as for `set`: a path
     * (`storage.secretKey`) sets that value inside the stack file's object and makes the whole key secret.
     */
    setSecret?: Record<string, string>;
    /** Namespace for short keys. */
    namespace: string;
}

/** Reads a stack file (or YAML text) into {@link StackConfig}; throws {@link StackFileError}. */
export function readStackConfig(fileOrText: string, opts: ReadOptions): StackConfig {
    const isFile = fs.existsSync(fileOrText);
    const text = isFile ? fs.readFileSync(fileOrText, "utf8") : fileOrText;
    const raw: Record<string, unknown> = { ...(parseStackYaml(text, isFile ? fileOrText : "the stack file").config ?? {}) };
    const madeSecret = new Set<string>();
    const read = (k: string, how: string, f: () => unknown) => {
        try {
            return f();
        } catch (e) {
            throw new StackFileError(`the value of ${k} is not valid ${how}: ${(e as Error).message.split("\n")[0]}`);
        }
    };
    const overrides = [
        ...Object.entries(opts.set ?? {}).map(([k, v]) => ({ k, value: read(k, "YAML", () => parse(v)), secret: false })),
        // Keys and passwords are taken literally (a PEM would read as YAML document markers);
        // only JSON objects and lists are parsed.
        ...Object.entries(opts.setSecret ?? {}).map(([k, v]) => ({ k, value: /^\s*[[{]/.test(v) ? read(k, "JSON", () => JSON.parse(v)) : v, secret: true })),
    ];
    for (const { k, value, secret } of overrides) {
        const { top, path } = parseKeyPath(k, opts.namespace);
        // A whole-key override replaces the file's value, encrypted or not.
        raw[top] = setPath(path.length === 0 ? undefined : raw[top], path, value, { top, done: [] });
        if (secret) madeSecret.add(top);
        else if (path.length === 0) madeSecret.delete(top);
    }
    const values: Record<string, string> = {};
    const secret = new Set<string>();
    for (const [key, v] of Object.entries(raw)) {
        const found = { secret: false };
        values[key] = serialize(resolveSecure(key, [], v, opts.secureIsPlaintext ?? false, found));
        if (found.secret || madeSecret.has(key)) secret.add(key);
    }
    return { values, secretKeys: [...secret].sort() };
}
