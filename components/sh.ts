/** POSIX shell quoting, the one rule every script we render uses for values. */

/** Quotes a value for POSIX sh: single quotes, with embedded single quotes closed and escaped. */
export function shQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}
