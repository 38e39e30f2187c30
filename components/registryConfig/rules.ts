/**
 * The registry's rules, each written once: what distribution accepts for a value, and what one
 * major version cannot do. The renderer's validator (`validate.ts`) and the stack-config parser
 * (`settings/`) both test values with these, each wording its own message. Pure: no Pulumi or
 * Node imports.
 */
import type { RegistryMajorVersion, STORAGE_DRIVERS } from "./model";

// ---------------------------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------------------------

/**
 * The syntax of Go's `time.ParseDuration` (time/format.go), which the registry uses for every
 * duration: an optional sign, then `0` alone, or numbers each with a unit. A number is digits with
 * an optional fraction (`1.5`, `1.`) or a fraction alone (`.5`); the units are ns, us, µs (U+00B5),
 * μs (U+03BC), ms, s, m and h (no d or w). Use {@link isGoDuration}, which also refuses overflow.
 */
export const GO_DURATION = /^[-+]?(?:0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

const DURATION_PART = /([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/g;
const NANOS: Record<string, bigint> = { ns: 1n, us: 1000n, µs: 1000n, μs: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const TWO_63 = 1n << 63n;

/** The first digits of a fraction as Go's `leadingFraction` keeps them (it stops before overflow). */
function leadingFraction(digits: string): { f: bigint; scale: number } {
    let f = 0n;
    let scale = 1;
    for (const c of digits) {
        const next = f * 10n + BigInt(c);
        if (f > (TWO_63 - 1n) / 10n || next > TWO_63) break;
        f = next;
        scale *= 10;
    }
    return { f, scale };
}

/**
 * True when Go's `time.ParseDuration` accepts `text`: the {@link GO_DURATION} syntax, and a total
 * that fits an int64 of nanoseconds (about 2,562,047h), computed the way Go computes it.
 */
export function isGoDuration(text: string): boolean {
    if (!GO_DURATION.test(text)) return false;
    let total = 0n;
    for (const [, whole, fraction = "", unitName] of text.matchAll(DURATION_PART)) {
        const unit = NANOS[unitName];
        let v = BigInt(whole === "" ? "0" : whole);
        if (v > TWO_63 / unit) return false;
        v *= unit;
        const { f, scale } = leadingFraction(fraction);
        if (f > 0n) {
            v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
            if (v > TWO_63) return false;
        }
        total += v;
        if (total > TWO_63) return false;
    }
    return text.startsWith("-") || total <= TWO_63 - 1n;
}

/**
 * A duration setting of ours: what Go accepts, but not negative. Go parses `-1h`, yet a negative
 * age, interval or timeout means nothing here (a negative upload-purging age would purge uploads
 * still in progress).
 */
export function isDurationSetting(text: string): boolean {
    return isGoDuration(text) && !text.startsWith("-");
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/** An RFC 7230 header field name (a token). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Headers that frame the message or concern one connection (RFC 9110 §7.6.1, RFC 9112): Go's
 * server computes them itself, so a configured one would contradict the real length or encoding
 * and break responses (or smuggle a second one past a proxy). Lower case.
 */
export const FRAMING_HEADERS = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "host",
    "te",
    "trailer",
    "proxy-connection",
] as const;

/**
 * Why `name` cannot be a header the registry sends (response headers, notification headers),
 * worded to follow the header's name or key; undefined when it can be. `__proto__` is a token, but
 * a JavaScript object cannot hold it as data (assigning it sets the prototype), so it would vanish
 * on the way to `config.yml`.
 */
export function headerNameProblem(name: string): string | undefined {
    if (!HEADER_NAME.test(name)) return "is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)";
    if (name === "__proto__") return "is a reserved name, not a header";
    if ((FRAMING_HEADERS as readonly string[]).includes(name.toLowerCase())) {
        return `is a framing or hop-by-hop header, which the registry's HTTP server sets itself (refused: ${FRAMING_HEADERS.join(", ")})`;
    }
    return undefined;
}

// YAML 1.1 (the registry's go-yaml) breaks lines at LF, CR, NEL (U+0085), LS (U+2028) and PS
// (U+2029); the `yaml` library writes the last three raw inside quotes, where go-yaml folds them
// into a space. Other control characters are not printable YAML: go-yaml refuses a file holding
// them raw. Tab is allowed (HTTP header values may hold it, and it is escaped).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
const NOT_ONE_LINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A string the registry can be given: one line of text, with no line break of any kind (LF, CR,
 * VT, FF, NEL, LS, PS) and no other control character but tab. Every string rendered into
 * `config.yml` must be one (a line break in a header value would inject headers).
 */
export const isSingleLine = (s: string): boolean => !NOT_ONE_LINE.test(s);

/** What a string that is not {@link isSingleLine} is told (followed by `, got <value>` where it may be quoted). */
export const SINGLE_LINE_RULE = "must be one line of text (no line breaks such as LF, CR, U+0085, U+2028 or U+2029, and no control characters)";

/**
 * The last spelling of `name` recorded in `seen` ignoring case, if any (Go canonicalises header
 * names, so both would be sent: a clash); records `name`.
 */
export function sameHeader(seen: Map<string, string>, name: string): string | undefined {
    const other = seen.get(name.toLowerCase());
    seen.set(name.toLowerCase(), name);
    return other;
}

/** Why `s` is not an http:// or https:// URL with a host: `syntax`, `scheme`, or undefined when it is one. */
export function httpUrlProblem(s: string): "syntax" | "scheme" | undefined {
    let url: URL;
    try {
        url = new URL(s);
    } catch {
        return "syntax";
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return "scheme";
    // The URL parser drops tabs and line breaks and trims spaces, but the text is rendered as given
    // (and Go's url.Parse refuses control characters).
    if (!isSingleLine(s) || /\s/.test(s)) return "syntax";
    return url.hostname === "" ? "syntax" : undefined;
}

/** A path inside the registry container: POSIX and absolute. */
export const isAbsolutePath = (s: string): boolean => s.startsWith("/");

/** What a relative container path is told (followed by `, got <value>`). */
export const ABSOLUTE_PATH_RULE = "must be an absolute path inside the container";

/** An integer from `min` to `max` inclusive. */
export const isIntIn = (n: number, min: number, max = Number.MAX_SAFE_INTEGER): boolean => Number.isSafeInteger(n) && n >= min && n <= max;

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export const LOG_FORMATTERS = ["text", "json", "logstash"] as const;
export const BLOB_DESCRIPTOR_CACHES = ["inmemory", "redis"] as const;
export const TLS_VERSIONS = ["tls1.0", "tls1.1", "tls1.2", "tls1.3"] as const;
/** The minimum TLS versions distribution v3 accepts; it refuses older ones at start-up ("unknown minimum TLS level"). */
export const V3_TLS_VERSIONS = ["tls1.2", "tls1.3"] as const;

/** Cipher suite names distribution v2.8 accepts (docs/configuration.md, "Available cipher suites"). */
export const V2_CIPHER_SUITES = [
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/** v3 dropped the RC4 and CBC-SHA256 names (registry/registry.go `cipherSuites`); naming one is a start-up error. */
export const V3_CIPHER_SUITES = V2_CIPHER_SUITES.filter((c) => !c.includes("RC4") && !c.endsWith("CBC_SHA256"));

/** True when exactly one of a pair (a key and its secret, a user name and password) is given. */
export const onlyOneOf = (a: unknown, b: unknown): boolean => (a === undefined) !== (b === undefined);

// ---------------------------------------------------------------------------------------------
// Storage drivers
// ---------------------------------------------------------------------------------------------

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** The gcs driver refuses a chunksize that is not a multiple of 256 KiB. */
export const GCS_CHUNK_ALIGN = 256 * 1024;

/** Swift auth versions; Ceph RGW's `/auth/v1` needs 1. */
export const SWIFT_AUTH_VERSIONS = [1, 2, 3] as const;

/** Per driver: the fields it cannot start without, those that are container paths, and integer limits `[min, max?]`. */
export interface StorageRules {
    required: readonly string[];
    absolutePaths: readonly string[];
    ints: Readonly<Record<string, readonly [number, number?]>>;
}

export const STORAGE_RULES: Record<(typeof STORAGE_DRIVERS)[number], StorageRules> = {
    // registry/storage/driver/filesystem: "maxthreads parameter must be >= 25".
    filesystem: { required: [], absolutePaths: ["rootDirectory"], ints: { maxThreads: [25] } },
    // The s3 driver refuses chunks outside 5 MiB-5 GiB at start-up.
    s3: {
        required: ["region", "bucket"],
        absolutePaths: ["rootDirectory"],
        ints: {
            chunkSize: [5 * MIB, 5 * GIB],
            multipartCopyChunkSize: [5 * MIB, 5 * GIB],
            multipartCopyMaxConcurrency: [1],
            multipartCopyThresholdSize: [0, 5 * GIB],
        },
    },
    swift: { required: ["authUrl", "username", "password", "container"], absolutePaths: [], ints: { chunkSize: [1] } },
    azure: { required: ["accountName", "accountKey", "container"], absolutePaths: ["rootDirectory"], ints: {} },
    gcs: { required: ["bucket"], absolutePaths: ["keyfile", "rootDirectory"], ints: { chunkSize: [GCS_CHUNK_ALIGN, 5 * GIB] } },
    inmemory: { required: [], absolutePaths: [], ints: {} },
};

/** A gcs chunksize the driver takes besides its limits in {@link STORAGE_RULES}: a multiple of {@link GCS_CHUNK_ALIGN}. */
export const isGcsChunkAligned = (n: number): boolean => n % GCS_CHUNK_ALIGN === 0;

/**
 * Why distribution v2 cannot do this s3 addressing: it has no forcepathstyle key and uses path
 * style exactly when a regionEndpoint is set. `false-with-endpoint`, `true-without-endpoint`, or undefined.
 */
export function s3PathStyleProblem(
    version: RegistryMajorVersion | undefined,
    forcePathStyle: unknown,
    regionEndpoint: unknown,
): "false-with-endpoint" | "true-without-endpoint" | undefined {
    if (version !== 2) return undefined;
    if (forcePathStyle === false && regionEndpoint !== undefined) return "false-with-endpoint";
    if (forcePathStyle === true && regionEndpoint === undefined) return "true-without-endpoint";
    return undefined;
}

/** Whether the registry addresses the bucket path-style: v2 exactly with a regionEndpoint, v3 by forcePathStyle, which defaults to that. */
export function s3UsesPathStyle(s: { forcePathStyle?: boolean; regionEndpoint?: string }): boolean {
    return s.forcePathStyle ?? s.regionEndpoint !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/** What one major version cannot do: naming it is a start-up error, or silently ignored. */
export type VersionFeature = "swiftDriver" | "azureRootDirectory" | "proxyTtl" | "redisUsername" | "redisAddrList";

const LACKS: Record<RegistryMajorVersion, readonly VersionFeature[]> = {
    // v2: azure rootdirectory, proxy ttl, redis ACL users and address lists came with v3.
    2: ["azureRootDirectory", "proxyTtl", "redisUsername", "redisAddrList"],
    // v3 removed the swift driver.
    3: ["swiftDriver"],
};

/** True when registry `version` lacks `feature` (false for an unknown version). */
export function versionLacks(version: RegistryMajorVersion | undefined, feature: VersionFeature): boolean {
    return version !== undefined && LACKS[version].includes(feature);
}

/** The port of a listen address such as `:5000` or `127.0.0.1:5001`. */
export function listenPort(addr: string | undefined): number | undefined {
    const digits = typeof addr === "string" ? /:([0-9]+)$/.exec(addr)?.[1] : undefined;
    return digits === undefined ? undefined : Number(digits);
}
