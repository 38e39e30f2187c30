/** The users section: `users` (htpasswd logins). */
import { Secret } from "../components/args";
import type { UserSettings } from "./types";
import { BAD, type Reader, show } from "./reader";
import { USER_DEFAULTS } from "../components/defaults";
import { passwordVariable } from "../components/sh";

export const USER_KEYS = ["name", "password", "passwordLength", "rotate"];

/** bcrypt reads only the first 72 bytes of a password. */
const BCRYPT_MAX_BYTES = 72;
/** The shortest supplied password: basic auth has no rate limit, so a short one can be guessed online. */
export const MIN_PASSWORD_CHARS = 12;

export function parseUsers(r: Reader): UserSettings[] {
    const raw = r.has("users") ? r.json("users", "a list of {name, password?, passwordLength?, rotate?}") : [{ name: "admin" }];
    if (raw === BAD) return [];
    const seen = new Set<string>();
    const users =
        r.list("users", raw, "{name, password?, passwordLength?, rotate?}", (key, u, i) => {
            const o = r.obj(key, u, USER_KEYS, "an object {name, password?, passwordLength?, rotate?}");
            if (!o) return undefined;
            const name = r.required(key, o, "name") ? r.str(`${key}.name`, o.name) : undefined;
            if (name !== undefined) {
                if (name.length > 64) r.fail(`${key}.name`, `must be at most 64 characters, got ${show(name)}`);
                else if (name.includes(":")) r.fail(`${key}.name`, `must not contain ':' (the htpasswd separator), got ${show(name)}`);
                // The registry's htpasswd reader skips lines that start with '#'.
                else if (name.startsWith("#")) r.fail(`${key}.name`, `must not start with '#' (htpasswd would read the line as a comment), got ${show(name)}`);
                // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
                else if (/[\s\u0000-\u001f\u007f]/.test(name)) r.fail(`${key}.name`, `must not contain whitespace or control characters, got ${show(name)}`);
                else if (seen.has(name)) r.fail(`${key}.name`, `repeats user ${show(name)}`);
                else {
                    const other = [...seen].find((n) => passwordVariable(n) === passwordVariable(name));
                    if (other !== undefined)
                        r.warn(
                            `${key}.name`,
                            `reads its password in loginCommands from ${passwordVariable(name)}, as user ${show(other)} does: set it to the right one before each`,
                        );
                }
                seen.add(name);
            }
            let password: Secret | undefined;
            if (o.password !== undefined) {
                r.requireSecret("users", "a password", `users[${i}].password`);
                // One line: docker login --password-stdin strips line breaks.
                const p = r.str(`${key}.password`, o.password, { secret: true });
                if (p !== undefined) {
                    if (Buffer.byteLength(p, "utf8") > BCRYPT_MAX_BYTES)
                        r.fail(`${key}.password`, `must be at most ${BCRYPT_MAX_BYTES} bytes (bcrypt ignores the rest), got a value`);
                    else if ([...p].length < MIN_PASSWORD_CHARS)
                        r.fail(`${key}.password`, `must be at least ${MIN_PASSWORD_CHARS} characters (or leave it out to have one generated), got a value`);
                    else password = new Secret(p);
                }
            }
            const passwordLength =
                o.passwordLength === undefined ? USER_DEFAULTS.passwordLength : r.int(`${key}.passwordLength`, o.passwordLength, 16, BCRYPT_MAX_BYTES);
            if (o.password !== undefined && o.passwordLength !== undefined)
                r.fail(`${key}.passwordLength`, "applies only to a generated password, and password is given");
            // A counter: raising it generates a new password on the next up (a RandomPassword keeper).
            const rotate = o.rotate === undefined ? 0 : (r.int(`${key}.rotate`, o.rotate, 0, 1_000_000_000) ?? 0);
            if (o.password !== undefined && o.rotate !== undefined)
                r.fail(`${key}.rotate`, "applies only to a generated password; to rotate a supplied one, supply the new one");
            return name === undefined ? undefined : { name, password, passwordLength: passwordLength ?? USER_DEFAULTS.passwordLength, rotate };
        }) ?? [];
    if (Array.isArray(raw) && raw.length === 0) r.fail("users", "needs at least one user (the registry requires a login), got []");
    return users;
}
