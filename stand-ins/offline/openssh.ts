/**
 * OpenSSH encodings of private keys (RFC 4251 strings and mpints, `openssh-key-v1`), as
 * terraform-provider-tls writes `privateKeyOpenssh` and `publicKeyOpenssh`.
 */
import * as crypto from "node:crypto";

/** The ECDSA curves the provider knows, by its name: Node, WebCrypto and OpenSSH spellings, hash. */
export const CURVES: Record<string, { node: string; web: string; ssh: string; hash: string }> = {
    P224: { node: "secp224r1", web: "P-224", ssh: "", hash: "SHA-256" },
    P256: { node: "prime256v1", web: "P-256", ssh: "nistp256", hash: "SHA-256" },
    P384: { node: "secp384r1", web: "P-384", ssh: "nistp384", hash: "SHA-384" },
    P521: { node: "secp521r1", web: "P-521", ssh: "nistp521", hash: "SHA-512" },
};

const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
};
const sshString = (b: Buffer | string) => {
    const buf = typeof b === "string" ? Buffer.from(b) : b;
    return Buffer.concat([u32(buf.length), buf]);
};
const mpint = (b64url: string) => {
    let b = Buffer.from(b64url, "base64url");
    while (b.length > 1 && b[0] === 0 && (b[1] & 0x80) === 0) b = b.subarray(1);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return sshString(b);
};

/** An OpenSSH key: its type, public blob and the private fields of `openssh-key-v1`. */
export interface SshKey {
    type: string;
    publicBlob: Buffer;
    privateFields: Buffer;
}

/** The OpenSSH form of a key, or undefined where OpenSSH has none (P224), as the provider leaves it empty. */
export function sshKeyOf(key: crypto.KeyObject): SshKey | undefined {
    // SSH has no P224 curve: the provider's OpenSSH outputs are empty for it.
    if (key.asymmetricKeyDetails?.namedCurve === "secp224r1") return undefined;
    const jwk = key.export({ format: "jwk" }) as crypto.JsonWebKey;
    if (jwk.kty === "RSA") {
        const publicBlob = Buffer.concat([sshString("ssh-rsa"), mpint(jwk.e!), mpint(jwk.n!)]);
        const privateFields = Buffer.concat([sshString("ssh-rsa"), mpint(jwk.n!), mpint(jwk.e!), mpint(jwk.d!), mpint(jwk.qi!), mpint(jwk.p!), mpint(jwk.q!)]);
        return { type: "ssh-rsa", publicBlob, privateFields };
    }
    if (jwk.kty === "EC") {
        const curve = Object.values(CURVES).find((c) => c.web === jwk.crv);
        if (!curve || curve.ssh === "") return undefined;
        const type = `ecdsa-sha2-${curve.ssh}`;
        const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
        const publicBlob = Buffer.concat([sshString(type), sshString(curve.ssh), sshString(point)]);
        return { type, publicBlob, privateFields: Buffer.concat([sshString(type), sshString(curve.ssh), sshString(point), mpint(jwk.d!)]) };
    }
    if (jwk.kty === "OKP" && jwk.crv === "Ed25519") {
        const pub = Buffer.from(jwk.x!, "base64url");
        const priv = Buffer.from(jwk.d!, "base64url");
        const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
        return {
            type: "ssh-ed25519",
            publicBlob,
            privateFields: Buffer.concat([sshString("ssh-ed25519"), sshString(pub), sshString(Buffer.concat([priv, pub]))]),
        };
    }
    return undefined;
}

/** `openssh-key-v1`, unencrypted, empty comment (Go's `ssh.MarshalPrivateKey(k, "")`). */
export function opensshPrivateKey(k: SshKey): string {
    const check = crypto.randomBytes(4);
    let priv = Buffer.concat([check, check, k.privateFields, sshString("")]);
    for (let i = 1; priv.length % 8 !== 0; i++) priv = Buffer.concat([priv, Buffer.from([i])]);
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        sshString("none"),
        sshString("none"),
        sshString(""),
        u32(1),
        sshString(k.publicBlob),
        sshString(priv),
    ]);
    const lines = body
        .toString("base64")
        .match(/.{1,70}/g)!
        .join("\n");
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
