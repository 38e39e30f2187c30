/** The registry's PKI: a CA (generated or adopted) and the server certificate it issues (or one brought along). */
export { CertificateAuthority, type CertificateAuthorityArgs, type GeneratedCaArgs } from "./certificateAuthority";
export { RegistryCertificate, type RegistryCertificateArgs } from "./registryCertificate";
