/** The TLS section: `tls` (generated CA and certificate choices) and the supplied CA/server certificates and keys. */
import { V3_TLS_VERSIONS } from "../components/registryConfig";
import { Secret } from "../components/args";
import type { CaSettings, CertificateSettings, TlsSettings } from "./types";
import { chainsTo, readCertificates, tlsKey } from "./pem";
import { NAMESPACE, type Reader } from "./reader";
import type { Obj } from "./rules";
import { CA_DEFAULTS, CERTIFICATE_DEFAULTS, TLS_DEFAULTS } from "../components/defaults";

export const TLS_KEYS = ["enabled", "minimumTls", "ca", "certificate"];
export const CA_KEYS = ["algorithm", "rsaBits", "ecdsaCurve", "commonName", "organization", "validityHours", "generation", "rollover"];
export const CERT_KEYS = ["algorithm", "rsaBits", "ecdsaCurve", "validityHours", "earlyRenewalHours"];

export function parseKeyChoice(r: Reader, key: string, o: Obj, defaultBits: 2048 | 4096) {
    const algorithm = o.algorithm === undefined ? TLS_DEFAULTS.algorithm : r.oneOf(`${key}.algorithm`, o.algorithm, ["RSA", "ECDSA"] as const);
    const rsaBits = o.rsaBits === undefined ? defaultBits : r.oneOf(`${key}.rsaBits`, o.rsaBits, [2048, 4096] as const);
    const ecdsaCurve =
        o.ecdsaCurve === undefined
            ? TLS_DEFAULTS.ecdsaCurve
            : r.oneOf(
                  `${key}.ecdsaCurve`,
                  o.ecdsaCurve,
                  ["P256", "P384"] as const,
                  " (P224 is the TLS provider's default but too weak, and has no SSH or modern-browser support; P521 is refused by BoringSSL-based clients)",
              );
    if (algorithm === "RSA" && o.ecdsaCurve !== undefined) r.fail(`${key}.ecdsaCurve`, "applies only to algorithm ECDSA");
    if (algorithm === "ECDSA" && o.rsaBits !== undefined) r.fail(`${key}.rsaBits`, "applies only to algorithm RSA");
    return { algorithm: algorithm ?? TLS_DEFAULTS.algorithm, rsaBits: rsaBits ?? defaultBits, ecdsaCurve: ecdsaCurve ?? TLS_DEFAULTS.ecdsaCurve } as const;
}

/**
 * A CA rollover in three `up`s: `generation` raised with `rollover: trust` (a new CA, trusted by
 * clients beside the old one), then `rollover: serve` (the server certificate from the new CA),
 * then `rollover` removed (the old CA leaves the clients and the state).
 */
function parseRollover(r: Reader, caRaw: Obj): { generation: number; rollover?: "trust" | "serve" } {
    const generation = caRaw.generation === undefined ? 1 : (r.int("tls.ca.generation", caRaw.generation, 1, 1000) ?? 1);
    if (caRaw.rollover === undefined) return { generation };
    const rollover = r.oneOf("tls.ca.rollover", caRaw.rollover, ["trust", "serve"] as const, " (the stages of a CA rollover; remove the key to finish it)");
    if (rollover !== undefined && generation < 2) {
        r.fail(
            "tls.ca.rollover",
            `needs tls.ca.generation raised to 2 or more (the new CA's generation; the old one is generation - 1), got generation ${generation}`,
        );
        return { generation };
    }
    return rollover === undefined ? { generation } : { generation, rollover };
}

