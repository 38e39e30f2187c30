/**
 * Limits on the raw config, checked before a value is parsed: a megabyte pasted into a key or JSON
 * nested ten thousand deep is refused at once, naming the key, instead of exhausting the stack or
 * running for minutes. Every limit is here.
 */

/** The most bytes (UTF-8) a config value may hold. The largest real values (`registry`, `users`) are a few KiB. */
export const MAX_VALUE_BYTES = 64 * 1024;

/**
 * The most bytes of the values that hold PEM bundles or many keys: a CA bundle (Mozilla's is about
 * 220 KB) in a certificate key, or `clients` with an SSH private key per host (about 3.4 KB each
 * for RSA 4096).
 */
export const MAX_BUNDLE_BYTES = 256 * 1024;

/** The keys allowed {@link MAX_BUNDLE_BYTES}. */
const BUNDLE_KEYS: ReadonlySet<string> = new Set(["caCertificate", "serverCertificate", "serverCaCertificate", "clients"]);

/** The deepest nesting of objects and lists in a value. The deepest real one, `registry.notifications[].headers.<name>[]`, is 5. */
export const MAX_NESTING = 16;

/** Keys (with their fields and header names) longer than this are cut short where a problem names them. */
export const MAX_NAME_CHARS = 128;

/** The byte limit of a top-level config key's value. */
export function maxBytesOf(key: string): number {
    return BUNDLE_KEYS.has(key) ? MAX_BUNDLE_BYTES : MAX_VALUE_BYTES;
}

/**
 * How deep the objects and lists of JSON text nest, counted without parsing it (one pass; brackets
 * inside strings do not count). Stops counting past `stopAt`.
 */
export function nestingDepth(text: string, stopAt = MAX_NESTING + 1): number {
    let depth = 0;
    let deepest = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
            if (c === "\\") i++;
            else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === "[" || c === "{") {
            depth++;
            if (depth > deepest) deepest = depth;
            if (deepest >= stopAt) return deepest;
        } else if (c === "]" || c === "}") depth--;
    }
    return deepest;
}

/**
 * A config key as a problem names it: one holding an over-long name (over {@link MAX_NAME_CHARS})
 * is cut short, saying how long it was, and control characters and line breaks in a name are
 * escaped (a terminal would act on them).
 */
export function shortKey(key: string): string {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes
    const printable = key.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    return printable.length > MAX_NAME_CHARS ? `${printable.slice(0, 60)}…(a key of ${key.length} characters)` : printable;
}
