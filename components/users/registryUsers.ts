import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import bcrypt from "bcryptjs";
import { renderHtpasswd } from "./htpasswd";
import { USER_DEFAULTS } from "../defaults";

const TYPE = "private-registry:auth:RegistryUsers";

/**
 * Characters of generated passwords: letters, digits, `-` and `_`, which need no quoting in
 * shells, URLs or YAML (the provider's default specials include `$`, `&`, `?` and `#`).
 */
export const PASSWORD_SPECIALS = "-_";

/** One registry user. */
export interface RegistryUserArgs {
    /** Username: no `:` and no whitespace. */
    name: string;
    /** A supplied password (made secret here). Omit to generate one. */
    password?: pulumi.Input<string>;
    /** Length of a generated password, at most 72 (bcrypt's limit). Defaults to 32. */
    passwordLength?: number;
    /** A generated password's generation: raising it replaces the password (its RandomPassword keeper). Defaults to 0. */
    rotate?: number;
}

/** Arguments of {@link RegistryUsers}. */
export interface RegistryUsersArgs {
    /** The users, at least one. Plain: it decides which resources exist. */
    users: RegistryUserArgs[];
}

/**
 * bcrypt cost of generated passwords: the lowest the registry accepts (Go's `bcrypt.MinCost`). A
 * password of 32 random characters (about 190 bits) cannot be guessed however fast the hash is,
 * and the registry checks the password on every request, so a slow hash only costs CPU.
 */
export const GENERATED_PASSWORD_COST = 4;

/** bcrypt cost of supplied passwords, which people choose and which a slow hash protects. */
export const SUPPLIED_PASSWORD_COST = 10;

/**
 * A stable bcrypt hash. A fresh salt per run would change the htpasswd file on every `up`, so the
 * salt is derived from the username and password with a key kept in this installation's state:
 * the same pair always gives the same hash here, and another installation a different one (no
 * precomputed table fits them all).
 */
export function stableBcrypt(saltKey: string, username: string, password: string, cost: number): string {
    const digest = crypto.createHmac("sha256", saltKey).update(`${username}\0${password}`).digest();
    const salt = `$2b$${String(cost).padStart(2, "0")}$${bcrypt.encodeBase64(digest.subarray(0, 16), 16)}`;
    return bcrypt.hashSync(password, salt);
}

/** The registry's htpasswd users: generated or supplied passwords, bcrypt hashes, all secret. */
export class RegistryUsers extends pulumi.ComponentResource {
    /** The usernames, in the given order. */
    public readonly usernames: pulumi.Output<string[]>;
    /** Username → password. Secret. */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** The htpasswd file content (bcrypt). Secret. */
    public readonly htpasswd: pulumi.Output<string>;

    constructor(name: string, args: RegistryUsersArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        if (args.users.length === 0) {
            throw new pulumi.ResourceError("RegistryUsers needs at least one user", this);
        }
        const saltKey = new random.RandomPassword(`${name}-salt-key`, { length: 43, special: false }, child).result;
        const hashed = (username: string, password: pulumi.Output<string>, cost: number) =>
            pulumi.secret(pulumi.all([saltKey, password]).apply(([key, p]) => stableBcrypt(key, username, p, cost)));
        const entries = args.users.map((u) => {
            if (u.password !== undefined) {
                const password = pulumi.secret(u.password);
                return { name: u.name, password, hash: hashed(u.name, password, SUPPLIED_PASSWORD_COST) };
            }
            const length = u.passwordLength ?? USER_DEFAULTS.passwordLength;
            if (!Number.isInteger(length) || length < 16 || length > 72) {
                throw new pulumi.ResourceError(`passwordLength of user ${u.name} must be 16-72, got ${length}`, this);
            }
            const generated = new random.RandomPassword(
                `${name}-password-${u.name}`,
                {
                    length,
                    special: true,
                    overrideSpecial: PASSWORD_SPECIALS,
                    minUpper: 1,
                    minLower: 1,
                    minNumeric: 1,
                    // Absent at 0, so that stacks from before the counter keep their passwords.
                    keepers: u.rotate ? { rotate: String(u.rotate) } : undefined,
                },
                child,
            );
            const password = pulumi.secret(generated.result);
            return { name: u.name, password, hash: hashed(u.name, password, GENERATED_PASSWORD_COST) };
        });
        this.usernames = pulumi.output(args.users.map((u) => u.name));
        this.passwords = pulumi.secret(pulumi.all(entries.map((e) => e.password)).apply((ps) => Object.fromEntries(entries.map((e, i) => [e.name, ps[i]]))));
        this.htpasswd = pulumi.secret(
            pulumi.all(entries.map((e) => e.hash)).apply((hashes) => renderHtpasswd(entries.map((e, i) => ({ username: e.name, bcryptHash: hashes[i] })))),
        );
        this.registerOutputs({ usernames: this.usernames, passwords: this.passwords, htpasswd: this.htpasswd });
    }
}
