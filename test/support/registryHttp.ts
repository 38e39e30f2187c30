/**
 * One HTTPS request to a registry the test started on 127.0.0.1, verified against the given CA only
 * (SNI and name check for `servername`, default `localhost`).
 */
import * as https from "node:https";

/** The status, headers and text of a response. */
export interface Reply {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

/** Sends one request; `auth` is `user:password` for basic auth; a `body` is sent as octets. */
export function request(
    port: number,
    caPem: string,
    opts: { method?: string; path: string; auth?: string; servername?: string; body?: Buffer },
): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
    if (opts.body) {
        headers["Content-Type"] = "application/octet-stream";
        headers["Content-Length"] = String(opts.body.length);
    }
    return new Promise((resolve, reject) => {
        const req = https.request(
            {
                host: "127.0.0.1",
                port,
                method: opts.method ?? "GET",
                path: opts.path,
                ca: caPem,
                servername: opts.servername ?? "localhost",
                headers,
                agent: false,
                timeout: 5000,
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("request timed out")));
        req.on("error", reject);
        req.end(opts.body);
    });
}
