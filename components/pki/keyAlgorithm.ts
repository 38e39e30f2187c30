import type * as tls from "@pulumi/tls";

/** A key choice: RSA with a size, or ECDSA with a curve (never the provider's P224 default). */
export interface KeyChoice {
    algorithm: "RSA" | "ECDSA";
    rsaBits?: 2048 | 4096;
    ecdsaCurve?: "P256" | "P384";
}

/** `tls.PrivateKey` arguments for a key choice, with the given RSA default size. */
export function privateKeyArgs(choice: KeyChoice, defaultRsaBits: 2048 | 4096): tls.PrivateKeyArgs {
    return choice.algorithm === "RSA"
        ? { algorithm: "RSA", rsaBits: choice.rsaBits ?? defaultRsaBits }
        : { algorithm: "ECDSA", ecdsaCurve: choice.ecdsaCurve ?? "P256" };
}
