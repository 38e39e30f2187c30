import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { privateKeyArgs } from "./keyAlgorithm";
import { CA_DEFAULTS } from "../defaults";

const TYPE = "private-registry:pki:CertificateAuthority";

/** How to generate a new CA. */
export interface GeneratedCaArgs {
    /** `RSA` or `ECDSA`. */
    algorithm: "RSA" | "ECDSA";
    /** RSA key size. Defaults to 4096. */
    rsaBits?: 2048 | 4096;
    /** ECDSA curve. Defaults to P256 (never the provider's P224 default, which SSH and many clients refuse). */
    ecdsaCurve?: "P256" | "P384";
    /** Subject common name. */
    commonName: string;
    /** Subject organization. */
    organization: string;
    /** Validity in hours. Defaults to 87600 (ten years). */
    validityHours?: number;
}

/** Arguments of {@link CertificateAuthority}: exactly one of `generate` or `existing`. */
export interface CertificateAuthorityArgs {
    /** Generate a new CA key and self-signed CA certificate. */
    generate?: GeneratedCaArgs;
    /** Adopt an existing CA (for example the cluster CA). The key is treated as a secret. */
    existing?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
    /** Keep a generated CA as it is whatever `generate` now says (the old CA during a rollover). */
    keep?: boolean;
}

/** The certificate authority that issues the registry's server certificate and that clients trust. */
export class CertificateAuthority extends pulumi.ComponentResource {
    /** The CA certificate, PEM. Public: this is what clients install as `ca.crt`. */
    public readonly certPem: pulumi.Output<string>;
    /** The CA private key, PEM. Secret. */
    public readonly privateKeyPem: pulumi.Output<string>;

    constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        const { existing, generate: g } = args;
        if (existing && !g) {
            this.certPem = pulumi.output(existing.certPem);
            this.privateKeyPem = pulumi.secret(existing.keyPem);
        } else if (g && !existing) {
            const kept = args.keep ? { ignoreChanges: ["algorithm", "rsaBits", "ecdsaCurve"] } : {};
            const key = new tls.PrivateKey(`${name}-key`, privateKeyArgs(g, CA_DEFAULTS.rsaBits), { ...child, ...kept });
            const cert = new tls.SelfSignedCert(
                `${name}-cert`,
                {
                    privateKeyPem: key.privateKeyPem,
                    isCaCertificate: true,
                    subject: { commonName: g.commonName, organization: g.organization },
                    validityPeriodHours: g.validityHours ?? CA_DEFAULTS.validityHours,
                    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                },
                args.keep ? { ...child, ignoreChanges: ["subject", "validityPeriodHours"] } : child,
            );
            this.certPem = cert.certPem;
            this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        } else {
            throw new pulumi.ResourceError("CertificateAuthority needs exactly one of `generate` or `existing`", this);
        }
        this.registerOutputs({ certPem: this.certPem, privateKeyPem: this.privateKeyPem });
    }
}
