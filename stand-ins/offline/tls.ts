/**
 * The `@pulumi/tls` resources computed locally, the way terraform-provider-tls 4.x computes them:
 * real keys in the provider's PEM formats, real X.509
 * certificates and CSRs. Used by `render` and by the end-to-end realization mocks.
 */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";
import { CURVES, opensshPrivateKey, sshKeyOf } from "./openssh";

type CryptoKey = crypto.webcrypto.CryptoKey;
type Algorithm = crypto.webcrypto.Algorithm;

x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type Inputs = Record<string, any>;

/** A resource's computed state and ID. */
export interface Realized {
    id: string;
    /** Outputs added to the inputs. */
    outputs: Record<string, unknown>;
    /** Output names the provider marks secret. */
    secretOutputs: string[];
}

// --- Keys -----------------------------------------------------------------------------------

/** The private key of a PEM in any of the provider's formats. */
function privateKeyOf(pem: string): crypto.KeyObject {
    return crypto.createPrivateKey(pem);
}

function keyAlgorithmOf(key: crypto.KeyObject): "RSA" | "ECDSA" | "ED25519" {
    const t = key.asymmetricKeyType;
    if (t === "rsa") return "RSA";
    if (t === "ec") return "ECDSA";
    if (t === "ed25519") return "ED25519";
    throw new Error(`unsupported key type ${t}`);
}

/** `tls.PrivateKey`. */
export function privateKey(inputs: Inputs): Realized {
    const algorithm = inputs.algorithm as string;
    let pair: crypto.KeyPairKeyObjectResult;
    let pem: string;
    if (algorithm === "RSA") {
        pair = crypto.generateKeyPairSync("rsa", { modulusLength: Number(inputs.rsaBits ?? 2048) });
        pem = pair.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    } else if (algorithm === "ECDSA") {
        const curve = CURVES[(inputs.ecdsaCurve as string) ?? "P224"];
        if (!curve) throw new Error(`invalid ecdsaCurve ${inputs.ecdsaCurve}`);
        pair = crypto.generateKeyPairSync("ec", { namedCurve: curve.node });
        pem = pair.privateKey.export({ type: "sec1", format: "pem" }).toString();
    } else if (algorithm === "ED25519") {
        pair = crypto.generateKeyPairSync("ed25519");
        pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    } else {
        throw new Error(`invalid algorithm ${JSON.stringify(algorithm)}: must be one of RSA, ECDSA, ED25519`);
    }
    const spki = pair.publicKey.export({ type: "spki", format: "der" });
    const ssh = sshKeyOf(pair.privateKey);
    const fingerprintMd5 = ssh ? crypto.createHash("md5").update(ssh.publicBlob).digest("hex").match(/../g)!.join(":") : "";
    const fingerprintSha256 = ssh ? `SHA256:${crypto.createHash("sha256").update(ssh.publicBlob).digest("base64").replace(/=+$/, "")}` : "";
    return {
        id: crypto.createHash("sha1").update(spki).digest("hex"),
        outputs: {
            algorithm,
            rsaBits: algorithm === "RSA" ? Number(inputs.rsaBits ?? 2048) : inputs.rsaBits,
            ecdsaCurve: algorithm === "ECDSA" ? (inputs.ecdsaCurve ?? "P224") : inputs.ecdsaCurve,
            privateKeyPem: pem,
            privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            privateKeyOpenssh: ssh ? opensshPrivateKey(ssh) : "",
            publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
            publicKeyOpenssh: ssh ? `${ssh.type} ${ssh.publicBlob.toString("base64")}\n` : "",
            publicKeyFingerprintMd5: fingerprintMd5,
            publicKeyFingerprintSha256: fingerprintSha256,
        },
        secretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"],
    };
}

// --- Certificates ---------------------------------------------------------------------------

