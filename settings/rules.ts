/** Patterns and small helpers shared by the reader and several section parsers. No imports from the other settings files; the registry's own rules (durations, header names, URLs, storage limits) are in components/registryConfig/rules.ts. */
import * as net from "node:net";

const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Docker's container and volume name rule (`RestrictedNamePattern`): two characters at least. */
export const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** True for an RFC 1123 host name: labels of letters, digits and inner hyphens, ≤253 characters. */
export function isDnsName(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every((l) => DNS_LABEL.test(l));
}

/** Node's `net.isIP` accepts an IPv6 zone id (`fe80::1%eth0`); no certificate SAN, URL or `certs.d` folder can hold one. */
const hasZoneId = (s: string): boolean => s.includes("%") && net.isIPv6(s);

/** What an address with a zone id is told. */
export const ZONE_ID_PROBLEM = "has an IPv6 zone id (%…), which is not valid in certificates or URLs: give the address without it";

/** 4 or 6 for an IPv4 or IPv6 address, 0 for anything else (an address with a zone id included). */
export const ipVersion = (s: string): 0 | 4 | 6 => (hasZoneId(s) ? 0 : (net.isIP(s) as 0 | 4 | 6));

/** Why `s` is not an IP address (`what` when it is no address at all), or undefined. */
export const ipProblem = (s: string, what = "must be an IPv4 or IPv6 address"): string | undefined =>
    hasZoneId(s) ? ZONE_ID_PROBLEM : ipVersion(s) ? undefined : what;

/** Why `s` is neither a DNS name nor an IP address, or undefined. */
export const hostProblem = (s: string): string | undefined =>
    hasZoneId(s) ? ZONE_ID_PROBLEM : ipVersion(s) || isDnsName(s) ? undefined : "must be a DNS name or an IP address";

/**
 * One spelling per host, to compare hosts: DNS names in lower case, IPv6 addresses in their
 * canonical form (`fd00:0:0:0:0:0:0:5` and `FD00::5` are `fd00::5`), IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.5`) as the IPv4 address they are.
 */
export function canonicalHost(s: string): string {
    if (ipVersion(s) !== 6) return s.toLowerCase();
    // Node has no IPv6 canonicaliser; the WHATWG URL parser writes the RFC 5952 form.
    const h = new URL(`http://[${s}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (!mapped) return h;
    const [hi, lo] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** True for a name or address that always means the machine itself: `localhost` (and `*.localhost`), 127.0.0.0/8, ::1. */
export function isLoopback(s: string): boolean {
    const h = canonicalHost(s);
    return h === "localhost" || h.endsWith(".localhost") || h === "::1" || (ipVersion(h) === 4 && h.startsWith("127."));
}

/** True when an absolute URL carries credentials (`https://user:pass@host`, or a user alone). */
export function urlHasUserinfo(s: string): boolean {
    try {
        const url = new URL(s);
        return url.username !== "" || url.password !== "";
    } catch {
        return false;
    }
}
