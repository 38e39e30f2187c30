/** The Docker host section: `dockerHost` and `dockerSshOpts`. */
import * as net from "node:net";
import type { Settings } from "./types";
import { BAD, type Reader, show } from "./reader";
import { hostProblem } from "./rules";
import { SSH_HOST, sshHostOf } from "../components/hosts";

export { sshHostOf };
import { ENDPOINT_DEFAULTS } from "../components/defaults";

/** Why `host` is not a Docker host the program reaches (`unix:///…` or `ssh://[user@]host[:port]`), or undefined. */
export function dockerHostProblem(host: string): string | undefined {
    if (/^unix:\/\/\/\S+$/.test(host)) return undefined;
    const ssh = SSH_HOST.exec(host);
    if (!ssh) return `must be unix:///<socket path> or ssh://[user@]host[:port] (no path), got ${show(host)}`;
    const h = ssh[1].replace(/^\[(.*)\]$/, "$1");
    if (ssh[1].startsWith("[") ? !net.isIPv6(h) : hostProblem(h)) {
        return `has an invalid host ${show(h)} (must be a DNS name or an IP address), got ${show(host)}`;
    }
    const p = ssh[2];
    if (p !== undefined && (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
        return `has an invalid port ${show(p)} (must be 1-65535), got ${show(host)}`;
    }
    return undefined;
}

/** `sshOpts` at `key`: ssh arguments, one token each, only for an ssh:// host. */
export function parseSshOpts(r: Reader, key: string, v: unknown, host: string | undefined, hostKey: string): string[] {
    const sshOpts = r.stringList(key, v, undefined, "ssh arguments, one token each") ?? [];
    if (sshOpts.length > 0 && host !== undefined && !host.startsWith("ssh://")) {
        r.fail(key, `applies only to an ssh:// ${hostKey}, but ${hostKey} is ${show(host)}`);
    }
    return sshOpts;
}

export function parseDockerHost(r: Reader): Settings["docker"] {
    let host = r.has("dockerHost") ? r.str("dockerHost", r.text("dockerHost")) : ENDPOINT_DEFAULTS.dockerHost;
    const problem = host === undefined ? undefined : dockerHostProblem(host);
    if (problem !== undefined) {
        r.fail("dockerHost", problem);
        host = undefined;
    }
    let sshOpts: string[] = [];
    if (r.has("dockerSshOpts")) {
        const v = r.json("dockerSshOpts", "a list of ssh arguments");
        if (v !== BAD) sshOpts = parseSshOpts(r, "dockerSshOpts", v, host, "dockerHost");
    }
    return { host: host ?? "", sshOpts };
}
