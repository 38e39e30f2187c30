/**
 * The registry's htpasswd file. Pure: usernames and bcrypt hashes in, file text out.
 */

/** One htpasswd line. */
export interface HtpasswdEntry {
    username: string;
    /** A bcrypt hash (`$2a$`, `$2b$` or `$2y$`): the registry silently ignores any other scheme. */
    bcryptHash: string;
}

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/**
 * Renders `user:hash` lines sorted by username, with a trailing newline. Throws on a username the
 * file format cannot hold and on a hash that is not bcrypt.
 */
export function renderHtpasswd(entries: HtpasswdEntry[]): string {
    const seen = new Set<string>();
    for (const { username, bcryptHash } of entries) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
        if (username === "" || /[:\s]/.test(username) || /[\u0000-\u001f\u007f]/.test(username)) {
            throw new Error(`htpasswd username ${JSON.stringify(username)} must be non-empty without ':' or whitespace`);
        }
        if (seen.has(username)) {
            throw new Error(`htpasswd username ${JSON.stringify(username)} appears twice`);
        }
        seen.add(username);
        if (!BCRYPT.test(bcryptHash)) {
            throw new Error(`htpasswd entry for ${JSON.stringify(username)} is not a bcrypt hash`);
        }
    }
    const lines = [...entries].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0)).map((e) => `${e.username}:${e.bcryptHash}\n`);
    return lines.join("");
}
