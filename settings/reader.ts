/**
 * The raw-config reader: the raw config and error types, how values are quoted (`show`), typo
 * suggestions for unknown keys, `BAD`, and {@link Reader}, which collects every problem.
 */
import { headerNameProblem, httpUrlProblem, isDurationSetting, isIntIn, isSingleLine, SINGLE_LINE_RULE, sameHeader } from "../components/registryConfig";
import { maxBytesOf, MAX_NESTING, nestingDepth, shortKey } from "./limits";
import { isObj, type Obj, urlHasUserinfo } from "./rules";

/** The config namespace (the Pulumi project name). */
export const NAMESPACE = "private-registry";

/** The raw config as the language host gives it: short key → string (objects and lists as JSON). */
export interface RawConfig {
    /** Short key (no namespace) → value: plain strings as-is, numbers and bools as text, objects and lists as JSON. */
    values: Record<string, string>;
    /** Short keys set as secrets (a nested `--secret --path` marks its whole top-level key). */
    secretKeys: ReadonlySet<string>;
}

/**
 * The raw config of this project's namespace from full keys (`private-registry:<key>`), their
 * values and whether each was set as a secret; other namespaces are left out.
 */
export function rawConfigFrom(entries: Iterable<{ key: string; value: string; secret: boolean }>): RawConfig {
    const prefix = `${NAMESPACE}:`;
    // Entries, not assignments: a key named `__proto__` must reach the parser (and be refused there).
    const values: [string, string][] = [];
    const secretKeys = new Set<string>();
    for (const e of entries) {
        if (!e.key.startsWith(prefix)) continue;
        const key = e.key.slice(prefix.length);
        values.push([key, e.value]);
        if (e.secret) secretKeys.add(key);
    }
    return { values: Object.fromEntries(values), secretKeys };
}

/** One bad config value. */
export interface SettingsProblem {
    /** Full key, e.g. `private-registry:users[1].name`. */
    key: string;
    /** What is wrong and what is allowed, ending in `got <value>` (`got a value` under a secret key). */
    message: string;
}

/** How many problems the message lists (all of them are in `problems`). */
const LISTED_PROBLEMS = 50;

/** Every problem found in a stack's config. */
export class SettingsError extends Error {
    constructor(readonly problems: SettingsProblem[]) {
        const more = problems.length - LISTED_PROBLEMS;
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems
                    .slice(0, LISTED_PROBLEMS)
                    .map((p) => `  ${p.key} ${p.message}`)
                    .join("\n") +
                (more > 0 ? `\n  … and ${more} more` : ""),
        );
        this.name = "SettingsError";
    }
}

/**
 * A value quoted in a message: JSON, cut short. PEM text is never quoted (it may be a private key
 * pasted into the wrong key), credentials in a URL are masked, and characters a terminal would
 * take as line breaks are escaped.
 */