async function webKeys(key: crypto.KeyObject): Promise<{ priv: CryptoKey; pub: CryptoKey; alg: Algorithm & Record<string, unknown> }> {
    const subtle = crypto.webcrypto.subtle;
    const pkcs8 = key.export({ type: "pkcs8", format: "der" });
    const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
    let alg: Algorithm & Record<string, unknown>;
    let importAlg: Algorithm & Record<string, unknown>;
    const type = keyAlgorithmOf(key);
    if (type === "RSA") {
        importAlg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
        alg = importAlg;
    } else if (type === "ECDSA") {
        const crv = (key.export({ format: "jwk" }) as crypto.JsonWebKey).crv!;
        const curve = Object.values(CURVES).find((c) => c.web === crv)!;
        if (crv === "P-224") throw new Error("ECDSA P224 certificates cannot be signed here (WebCrypto has no P-224)");
        importAlg = { name: "ECDSA", namedCurve: crv };
        alg = { name: "ECDSA", hash: curve.hash };
    } else {
        importAlg = { name: "Ed25519" };
        alg = importAlg;
    }
    const priv = await subtle.importKey("pkcs8", pkcs8, importAlg, true, ["sign"]);
    const pub = await subtle.importKey("spki", spki, importAlg, true, ["verify"]);
    return { priv, pub, alg };
}

/** A public key for WebCrypto (verify only: the generator only embeds it). */
async function webPublicKey(pub: crypto.KeyObject): Promise<CryptoKey> {
    const type = keyAlgorithmOf(pub);
    const alg =
        type === "RSA"
            ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
            : type === "ECDSA"
              ? { name: "ECDSA", namedCurve: (pub.export({ format: "jwk" }) as crypto.JsonWebKey).crv }
              : { name: "Ed25519" };
    return crypto.webcrypto.subtle.importKey("spki", pub.export({ type: "spki", format: "der" }), alg as Algorithm, true, ["verify"]);
}

/** Go's SubjectKeyId: SHA-1 over the subjectPublicKey bits (PKCS#1 for RSA, the point for ECDSA). */
function subjectKeyId(pub: crypto.KeyObject): string {
    const type = pub.asymmetricKeyType;
    let bits: Buffer;
    if (type === "rsa") bits = pub.export({ type: "pkcs1", format: "der" });
    else if (type === "ec") {
        const jwk = pub.export({ format: "jwk" }) as crypto.JsonWebKey;
        bits = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    } else {
        // The provider marshals the Ed25519 key as an ASN.1 OCTET STRING (not RFC 5280 method 1).
        const raw = Buffer.from((pub.export({ format: "jwk" }) as crypto.JsonWebKey).x!, "base64url");
        bits = Buffer.concat([Buffer.from([0x04, raw.length]), raw]);
    }
    return crypto.createHash("sha1").update(bits).digest("hex");
}