export function parseTls(r: Reader, hostnames: string[], ipAddresses: string[], now: Date): TlsSettings {
    const o = r.section("tls", TLS_KEYS, "an object {enabled?, minimumTls?, ca?, certificate?}") ?? {};
    const enabled = o.enabled === undefined ? TLS_DEFAULTS.enabled : (r.bool("tls.enabled", o.enabled) ?? TLS_DEFAULTS.enabled);
    const minimumTls =
        o.minimumTls === undefined
            ? TLS_DEFAULTS.minimumTls
            : (r.oneOf("tls.minimumTls", o.minimumTls, V3_TLS_VERSIONS, " (v3 refuses anything older at start-up)") ?? TLS_DEFAULTS.minimumTls);
    const caRaw = o.ca === undefined ? {} : (r.obj("tls.ca", o.ca, CA_KEYS) ?? {});
    const certRaw = o.certificate === undefined ? {} : (r.obj("tls.certificate", o.certificate, CERT_KEYS) ?? {});

    // Supplied PEMs: an existing CA and/or a bring-your-own server certificate.
    const text = (key: string) => {
        const v = r.text(key);
        return v === undefined ? undefined : r.str(key, v, { multiline: true });
    };
    for (const k of ["caPrivateKey", "serverPrivateKey"]) if (r.has(k)) r.requireSecret(k, "a private key");
    const caCertText = text("caCertificate");
    const serverCertText = text("serverCertificate");
    const serverCaText = text("serverCaCertificate");
    const caCerts = caCertText === undefined ? undefined : readCertificates(r, "caCertificate", caCertText, now);
    const serverCerts = serverCertText === undefined ? undefined : readCertificates(r, "serverCertificate", serverCertText, now);
    const serverCaCerts = serverCaText === undefined ? undefined : readCertificates(r, "serverCaCertificate", serverCaText, now);
    const caKey = r.has("caPrivateKey") ? tlsKey(r, "caPrivateKey", r.text("caPrivateKey")) : undefined;
    const serverKey = r.has("serverPrivateKey") ? tlsKey(r, "serverPrivateKey", r.text("serverPrivateKey")) : undefined;

    for (const [a, b] of [
        ["caCertificate", "caPrivateKey"],
        ["serverCertificate", "serverPrivateKey"],
    ] as const) {
        if (r.has(a) && !r.has(b)) r.fail(b, `is required with ${NAMESPACE}:${a} (a certificate without its private key cannot be used)`);
        if (r.has(b) && !r.has(a)) r.fail(a, `is required with ${NAMESPACE}:${b} (a private key without its certificate cannot be used)`);
    }
    if (r.has("serverCertificate") && !r.has("serverCaCertificate") && !r.has("caCertificate")) {
        r.fail("serverCaCertificate", "is required with serverCertificate (clients must be given the CA that issued it), unless caCertificate is set");
    }
    if (r.has("serverCaCertificate") && !r.has("serverCertificate")) r.fail("serverCaCertificate", "applies only with serverCertificate");
    if (r.has("serverCaCertificate") && r.has("caCertificate")) {
        r.fail("serverCaCertificate", "is not used when caCertificate is set (clients get caCertificate; serverCertificate must be issued by it)");
    }
    if (!enabled) {
        for (const k of ["caCertificate", "caPrivateKey", "serverCertificate", "serverPrivateKey", "serverCaCertificate"]) {
            if (r.has(k)) r.fail(k, "contradicts tls.enabled: false (remove one of them)");
        }
    }
    const byoServer = r.has("serverCertificate");
    if (o.ca !== undefined && (r.has("caCertificate") || byoServer)) {
        r.fail("tls.ca", `applies only to a generated CA, and none is generated with ${r.has("caCertificate") ? "caCertificate" : "serverCertificate"}`);
    }
    if (o.certificate !== undefined && byoServer)
        r.fail("tls.certificate", "applies only to a generated server certificate, and serverCertificate supplies one");

    // What can be checked about supplied material: key pairs, CA flag, chain and SANs.
    if (caCerts && caKey?.key) {
        if (!caCerts[0].ca) r.fail("caCertificate", "is not a CA certificate (its basicConstraints lack CA:TRUE), so it cannot issue the server certificate");
        if (!caCerts[0].checkPrivateKey(caKey.key)) r.fail("caPrivateKey", "does not belong to caCertificate (the public keys differ)");
    }
    if (serverCerts && serverKey?.key && !serverCerts[0].checkPrivateKey(serverKey.key)) {
        r.fail("serverPrivateKey", "does not belong to serverCertificate (the public keys differ)");
    }
    if (serverCerts) {
        const leaf = serverCerts[0];
        const roots = caCerts ?? serverCaCerts;
        if (roots && !chainsTo(leaf, serverCerts.slice(1), roots)) {
            r.fail(
                "serverCertificate",
                `was not issued by ${caCerts ? "caCertificate" : "serverCaCertificate"} (its issuer is ${leaf.issuer.replace(/\n/g, ", ")})`,
            );
        }
        const missing = [
            ...hostnames.filter((h) => leaf.checkHost(h, { subject: "never" }) === undefined),
            ...ipAddresses.filter((ip) => leaf.checkIP(ip) === undefined),
        ];
        if (missing.length > 0) {
            r.fail(
                "serverCertificate",
                `does not cover ${missing.join(", ")} from hostnames/ipAddresses in its subjectAltName (clients check SANs, never the CN); it covers: ${leaf.subjectAltName ?? "nothing"}`,
            );
        }
    }

    const caChoice = parseKeyChoice(r, "tls.ca", caRaw, CA_DEFAULTS.rsaBits);
    const caText = (k: string, dflt: string) => (caRaw[k] === undefined ? dflt : (r.str(`tls.ca.${k}`, caRaw[k]) ?? dflt));
    const ca: CaSettings =
        caCertText !== undefined && caKey !== undefined
            ? { mode: "existing", certPem: caCertText, keyPem: new Secret(caKey.pem) }
            : {
                  mode: "generate",
                  ...caChoice,
                  commonName: caText("commonName", CA_DEFAULTS.commonName),
                  organization: caText("organization", CA_DEFAULTS.organization),
                  validityHours:
                      caRaw.validityHours === undefined
                          ? CA_DEFAULTS.validityHours
                          : (r.int("tls.ca.validityHours", caRaw.validityHours, 1, 876000) ?? CA_DEFAULTS.validityHours),
                  ...parseRollover(r, caRaw),
              };
    const certChoice = parseKeyChoice(r, "tls.certificate", certRaw, CERTIFICATE_DEFAULTS.rsaBits);
    const validityHours =
        certRaw.validityHours === undefined ? CERTIFICATE_DEFAULTS.validityHours : r.int("tls.certificate.validityHours", certRaw.validityHours, 1, 876000);
    const earlyRenewalHours =
        certRaw.earlyRenewalHours === undefined
            ? CERTIFICATE_DEFAULTS.earlyRenewalHours
            : r.int("tls.certificate.earlyRenewalHours", certRaw.earlyRenewalHours, 0, 876000);
    if (validityHours !== undefined && earlyRenewalHours !== undefined && earlyRenewalHours >= validityHours) {
        r.fail("tls.certificate.earlyRenewalHours", `must be smaller than tls.certificate.validityHours (${validityHours}), got ${earlyRenewalHours}`);
    }
    if (ca.mode === "generate" && validityHours !== undefined && validityHours > ca.validityHours) {
        r.fail(
            "tls.certificate.validityHours",
            `must not exceed tls.ca.validityHours (${ca.validityHours}): a certificate cannot outlive its CA, got ${validityHours}`,
        );
    }
    const certificate: CertificateSettings =
        serverCertText !== undefined && serverKey !== undefined
            ? { mode: "existing", certPem: serverCertText, keyPem: new Secret(serverKey.pem), caPem: serverCaText }
            : {
                  mode: "generate",
                  ...certChoice,
                  validityHours: validityHours ?? CERTIFICATE_DEFAULTS.validityHours,
                  earlyRenewalHours: earlyRenewalHours ?? CERTIFICATE_DEFAULTS.earlyRenewalHours,
              };
    return { enabled, minimumTls, ca, certificate };
}
