/** Patterns and small helpers shared by the reader and several section parsers. No imports from the other settings files. */
import * as net from "node:net";

/** Go's `time.ParseDuration` without a sign; `0` too (e.g. `proxy.ttl: 0` disables expiry). */
export const DURATION = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/;
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Docker's container and volume name rule (`RestrictedNamePattern`): two characters at least. */
export const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** An RFC 7230 header field name. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** True for an RFC 1123 host name: labels of letters, digits and inner hyphens, ≤253 characters. */
export function isDnsName(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every((l) => DNS_LABEL.test(l));
}

export const hostProblem = (s: string) => (net.isIP(s) || isDnsName(s) ? undefined : "must be a DNS name or an IP address");
