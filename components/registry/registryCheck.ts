/**
 * The check every `up` ends with: the registry as a client reaches it, through the endpoint and at
 * each replica host's address: TLS verified against the stack's CA, `/v2/` refused anonymously and
 * answered with a user's password, and a catalog request that reaches the storage. A failure names
 * its cause (connection, certificate, auth, storage) and the container's last log lines.
 *
 * `classify` and `describeProblem` are pure; `probe` makes the requests.
 */
import * as http from "node:http";
import * as https from "node:https";

/** One place a client reaches the registry at. */
export interface CheckTarget {
    /** What to call it in a message, e.g. `the endpoint localhost:5000`. */
    label: string;
    /** Where to connect (a name or an address). */
    connect: string;
    port: number;
    /** The name TLS verifies (the endpoint's host). */
    servername: string;
}

/** What one round of requests saw at a target. */
export type ProbeResult =
    | { kind: "ok" }
    | { kind: "connection"; detail: string }
    | { kind: "certificate"; detail: string }
    | { kind: "auth"; detail: string }
    | { kind: "storage"; detail: string }
    | { kind: "unexpected"; detail: string };

/** A failed round's cause in a client's words, with what to look at. */
export function describeProblem(target: CheckTarget, r: Exclude<ProbeResult, { kind: "ok" }>): string {
    const at = `${target.label} (${target.connect}:${target.port})`;
    switch (r.kind) {
        case "connection":
            return `${at} cannot be reached: ${r.detail}`;
        case "certificate":
            return `${at} serves a certificate the stack's CA does not verify for ${target.servername}: ${r.detail}`;
        case "auth":
            return `${at} refuses the stack's user: ${r.detail}`;
        case "storage":
            return `${at} cannot reach its storage: ${r.detail}`;
        case "unexpected":
            return `${at} answers unexpectedly: ${r.detail}`;
    }
}

/** Node's TLS verification error codes: the certificate, not the network. */
const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME|ERR_TLS/;

/** A request's error, as a cause. */
export function classifyError(e: NodeJS.ErrnoException): Exclude<ProbeResult, { kind: "ok" }> {
    const detail = e.code ? `${e.code}: ${e.message}` : e.message;
    return CERT_CODES.test(e.code ?? "") ? { kind: "certificate", detail } : { kind: "connection", detail };
}

/** The answers of one round (anonymous `/v2/`, `/v2/` with the user, the catalog), as a result. */
export function classify(anonymous: Answer, authed: Answer | undefined, catalog: Answer | undefined, user: string | undefined): ProbeResult {
    // distribution answers 503 on every path while its storage health check fails.
    const unhealthy = [anonymous, authed, catalog].find((a) => a?.status === 503);
    if (unhealthy) return { kind: "storage", detail: `503 from its storage health check: ${brief(unhealthy.body)}` };
    if (user === undefined) return anonymous.status === 200 ? { kind: "ok" } : { kind: "unexpected", detail: `/v2/ answers ${anonymous.status}` };
    if (anonymous.status !== 401) return { kind: "unexpected", detail: `/v2/ answers ${anonymous.status} without credentials (401 expected: is auth off?)` };
    if (!authed || authed.status === 401) return { kind: "auth", detail: `/v2/ answers 401 to ${user}: ${brief(authed?.body ?? "")}` };
    if (authed.status !== 200) return { kind: "unexpected", detail: `/v2/ answers ${authed.status} to ${user}` };
    if (!catalog || catalog.status >= 500) return { kind: "storage", detail: `the catalog answers ${catalog?.status}: ${brief(catalog?.body ?? "")}` };
    // A pull-through cache or a restricted catalog may refuse listing; anything below 500 reached the storage layer.
    return { kind: "ok" };
}

/** An HTTP answer: status and the start of its body. */
export interface Answer {
    status: number;
    body: string;
}

function brief(body: string): string {
    const one = body.replace(/\s+/g, " ").trim();
    return one.length > 300 ? `${one.slice(0, 300)}…` : one || "(empty body)";
}

function request(target: CheckTarget, path: string, opts: { ca?: string; auth?: string; timeoutMs: number }): Promise<Answer> {
    const tls = opts.ca !== undefined;
    const mod = tls ? https : http;
    return new Promise((resolve, reject) => {
        const req = mod.request(
            {
                host: target.connect,
                port: target.port,
                path,
                method: "GET",
                agent: false,
                timeout: opts.timeoutMs,
                headers: opts.auth ? { Authorization: opts.auth } : {},
                ...(tls ? { servername: target.servername, ca: opts.ca || undefined } : {}),
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => {
                    if (body.length < 4096) body += c;
                });
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            },
        );
        req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer in ${opts.timeoutMs / 1000} s`), { code: "ETIMEDOUT" })));
        req.on("error", reject);
        req.end();
    });
}

/** One round at `target`: anonymous `/v2/`, `/v2/` as `user`, the catalog as `user`. */
export async function probe(target: CheckTarget, opts: { ca?: string; user?: { name: string; password: string }; timeoutMs?: number }): Promise<ProbeResult> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const auth = opts.user ? `Basic ${Buffer.from(`${opts.user.name}:${opts.user.password}`).toString("base64")}` : undefined;
    try {
        const anonymous = await request(target, "/v2/", { ca: opts.ca, timeoutMs });
        if (!auth) return classify(anonymous, undefined, undefined, undefined);
        const authed = await request(target, "/v2/", { ca: opts.ca, auth, timeoutMs });
        const catalog = authed.status === 200 ? await request(target, "/v2/_catalog?n=1", { ca: opts.ca, auth, timeoutMs }) : undefined;
        return classify(anonymous, authed, catalog, opts.user?.name);
    } catch (e) {
        return classifyError(e as NodeJS.ErrnoException);
    }
}

/**
 * Probes every target until each answers well or `deadlineSeconds` pass (a replica just started
 * may still be opening its storage); returns each target's last problem, empty when all are well.
 */
export async function checkTargets(
    targets: CheckTarget[],
    opts: { ca?: string; user?: { name: string; password: string }; deadlineSeconds: number },
): Promise<string[]> {
    const deadline = Date.now() + opts.deadlineSeconds * 1000;
    const problems: string[] = [];
    for (const target of targets) {
        for (;;) {
            const r = await probe(target, opts);
            if (r.kind === "ok") break;
            if (Date.now() >= deadline) {
                problems.push(describeProblem(target, r));
                break;
            }
            await new Promise((res) => setTimeout(res, 1000));
        }
    }
    return problems;
}
