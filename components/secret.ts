/**
 * The one secret type of the program. Settings hold every secret value as a {@link Secret} from the
 * moment it is parsed; components reveal it only to hand it to `pulumi.secret()` or, for
 * `config.yml`, inside the output that renders it.
 */

/**
 * A secret value read from stack config. It never prints itself: `String(s)`, `JSON.stringify(s)`
 * and `console.log(s)` give `[secret]`.
 */
export class Secret {
    readonly #value: string;
    constructor(value: string) {
        this.#value = value;
    }
    /** The plain value. Call only where it becomes a `pulumi.secret()` or rendered secret output. */
    reveal(): string {
        return this.#value;
    }
    toString(): string {
        return "[secret]";
    }
    toJSON(): string {
        return "[secret]";
    }
    [Symbol.for("nodejs.util.inspect.custom")](): string {
        return "[secret]";
    }
}

/** `T` with every {@link Secret} inside it replaced by its plain string. */
export type Revealed<T> = T extends Secret
    ? string
    : T extends readonly (infer U)[]
      ? Revealed<U>[]
      : T extends object
        ? { [K in keyof T]: Revealed<T[K]> }
        : T;

/** A deep copy of `value` with every {@link Secret} revealed. */
export function revealSecrets<T>(value: T): Revealed<T> {
    if (value instanceof Secret) return value.reveal() as Revealed<T>;
    if (Array.isArray(value)) return value.map(revealSecrets) as Revealed<T>;
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealSecrets(v)])) as Revealed<T>;
    }
    return value as Revealed<T>;
}

/** Every {@link Secret}'s plain value inside `value` (to keep them out of anything printed). */
export function secretValues(value: unknown): string[] {
    if (value instanceof Secret) return [value.reveal()];
    if (Array.isArray(value)) return value.flatMap(secretValues);
    if (value !== null && typeof value === "object") return Object.values(value).flatMap(secretValues);
    return [];
}
