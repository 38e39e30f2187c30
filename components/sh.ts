/** POSIX shell quoting, the one rule every script we render uses for values. */

/** Quotes a value for POSIX sh: single quotes, with embedded single quotes closed and escaped. */
export function shQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment variable a user's login command reads the password from: `REGISTRY_PASSWORD_`
 * and the user name with every character other than a letter or digit as `_`, uppercased
 * (`ci-bot` → `REGISTRY_PASSWORD_CI_BOT`).
 */
export function passwordVariable(user: string): string {
    return `REGISTRY_PASSWORD_${user.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`;
}

/** A value as a shell word for a person to read: as it is when nothing in it is special to sh, else {@link shQuote}d. */
export function shWord(value: string): string {
    return /^[\w@%+=:,./-]+$/.test(value) ? value : shQuote(value);
}
