/**
 * The object store section: `objectStore` (what the program does around S3/Swift storage: the
 * bucket it makes sure exists, whether destroy may delete it, and the CA the store's TLS chains to).
 */
import { readCertificates } from "./pem";
import type { Reader } from "./reader";
import type { ObjectStoreSettings } from "../components/args";
import { objectStoreDefaults, usesObjectStore } from "../components/defaults";

export const OBJECT_STORE_KEYS = ["caCertificate", "ensureBucket", "deleteBucketOnDestroy"];
const SHAPE = "an object {caCertificate?, ensureBucket?, deleteBucketOnDestroy?}";

/** Reads `objectStore` for the storage driver in use (undefined when the driver is not an object store). */
export function parseObjectStore(r: Reader, driver: string | undefined, now: Date): ObjectStoreSettings | undefined {
    const objectStore = usesObjectStore(driver);
    if (!r.has("objectStore")) return objectStore ? objectStoreDefaults(driver) : undefined;
    const o = r.section("objectStore", OBJECT_STORE_KEYS, SHAPE);
    if (!o) return undefined;
    if (driver !== undefined && !objectStore) {
        r.fail("objectStore", `applies to storage.driver s3 or swift only, and storage.driver is ${driver}`);
        return undefined;
    }
    let caCertPem: string | undefined;
    if (o.caCertificate !== undefined) {
        const text = r.str("objectStore.caCertificate", o.caCertificate, { multiline: true });
        if (text !== undefined && readCertificates(r, "objectStore.caCertificate", text, now)) caCertPem = text.trim().concat("\n");
    }
    const bool = (k: string, dflt: boolean) => (o[k] === undefined ? dflt : (r.bool(`objectStore.${k}`, o[k]) ?? dflt));
    const dflt = objectStoreDefaults(driver);
    const ensureBucket = bool("ensureBucket", dflt.ensureBucket);
    const deleteBucketOnDestroy = bool("deleteBucketOnDestroy", dflt.deleteBucketOnDestroy);
    // The Swift driver creates its container itself; the bucket is an S3 thing.
    for (const k of ["ensureBucket", "deleteBucketOnDestroy"]) {
        if (driver === "swift" && o[k] === true)
            r.fail(`objectStore.${k}`, "applies to storage.driver s3 only (the Swift driver creates its container itself)");
    }
    if (deleteBucketOnDestroy && !ensureBucket) r.fail("objectStore.deleteBucketOnDestroy", "needs ensureBucket: the program deletes only a bucket it manages");
    return { ...(caCertPem ? { caCertPem } : {}), ensureBucket, deleteBucketOnDestroy };
}
