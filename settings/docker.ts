/** The Docker host section: `dockerHost` and `dockerSshOpts`. */
import * as net from "node:net";
import type { Settings } from "./types";
import { BAD, type Reader, show } from "./reader";
import { hostProblem } from "./rules";

export function parseDockerHost(r: Reader): Settings["docker"] {
    const host = r.has("dockerHost") ? r.str("dockerHost", r.text("dockerHost")) : "unix:///var/run/docker.sock";
    if (host !== undefined) {
        const ssh = /^ssh:\/\/(?:[^@/\s:]+@)?(\[[0-9a-fA-F:.]+\]|[^:/@\s[\]]+)(?::([^/]*))?$/.exec(host);
        if (/^unix:\/\/\/\S+$/.test(host)) {
            // the local engine's socket
        } else if (ssh) {
            const h = ssh[1].replace(/^\[(.*)\]$/, "$1");
            if (ssh[1].startsWith("[") ? !net.isIPv6(h) : hostProblem(h)) {
                r.fail("dockerHost", `has an invalid host ${show(h)} (must be a DNS name or an IP address), got ${show(host)}`);
            }
            const p = ssh[2];
            if (p !== undefined && (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
                r.fail("dockerHost", `has an invalid port ${show(p)} (must be 1-65535), got ${show(host)}`);
            }
        } else {
            r.fail("dockerHost", `must be unix:///<socket path> or ssh://[user@]host[:port] (no path), got ${show(host)}`);
        }
    }
    let sshOpts: string[] = [];
    if (r.has("dockerSshOpts")) {
        const v = r.json("dockerSshOpts", "a list of ssh arguments");
        if (v !== BAD) sshOpts = r.stringList("dockerSshOpts", v, undefined, "ssh arguments, one token each") ?? [];
        if (sshOpts.length > 0 && host !== undefined && !host.startsWith("ssh://")) {
            r.fail("dockerSshOpts", `applies only to an ssh:// dockerHost, but dockerHost is ${show(host)}`);
        }
    }
    return { host: host ?? "", sshOpts };
}
