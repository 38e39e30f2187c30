/**
 * What `parseSettings` returns: the component's {@link ResolvedArgs} with every value plain, as
 * read from the stack file, and every secret a {@link Secret} from the moment it is read. Such
 * settings are valid `PrivateRegistryArgs` as they are (a plain string is a `pulumi.Input`, a
 * `Secret` a `SecretInput`).
 */
import type { ClientArgs, GeneratedCa, GeneratedCertificate, ResolvedArgs, TlsArgs, UserArgs } from "../components/args";
import type { Secret } from "../components/secret";

/** A generated CA (default) or an adopted existing one. */
export type CaSettings = GeneratedCa | { mode: "existing"; certPem: string; keyPem: Secret };

/** A certificate issued by the CA (default) or a bring-your-own certificate and key. */
export type CertificateSettings =
    | GeneratedCertificate
    | {
          mode: "existing";
          certPem: string;
          keyPem: Secret;
          /** The CA that issued it, distributed to clients. Required when the CA is not adopted. */
          caPem?: string;
      };

/** TLS on the registry endpoint. */
export interface TlsSettings extends Omit<TlsArgs, "ca" | "certificate"> {
    ca: CaSettings;
    certificate: CertificateSettings;
}

/** One htpasswd user. */
export interface UserSettings extends Omit<UserArgs, "password"> {
    password?: Secret;
}

/** One client host reached over SSH. */
export interface ClientSettings extends Omit<ClientArgs, "host" | "hostKey" | "privateKey" | "privateKeyPassword"> {
    host: string;
    hostKey?: string;
    /** The login key (its own or `sshPrivateKey`). */
    privateKey?: Secret;
    privateKeyPassword?: Secret;
}

/** Everything one stack deploys. */
export interface Settings extends Omit<ResolvedArgs, "hostnames" | "ipAddresses" | "tls" | "users" | "clients"> {
    hostnames: string[];
    ipAddresses: string[];
    tls: TlsSettings;
    users: UserSettings[];
    clients: ClientSettings[];
    /** What the config does that is probably not meant, each `<full key> <what and why>`; the program logs them. */
    warnings: string[];
}
