/** The endpoint section: `hostnames`, `ipAddresses`, `port`, `bindAddress` and `networks`. */
import * as net from "node:net";
import type { Settings } from "./types";
import { BAD, type Reader, show } from "./reader";
import { canonicalHost, ipProblem, ipVersion, isDnsName, ZONE_ID_PROBLEM } from "./rules";
import { ENDPOINT_DEFAULTS } from "../components/defaults";

const NETWORK_KEYS = ["name", "ipv4Address", "aliases"];

export function parseEndpoint(r: Reader) {
    const readList = (key: string, what: string, dflt: string[], check: (s: string) => string | undefined) => {
        if (!r.has(key)) return { list: dflt, given: dflt.length };
        const v = r.json(key, `a list of ${what}`);
        const list = v === BAD ? undefined : r.stringList(key, v, check, what);
        return { list: list ?? [], given: Array.isArray(v) ? v.length : -1 };
    };
    const names = readList("hostnames", "DNS names", ["localhost"], (s) =>
        net.isIP(s)
            ? ipVersion(s)
                ? "is an IP address: list it in ipAddresses (an IP in a DNS SAN never matches)"
                : ZONE_ID_PROBLEM
            : isDnsName(s)
              ? undefined
              : "must be a DNS name (letters, digits and inner hyphens; labels of 1-63; no trailing dot or underscore)",
    );
    const ips = readList("ipAddresses", "IP addresses", ["127.0.0.1"], (s) => ipProblem(s));
    const hostnames = names.list;
    const ipAddresses = ips.list;
    if (names.given === 0 && ips.given === 0) {
        r.fail("hostnames", "and ipAddresses are both empty: the certificate needs at least one subject alternative name (clients ignore the CN), got []");
    }
    const dup = (key: string, list: string[], norm: (s: string) => string) => {
        const seen = new Set<string>();
        list.forEach((s, i) => {
            if (seen.has(norm(s))) r.fail(key, `must not repeat an entry (entry ${i} repeats an earlier one), got ${show(s)}`);
            seen.add(norm(s));
        });
    };
    dup("hostnames", hostnames, canonicalHost);
    // ::1 and 0:0:0:0:0:0:0:1 are the same address.
    dup("ipAddresses", ipAddresses, canonicalHost);

    const port = r.has("port") ? r.int("port", r.text("port"), 1, 65535) : ENDPOINT_DEFAULTS.port;
    const bindAddress = r.has("bindAddress") ? r.str("bindAddress", r.text("bindAddress")) : ENDPOINT_DEFAULTS.bindAddress;
    const bindProblem = bindAddress === undefined ? undefined : ipProblem(bindAddress, "must be an IP address of the Docker host (0.0.0.0 for all)");
    if (bindProblem !== undefined) r.fail("bindAddress", `${bindProblem}, got ${show(bindAddress)}`);

    let networks: Settings["networks"] = [];
    if (r.has("networks")) {
        const what = "{name, ipv4Address?, aliases?}";
        const v = r.json("networks", `a list of ${what}`);
        const seen = new Set<string>();
        if (v !== BAD)
            networks =
                r.list("networks", v, what, (key, n) => {
                    const o = r.obj(key, n, NETWORK_KEYS, `an object ${what}`);
                    if (!o) return undefined;
                    const name = r.required(key, o, "name") ? r.str(`${key}.name`, o.name) : undefined;
                    if (name !== undefined) {
                        if (/[\s/]/.test(name)) r.fail(`${key}.name`, `must be a Docker network name (no spaces or slashes), got ${show(name)}`);
                        else if (seen.has(name)) r.fail(`${key}.name`, `repeats network ${show(name)}`);
                        seen.add(name);
                    }
                    let ipv4Address: string | undefined;
                    if (o.ipv4Address !== undefined) {
                        ipv4Address =
                            typeof o.ipv4Address === "string" && net.isIPv4(o.ipv4Address)
                                ? o.ipv4Address
                                : r.fail(`${key}.ipv4Address`, `must be an IPv4 address, got ${show(o.ipv4Address)}`);
                    }
                    const aliases =
                        o.aliases === undefined
                            ? []
                            : (r.stringList(`${key}.aliases`, o.aliases, (s) => (isDnsName(s) ? undefined : "must be a DNS name"), "DNS names") ?? []);
                    return name === undefined ? undefined : { name, ipv4Address, aliases };
                }) ?? [];
    }
    return { hostnames, ipAddresses, port, bindAddress, networks };
}
