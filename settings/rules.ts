/** Patterns and small helpers shared by the reader and several section parsers. No imports from the other settings files; the registry's own rules (durations, header names, URLs, storage limits) are in components/registryConfig/rules.ts. */
import { canonicalHost, hasZoneId, ipVersion, isLoopback, ZONE_ID_PROBLEM } from "../components/hosts";

export { canonicalHost, ipVersion, isLoopback, ZONE_ID_PROBLEM };

const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Docker's container and volume name rule (`RestrictedNamePattern`): two characters at least. */
export const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** True for an RFC 1123 host name: labels of letters, digits and inner hyphens, ≤253 characters. */
export function isDnsName(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every((l) => DNS_LABEL.test(l));
}

/** Why `s` is not an IP address (`what` when it is no address at all), or undefined. */
export const ipProblem = (s: string, what = "must be an IPv4 or IPv6 address"): string | undefined =>
    hasZoneId(s) ? ZONE_ID_PROBLEM : ipVersion(s) ? undefined : what;

/** Why `s` is neither a DNS name nor an IP address, or undefined. */
export const hostProblem = (s: string): string | undefined =>
    hasZoneId(s) ? ZONE_ID_PROBLEM : ipVersion(s) || isDnsName(s) ? undefined : "must be a DNS name or an IP address";

/** True when an absolute URL carries credentials (`https://user:pass@host`, or a user alone). */
export function urlHasUserinfo(s: string): boolean {
    try {
        const url = new URL(s);
        return url.username !== "" || url.password !== "";
    } catch {
        return false;
    }
}
