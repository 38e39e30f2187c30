/** PEM, private-key and certificate checks: SSH keys, TLS keys, X.509 certificates and chains. */
import * as crypto from "node:crypto";
import type { Reader } from "./reader";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** The key formats the TLS provider and the registry read: PKCS#1, SEC1, unencrypted PKCS#8. */
const TLS_KEY = /^\s*-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END \1?PRIVATE KEY-----\s*$/;
/** The private key formats the SSH client (ssh2) reads without a passphrase. */
const SSH_KEY = /^\s*-----BEGIN (OPENSSH |RSA |EC )?PRIVATE KEY-----[\s\S]+-----END \1?PRIVATE KEY-----\s*$/;
/** PKCS#8 encrypted, or a legacy OpenSSL-encrypted PEM. */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m;

/** Reads an SSH private key; a passphrase-protected one is refused (no passphrase is configured). */
export function sshKey(r: Reader, key: string, v: unknown): string | undefined {
    if (typeof v === "string" && /^\s*(ssh-|ecdsa-sha2-)/.test(v)) return r.fail(key, "is a public key; give the private key (the file without .pub)");
    if (typeof v === "string" && ENCRYPTED_PEM.test(v))
        return r.fail(key, "is passphrase-protected; give an unencrypted key (ssh-keygen -p -N '' -f <copy of the key>)");
    if (typeof v !== "string" || !SSH_KEY.test(v)) {
        return r.fail(key, "must be an unencrypted OpenSSH or PEM private key (-----BEGIN OPENSSH PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----)");
    }
    const cipher = opensshCipher(v);
    if (cipher !== undefined && cipher !== "none")
        return r.fail(key, `is passphrase-protected (${cipher}); give an unencrypted key (ssh-keygen -p -N '' -f <copy of the key>)`);
    return v;
}

/** The cipher an OpenSSH private key is encrypted with ("none" when it is not), or undefined for another format. */
export function opensshCipher(v: string): string | undefined {
    const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+)-----END/.exec(v)?.[1];
    if (body === undefined) return undefined;
    // openssh-key-v1: magic, then the cipher name as a length-prefixed string.
    const b = Buffer.from(body.replace(/\s+/g, ""), "base64");
    const magic = "openssh-key-v1\0";
    if (b.subarray(0, magic.length).toString("latin1") !== magic || b.length < magic.length + 4) return undefined;
    return b.subarray(magic.length + 4, magic.length + 4 + b.readUInt32BE(magic.length)).toString("latin1");
}

/** The PEM certificates in a text (a bundle may hold several). */
function certBlocks(text: string): string[] {
    return text.match(PEM_CERT) ?? [];
}

/** Any private key block: PKCS#1, SEC1, PKCS#8 (plain or encrypted), OpenSSH. */
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Parses the certificates of a PEM value (a leaf may be followed by its intermediates), or records
 * why it cannot. Messages never quote the value: a private key pasted here is plain config, and it
 * would be installed on every client and exported with the CA certificate.
 */
export function readCertificates(r: Reader, key: string, pem: string, now: Date): crypto.X509Certificate[] | undefined {
    if (PRIVATE_KEY_BLOCK.test(pem)) {
        return r.fail(
            key,
            "holds a private key, not a certificate (keys go in caPrivateKey or serverPrivateKey, set as secrets): remove it from this value and the stack file",
        );
    }
    const blocks = certBlocks(pem);
    if (blocks.length === 0) return r.fail(key, "must be a PEM certificate (-----BEGIN CERTIFICATE-----), and holds none");
    const certs: crypto.X509Certificate[] = [];
    for (const b of blocks) {
        try {
            certs.push(new crypto.X509Certificate(b));
        } catch {
            return r.fail(key, "holds a -----BEGIN CERTIFICATE----- block that is not a readable X.509 certificate");
        }
    }
    const leaf = certs[0];
    if (new Date(leaf.validTo) <= now) r.fail(key, `expired on ${leaf.validTo} (${leaf.subject.replace(/\n/g, ", ")})`);
    else if (new Date(leaf.validFrom) > now) r.fail(key, `is not valid before ${leaf.validFrom}`);
    return certs;
}

/** Parses a TLS private key (PKCS#1, SEC1 or PKCS#8, unencrypted) or records why it cannot be read. */
export function tlsKey(r: Reader, key: string, v: unknown): { pem: string; key?: crypto.KeyObject } | undefined {
    if (typeof v === "string" && ENCRYPTED_PEM.test(v))
        return r.fail(key, "is passphrase-protected; give an unencrypted key (openssl pkey -in key.pem -out plain.pem)");
    if (typeof v === "string" && /BEGIN OPENSSH PRIVATE KEY/.test(v)) return r.fail(key, "is an OpenSSH key; a TLS key must be PEM (PKCS#1, SEC1 or PKCS#8)");
    if (typeof v !== "string" || !TLS_KEY.test(v)) {
        return r.fail(
            key,
            "must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)",
        );
    }
    try {
        return { pem: v, key: crypto.createPrivateKey({ key: v, format: "pem" }) };
    } catch {
        // Do not quote the parser's message: it may echo key material.
        r.fail(key, "is not a readable private key (check that the whole PEM block was copied)");
        return undefined;
    }
}

/** Whether `leaf` chains up to one of `roots` through `intermediates`. */
export function chainsTo(leaf: crypto.X509Certificate, intermediates: crypto.X509Certificate[], roots: crypto.X509Certificate[]): boolean {
    let current = leaf;
    for (let depth = 0; depth < 8; depth++) {
        const signedBy = (c: crypto.X509Certificate) => current.checkIssued(c) && current.verify(c.publicKey);
        if (roots.some(signedBy)) return true;
        const next = intermediates.find((c) => c !== current && signedBy(c));
        if (!next) return false;
        current = next;
    }
    return false;
}
