/**
 * Helpers for the end-to-end scenarios: HTTPS to the registry through its published loopback port
 * (SNI and verification as `registry.test`, trusting only the CA the program made), and timing.
 */
import * as crypto from "node:crypto";
import * as https from "node:https";
import * as tls from "node:tls";
import { pack } from "tar-stream";

/** A response from the registry API. */
export interface ApiResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

/** Where and how to reach the registry from this machine. */
export interface RegistryTarget {
    /** Loopback address and published port. */
    host: string;
    port: number;
    /** The name in the certificate (verified, and sent as SNI). */
    servername: string;
    /** The only CA trusted. */
    ca: string;
}

/** One HTTPS request to the registry API, verified against `target.ca` only. */
export function api(
    target: RegistryTarget,
    method: string,
    path: string,
    opts: { user?: string; password?: string; headers?: Record<string, string>; maxVersion?: tls.SecureVersion; body?: Buffer } = {},
): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
        const headers: Record<string, string> = { ...(opts.headers ?? {}) };
        if (opts.user !== undefined) {
            headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ""}`).toString("base64")}`;
        }
        const req = https.request(
            {
                host: target.host,
                port: target.port,
                servername: target.servername,
                ca: target.ca,
                method,
                path,
                headers,
                maxVersion: opts.maxVersion,
                timeout: 10_000,
                agent: false,
                checkServerIdentity: (_h, cert) => tls.checkServerIdentity(target.servername, cert),
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on("error", reject);
        req.end(opts.body);
    });
}

/** A tar holding one file. */
function tarOf(name: string, data: Buffer): Promise<Buffer> {
    const p = pack();
    const chunks: Buffer[] = [];
    const done = new Promise<Buffer>((resolve, reject) => {
        p.on("data", (c: unknown) => chunks.push(c as Buffer));
        p.on("end", () => resolve(Buffer.concat(chunks)));
        p.on("error", reject);
    });
    p.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data);
    p.finalize();
    return done;
}

/**
 * Pushes a one-layer image of `layerBytes` random bytes (in a tar) through the registry API (blob uploads,
 * then the manifest under `tag`); returns the manifest's digest.
 */
export async function pushRandomImage(
    target: RegistryTarget,
    auth: { user: string; password: string },
    repo: string,
    tag: string,
    layerBytes: number,
): Promise<string> {
    const digest = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;
    const upload = async (blob: Buffer) => {
        const start = await api(target, "POST", `/v2/${repo}/blobs/uploads/`, auth);
        if (start.status !== 202) throw new Error(`upload start: ${start.status} ${start.body}`);
        const location = new URL(String(start.headers.location), "https://registry");
        location.searchParams.set("digest", digest(blob));
        const put = await api(target, "PUT", `${location.pathname}${location.search}`, {
            ...auth,
            body: blob,
            headers: { "content-type": "application/octet-stream", "content-length": String(blob.length) },
        });
        if (put.status !== 201) throw new Error(`upload: ${put.status} ${put.body}`);
    };
    // A real layer: a tar of one file of random bytes, so that a client's pull can unpack it.
    const layer = await tarOf("data", crypto.randomBytes(layerBytes));
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [digest(layer)] } }));
    await upload(layer);
    await upload(config);
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", size: config.length, digest: digest(config) },
            layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", size: layer.length, digest: digest(layer) }],
        }),
    );
    const put = await api(target, "PUT", `/v2/${repo}/manifests/${tag}`, {
        ...auth,
        body: manifest,
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(manifest.length) },
    });
    if (put.status !== 201) throw new Error(`manifest: ${put.status} ${put.body}`);
    return digest(manifest);
}

/** Runs a scenario step and prints how long it took. */
export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
        return await fn();
    } finally {
        console.log(`  [e2e] ${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
}

/** A line of test progress, printed only with E2E_VERBOSE=1. */
export function e2eLog(m: string): void {
    if (process.env.E2E_VERBOSE) console.log(`    ${m}`);
}
