import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { privateKeyArgs } from "./keyAlgorithm";
import { CERTIFICATE_DEFAULTS } from "../defaults";

const TYPE = "private-registry:pki:RegistryCertificate";

/** Arguments of {@link RegistryCertificate}. */
export interface RegistryCertificateArgs {
    /** DNS names clients use to reach the registry. Together with `ipAddresses`, at least one. */
    dnsNames: pulumi.Input<string>[];
    /** IP addresses clients use. */
    ipAddresses: pulumi.Input<string>[];
    /** The issuing CA (certificate and secret key), for a generated certificate. */
    ca?: { certPem: pulumi.Input<string>; privateKeyPem: pulumi.Input<string> };
    /** Key algorithm of a generated certificate. Defaults to RSA. */
    algorithm?: "RSA" | "ECDSA";
    /** Defaults to 2048. */
    rsaBits?: 2048 | 4096;
    /** Defaults to P256. */
    ecdsaCurve?: "P256" | "P384";
    /** Validity in hours. Defaults to 8760 (one year). */
    validityHours?: number;
    /** A `pulumi up` this many hours before expiry issues a new certificate. Defaults to 720. */
    earlyRenewalHours?: number;
    /** Organization in the subject. Defaults to `private-registry`. */
    organization?: string;
    /** Bring your own certificate and key instead of issuing one. The key is treated as a secret. */
    existing?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
}

/** The registry's TLS server certificate: issued by the CA with every name clients use as a SAN. */
export class RegistryCertificate extends pulumi.ComponentResource {
    /** The server certificate, PEM. */
    public readonly certPem: pulumi.Output<string>;
    /** The server private key, PEM. Secret. */
    public readonly privateKeyPem: pulumi.Output<string>;

    constructor(name: string, args: RegistryCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        if (args.existing) {
            this.certPem = pulumi.output(args.existing.certPem);
            this.privateKeyPem = pulumi.secret(args.existing.keyPem);
            this.registerOutputs({ certPem: this.certPem, privateKeyPem: this.privateKeyPem });
            return;
        }
        if (!args.ca) {
            throw new pulumi.ResourceError("RegistryCertificate needs `ca` or `existing`", this);
        }
        // Go (and so Docker and containerd) ignores the CN: without SANs no client accepts it.
        if (args.dnsNames.length + args.ipAddresses.length === 0) {
            throw new pulumi.ResourceError("RegistryCertificate needs at least one DNS name or IP address", this);
        }
        const validityHours = args.validityHours ?? CERTIFICATE_DEFAULTS.validityHours;
        const earlyRenewalHours = args.earlyRenewalHours ?? CERTIFICATE_DEFAULTS.earlyRenewalHours;
        if (earlyRenewalHours >= validityHours) {
            throw new pulumi.ResourceError("earlyRenewalHours must be smaller than validityHours", this);
        }
        const key = new tls.PrivateKey(
            `${name}-key`,
            privateKeyArgs({ algorithm: args.algorithm ?? "RSA", rsaBits: args.rsaBits, ecdsaCurve: args.ecdsaCurve }, CERTIFICATE_DEFAULTS.rsaBits),
            child,
        );
        const csr = new tls.CertRequest(
            `${name}-csr`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: {
                    commonName: args.dnsNames[0] ?? args.ipAddresses[0],
                    organization: args.organization ?? CERTIFICATE_DEFAULTS.organization,
                },
                dnsNames: args.dnsNames,
                ipAddresses: args.ipAddresses,
            },
            child,
        );
        const cert = new tls.LocallySignedCert(
            `${name}-cert`,
            {
                certRequestPem: csr.certRequestPem,
                caCertPem: args.ca.certPem,
                caPrivateKeyPem: pulumi.secret(args.ca.privateKeyPem),
                validityPeriodHours: validityHours,
                earlyRenewalHours,
                allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
            },
            child,
        );
        this.certPem = cert.certPem;
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.registerOutputs({ certPem: this.certPem, privateKeyPem: this.privateKeyPem });
    }
}
