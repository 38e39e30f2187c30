/** `parseSettings`: tls, tls.ca rollover. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { certRequest, locallySignedCert, privateKey, selfSignedCert } from "../../stand-ins/offline/tls";
import { Secret } from "../../components/args";
import { SSH_KEY, ok, problems } from "./support";

describe("tls", () => {
    it("generated CA and certificate: every field", () => {
        const s = ok({
            tls: {
                minimumTls: "tls1.3",
                ca: { algorithm: "ECDSA", ecdsaCurve: "P384", commonName: "Lab CA", organization: "Lab", validityHours: 1000 },
                certificate: { algorithm: "RSA", rsaBits: 4096, validityHours: 500, earlyRenewalHours: 0 },
            },
        });
        assert.deepStrictEqual(s.tls, {
            enabled: true,
            minimumTls: "tls1.3",
            ca: {
                mode: "generate",
                algorithm: "ECDSA",
                rsaBits: 4096,
                ecdsaCurve: "P384",
                commonName: "Lab CA",
                organization: "Lab",
                validityHours: 1000,
                generation: 1,
            },
            certificate: { mode: "generate", algorithm: "RSA", rsaBits: 4096, ecdsaCurve: "P256", validityHours: 500, earlyRenewalHours: 0 },
        });
    });

    it("tls.enabled: false serves plain HTTP; clients then do not log in by default", () => {
        const s = ok({ tls: { enabled: false }, sshPrivateKey: SSH_KEY, clients: [{ name: "a", host: "10.0.0.5" }] }, ["sshPrivateKey"]);
        assert.equal(s.tls.enabled, false);
        assert.equal(s.clients[0].loginAs, undefined);
        assert.equal(
            ok({ tls: { enabled: false }, sshPrivateKey: SSH_KEY, clients: [{ name: "a", host: "h", login: false }] }, ["sshPrivateKey"]).clients[0].loginAs,
            undefined,
        );
    });

    describe("supplied certificates (real ones, made here)", () => {
        let pki: Awaited<ReturnType<typeof makePki>>;
        before(async () => {
            pki = await makePki();
        });

        it("adopts an existing CA", () => {
            const s = ok({ caCertificate: pki.caCert, caPrivateKey: pki.caKey }, ["caPrivateKey"]);
            assert.equal(s.tls.ca.mode, "existing");
            assert.ok(s.tls.ca.mode === "existing" && s.tls.ca.keyPem instanceof Secret && s.tls.ca.keyPem.reveal() === pki.caKey);
            assert.equal(s.tls.certificate.mode, "generate");
        });

        it("takes a bring-your-own certificate with the CA that issued it", () => {
            const s = ok({ ...pki.endpoint, serverCertificate: pki.cert, serverPrivateKey: pki.key, serverCaCertificate: pki.caCert }, ["serverPrivateKey"]);
            assert.deepStrictEqual({ ...s.tls.certificate, keyPem: undefined }, { mode: "existing", certPem: pki.cert, keyPem: undefined, caPem: pki.caCert });
        });

        it("takes a bring-your-own certificate issued by the adopted CA, and a leaf + intermediate bundle", () => {
            ok({ ...pki.endpoint, caCertificate: pki.caCert, caPrivateKey: pki.caKey, serverCertificate: pki.cert, serverPrivateKey: pki.key }, [
                "caPrivateKey",
                "serverPrivateKey",
            ]);
            ok({ ...pki.endpoint, serverCertificate: pki.chainedCert, serverPrivateKey: pki.key, serverCaCertificate: pki.caCert }, ["serverPrivateKey"]);
        });

        it("refuses a certificate that misses a hostname, a wrong key, a foreign CA, a non-CA, an expired one", () => {
            const byo = { serverCertificate: pki.cert, serverPrivateKey: pki.key, serverCaCertificate: pki.caCert };
            assert.match(
                problems({ ...byo, hostnames: ["other.example"], ipAddresses: ["10.9.9.9"] }, ["serverPrivateKey"]).join("\n"),
                /serverCertificate does not cover other\.example, 10\.9\.9\.9/,
            );
            assert.match(
                problems({ ...pki.endpoint, ...byo, serverPrivateKey: pki.otherKey }, ["serverPrivateKey"]).join("\n"),
                /serverPrivateKey does not belong to serverCertificate/,
            );
            assert.match(
                problems({ ...pki.endpoint, ...byo, serverCaCertificate: pki.otherCa }, ["serverPrivateKey"]).join("\n"),
                /serverCertificate was not issued by serverCaCertificate/,
            );
            assert.match(problems({ caCertificate: pki.cert, caPrivateKey: pki.key }, ["caPrivateKey"]).join("\n"), /caCertificate is not a CA certificate/);
            assert.match(
                problems({ caCertificate: pki.caCert, caPrivateKey: pki.otherKey }, ["caPrivateKey"]).join("\n"),
                /caPrivateKey does not belong to caCertificate/,
            );
            const later = new Date(Date.now() + 48 * 3600_000);
            assert.match(problems({ ...pki.endpoint, ...byo }, ["serverPrivateKey"], later).join("\n"), /serverCertificate expired on/);
        });
    });
});

/** A CA, an intermediate, a server certificate for registry.test/10.0.0.5 and unrelated material; valid 24 h. */
async function makePki() {
    const rsa = () => privateKey({ algorithm: "RSA", rsaBits: 2048 }).outputs.privateKeyPem as string;
    const ec = () => privateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" }).outputs.privateKeyPem as string;
    const caUses = ["cert_signing", "crl_signing", "digital_signature"];
    const selfSigned = async (key: string, cn: string) =>
        (await selfSignedCert({ privateKeyPem: key, isCaCertificate: true, subject: { commonName: cn }, validityPeriodHours: 24, allowedUses: caUses })).outputs
            .certPem as string;
    const issue = async (key: string, ca: string, caKey: string, extra: Record<string, unknown>) => {
        const csr = (await certRequest({ privateKeyPem: key, subject: { commonName: "registry.test" }, ...extra })).outputs.certRequestPem;
        return (await locallySignedCert({ certRequestPem: csr, caCertPem: ca, caPrivateKeyPem: caKey, validityPeriodHours: 24, ...extra })).outputs
            .certPem as string;
    };
    const caKey = ec();
    const caCert = await selfSigned(caKey, "Test CA");
    const key = rsa();
    const serverUses = { allowedUses: ["digital_signature", "key_encipherment", "server_auth"], dnsNames: ["registry.test"], ipAddresses: ["10.0.0.5"] };
    const cert = await issue(key, caCert, caKey, serverUses);
    const midKey = ec();
    const mid = await issue(midKey, caCert, caKey, { isCaCertificate: true, allowedUses: caUses });
    const chainedCert = (await issue(key, mid, midKey, serverUses)) + mid;
    const otherKey = ec();
    return {
        caKey,
        caCert,
        key,
        cert,
        chainedCert,
        otherKey,
        otherCa: await selfSigned(otherKey, "Other CA"),
        endpoint: { hostnames: ["registry.test"], ipAddresses: ["10.0.0.5"] },
    };
}

describe("tls.ca rollover", () => {
    it("generation 1 and no rollover by default; the stages with a raised generation", () => {
        const ca = (v: Record<string, unknown>) => {
            const c = ok({ tls: { ca: v } }).tls.ca;
            return c.mode === "generate" ? [c.generation, c.rollover] : [];
        };
        assert.deepEqual(ca({}), [1, undefined]);
        assert.deepEqual(ca({ generation: 2, rollover: "trust" }), [2, "trust"]);
        assert.deepEqual(ca({ generation: 2, rollover: "serve" }), [2, "serve"]);
        assert.deepEqual(ca({ generation: 2 }), [2, undefined]);
    });

    it("refuses a rollover without a new generation, an unknown stage, and a rollover of a supplied CA", () => {
        assert.match(problems({ tls: { ca: { rollover: "trust" } } })[0], /tls\.ca\.rollover needs tls\.ca\.generation raised to 2 or more/);
        assert.match(problems({ tls: { ca: { generation: 2, rollover: "finish" } } })[0], /tls\.ca\.rollover must be one of "trust", "serve"/);
        assert.match(problems({ tls: { ca: { generation: 0 } } })[0], /tls\.ca\.generation must be an integer 1-1000/);
    });
});