const KEY_USAGES: Record<string, number> = {
    digital_signature: x509.KeyUsageFlags.digitalSignature,
    content_commitment: x509.KeyUsageFlags.nonRepudiation,
    key_encipherment: x509.KeyUsageFlags.keyEncipherment,
    data_encipherment: x509.KeyUsageFlags.dataEncipherment,
    key_agreement: x509.KeyUsageFlags.keyAgreement,
    cert_signing: x509.KeyUsageFlags.keyCertSign,
    crl_signing: x509.KeyUsageFlags.cRLSign,
    encipher_only: x509.KeyUsageFlags.encipherOnly,
    decipher_only: x509.KeyUsageFlags.decipherOnly,
};
const EXT_USAGES: Record<string, string> = {
    any_extended: "2.5.29.37.0",
    server_auth: "1.3.6.1.5.5.7.3.1",
    client_auth: "1.3.6.1.5.5.7.3.2",
    code_signing: "1.3.6.1.5.5.7.3.3",
    email_protection: "1.3.6.1.5.5.7.3.4",
    ipsec_end_system: "1.3.6.1.5.5.7.3.5",
    ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
    ipsec_user: "1.3.6.1.5.5.7.3.7",
    timestamping: "1.3.6.1.5.5.7.3.8",
    ocsp_signing: "1.3.6.1.5.5.7.3.9",
    microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
    netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
    microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
    microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

/** The subject as RDNs in Go's `pkix.Name` order; empty fields are left out. */
function subjectName(subject: Inputs | undefined): x509.JsonName {
    if (!subject) return [];
    const rdn: x509.JsonName = [];
    const add = (oid: string, v: unknown) => {
        if (Array.isArray(v)) for (const x of v) if (x) rdn.push({ [oid]: [String(x)] });
        if (typeof v === "string" && v !== "") rdn.push({ [oid]: [v] });
    };
    add("2.5.4.6", subject.country);
    add("2.5.4.10", subject.organization);
    add("2.5.4.11", subject.organizationalUnit);
    add("2.5.4.7", subject.locality);
    add("2.5.4.8", subject.province);
    add("2.5.4.9", subject.streetAddresses);
    add("2.5.4.17", subject.postalCode);
    add("2.5.4.5", subject.serialNumber);
    add("2.5.4.3", subject.commonName);
    add("1.2.840.113549.1.9.1", subject.emailAddress);
    return rdn;
}

function sanExtension(dns: string[], ips: string[], uris: string[], subjectEmpty: boolean): x509.Extension | undefined {
    const names: x509.JsonGeneralName[] = [
        ...dns.map((value) => ({ type: "dns" as const, value })),
        ...ips.map((value) => ({ type: "ip" as const, value })),
        ...uris.map((value) => ({ type: "url" as const, value })),
    ];
    return names.length > 0 ? new x509.SubjectAlternativeNameExtension(names, subjectEmpty) : undefined;
}

interface CertSpec {
    subject: x509.JsonName;
    issuer: x509.JsonName;
    /** The subject's public key. */
    publicKey: crypto.KeyObject;
    signer: crypto.KeyObject;
    inputs: Inputs;
    dns: string[];
    ips: string[];
    uris: string[];
    authorityKeyId?: string;
}

async function issue(spec: CertSpec): Promise<{ pem: string; serial: bigint; notBefore: Date; notAfter: Date }> {
    const { inputs } = spec;
    const isCa = inputs.isCaCertificate === true;
    if (isCa && spec.subject.length === 0) {
        throw new Error("Must contain at least one Distinguished Name when creating Certificate Authority (CA)");
    }
    const serial = BigInt(`0x${crypto.randomBytes(16).toString("hex")}`);
    const notBefore = new Date();
    const notAfter = new Date(notBefore.getTime() + Number(inputs.validityPeriodHours) * 3600_000);
    const extensions: x509.Extension[] = [];
    const maxPath = inputs.maxPathLength === undefined ? undefined : Number(inputs.maxPathLength);
    // maxPathLength 0 is indistinguishable from unset in the provider (MaxPathLenZero is never set).
    extensions.push(new x509.BasicConstraintsExtension(isCa, maxPath !== undefined && maxPath > 0 ? maxPath : undefined, true));
    const uses: string[] = inputs.allowedUses ?? [];
    const ku = uses.reduce((acc, u) => acc | (KEY_USAGES[u] ?? 0), 0);
    if (ku !== 0) extensions.push(new x509.KeyUsagesExtension(ku, true));
    const ekus = uses.filter((u) => EXT_USAGES[u]).map((u) => EXT_USAGES[u]);
    if (ekus.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(ekus, false));
    for (const u of uses) if (!KEY_USAGES[u] && !EXT_USAGES[u]) throw new Error(`invalid allowedUses value ${JSON.stringify(u)}`);
    if (isCa || inputs.setSubjectKeyId === true) extensions.push(new x509.SubjectKeyIdentifierExtension(subjectKeyId(spec.publicKey)));
    if (spec.authorityKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(spec.authorityKeyId));
    const san = sanExtension(spec.dns, spec.ips, spec.uris, spec.subject.length === 0);
    if (san) extensions.push(san);
    const signer = await webKeys(spec.signer);
    const publicKey = await webPublicKey(spec.publicKey);
    let hex = serial.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    if (parseInt(hex[0], 16) >= 8) hex = `00${hex}`;
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: hex,
        subject: spec.subject.length > 0 ? spec.subject : undefined,
        issuer: spec.issuer.length > 0 ? spec.issuer : undefined,
        notBefore,
        notAfter,
        signingAlgorithm: signer.alg,
        publicKey,
        signingKey: signer.priv,
        extensions,
    });
    return { pem: `${cert.toString("pem")}\n`, serial, notBefore, notAfter };
}

const certOutputs = (c: { pem: string; notBefore: Date; notAfter: Date }) => ({
    certPem: c.pem,
    validityStartTime: c.notBefore.toISOString(),
    validityEndTime: c.notAfter.toISOString(),
    readyForRenewal: false,
});

