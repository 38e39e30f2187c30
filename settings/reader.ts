/**
 * The raw-config reader: the raw config and error types, how values are quoted (`show`), typo
 * suggestions for unknown keys, `BAD`, and {@link Reader}, which collects every problem.
 */
import { HEADER_NAME, httpUrlProblem, isDurationSetting, isIntIn, isSingleLine, sameHeader } from "../components/render/registryConfig";
import { isObj, type Obj } from "./rules";

/** The config namespace (the Pulumi project name). */
export const NAMESPACE = "private-registry";

/** The raw config as the language host gives it: short key → string (objects and lists as JSON). */
export interface RawConfig {
    /** Short key (no namespace) → value: plain strings as-is, numbers and bools as text, objects and lists as JSON. */
    values: Record<string, string>;
    /** Short keys set as secrets (a nested `--secret --path` marks its whole top-level key). */
    secretKeys: ReadonlySet<string>;
}

/** One bad config value. */
export interface SettingsProblem {
    /** Full key, e.g. `private-registry:users[1].name`. */
    key: string;
    /** What is wrong and what is allowed, ending in `got <value>` (`got a value` under a secret key). */
    message: string;
}

/** Every problem found in a stack's config. */
export class SettingsError extends Error {
    constructor(readonly problems: SettingsProblem[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  ${p.key} ${p.message}`).join("\n"),
        );
        this.name = "SettingsError";
    }
}

/** A value quoted in a message: JSON, cut short. */
export function show(v: unknown): string {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** `users[1].name` → `users`. */
const topKey = (key: string) => key.split(/[.[]/, 1)[0];
const join = (key: string, field: string) => (key === "" ? field : `${key}.${field}`);

/** Edit distance counting a swap of two neighbours as one edit (`prot` → `port`). */
function editDistance(a: string, b: string): number {
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
        const d = editDistance(lower, a.toLowerCase());
        if (d < bestD) [best, bestD] = [a, d];
    }
    return bestD <= Math.max(1, Math.min(2, Math.floor(k.length / 4))) ? best : undefined;
}

export function unknownKey(k: string, allowed: readonly string[]): string {
    const s = suggest(k, allowed);
    return `is not a known key${s ? ` (did you mean ${show(s)}?)` : ""}; allowed: ${allowed.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// Reading values
// ---------------------------------------------------------------------------------------------

/** Marks a top-level value that could not be read at all (its problem is already recorded). */
export const BAD = Symbol("bad");

/** Collects problems while reading; every reader returns undefined when the value is bad. */
export class Reader {
    readonly problems: SettingsProblem[] = [];
    constructor(private readonly raw: RawConfig) {}

    has(key: string): boolean {
        return this.raw.values[key] !== undefined;
    }

    isSecret(key: string): boolean {
        return this.raw.secretKeys.has(key);
    }

    /** How a bad value is quoted: never the value itself under a key set as a secret. */
    got(key: string, v: unknown): string {
        return this.isSecret(topKey(key)) ? "a value" : show(v);
    }

    /** `users[1].name` → `private-registry:users[1].name`, as problems name it. */
    fullKey(key: string): string {
        return `${NAMESPACE}:${key}`;
    }

    fail(key: string, message: string): undefined {
        // Belt and braces: whatever a message quotes after "got" is hidden under a secret key.
        const m = this.isSecret(topKey(key)) ? message.replace(/, got [\s\S]*$/, ", got a value") : message;
        this.problems.push({ key: this.fullKey(key), message: m });
        return undefined;
    }

    /** A top-level value as the string Pulumi gives. */
    text(key: string): string | undefined {
        return this.raw.values[key];
    }

    /** A top-level object or list (Pulumi hands both over as JSON text). */
    json(key: string, what: string): unknown {
        const text = this.raw.values[key];
        if (text === undefined) return undefined;
        try {
            return JSON.parse(text);
        } catch {
            this.fail(key, `must be ${what}${/^\s*[[{]/.test(text) ? " (the value is not valid JSON)" : ""}, got ${this.got(key, text)}`);
            return BAD;
        }
    }

    required(key: string, o: Obj, field: string, why = ""): boolean {
        if (o[field] !== undefined && o[field] !== null) return true;
        this.fail(join(key, field), `is required${why}`);
        return false;
    }

    str(key: string, v: unknown, opts: { allowEmpty?: boolean } = {}): string | undefined {
        if (typeof v !== "string") return this.fail(key, `must be a string, got ${this.got(key, v)}`);
        if (!opts.allowEmpty && v.trim() === "") return this.fail(key, `must not be empty, got ${this.got(key, v)}`);
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

    /** An object whose keys must all be in `allowed`. */
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

    url(key: string, v: unknown): string | undefined {
        if (typeof v === "string" && httpUrlProblem(v) === undefined) return v;
        return this.fail(key, `must be an http:// or https:// URL, got ${this.got(key, v)}`);
    }

    /** A string map such as daemon.json `log-opts`. */
    stringMap(key: string, v: unknown, example: string): Record<string, string> | undefined {
        if (!isObj(v) || !Object.values(v).every((x) => typeof x === "string")) {
            return this.fail(key, `must be a map of strings (e.g. ${example}), got ${this.got(key, v)}`);
        }
        return { ...(v as Record<string, string>) };
    }

    /** HTTP headers: name → list of single-line values, names unique ignoring case. */
    headers(key: string, v: unknown): Record<string, string[]> | undefined {
        if (!isObj(v)) return this.fail(key, `must be a map of header name to a list of values (e.g. {"X-Frame-Options": ["DENY"]}), got ${this.got(key, v)}`);
        const out: Record<string, string[]> = {};
        const seen = new Map<string, string>();
        for (const [name, values] of Object.entries(v)) {
            const k = `${key}.${name}`;
            if (!HEADER_NAME.test(name)) {
                this.fail(k, "is not a valid HTTP header name");
                continue;
            }
            const other = sameHeader(seen, name);
            if (other !== undefined) this.fail(k, `is the same header as ${show(other)} (names ignore case)`);
            const list = this.stringList(k, values, (s) => (isSingleLine(s) ? undefined : "must be a single line"));
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
