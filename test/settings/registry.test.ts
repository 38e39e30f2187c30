/** `parseSettings`: registry behaviour. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { revealSecrets } from "../../components/secret";
import { ok } from "./support";

describe("registry behaviour", () => {
    it("every field", () => {
        const s = ok(
            {
                registry: {
                    logLevel: "debug",
                    realm: "Lab Registry",
                    deleteEnabled: false,
                    blobDescriptorCache: "redis",
                    uploadPurging: { enabled: false },
                    readOnly: true,
                    redirectDisable: true,
                    storageHealthCheck: false,
                    debugPort: 5002,
                    prometheus: true,
                    headers: { "X-Frame-Options": ["DENY"] },
                    notifications: [
                        {
                            name: "audit",
                            url: "https://audit.example/events",
                            headers: { Authorization: ["Bearer t0ken"] },
                            timeout: "500ms",
                            threshold: 5,
                            backoff: "1s",
                            disabled: false,
                            ignoredMediaTypes: ["application/octet-stream"],
                        },
                    ],
                    proxy: { remoteUrl: "https://registry-1.docker.io", username: "hub", password: "hub-pw", ttl: "0" },
                    redis: { addrs: ["r1:6379", "[fd00::7]:6379"], username: "reg", password: "redis-pw", db: 1, readTimeout: "1s", writeTimeout: "1.5s" },
                },
                port: 5001,
            },
            ["registry"],
        );
        const r = s.registry;
        assert.equal(r.logLevel, "debug");
        assert.equal(r.realm, "Lab Registry");
        assert.deepStrictEqual(
            {
                deleteEnabled: r.deleteEnabled,
                blobDescriptorCache: r.blobDescriptorCache,
                readOnly: r.readOnly,
                redirectDisable: r.redirectDisable,
                uploadPurging: r.uploadPurging,
            },
            { deleteEnabled: false, blobDescriptorCache: "redis", readOnly: true, redirectDisable: true, uploadPurging: { enabled: false } },
        );
        assert.equal(r.storageHealthCheck, false);
        assert.equal(r.debugPort, 5002);
        assert.equal(r.prometheus, true);
        assert.deepStrictEqual(r.headers, { "X-Frame-Options": ["DENY"] });
        assert.deepStrictEqual(revealSecrets(r.notifications[0]), {
            name: "audit",
            url: "https://audit.example/events",
            headers: { Authorization: ["Bearer t0ken"] },
            timeout: "500ms",
            threshold: 5,
            backoff: "1s",
            disabled: false,
            ignoredMediaTypes: ["application/octet-stream"],
        });
        assert.deepStrictEqual(revealSecrets(r.proxy), { remoteUrl: "https://registry-1.docker.io", username: "hub", password: "hub-pw", ttl: "0" });
        assert.deepStrictEqual(revealSecrets(r.redis), {
            addrs: ["r1:6379", "[fd00::7]:6379"],
            username: "reg",
            password: "redis-pw",
            db: 1,
            readTimeout: "1s",
            writeTimeout: "1.5s",
        });
    });

    it("durations in Go syntax", () => {
        for (const d of ["168h", "1h30m", "1.5s", "300ms", "10us", "10µs", "0"]) {
            assert.equal(ok({ registry: { uploadPurging: { enabled: true, age: d } } }).registry.uploadPurging?.age, d);
        }
    });
});
