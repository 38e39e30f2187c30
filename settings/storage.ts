/** The storage section: `storage` (the driver and its fields, checked per driver). */
import * as path from "node:path";
import { STORAGE_DRIVERS, type RegistryMajorVersion, type StorageDriver } from "../components/render/registryConfigModel";
import { BAD, type Reader, redact, unknownKey } from "./reader";
import { isObj, type Obj } from "./rules";

/** Where the data volume or host path is mounted in the container (components/registry.ts). */
const CONTAINER_DATA_DIR = "/var/lib/registry";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

type FieldReader = (r: Reader, key: string, v: unknown, version: RegistryMajorVersion | undefined) => unknown;
interface FieldSpec {
    read: FieldReader;
    required?: boolean;
    /** A credential: the whole `storage` key must be secret. */
    credential?: boolean;
}

const plain: FieldReader = (r, k, v) => r.str(k, v);
const flag: FieldReader = (r, k, v) => r.bool(k, v);
const link: FieldReader = (r, k, v) => r.url(k, v);
const absPath: FieldReader = (r, k, v) =>
    typeof v === "string" && path.posix.isAbsolute(v) ? v : r.fail(k, `must be an absolute path inside the container, got ${r.got(k, v)}`);
const intIn =
    (min: number, max = Number.MAX_SAFE_INTEGER): FieldReader =>
    (r, k, v) =>
        r.int(k, v, min, max);

/** Each driver's fields, camelCase as in registryConfigModel.ts, with the registry's own limits. */
const STORAGE_FIELDS: Record<(typeof STORAGE_DRIVERS)[number], Record<string, FieldSpec>> = {
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
        // registry/storage/driver/filesystem: "maxthreads parameter must be >= 25".
        maxThreads: { read: intIn(25) },
    },
    s3: {
        region: { read: plain, required: true },
        bucket: {
            read: (r, k, v) => {
                const s = r.str(k, v);
                return s !== undefined && /[\s/]/.test(s) ? r.fail(k, `must be a bucket name (no spaces or slashes), got ${r.got(k, s)}`) : s;
            },
            required: true,
        },
        accessKey: { read: plain, credential: true },
        secretKey: { read: plain, credential: true },
        regionEndpoint: { read: link },
        forcePathStyle: { read: flag },
        secure: { read: flag },
        skipVerify: { read: flag },
        v4Auth: { read: flag },
        encrypt: { read: flag },
        keyId: { read: plain },
        // The s3 driver refuses chunks outside 5 MiB-5 GiB at start-up.
        chunkSize: { read: intIn(5 * MIB, 5 * GIB) },
        multipartCopyChunkSize: { read: intIn(5 * MIB, 5 * GIB) },
        multipartCopyMaxConcurrency: { read: intIn(1) },
        multipartCopyThresholdSize: { read: intIn(0, 5 * GIB) },
        rootDirectory: { read: absPath },
        storageClass: { read: plain },
    },
    swift: {
        authUrl: { read: link, required: true },
        username: { read: plain, required: true },
        password: { read: plain, required: true, credential: true },
        container: { read: plain, required: true },
        tenant: { read: plain },
        tenantId: { read: plain },
        domain: { read: plain },
        domainId: { read: plain },
        region: { read: plain },
        authVersion: { read: (r, k, v) => r.oneOf(k, v, [1, 2, 3] as const, " (Ceph RGW's /auth/v1 needs 1)") },
        insecureSkipVerify: { read: flag },
        chunkSize: { read: intIn(1) },
        prefix: { read: plain },
    },
    azure: {
        accountName: { read: plain, required: true },
        accountKey: { read: plain, required: true, credential: true },
        container: { read: plain, required: true },
        realm: { read: plain },
        rootDirectory: {
            read: (r, k, v, version) =>
                version === 2 ? r.fail(k, "is not supported by the azure driver of distribution v2 (added in v3)") : absPath(r, k, v, version),
        },
    },
    gcs: {
        bucket: { read: plain, required: true },
        keyfile: { read: absPath },
        rootDirectory: { read: absPath },
        chunkSize: {
            read: (r, k, v) => {
                const n = r.int(k, v, 256 * 1024, 5 * GIB);
                return n !== undefined && n % (256 * 1024) !== 0 ? r.fail(k, `must be a multiple of 262144 (256 KiB), got ${n}`) : n;
            },
        },
    },
    inmemory: {},
};

export function parseStorage(r: Reader, version: RegistryMajorVersion | undefined): StorageDriver | undefined {
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
        const field = spec[k];
        if (!field) {
            const owners = STORAGE_DRIVERS.filter((d) => STORAGE_FIELDS[d][k] !== undefined);
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
        const parsed = field.read(r, key, v, version);
        if (parsed !== undefined) out[k] = parsed;
    }
    for (const [k, field] of Object.entries(spec)) {
        if (field.required) r.required("storage", raw, k, ` for the ${driver} driver`);
    }
    if (credentials.length > 0) r.requireSecret("storage", "a credential", credentials[0]);
    if (driver === "s3") {
        if (raw.accessKey !== undefined && raw.secretKey === undefined)
            r.fail("storage.secretKey", "is required with storage.accessKey (or give neither, to use the instance role)");
        if (raw.secretKey !== undefined && raw.accessKey === undefined)
            r.fail("storage.accessKey", "is required with storage.secretKey (or give neither, to use the instance role)");
        if (version === 2 && raw.forcePathStyle === false && raw.regionEndpoint !== undefined) {
            r.fail(
                "storage.forcePathStyle",
                "cannot be false on distribution v2: it always uses path-style addressing with a regionEndpoint (use a 3.x image, or drop it)",
            );
        }
        if (version === 2 && raw.forcePathStyle === true && raw.regionEndpoint === undefined) {
            r.fail("storage.forcePathStyle", "does not exist on distribution v2, which uses path style only with a regionEndpoint");
        }
    }
    if (driver === "swift" && version === 3) {
        r.fail(
            "storage.driver",
            `swift was removed in distribution v3: use the S3 API of Ceph RGW (driver s3 with regionEndpoint), or a 2.x image such as registry:2.8.3 with registryVersion 2`,
        );
    }
    return redact(out, ["accessKey", "secretKey", "password", "accountKey"]) as unknown as StorageDriver;
}