/** `tls.SelfSignedCert`. */
export async function selfSignedCert(inputs: Inputs): Promise<Realized> {
    const key = privateKeyOf(inputs.privateKeyPem);
    const subject = subjectName(inputs.subject);
    const pub = crypto.createPublicKey(key);
    const c = await issue({
        subject,
        issuer: subject,
        publicKey: pub,
        signer: key,
        inputs,
        dns: inputs.dnsNames ?? [],
        ips: inputs.ipAddresses ?? [],
        uris: inputs.uris ?? [],
        authorityKeyId: inputs.setAuthorityKeyId === true ? subjectKeyId(pub) : undefined,
    });
    if (inputs.setAuthorityKeyId === true && !(inputs.isCaCertificate === true || inputs.setSubjectKeyId === true)) {
        throw new Error("Could not determine Authority Key Identifier");
    }
    return {
        id: c.serial.toString(10),
        outputs: { ...certOutputs(c), keyAlgorithm: keyAlgorithmOf(key), earlyRenewalHours: inputs.earlyRenewalHours ?? 0 },
        secretOutputs: [],
    };
}

/** `tls.CertRequest`: subject and SANs only, no requested extensions beyond those. */
export async function certRequest(inputs: Inputs): Promise<Realized> {
    const key = privateKeyOf(inputs.privateKeyPem);
    const keys = await webKeys(key);
    const san = sanExtension(inputs.dnsNames ?? [], inputs.ipAddresses ?? [], inputs.uris ?? [], false);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: subjectName(inputs.subject),
        keys: { privateKey: keys.priv, publicKey: keys.pub },
        signingAlgorithm: keys.alg,
        extensions: san ? [san] : [],
    });
    return {
        id: crypto.createHash("sha1").update(Buffer.from(csr.rawData)).digest("hex"),
        outputs: { certRequestPem: `${csr.toString("pem")}\n`, keyAlgorithm: keyAlgorithmOf(key) },
        secretOutputs: [],
    };
}

/** `tls.LocallySignedCert`: subject and SANs copied from the CSR (whose signature is not checked). */
export async function locallySignedCert(inputs: Inputs): Promise<Realized> {
    const csrPem = String(inputs.certRequestPem);
    if (!csrPem.includes("-----BEGIN CERTIFICATE REQUEST-----")) throw new Error("certRequestPem: invalid PEM type, expected CERTIFICATE REQUEST");
    if (!String(inputs.caCertPem).includes("-----BEGIN CERTIFICATE-----")) throw new Error("caCertPem: invalid PEM type, expected CERTIFICATE");
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    const ca = new x509.X509Certificate(String(inputs.caCertPem));
    const caKey = privateKeyOf(inputs.caPrivateKeyPem);
    const caPub = crypto.createPublicKey(ca.publicKey.toString("pem"));
    if (!caPub.export({ type: "spki", format: "der" }).equals(crypto.createPublicKey(caKey).export({ type: "spki", format: "der" }))) {
        throw new Error("x509: provided PrivateKey doesn't match parent's PublicKey");
    }
    const sanExt = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
    const names = sanExt?.names.toJSON() ?? [];
    const caSkid = ca.extensions.find((e): e is x509.SubjectKeyIdentifierExtension => e instanceof x509.SubjectKeyIdentifierExtension)?.keyId;
    const c = await issue({
        subject: csr.subjectName.toJSON(),
        issuer: ca.subjectName.toJSON(),
        publicKey: crypto.createPublicKey(csr.publicKey.toString("pem")),
        signer: caKey,
        inputs,
        dns: names.filter((n) => n.type === "dns").map((n) => n.value),
        ips: names.filter((n) => n.type === "ip").map((n) => n.value),
        uris: names.filter((n) => n.type === "url").map((n) => n.value),
        authorityKeyId: caSkid,
    });
    return {
        id: c.serial.toString(10),
        outputs: { ...certOutputs(c), caKeyAlgorithm: keyAlgorithmOf(caKey), earlyRenewalHours: inputs.earlyRenewalHours ?? 0 },
        secretOutputs: [],
    };
}
