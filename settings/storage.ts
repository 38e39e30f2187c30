/** The storage section: `storage` (the driver and its fields, checked per driver). */
import * as path from "node:path";
import { ABSOLUTE_PATH_RULE, isAbsolutePath, STORAGE_RULES, SWIFT_AUTH_VERSIONS } from "../components/registryConfig";
import { STORAGE_DRIVERS, type RegistryMajorVersion, type StorageDriver } from "../components/registryConfig/model";
import { BAD, type Reader, unknownKey } from "./reader";
import { Secret } from "../components/secret";
import { isObj, type Obj } from "./rules";

/** Where the data volume or host path is mounted in the container (components/registry/registry.ts). */
const CONTAINER_DATA_DIR = "/var/lib/registry";

type Driver = (typeof STORAGE_DRIVERS)[number];
type FieldReader = (r: Reader, key: string, v: unknown, version: RegistryMajorVersion | undefined) => unknown;
interface FieldSpec {
    /** Defaults to the field's rule in STORAGE_RULES: its integer limits, or an absolute container path. */
    read?: FieldReader;
    /** A credential: the whole `storage` key must be secret. */
    credential?: boolean;
}

const plain: FieldReader = (r, k, v) => r.str(k, v);
const credential: FieldReader = (r, k, v) => r.str(k, v, { secret: true });
const flag: FieldReader = (r, k, v) => r.bool(k, v);
const link: FieldReader = (r, k, v) => r.url(k, v);
const absPath: FieldReader = (r, k, v) => (typeof v === "string" && isAbsolutePath(v) ? v : r.fail(k, `${ABSOLUTE_PATH_RULE}, got ${r.got(k, v)}`));

/** How a field is read: its own reader, else by its rule in STORAGE_RULES (integer limits, absolute path), else as a string. */
function readerFor(driver: Driver, k: string, spec: FieldSpec): FieldReader {
    const rules = STORAGE_RULES[driver];
    const limits = Object.hasOwn(rules.ints, k) ? rules.ints[k] : undefined;
    if (spec.read) return spec.read;
    if (spec.credential) return credential;
    if (limits) return (r, key, v) => r.int(key, v, limits[0], limits[1] ?? Number.MAX_SAFE_INTEGER);
    return rules.absolutePaths.includes(k) ? absPath : plain;
}

/** Each driver's fields, camelCase as in registryConfigModel.ts; required fields and limits are in STORAGE_RULES. */
const STORAGE_FIELDS: Record<Driver, Record<string, FieldSpec>> = {
    filesystem: {
        rootDirectory: {
            read: (r, k, v) => {
                const p = absPath(r, k, v, undefined) as string | undefined;
                if (p === undefined) return undefined;
                const rel = path.posix.relative(CONTAINER_DATA_DIR, path.posix.normalize(p));
                // The data volume is mounted at /var/lib/registry: anywhere else is the container's
                // own layer, lost on the next replacement.
                if (rel.startsWith(".."))
                    return r.fail(
                        k,
                        `must be ${CONTAINER_DATA_DIR} or below it (where the data volume is mounted; elsewhere data is lost when the container is replaced), got ${r.got(k, v)}`,
                    );
                return p;
            },
        },
        maxThreads: {},
    },
    s3: {
        region: {},
        bucket: {
            read: (r, k, v) => {
                const s = r.str(k, v);
                return s !== undefined && /[\s/]/.test(s) ? r.fail(k, `must be a bucket name (no spaces or slashes), got ${r.got(k, s)}`) : s;
            },
        },
        accessKey: { credential: true },
        secretKey: { credential: true },
        regionEndpoint: { read: link },
        forcePathStyle: { read: flag },
        secure: { read: flag },
        skipVerify: { read: flag },
        v4Auth: { read: flag },
        encrypt: { read: flag },
        keyId: {},
        chunkSize: {},
        multipartCopyChunkSize: {},
        multipartCopyMaxConcurrency: {},
        multipartCopyThresholdSize: {},
        rootDirectory: {},
        storageClass: {},
    },
    swift: {
        authUrl: { read: link },
        username: {},
        password: { credential: true },
        container: {},
        tenant: {},
        tenantId: {},
        domain: {},
        domainId: {},
        region: {},
        authVersion: { read: (r, k, v) => r.oneOf(k, v, SWIFT_AUTH_VERSIONS, " (Ceph RGW's /auth/v1 needs 1)") },
        insecureSkipVerify: { read: flag },
        chunkSize: {},
        prefix: {},
    },
    azure: {
        accountName: {},
        accountKey: { credential: true },
        container: {},
        realm: {},
        rootDirectory: { read: absPath },
    },
    gcs: {
        bucket: {},
        keyfile: {},
        rootDirectory: {},
        chunkSize: {},
    },
    inmemory: {},
};

export function parseStorage(r: Reader, version: RegistryMajorVersion | undefined): StorageDriver<Secret> | undefined {
    const what = `an object {driver, …} with driver one of ${STORAGE_DRIVERS.join(", ")}`;
    const raw = r.has("storage") ? r.json("storage", what) : { driver: "filesystem" };
    if (raw === BAD) return undefined;
    if (!isObj(raw)) return r.fail("storage", `must be ${what}, got ${r.got("storage", raw)}`);
    if (!r.required("storage", raw, "driver", ` (one of ${STORAGE_DRIVERS.join(", ")})`)) return undefined;
    const driver = r.oneOf("storage.driver", raw.driver, STORAGE_DRIVERS);
    if (!driver) return undefined;
    const spec = STORAGE_FIELDS[driver];
    const out: Obj = { driver };
    const credentials: string[] = [];
    for (const [k, v] of Object.entries(raw)) {
        if (k === "driver") continue;
        const key = `storage.${k}`;
        // Own fields only: `constructor` or `toString` must not find Object.prototype's.
        const field = Object.hasOwn(spec, k) ? spec[k] : undefined;
        if (!field) {
            const owners = STORAGE_DRIVERS.filter((d) => Object.hasOwn(STORAGE_FIELDS[d], k));
            const takes = ["driver", ...Object.keys(spec)].join(", ");
            r.fail(
                key,
                owners.length > 0
                    ? `belongs to the ${owners.join("/")} driver, not ${driver}; ${driver} takes: ${takes}`
                    : unknownKey(k, ["driver", ...Object.keys(spec)]),
            );
            continue;
        }
        if (field.credential) credentials.push(key);
        const parsed = readerFor(driver, k, field)(r, key, v, version);
        if (parsed !== undefined) out[k] = field.credential ? new Secret(String(parsed)) : parsed;
    }
    for (const k of STORAGE_RULES[driver].required) r.required("storage", raw, k, ` for the ${driver} driver`);
    if (credentials.length > 0) r.requireSecret("storage", "a credential", credentials[0]);
    if (driver === "s3" && raw.regionEndpoint !== undefined && raw.accessKey === undefined && raw.secretKey === undefined) {
        r.warn(
            "storage.regionEndpoint",
            "is set but accessKey/secretKey are not: the registry then takes credentials from its environment or an EC2 instance role, which a custom endpoint such as Ceph RGW or MinIO does not have",
        );
    }
    return out as unknown as StorageDriver<Secret>;
}
