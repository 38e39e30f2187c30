/**
 * The S3 bucket the registry stores into, through the AWS SDK: made sure to exist (idempotent),
 * and emptied and deleted only when the stack asks for it. No `@pulumi/*` import: the engine runs
 * a serialized copy of this module inside the bucket's dynamic provider.
 */
import * as https from "node:https";
import type * as S3 from "@aws-sdk/client-s3";

/**
 * The AWS SDK, loaded on first use: every run of the program imports this module (twice per
 * `pulumi up`), and only the bucket's provider talks to S3 (the SDK's load is about 40 ms).
 */
const sdk = (): typeof S3 => require("@aws-sdk/client-s3");

/** Where the bucket is and how to reach it (the registry's own S3 settings). */
export interface S3Target {
    bucket: string;
    region: string;
    /** e.g. `http://rgw.internal:7480`; unset for AWS itself. */
    endpoint?: string;
    forcePathStyle?: boolean;
    accessKey?: string;
    secretKey?: string;
    /** PEM of the CA the endpoint's certificate chains to. */
    caCertPem?: string;
    /** The registry's `rootDirectory` in the bucket: destroy deletes only below it. */
    rootDirectory?: string;
    skipVerify?: boolean;
}

/** An S3 client for the target's endpoint, credentials and CA, with the checksums RGW takes. */
export function s3Client(t: Omit<S3Target, "bucket">): S3.S3Client {
    const tls = t.caCertPem !== undefined || t.skipVerify === true;
    return new (sdk().S3Client)({
        region: t.region,
        endpoint: t.endpoint,
        forcePathStyle: t.forcePathStyle,
        credentials: t.accessKey && t.secretKey ? { accessKeyId: t.accessKey, secretAccessKey: t.secretKey } : undefined,
        requestHandler: tls ? { httpsAgent: new https.Agent({ ca: t.caCertPem, rejectUnauthorized: t.skipVerify !== true }) } : undefined,
        maxAttempts: 3,
        // Ceph RGW before Squid refuses the SDK's default CRC32 checksum on every request.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
    });
}

const where = (t: S3Target) => `s3 bucket ${t.bucket} at ${t.endpoint ?? `AWS ${t.region}`}`;
const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
function fail(t: S3Target, doing: string, e: unknown): Error {
    const code = status(e);
    const name = (e as Error).name;
    const hint =
        code === 403
            ? ": the credentials are refused or may not use this bucket (storage.accessKey/secretKey)"
            : /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(String((e as Error).message))
              ? ": the endpoint does not answer (storage.regionEndpoint)"
              : /certificate|self.signed|unable to verify/i.test(String((e as Error).message))
                ? ": its TLS certificate is not trusted (objectStore.caCertificate)"
                : "";
    return new Error(`${where(t)}: ${doing} failed (${name}${code ? ` ${code}` : ""}: ${(e as Error).message})${hint}`);
}

/** Creates the bucket unless it exists. Returns whether it was created. */
export async function ensureBucket(t: S3Target): Promise<{ created: boolean }> {
    const { CreateBucketCommand, HeadBucketCommand } = sdk();
    const s3 = s3Client(t);
    try {
        try {
            await s3.send(new HeadBucketCommand({ Bucket: t.bucket }));
            return { created: false };
        } catch (e) {
            if (status(e) !== 404) throw fail(t, "checking it", e);
        }
        try {
            await s3.send(new CreateBucketCommand({ Bucket: t.bucket }));
        } catch (e) {
            // Another run made it in between: that is the state we want.
            if ((e as Error).name === "BucketAlreadyOwnedByYou") return { created: false };
            throw fail(t, "creating it", e);
        }
        return { created: true };
    } finally {
        s3.destroy();
    }
}

/**
 * The key prefix of everything the registry writes into a bucket: `<rootDirectory>/docker/registry/`
 * with the slashes trimmed as distribution's s3 driver trims them.
 */
export function registryPrefix(rootDirectory?: string): string {
    return `${(rootDirectory ?? "").replace(/\/+$/, "")}/docker/registry/`.replace(/^\/+/, "");
}

/**
 * Deletes every object (and version) whose key starts with `opts.prefix`, then, with
 * `opts.bucketToo`, the bucket if nothing else is left in it. A missing bucket is fine.
 */
export async function deleteBucket(t: S3Target, opts: { prefix: string; bucketToo: boolean }): Promise<{ objects: number; bucketDeleted: boolean }> {
    const { DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, ListObjectsV2Command } = sdk();
    const s3 = s3Client(t);
    let objects = 0;
    const Prefix = opts.prefix === "" ? undefined : opts.prefix;
    try {
        const remove = async (keys: { Key: string; VersionId?: string }[]) => {
            if (keys.length === 0) return;
            const r = await s3.send(new DeleteObjectsCommand({ Bucket: t.bucket, Delete: { Objects: keys, Quiet: true } }));
            if (r.Errors && r.Errors.length > 0)
                throw new Error(`${r.Errors.length} objects could not be deleted, e.g. ${r.Errors[0].Key}: ${r.Errors[0].Message}`);
            objects += keys.length;
        };
        try {
            for (let token: string | undefined, more = true; more; ) {
                const page = await s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix, ContinuationToken: token }));
                await remove((page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : [])));
                token = page.NextContinuationToken;
                more = page.IsTruncated === true && token !== undefined;
            }
            // A versioned bucket keeps old versions and delete markers; the bucket cannot go while it has any.
            for (let keyMarker: string | undefined, versionMarker: string | undefined, more = true; more; ) {
                const page = await s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket, Prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
                const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
                await remove(versions.flatMap((v) => (v.Key ? [{ Key: v.Key, VersionId: v.VersionId }] : [])));
                keyMarker = page.NextKeyMarker;
                versionMarker = page.NextVersionIdMarker;
                more = page.IsTruncated === true;
            }
            if (!opts.bucketToo) return { objects, bucketDeleted: false };
            try {
                await s3.send(new DeleteBucketCommand({ Bucket: t.bucket }));
            } catch (e) {
                // Objects outside the prefix are someone else's: the bucket stays for them.
                if ((e as Error).name === "BucketNotEmpty" || status(e) === 409) return { objects, bucketDeleted: false };
                throw e;
            }
            return { objects, bucketDeleted: true };
        } catch (e) {
            if (status(e) === 404 || (e as Error).name === "NoSuchBucket") return { objects, bucketDeleted: false };
            throw fail(t, "deleting it", e);
        }
    } finally {
        s3.destroy();
    }
}
