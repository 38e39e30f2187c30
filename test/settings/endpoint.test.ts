/** `parseSettings`: endpoint. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ok } from "./support";

describe("endpoint", () => {
    it("hostnames, IPv4 and IPv6 addresses, a certificate with only an IP", () => {
        const s = ok({ hostnames: ["registry.example.internal", "registry", "xn--bcher-kva.example"], ipAddresses: ["10.0.0.5", "fd00::5"] });
        assert.deepStrictEqual(s.hostnames, ["registry.example.internal", "registry", "xn--bcher-kva.example"]);
        assert.deepStrictEqual(s.ipAddresses, ["10.0.0.5", "fd00::5"]);
        assert.deepStrictEqual(ok({ hostnames: [], ipAddresses: ["10.0.0.5"] }).hostnames, []);
        assert.deepStrictEqual(ok({ hostnames: ["r.example"], ipAddresses: [] }).ipAddresses, []);
    });

    it("port: the whole range, as text or number", () => {
        for (const [v, n] of [
            ["1", 1],
            ["443", 443],
            ["65535", 65535],
            [5443, 5443],
        ] as const)
            assert.equal(ok({ port: v }).port, n);
    });

    it("bindAddress and networks", () => {
        assert.equal(ok({ bindAddress: "::" }).bindAddress, "::");
        assert.deepStrictEqual(ok({ networks: [{ name: "backend", ipv4Address: "10.231.77.2", aliases: ["registry.test"] }, { name: "frontend" }] }).networks, [
            { name: "backend", ipv4Address: "10.231.77.2", aliases: ["registry.test"] },
            { name: "frontend", ipv4Address: undefined, aliases: [] },
        ]);
    });
});
