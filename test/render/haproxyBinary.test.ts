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
import { renderHaproxyConfig } from "../../components/render/haproxy";

describe("haproxy.cfg in the real HAProxy", () => {
    const cfg = renderHaproxyConfig({
        port: 5000,
        checkIntervalMs: 500,
        backends: [
            { name: "private-registry", port: 5000, healthPort: 5001 },
            { name: "private-registry-2", port: 5000, healthPort: 5001 },
        ],
    });

    it("is a valid config, even before a replica's name resolves", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-haproxy-"));
        try {
            fs.writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
            const out = execFileSync("/usr/sbin/haproxy", ["-c", "-f", path.join(dir, "haproxy.cfg")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            assert.match(out, /Configuration file is valid/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
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
