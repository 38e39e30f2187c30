/**
 * The `@pulumi/random` resources computed locally, the way terraform-provider-random 3.x computes
 * them.
 */
import * as crypto from "node:crypto";
import bcrypt from "bcryptjs";
import type { Realized } from "./tls";

type Inputs = Record<string, any>;

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC = "0123456789";
/** The provider's default special characters. */
export const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

function pick(chars: string, n: number): string[] {
    return Array.from({ length: n }, () => chars[crypto.randomInt(chars.length)]);
}

/** The provider's `CreateString`: min* first (even from a disabled class), then the pool, shuffled. */
export function createString(inputs: Inputs): string {
    const length = Number(inputs.length);
    const flag = (k: string) => inputs[k] !== false;
    const special = inputs.overrideSpecial !== undefined && inputs.overrideSpecial !== "" ? String(inputs.overrideSpecial) : DEFAULT_SPECIAL;
    const mins = {
        upper: Number(inputs.minUpper ?? 0),
        lower: Number(inputs.minLower ?? 0),
        numeric: Number(inputs.minNumeric ?? 0),
        special: Number(inputs.minSpecial ?? 0),
    };
    if (!Number.isInteger(length) || length < 1) throw new Error("length must be at least 1");
    if (length < mins.upper + mins.lower + mins.numeric + mins.special) {
        throw new Error(`length (${length}) must be >= minUpper + minLower + minNumeric + minSpecial`);
    }
    const numericOn = inputs.numeric !== undefined ? inputs.numeric !== false : flag("number");
    const pool = (flag("upper") ? UPPER : "") + (flag("lower") ? LOWER : "") + (numericOn ? NUMERIC : "") + (flag("special") ? special : "");
    if (pool === "") throw new Error("the character set is empty: enable at least one of upper, lower, numeric, special");
    const chars = [...pick(UPPER, mins.upper), ...pick(LOWER, mins.lower), ...pick(NUMERIC, mins.numeric), ...pick(special, mins.special)];
    chars.push(...pick(pool, length - chars.length));
    // Shuffled by sorting against random keys, as the provider does.
    return chars
        .map((c) => ({ c, k: crypto.randomBytes(8).readBigUInt64BE() }))
        .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
        .map((x) => x.c)
        .join("");
}

/** `random.RandomPassword`: `result` and a `$2a$10$` bcrypt hash of its first 72 bytes, both secret. */
export function randomPassword(inputs: Inputs): Realized {
    const result = createString(inputs);
    const first72 = Buffer.from(result).subarray(0, 72).toString();
    // bcryptjs writes $2b$; for inputs of at most 72 bytes the digest equals Go's $2a$ one.
    const bcryptHash = bcrypt.hashSync(first72, 10).replace(/^\$2b\$/, "$2a$");
    return {
        id: "none",
        outputs: {
            result,
            bcryptHash,
            upper: inputs.upper ?? true,
            lower: inputs.lower ?? true,
            numeric: inputs.numeric ?? true,
            special: inputs.special ?? true,
        },
        secretOutputs: ["result", "bcryptHash"],
    };
}

/** `random.RandomId`: `byteLength` random bytes as hex, base64 (std and URL) and decimal; the id is b64Url. */
export function randomId(inputs: Inputs): Realized {
    const n = Number(inputs.byteLength);
    if (!Number.isInteger(n) || n < 1) throw new Error("byteLength must be at least 1");
    const bytes = crypto.randomBytes(n);
    const prefix = String(inputs.prefix ?? "");
    const b64Url = prefix + bytes.toString("base64url");
    return {
        id: b64Url,
        outputs: {
            b64Url,
            b64Std: prefix + bytes.toString("base64"),
            hex: prefix + bytes.toString("hex"),
            dec: prefix + BigInt(`0x${bytes.toString("hex")}`).toString(10),
        },
        secretOutputs: [],
    };
}