export function show(v: unknown): string {
    const s = (JSON.stringify(v) ?? String(v))
        .replace(/:\/\/[^/\s?#]*@/g, "://***@")
        .replace(/[\u0080-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    if (/-----BEGIN [A-Z0-9 ]+-----|PRIVATE KEY/.test(s)) return "PEM text (not shown)";
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** `users[1].name` → `users`. */
const topKey = (key: string) => key.split(/[.[]/, 1)[0];
const join = (key: string, field: string) => (key === "" ? field : `${key}.${field}`);

/** Edit distance counting a swap of two neighbours as one edit (`prot` → `port`). */
export function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** The allowed key a typo most likely meant, if any. */
function suggest(k: string, allowed: readonly string[]): string | undefined {
    const lower = k.toLowerCase();
    const exact = allowed.find((a) => a.toLowerCase() === lower);
    if (exact) return exact;
    let best: string | undefined;
    let bestD = Infinity;
    for (const a of allowed) {
        // No suggestion is further than 2 edits, and the distance is at least the length difference.
        if (Math.abs(a.length - k.length) > 2) continue;
        const d = editDistance(lower, a.toLowerCase());
        if (d < bestD) [best, bestD] = [a, d];
    }
    return bestD <= Math.max(1, Math.min(2, Math.floor(k.length / 4))) ? best : undefined;
}

/** The message for an unknown key `k`: the likely typo, and the keys allowed there. */
export function unknownKey(k: string, allowed: readonly string[]): string {
    const s = suggest(k, allowed);
    return `is not a known key${s ? ` (did you mean ${show(s)}?)` : ""}; allowed: ${allowed.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// Reading values
// ---------------------------------------------------------------------------------------------

/** Marks a top-level value that could not be read at all (its problem is already recorded). */
export const BAD = Symbol("bad");

/**
 * Collects problems (and warnings) while reading; every reader returns undefined when the value is
 * bad. A top-level value over its size limit, or nested too deep, is refused whole: it reads as
 * absent or {@link BAD}, and no further problem is recorded under its key.
 */
export class Reader {
    readonly problems: SettingsProblem[] = [];
    /** Things that work but are probably not meant, each `<full key> <what and why>`. */
    readonly warnings: string[] = [];
    /** Top-level keys whose value was refused whole. */
    private readonly refused = new Set<string>();

    constructor(private readonly raw: RawConfig) {
        for (const [key, text] of Object.entries(raw.values)) {
            const bytes = Buffer.byteLength(text, "utf8");
            if (bytes > maxBytesOf(key)) this.refuse(key, `is ${bytes} bytes long; a value may hold at most ${maxBytesOf(key)} bytes`);
        }
    }

    /** Records why a top-level value is refused whole, and keeps quiet about it from then on. */
    private refuse(key: string, message: string): void {
        this.fail(key, message);
        this.refused.add(key);
    }

    has(key: string): boolean {
        return Object.hasOwn(this.raw.values, key) && this.raw.values[key] !== undefined;
    }

    isSecret(key: string): boolean {
        return this.raw.secretKeys.has(key);
    }

    /** How a bad value is quoted: never the value itself under a key set as a secret. */
    got(key: string, v: unknown): string {
        return this.isSecret(topKey(key)) ? "a value" : show(v);
    }

    /** `users[1].name` → `private-registry:users[1].name`, as problems name it (an over-long name cut short). */
    fullKey(key: string): string {
        return `${NAMESPACE}:${shortKey(key)}`;
    }

    fail(key: string, message: string): undefined {
        if (this.refused.has(topKey(key))) return undefined;
        // Belt and braces: whatever a message quotes after "got" is hidden under a secret key.
        const m = this.isSecret(topKey(key)) ? message.replace(/, got [\s\S]*$/, ", got a value") : message;
        this.problems.push({ key: this.fullKey(key), message: m });
        return undefined;
    }

    /** Records a warning about `key`: the config works, but probably not as meant. */
    warn(key: string, message: string): void {
        this.warnings.push(`${this.fullKey(key)} ${message}`);
    }

    /** A top-level value as the string Pulumi gives (undefined when it was refused whole). */
    text(key: string): string | undefined {
        return this.has(key) && !this.refused.has(key) ? this.raw.values[key] : undefined;
    }

    /** A top-level object or list (Pulumi hands both over as JSON text). */
    json(key: string, what: string): unknown {
        if (this.refused.has(key)) return BAD;
        const text = this.text(key);
        if (text === undefined) return undefined;
        // Counted before parsing: JSON.parse and every reader after it recurse.
        if (nestingDepth(text) > MAX_NESTING) {
            this.refuse(key, `nests objects and lists more than ${MAX_NESTING} deep`);
            return BAD;
        }
        try {
            return JSON.parse(text);
        } catch {
            this.fail(key, `must be ${what}${/^\s*[[{]/.test(text) ? " (the value is not valid JSON)" : ""}, got ${this.got(key, text)}`);
            return BAD;
        }
    }

    /** A top-level object section: its JSON read and its keys checked; undefined when absent or refused (the problem recorded). */
    section(key: string, allowed: readonly string[], what = "an object"): Obj | undefined {
        const raw = this.json(key, what);
        return raw === BAD || raw === undefined ? undefined : this.obj(key, raw, allowed, what);
    }

    required(key: string, o: Obj, field: string, why = ""): boolean {
        if (o[field] !== undefined && o[field] !== null) return true;
        this.fail(join(key, field), `is required${why}`);
        return false;
    }

    /**
     * A string: not empty, and one line of text (every string but a PEM block ends up in a file or
     * command line). `secret` never quotes it, whatever the key.
     */
    str(key: string, v: unknown, opts: { allowEmpty?: boolean; multiline?: boolean; secret?: boolean } = {}): string | undefined {
        const got = opts.secret ? "a value" : this.got(key, v);
        if (typeof v !== "string") return this.fail(key, `must be a string, got ${got}`);
        if (!opts.allowEmpty && v.trim() === "") return this.fail(key, `must not be empty, got ${got}`);
        if (!opts.multiline && !isSingleLine(v)) return this.fail(key, `${SINGLE_LINE_RULE}, got ${got}`);
        return v;
    }

    int(key: string, v: unknown, min: number, max: number): number | undefined {
        const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?[0-9]+\s*$/.test(v) ? Number(v) : NaN;
        if (!isIntIn(n, min, max)) {
            const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `${min}-${max}`;
            return this.fail(key, `must be an integer ${range}, got ${this.got(key, v)}`);
        }
        return n;
    }

    bool(key: string, v: unknown): boolean | undefined {
        if (typeof v === "boolean") return v;
        if (v === "true") return true;
        if (v === "false") return false;
        return this.fail(key, `must be true or false, got ${this.got(key, v)}`);
    }

    oneOf<T extends string | number>(key: string, v: unknown, allowed: readonly T[], extra = ""): T | undefined {
        const match = allowed.find((a) => a === v || String(a) === v);
        if (match === undefined) return this.fail(key, `must be one of ${allowed.map((a) => show(a)).join(", ")}${extra}, got ${this.got(key, v)}`);
        return match;
    }

    /** A list whose items are each read by `item` (undefined items are dropped: their problem is recorded). */
    list<T>(key: string, v: unknown, what: string, item: (key: string, v: unknown, i: number) => T | undefined): T[] | undefined {
        if (!Array.isArray(v)) return this.fail(key, `must be a list of ${what}, got ${this.got(key, v)}`);
        const out: T[] = [];
        v.forEach((x, i) => {
            const parsed = item(`${key}[${i}]`, x, i);
            if (parsed !== undefined) out.push(parsed);
        });
        return out;
    }

    stringList(key: string, v: unknown, check?: (s: string) => string | undefined, what = "strings"): string[] | undefined {
        return this.list(key, v, what, (k, x) => {
            const s = this.str(k, x);
            if (s === undefined) return undefined;
            const problem = check?.(s);
            return problem ? this.fail(k, `${problem}, got ${this.got(k, s)}`) : s;
        });
    }

    /** An object whose keys must all be in `allowed` (a name such as `constructor` is an unknown key like any other). */
    obj(key: string, v: unknown, allowed: readonly string[], what = "an object"): Obj | undefined {
        if (!isObj(v)) return this.fail(key, `must be ${what}, got ${this.got(key, v)}`);
        for (const k of Object.keys(v)) {
            if (!allowed.includes(k)) this.fail(join(key, k), unknownKey(k, allowed));
        }
        return v;
    }

    duration(key: string, v: unknown): string | undefined {
        if (typeof v !== "string" || !isDurationSetting(v)) {
            return this.fail(key, `must be a Go duration such as 30s, 10m, 1h30m or 168h (no d or w units), got ${this.got(key, v)}`);
        }
        return v;
    }

    /**
     * An http(s) URL. Credentials in it (`https://user:pass@host`) are refused unless its top-level
     * key is a secret: otherwise they would sit in plain text in the stack file.
     */
    url(key: string, v: unknown): string | undefined {
        if (typeof v !== "string" || httpUrlProblem(v) !== undefined) {
            return this.fail(key, `must be an http:// or https:// URL, got ${this.got(key, v)}`);
        }
        if (urlHasUserinfo(v) && !this.isSecret(topKey(key))) {
            return this.fail(
                key,
                `holds credentials (user:password@ in the URL), which would be stored in plain text: use the username/password fields, or set the value as a secret: pulumi config set --secret --path '${key}' <url>`,
            );
        }
        return v;
    }

    /** A string map such as daemon.json `log-opts`: one-line names and values. */
    stringMap(key: string, v: unknown, example: string): Record<string, string> | undefined {
        if (!isObj(v) || !Object.values(v).every((x) => typeof x === "string")) {
            return this.fail(key, `must be a map of strings (e.g. ${example}), got ${this.got(key, v)}`);
        }
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(v as Record<string, string>)) {
            // Assigning __proto__ sets the prototype: the entry would vanish.
            if (name === "__proto__") this.fail(`${key}.${name}`, "is a reserved name");
            else if (!isSingleLine(name) || name.trim() === "") this.fail(key, `has a name that is empty or not one line of text, got ${this.got(key, name)}`);
            else if (this.str(`${key}.${name}`, value, { allowEmpty: true }) !== undefined) out[name] = value;
        }
        return out;
    }

    /** HTTP headers: name → list of single-line values, names unique ignoring case. */
    headers(key: string, v: unknown): Record<string, string[]> | undefined {
        if (!isObj(v)) return this.fail(key, `must be a map of header name to a list of values (e.g. {"X-Frame-Options": ["DENY"]}), got ${this.got(key, v)}`);
        const out: Record<string, string[]> = {};
        const seen = new Map<string, string>();
        for (const [name, values] of Object.entries(v)) {
            const k = `${key}.${name}`;
            const problem = headerNameProblem(name);
            if (problem !== undefined) {
                this.fail(k, problem);
                continue;
            }
            const other = sameHeader(seen, name);
            if (other !== undefined) this.fail(k, `is the same header as ${show(other)} (names ignore case)`);
            const list = this.stringList(k, values);
            if (list) out[name] = list;
        }
        return out;
    }

    /**
     * Refuses a secret given as plain config (it would sit unencrypted in the stack file). `at` is
     * the field inside a structured key (`users[0].password`); a secret set there with `--path`
     * marks the whole top-level key secret. Problems about a list entry are reported at the field,
     * those about `storage` or `registry` at the key.
     */
    requireSecret(key: string, what: string, at?: string): void {
        if (this.isSecret(key)) return;
        const reportAt = at !== undefined && (key === "users" || key === "clients") ? at : key;
        const where = at !== undefined && reportAt === key ? ` (${at})` : "";
        const how = at !== undefined ? `--path '${at}'` : key;
        this.fail(reportAt, `holds ${what}${where} and must be set as a secret: pulumi config set --secret ${how} <value>`);
    }
}
