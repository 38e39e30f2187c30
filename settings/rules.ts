/** Patterns and small helpers shared by the reader and several section parsers. No imports from the other settings files; the registry's own rules (durations, header names, URLs, storage limits) are in components/render/registryConfig/rules.ts. */
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

export const hostProblem = (s: string) => (net.isIP(s) || isDnsName(s) ? undefined : "must be a DNS name or an IP address");
