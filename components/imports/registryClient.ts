/**
 * The few calls of the distribution API an image copy needs (blob and manifest HEAD, monolithic
 * blob upload, manifest PUT), over TLS verified against the registry's own CA, with basic auth.
 * No `@pulumi/*` import: the engine runs a serialized copy of this module in a dynamic provider.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { Readable } from "node:stream";
import * as tls from "node:tls";

/** Where this machine reaches the registry, and as whom. */
export interface RegistryTarget {
    /** The address connected to (`127.0.0.1` for a registry on this machine's Docker engine). */
    host: string;
    port: number;
    /** The name the certificate is checked against (the endpoint); unset when TLS is off. */
    servername?: string;
    /** The CA trusted, PEM (the registry's). Unset: the system's trust store. */
    caCertPem?: string;
    tls: boolean;
    username: string;
    password: string;
}

/** Every manifest type a registry may answer with. */
const ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** A client of one registry; `close()` ends its kept-alive connections. */
export function registryClient(t: RegistryTarget) {
    const where = `${t.tls ? "https" : "http"}://${t.servername ?? t.host}:${t.port}${t.servername && t.servername !== t.host ? ` (at ${t.host})` : ""}`;
    const agent = t.tls
        ? new https.Agent({
              keepAlive: true,
              maxSockets: 4,
              ca: t.caCertPem,
              servername: t.servername,
              checkServerIdentity: (_h, cert) => tls.checkServerIdentity(t.servername ?? t.host, cert),
          })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
    const authorization = `Basic ${Buffer.from(`${t.username}:${t.password}`).toString("base64")}`;

    function request(method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | Readable } = {}): Promise<Reply> {
        const send = t.tls ? https.request : http.request;
        return new Promise((resolve, reject) => {
            const req = send({ host: t.host, port: t.port, method, path, agent, headers: { authorization, ...opts.headers } }, (res) => {
                const chunks: Buffer[] = [];
                let kept = 0;
                res.on("data", (c: Buffer) => {
                    // Only an error body is read, and only its start.
                    if (kept < 4096) chunks.push(c);
                    kept += c.length;
                });
                res.on("end", () =>
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8").slice(0, 4096) }),
                );
                res.on("error", reject);
            });
            req.setTimeout(120_000, () => req.destroy(new Error("no answer for 120 s")));
            req.on("error", (e) => reject(connectionError(e)));
            const body = opts.body;
            if (body === undefined || Buffer.isBuffer(body)) req.end(body);
            else {
                body.on("error", (e) => req.destroy(e));
                body.pipe(req);
            }
        });
    }

    function connectionError(e: Error): Error {
        const hint = /ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|ENOTFOUND/.test(e.message)
            ? ": nothing answers there (is the registry running, and is its port reachable from this machine?)"
            : /certificate|self.signed|unable to verify|altnames/i.test(e.message)
              ? ": its certificate is not the one this stack issued for that name"
              : "";
        const err = new Error(`registry ${where}: ${e.message}${hint}`);
        err.name = "RegistryError";
        return err;
    }

    function fail(doing: string, r: Reply): Error {
        const hint =
            r.status === 401
                ? `: user ${t.username}'s password is refused`
                : r.status === 405 || /read-?only/i.test(r.body)
                  ? ": the registry refuses writes (read-only maintenance, such as a garbage collection, or a pull-through cache); run up again after it"
                  : "";
        const err = new Error(`registry ${where}: ${doing} got HTTP ${r.status}${hint}${r.body ? ` (${r.body.trim().slice(0, 300)})` : ""}`);
        err.name = "RegistryError";
        return err;
    }

    return {
        where,
        /** The digest a tag (or digest) resolves to, or undefined when the registry has no such manifest. */
        async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
            const r = await request("HEAD", `/v2/${repository}/manifests/${reference}`, { headers: { accept: ACCEPT } });
            if (r.status === 404) return undefined;
            if (r.status !== 200) throw fail(`HEAD ${repository}:${reference}`, r);
            return String(r.headers["docker-content-digest"] ?? "") || undefined;
        },
        /** True when the repository already has the blob. */
        async hasBlob(repository: string, digest: string): Promise<boolean> {
            const r = await request("HEAD", `/v2/${repository}/blobs/${digest}`);
            if (r.status === 404) return false;
            if (r.status !== 200) throw fail(`HEAD blob ${digest}`, r);
            return true;
        },
        /** Uploads a blob in one PUT (the registry checks the digest). */
        async putBlob(repository: string, digest: string, size: number, open: () => Readable): Promise<void> {
            const start = await request("POST", `/v2/${repository}/blobs/uploads/`, { headers: { "content-length": "0" } });
            if (start.status !== 202) throw fail(`starting the upload of ${digest}`, start);
            const location = new URL(String(start.headers.location), `http://${t.host}`);
            location.searchParams.set("digest", digest);
            const put = await request("PUT", `${location.pathname}${location.search}`, {
                headers: { "content-type": "application/octet-stream", "content-length": String(size) },
                body: open(),
            });
            if (put.status !== 201) throw fail(`uploading blob ${digest}`, put);
        },
        /** Puts a manifest under a tag or its digest; checks the registry stored it as these exact bytes. */
        async putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer, digest: string): Promise<void> {
            const r = await request("PUT", `/v2/${repository}/manifests/${reference}`, {
                headers: { "content-type": mediaType, "content-length": String(bytes.length) },
                body: bytes,
            });
            if (r.status !== 201) throw fail(`putting manifest ${repository}:${reference}`, r);
            const stored = String(r.headers["docker-content-digest"] ?? "");
            if (stored && stored !== digest) throw fail(`putting manifest ${repository}:${reference} (stored as ${stored}, not ${digest})`, r);
        },
        close(): void {
            agent.destroy();
        },
    };
}

/** A client of one registry. */
export type RegistryClient = ReturnType<typeof registryClient>;
