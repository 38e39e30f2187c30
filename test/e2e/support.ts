/**
 * Helpers for the end-to-end scenarios: HTTPS to the registry through its published loopback port
 * (SNI and verification as `registry.test`, trusting only the CA the program made), and timing.
 */
import * as https from "node:https";
import * as tls from "node:tls";

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
    opts: { user?: string; password?: string; headers?: Record<string, string>; maxVersion?: tls.SecureVersion } = {},
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
        req.end();
    });
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
