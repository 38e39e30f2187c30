/**
 * The state of a deployed registry, from its stack: `/v2/` through TLS (verified against the
 * stack's CA) and basic auth, at the endpoint and at each replica host's replica, days until the
 * server certificate and the CA expire, the last garbage collection, and what each client host's
 * last apply did. Every check is a line; `ok` is
 * false when one fails, so `npm run status` can exit non-zero from cron.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type * as tls from "node:tls";
import type { Stack } from "@pulumi/pulumi/automation";

/** Options for {@link registryStatus}. */
export interface StatusOptions {
    /** Connect here instead of the endpoint's own address (TLS still verifies the endpoint's name). */
    connect?: string;
    /** Fail when the server certificate expires within this many days. Defaults to 14. */
    certWarnDays?: number;
    /** Fail when the CA expires within this many days. Defaults to 60 (clients need the new one first). */
    caWarnDays?: number;
    /** The last garbage collection's record (scripts/gc.ts writes it). */
    gcRecordFile?: string;
    /** Seconds per request. Defaults to 10. */
    timeout?: number;
}

/** One line of the report. */
export interface StatusCheck {
    name: string;
    ok: boolean;
    detail: string;
}

const DAY = 86_400_000;

function splitHostPort(endpoint: string): { host: string; port: number } {
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(endpoint);
    return { host: m?.[1] ?? endpoint, port: m?.[2] ? Number(m[2]) : 443 };
}

function getV2(host: string, port: number, servername: string, ca: string, auth: string | undefined, timeout: number) {
    return new Promise<{ status: number; cert: tls.PeerCertificate; protocol: string | null }>((resolve, reject) => {
        const req = https.request(
            { host, port, servername, path: "/v2/", method: "GET", ca, headers: auth ? { Authorization: auth } : {}, agent: false, timeout: timeout * 1000 },
            (res) => {
                const socket = res.socket as tls.TLSSocket;
                const cert = socket.getPeerCertificate();
                const protocol = socket.getProtocol();
                res.resume();
                res.on("end", () => resolve({ status: res.statusCode ?? 0, cert, protocol }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer in ${timeout} s`)));
        req.on("error", reject);
        req.end();
    });
}

/** Checks the stack's registry; never throws for a failed check (it becomes a line with ok false). */
export async function registryStatus(stack: Stack, opts: StatusOptions = {}): Promise<{ ok: boolean; checks: StatusCheck[] }> {
    const out = await stack.outputs();
    const checks: StatusCheck[] = [];
    const endpoint = String(out.endpoint?.value ?? "");
    const ca = String(out.caCertPem?.value ?? "");
    const passwords = (out.passwords?.value ?? {}) as Record<string, string>;
    // The stack's first user (the passwords map comes back with its keys sorted).
    const user = ((out.usernames?.value ?? []) as string[])[0] ?? Object.keys(passwords)[0];
    if (!endpoint) return { ok: false, checks: [{ name: "stack", ok: false, detail: "no endpoint output: has `up` run on this stack?" }] };
    const { host, port } = splitHostPort(endpoint);
    const now = Date.now();
    const days = (t: number) => Math.floor((t - now) / DAY);
    const auth = user ? `Basic ${Buffer.from(`${user}:${passwords[user]}`).toString("base64")}` : undefined;

    if (ca) {
        try {
            const r = await getV2(opts.connect ?? host, port, host, ca, auth, opts.timeout ?? 10);
            checks.push({
                name: "registry",
                ok: r.status === 200,
                detail: `${endpoint}: /v2/ answers ${r.status}${user ? ` as ${user}` : ""} over ${r.protocol}, verified against the stack's CA`,
            });
            const until = Date.parse(r.cert.valid_to);
            const left = days(until);
            const warn = opts.certWarnDays ?? 14;
            checks.push({
                name: "server certificate",
                ok: left > warn,
                detail: `expires ${new Date(until).toISOString().slice(0, 10)} (${left} days${left <= warn ? `: within ${warn}, renew it with up` : ""})`,
            });
        } catch (e) {
            checks.push({ name: "registry", ok: false, detail: `${endpoint}${opts.connect ? ` (at ${opts.connect})` : ""}: ${(e as Error).message}` });
        }
        // Each replica host on its own, as the balancer reaches it: the endpoint hides a lost one.
        const replicas = (out.replicaAddresses?.value ?? {}) as Record<string, string>;
        for (const [dockerHost, address] of Object.entries(replicas)) {
            const at = splitHostPort(address);
            const name = `replica ${address}`;
            try {
                const r = await getV2(at.host, at.port, host, ca, auth, opts.timeout ?? 10);
                checks.push({ name, ok: r.status === 200, detail: `on ${dockerHost}: /v2/ answers ${r.status}` });
            } catch (e) {
                checks.push({ name, ok: false, detail: `on ${dockerHost}: ${(e as Error).message}` });
            }
        }
        // During a CA rollover clients trust two CAs: the one that serves is the one that matters,
        // but each is reported.
        const caWarn = opts.caWarnDays ?? 60;
        const cas = ca.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
        for (const [i, pem] of cas.entries()) {
            const caUntil = Date.parse(new crypto.X509Certificate(pem).validTo);
            const caLeft = days(caUntil);
            checks.push({
                name: cas.length > 1 ? `CA ${i + 1} of ${cas.length} (rollover)` : "CA",
                ok: caLeft > caWarn,
                detail: `expires ${new Date(caUntil).toISOString().slice(0, 10)} (${caLeft} days${caLeft <= caWarn ? `: within ${caWarn}, roll it over` : ""})`,
            });
        }
    } else {
        checks.push({ name: "registry", ok: true, detail: `${endpoint}: TLS is off; not checked here` });
    }

    if (opts.gcRecordFile && fs.existsSync(opts.gcRecordFile)) {
        const gc = JSON.parse(fs.readFileSync(opts.gcRecordFile, "utf8")) as { at: string; beforeKiB?: number; afterKiB?: number };
        const freed = gc.beforeKiB !== undefined && gc.afterKiB !== undefined ? `, freed ${((gc.beforeKiB - gc.afterKiB) / 1024).toFixed(1)} MiB` : "";
        checks.push({ name: "last gc", ok: true, detail: `${gc.at}${freed}` });
    } else {
        checks.push({ name: "last gc", ok: true, detail: "never (npm run gc)" });
    }

    const clients = (out.clientStatus?.value ?? {}) as Record<string, string>;
    for (const [name, status] of Object.entries(clients)) {
        const lines = status.split("\n");
        checks.push({ name: `client ${name}`, ok: true, detail: `${lines[0]}; ${lines.length - 1} change(s) at its last apply` });
    }
    return { ok: checks.every((c) => c.ok), checks };
}
