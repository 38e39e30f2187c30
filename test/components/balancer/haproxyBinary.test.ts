/**
 * The rendered `haproxy.cfg` against the real HAProxy (Debian's, which setup.sh installs): it
 * parses (`haproxy -c`), passes TLS through in TCP mode, and checks each replica's health over
 * HTTP on its debug port.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { renderHaproxyConfig } from "../../../components/balancer/haproxy";

describe("haproxy.cfg in the real HAProxy", () => {
    const base = { port: 5000, checkIntervalMs: 500 };
    const cfg = renderHaproxyConfig({
        ...base,
        backends: [
            { name: "private-registry", address: "private-registry", port: 5000 },
            { name: "private-registry-2", address: "private-registry-2", port: 5000 },
        ],
        health: { debugPort: 5001 },
    });
    const remote = renderHaproxyConfig({
        ...base,
        backends: [
            { name: "replica-1", address: "10.0.0.12", port: 5000 },
            { name: "replica-2", address: "replica-2.example", port: 5443 },
        ],
        health: { endpoint: { tls: true } },
    });
    const valid = (text: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-haproxy-"));
        try {
            fs.writeFileSync(path.join(dir, "haproxy.cfg"), text);
            return execFileSync("/usr/sbin/haproxy", ["-c", "-f", path.join(dir, "haproxy.cfg")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    it("is a valid config, even before a replica's name resolves", () => {
        assert.match(valid(cfg), /Configuration file is valid/);
    });

    it("replicas on other hosts: a valid config, each checked with GET / over TLS on its own port, no Docker DNS", () => {
        assert.match(valid(remote), /Configuration file is valid/);
        assert.match(remote, /^ {2}option httpchk GET \/$/m);
        assert.match(remote, /^ {2}default-server check inter 500 fall 2 rise 1 check-ssl verify none init-addr last,libc,none$/m);
        assert.match(remote, /^ {2}server replica-2 replica-2\.example:5443$/m);
        assert.doesNotMatch(remote, /resolvers|127\.0\.0\.11/);
        assert.match(remote, /^ {2}option srvtcpka$/m, "a lost host's sessions end in seconds, not at timeout server");
        assert.doesNotMatch(remote, /crt |ca-file/, "the balancer holds no certificate");
    });

    it("passes TLS through and checks /debug/health on each replica's debug port", () => {
        assert.match(cfg, /^ {2}mode tcp$/m);
        assert.doesNotMatch(cfg, /ssl|crt /, "the balancer holds no certificate");
        assert.match(cfg, /^ {2}bind :5000$/m);
        assert.match(cfg, /^ {2}option httpchk GET \/debug\/health$/m);
        assert.match(cfg, /^ {2}server private-registry-2 private-registry-2:5000 port 5001$/m);
        assert.match(cfg, /^ {2}option redispatch 1$/m);
    });
});
