/**
 * Host names and addresses: one spelling per host, loopback, the host of an `ssh://` Docker host,
 * and where the machine running `up` reaches the registry. Pure: no Pulumi import. The settings'
 * checks use the same functions.
 */
import * as net from "node:net";
import type { DockerHostSettings } from "./args";

/** Node's `net.isIP` accepts an IPv6 zone id (`fe80::1%eth0`); no certificate SAN, URL or `certs.d` folder can hold one. */
export const hasZoneId = (s: string): boolean => s.includes("%") && net.isIPv6(s);

/**
 * The host clients reach the registry by, and the server certificate is checked against: the first
 * hostname, else the first address (undefined when there is neither, which resolved arguments never are).
 */
export function endpointHost<T>(s: { hostnames: readonly T[]; ipAddresses: readonly T[] }): T {
    return s.hostnames[0] ?? s.ipAddresses[0];
}

/** What an address with a zone id is told. */
export const ZONE_ID_PROBLEM = "has an IPv6 zone id (%…), which is not valid in certificates or URLs: give the address without it";

/** 4 or 6 for an IPv4 or IPv6 address, 0 for anything else (an address with a zone id included). */
export const ipVersion = (s: string): 0 | 4 | 6 => (hasZoneId(s) ? 0 : (net.isIP(s) as 0 | 4 | 6));

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

export const SSH_HOST = /^ssh:\/\/(?:[^@/\s:]+@)?(\[[0-9a-fA-F:.]+\]|[^:/@\s[\]]+)(?::([^/]*))?$/;

/** The host of an `ssh://` Docker host (an IPv6 address without its brackets), or undefined. */
export function sshHostOf(dockerHost: string): string | undefined {
    return SSH_HOST.exec(dockerHost)?.[1].replace(/^\[(.*)\]$/, "$1");
}

/**
 * Where the machine running `up` reaches the registry to copy images into it: its published
 * address on the Docker host (loopback for this machine's own engine when it listens everywhere).
 */
export function importConnectHost(s: { docker: DockerHostSettings; bindAddress: string }): string | undefined {
    const wildcard = s.bindAddress === "0.0.0.0" || s.bindAddress === "::";
    if (s.docker.host.startsWith("unix://")) return wildcard ? (s.bindAddress === "::" ? "::1" : "127.0.0.1") : s.bindAddress;
    if (!wildcard) return isLoopback(s.bindAddress) ? undefined : s.bindAddress;
    return sshHostOf(s.docker.host);
}
