import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import bcrypt from "bcryptjs";
import { renderHtpasswd } from "./render/htpasswd";
import { USER_DEFAULTS } from "./defaults";

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
}

/** Arguments of {@link RegistryUsers}. */
export interface RegistryUsersArgs {
    /** The users, at least one. Plain: it decides which resources exist. */
    users: RegistryUserArgs[];
}

/**
 * A stable bcrypt hash of a supplied password. The random provider can only hash passwords it
 * generates, and a fresh salt per run would change the htpasswd file and so replace the registry
 * container on every `up`. The salt is therefore derived from the username and password with a
 * keyed hash: the same pair always gives the same hash, a different one a different salt.
 */
export function stableBcrypt(username: string, password: string): string {
    const digest = crypto.createHmac("sha256", "private-registry/htpasswd").update(`${username}\0${password}`).digest();
    const salt = `$2a$10$${bcrypt.encodeBase64(digest.subarray(0, 16), 16)}`;
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
        const entries = args.users.map((u) => {
            if (u.password !== undefined) {
                const password = pulumi.secret(u.password);
                return { name: u.name, password, hash: password.apply((p) => stableBcrypt(u.name, p)) };
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
                },
                child,
            );
            return { name: u.name, password: pulumi.secret(generated.result), hash: pulumi.secret(generated.bcryptHash) };
        });
        this.usernames = pulumi.output(args.users.map((u) => u.name));
        this.passwords = pulumi.secret(pulumi.all(entries.map((e) => e.password)).apply((ps) => Object.fromEntries(entries.map((e, i) => [e.name, ps[i]]))));
        this.htpasswd = pulumi.secret(
            pulumi.all(entries.map((e) => e.hash)).apply((hashes) => renderHtpasswd(entries.map((e, i) => ({ username: e.name, bcryptHash: hashes[i] })))),
        );
        this.registerOutputs({ usernames: this.usernames, passwords: this.passwords, htpasswd: this.htpasswd });
    }
}
