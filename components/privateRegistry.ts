import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type DockerHostSettings, type PrivateRegistryArgs, type ResolvedArgs, Secret, type SecretInput, type TlsArgs } from "./args";
import { CertificateAuthority } from "./pki/certificateAuthority";
import { ClientHost } from "./clients/clientHost";
import { ImageImport } from "./imports/imageImport";
import { lastLogLines } from "./containers/containerLogs";
import { Registry } from "./registry/registry";
import { type CheckTarget, checkTargets } from "./registry/registryCheck";
import { s3UsesPathStyle } from "./registryConfig";
import { StorageBucket } from "./storage/storageBucket";
import { RegistryCertificate } from "./pki/registryCertificate";
import { RegistryUsers } from "./users/registryUsers";
import { certsDirName, dockerDaemonKeys, hostPort, mirrorOf } from "./clients/runtimes";
import { passwordVariable, shQuote } from "./sh";
import { registryConfigDraft, registryModelArgs } from "./registry/registryModel";
import { ArgsError, resolveArgs } from "./resolveArgs";
import { endpointHost } from "./hosts";

const TYPE = "private-registry:index:PrivateRegistry";

export type { PrivateRegistryArgs } from "./args";

/** A secret argument as a string input: a {@link Secret} revealed, anything else as it is. */
const reveal = (s: SecretInput): pulumi.Input<string> => (s instanceof Secret ? s.reveal() : s);
/** A secret argument as a secret output. */
const secret = (s: SecretInput) => pulumi.secret(reveal(s));

/** Every address clients use to reach the registry (`host:port`), endpoint first. */
export function registryAddresses(s: Pick<ResolvedArgs, "hostnames" | "ipAddresses" | "port">): pulumi.Output<string[]> {
    return pulumi.all([...s.hostnames, ...s.ipAddresses]).apply((hosts) => hosts.map((h) => certsDirName(h, s.port)));
}

/** What the PKI step hands the registry and the clients (absent when TLS is off). */
interface Pki {
    /** The CA clients trust, PEM ("" when a supplied certificate comes without its CA); both CAs during a rollover. */
    caCertPem: pulumi.Output<string>;
    certPem: pulumi.Output<string>;
    keyPem: pulumi.Output<string>;
    minimumTls: "tls1.2" | "tls1.3";
}

/**
 * A complete private registry: CA and server certificate, htpasswd users, the registry container
 * with its config, and every client host configured to trust it and logged in. Built in three
 * steps: {@link PrivateRegistry.pki}, the registry with its users, {@link PrivateRegistry.clients}.
 */
export class PrivateRegistry extends pulumi.ComponentResource {
    /** `host:port` clients use (the first address). */
    public readonly endpoint: pulumi.Output<string>;
    /** Every address in the certificate, as `host:port`. */
    public readonly endpoints: pulumi.Output<string[]>;
    /** The CA certificate clients trust, PEM (empty when TLS is off). */
    public readonly caCertPem: pulumi.Output<string>;
    /** The registry's server certificate, PEM (empty when TLS is off). */
    public readonly serverCertPem: pulumi.Output<string>;
    /** The server private key, PEM. Secret. */
    public readonly serverKeyPem: pulumi.Output<string>;
    /** The registry's rendered `config.yml`. Secret. */
    public readonly configYaml: pulumi.Output<string>;
    /** The config path inside the container. */
    public readonly configPath: string;
    /** The htpasswd file. Secret. */
    public readonly htpasswd: pulumi.Output<string>;
    /** Usernames. */
    public readonly usernames: pulumi.Output<string[]>;
    /** Username → password. Secret. */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** A `docker login` command per user, reading the password from the user's own variable ({@link passwordVariable}). */
    public readonly loginCommands: pulumi.Output<Record<string, string>>;
    /** Client name → what each step did on that host. */
    public readonly clientStatus: pulumi.Output<Record<string, string>>;
    /** The registry container's name. */
    public readonly containerName: pulumi.Output<string>;
    /** `repository:tag` → manifest digest of every image imported at `up`. */
    public readonly imported: pulumi.Output<Record<string, string>>;
    /** Replica host's `dockerHost` → the `address:port` the balancer reaches its replica at (empty without `replicaHosts`). */
    public readonly replicaAddresses: pulumi.Output<Record<string, string>>;

    constructor(name: string, argsIn: PrivateRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        let args: ResolvedArgs;
        try {
            args = resolveArgs(argsIn);
        } catch (e) {
            if (e instanceof ArgsError) throw new pulumi.ResourceError(e.message, this);
            throw e;
        }
        const addresses = registryAddresses(args);
        const endpoint = addresses.apply((a) => a[0]);

        const pki = args.tls.enabled ? this.pki(name, args, args.tls) : undefined;
        const users = new RegistryUsers(
            `${name}-users`,
            {
                users: args.users.map((u) => ({
                    name: u.name,
                    password: u.password ? secret(u.password) : undefined,
                    passwordLength: u.passwordLength,
                    rotate: u.rotate,
                })),
            },
            { parent: this },
        );
        const { registry, providers } = this.registry(name, args, pki, users);
        const checked = this.check(args, { addresses, pki, users, registry, providers });
        const clientStatus = this.clients(name, args, { addresses, pki, users, registry });
        this.imported = this.imports(name, args, { pki, users, registry });
        this.replicaAddresses = pulumi.output(Object.fromEntries(args.replicaHosts.map((h) => [h.docker.host, hostPort(h.address, h.port)])));

        this.endpoint = endpoint;
        this.endpoints = addresses;
        this.caCertPem = pki?.caCertPem ?? pulumi.output("");
        this.serverCertPem = pki?.certPem ?? pulumi.output("");
        this.serverKeyPem = pulumi.secret(pki?.keyPem ?? pulumi.output(""));
        this.configYaml = registry.configYaml;
        this.configPath = registry.configPath;
        this.htpasswd = users.htpasswd;
        this.usernames = users.usernames;
        this.passwords = users.passwords;
        this.loginCommands = endpoint.apply((e) =>
            Object.fromEntries(
                args.users.map((u) => [
                    u.name,
                    // `:?`: an unset variable stops the shell naming it, instead of an empty password reaching docker.
                    `printf '%s' "\${${passwordVariable(u.name)}:?}" | docker login --username ${shQuote(u.name)} --password-stdin ${shQuote(e)}`,
                ]),
            ),
        );
        this.clientStatus = clientStatus;
        this.containerName = registry.containerName;
        this.registerOutputs({
            endpoint: this.endpoint,
            endpoints: this.endpoints,
            caCertPem: this.caCertPem,
            serverCertPem: this.serverCertPem,
            serverKeyPem: this.serverKeyPem,
            configYaml: this.configYaml,
            configPath: this.configPath,
            htpasswd: this.htpasswd,
            usernames: this.usernames,
            passwords: this.passwords,
            loginCommands: this.loginCommands,
            clientStatus: this.clientStatus,
            containerName: this.containerName,
            imported: this.imported,
            replicaAddresses: this.replicaAddresses,
            checked,
        });
    }

    /** The CA (generated or adopted) and the server certificate (issued by it, or supplied). */
    private pki(name: string, args: ResolvedArgs, tlsSettings: TlsArgs): Pki {
        const child = { parent: this };
        const caSettings = tlsSettings.ca;
        const certSettings = tlsSettings.certificate;
        let ca: CertificateAuthority | undefined;
        // What clients trust: the CA, or during a rollover the old one and the new one.
        let trusted: pulumi.Output<string> | undefined;
        if (caSettings.mode === "existing") {
            ca = new CertificateAuthority(`${name}-ca`, { existing: { certPem: caSettings.certPem, keyPem: secret(caSettings.keyPem) } }, child);
        } else if (certSettings.mode === "generate") {
            // Generation 1 keeps the name every stack had before rollovers existed.
            const caName = (g: number) => (g === 1 ? `${name}-ca` : `${name}-ca-g${g}`);
            const { generation, rollover, ...generate } = caSettings;
            const current = new CertificateAuthority(caName(generation), { generate }, child);
            ca = current;
            if (rollover) {
                // The old CA stays exactly as it was, whatever tls.ca now says (a rollover may change the algorithm).
                const previous = new CertificateAuthority(caName(generation - 1), { generate, keep: true }, child);
                if (rollover === "trust") ca = previous;
                trusted = pulumi.all([previous.certPem, current.certPem]).apply(([a, b]) => `${a.trimEnd()}\n${b.trimEnd()}\n`);
            }
        }
        const sans = { dnsNames: args.hostnames, ipAddresses: args.ipAddresses };
        let cert: RegistryCertificate;
        if (certSettings.mode === "existing") {
            cert = new RegistryCertificate(
                `${name}-cert`,
                { ...sans, existing: { certPem: certSettings.certPem, keyPem: secret(certSettings.keyPem) } },
                child,
            );
        } else if (ca) {
            cert = new RegistryCertificate(
                `${name}-cert`,
                {
                    ...sans,
                    ca: { certPem: ca.certPem, privateKeyPem: ca.privateKeyPem },
                    algorithm: certSettings.algorithm,
                    rsaBits: certSettings.rsaBits,
                    ecdsaCurve: certSettings.ecdsaCurve,
                    validityHours: certSettings.validityHours,
                    earlyRenewalHours: certSettings.earlyRenewalHours,
                },
                child,
            );
        } else {
            throw new pulumi.ResourceError("a generated server certificate needs a CA (generated or existing)", this);
        }
        const suppliedCa = certSettings.mode === "existing" && certSettings.caPem !== undefined ? pulumi.output(certSettings.caPem) : pulumi.output("");
        return {
            caCertPem: trusted ?? ca?.certPem ?? suppliedCa,
            certPem: cert.certPem,
            keyPem: cert.privateKeyPem,
            minimumTls: tlsSettings.minimumTls,
        };
    }

    /** The registry container on its Docker host, with its config, certificate and htpasswd; and the Docker providers by host. */
    private registry(
        name: string,
        args: ResolvedArgs,
        pki: Pki | undefined,
        users: RegistryUsers,
    ): { registry: Registry; providers: Map<string, docker.Provider> } {
        const bucket = this.bucket(name, args);
        const providers = new Map<string, docker.Provider>();
        const dockerProvider = (resourceName: string, d: DockerHostSettings) => {
            const p = new docker.Provider(resourceName, { host: d.host, sshOpts: d.sshOpts.length > 0 ? d.sshOpts : undefined }, { parent: this });
            providers.set(d.host, p);
            return p;
        };
        const registry = new Registry(
            `${name}-registry`,
            {
                config: registryConfigDraft(registryModelArgs(args)),
                image: args.image,
                imageArchive: args.imageArchive ? { path: args.imageArchive, docker: args.docker } : undefined,
                dockerHost: args.docker,
                keepImage: args.keepImage,
                containerName: args.containerName,
                bindAddress: args.bindAddress,
                publishDebugPort: args.registry.debugPort !== undefined,
                networks: args.networks,
                data: args.data,
                tls: pki ? { certPem: pki.certPem, keyPem: pki.keyPem } : undefined,
                htpasswd: users.htpasswd,
                storageCaPem: args.objectStore?.caCertPem,
                waitFor: bucket ? [bucket.ready] : [],
                runAs: args.container.runAs,
                memoryMb: args.container.memoryMb,
                memoryLimitMb: args.container.memoryLimitMb,
                pidsLimit: args.container.pidsLimit,
                replicas: args.replicas,
                replicaHosts: args.replicaHosts.map((h) => ({
                    docker: h.docker,
                    provider: dockerProvider(`${name}-docker-${h.docker.host}`, h.docker),
                    address: h.address,
                    port: h.port,
                    bindAddress: h.bindAddress,
                })),
                loadBalancer: args.loadBalancer,
                redisCache: args.redisCache,
                gcSchedule: args.gcSchedule && {
                    ...args.gcSchedule,
                    // The socket the containers reach on their own host: a local engine's path, or the remote host's default.
                    dockerSocket: args.docker.host.startsWith("unix://") ? args.docker.host.slice("unix://".length) : "/var/run/docker.sock",
                },
            },
            { parent: this, providers: [dockerProvider(`${name}-docker`, args.docker)] },
        );
        return { registry, providers };
    }

    /**
     * At `up` (not preview), once the registry is ready: the endpoint and each replica host's
     * replica as a client reaches them (registryCheck.ts), as the stack's first user. Fails the
     * `up` naming the cause and showing the containers' last log lines, every `up` until it
     * passes. Resolves to what was checked.
     */
    private check(
        args: ResolvedArgs,
        ctx: { addresses: pulumi.Output<string[]>; pki: Pki | undefined; users: RegistryUsers; registry: Registry; providers: Map<string, docker.Provider> },
    ): pulumi.Output<string> {
        const { pki, users, registry, providers } = ctx;
        if (!args.verify) return pulumi.output("not checked: verify is false");
        if (pulumi.runtime.isDryRun()) return pulumi.output("not checked in a preview");
        const connect = args.reachFromHere;
        if (connect === undefined) {
            pulumi.log.info(`the endpoint is not checked: it listens on ${args.bindAddress} of ${args.docker.host}, which this machine cannot reach`, this);
        }
        const targets = pulumi.all([endpointHost(args), ctx.addresses]).apply(([servername, addresses]) => {
            const replicas: CheckTarget[] = args.replicaHosts.map((h) => ({
                label: `the replica on ${h.docker.host}`,
                connect: h.address,
                port: h.port,
                servername,
            }));
            const endpoint: CheckTarget[] = connect === undefined ? [] : [{ label: `the endpoint ${addresses[0]}`, connect, port: args.port, servername }];
            return [...endpoint, ...replicas];
        });
        const user = args.users[0].name;
        // The logs a failure shows: the balancer's, or the replicas', on their own hosts.
        const here = providers.get(args.docker.host);
        const logSources: { container: pulumi.Input<string>; provider?: docker.Provider }[] = [
            ...(registry.balancerName
                ? [{ container: registry.balancerName, provider: here }]
                : registry.replicaNames.map((container) => ({ container, provider: here }))),
            ...args.replicaHosts.map((h) => ({ container: args.containerName, provider: providers.get(h.docker.host) })),
        ];
        return pulumi
            .all([registry.ready, pki?.caCertPem ?? "", users.passwords, pulumi.all(logSources.map((l) => l.container)), targets])
            .apply(async ([, ca, passwords, containers, targets]) => {
                const problems = await checkTargets(targets, {
                    ca: pki ? ca : undefined,
                    user: { name: user, password: passwords[user] },
                    deadlineSeconds: 30,
                });
                if (problems.length === 0) {
                    const done = `registry checked as a client: ${targets.map((t) => t.label).join(", ")} ok as ${user}`;
                    pulumi.log.info(done, this);
                    return done;
                }
                const logs = await Promise.all(containers.map((c, i) => lastLogLines(c, { provider: logSources[i].provider })));
                // An error logged fails the up with this message alone (a thrown one would also
                // surface as an unhandled rejection of the outputs that wait on it).
                const failed = `the registry does not serve as a client needs it:\n  - ${problems.join("\n  - ")}\n${logs.join("\n")}`;
                pulumi.log.error(failed, this);
                return failed;
            });
    }

    /** The S3 bucket, made sure to exist before the registry starts (absent for other storage, or when the stack opts out). */
    private bucket(name: string, args: ResolvedArgs): StorageBucket | undefined {
        const s = args.storage;
        if (s.driver !== "s3" || !args.objectStore?.ensureBucket) return undefined;
        return new StorageBucket(
            `${name}-storage`,
            {
                target: {
                    bucket: s.bucket,
                    region: s.region,
                    endpoint: s.regionEndpoint,
                    forcePathStyle: s3UsesPathStyle(s),
                    accessKey: s.accessKey && secret(s.accessKey),
                    secretKey: s.secretKey && secret(s.secretKey),
                    caCertPem: args.objectStore.caCertPem,
                    skipVerify: s.skipVerify,
                    rootDirectory: s.rootDirectory,
                },
                deleteOnDestroy: args.objectStore.deleteBucketOnDestroy,
            },
            { parent: this },
        );
    }

    /** Every client host: trust, daemon.json, login. Returns client name → what its steps did. */
    private clients(
        name: string,
        args: ResolvedArgs,
        ctx: { addresses: pulumi.Output<string[]>; pki: Pki | undefined; users: RegistryUsers; registry: Registry },
    ): pulumi.Output<Record<string, string>> {
        const { addresses, pki, users, registry } = ctx;
        if (!pki && args.clients.length > 0) {
            addresses.apply((a) =>
                pulumi.log.warn(
                    `TLS is off: ${a.join(", ")} will be added to insecure-registries on every client host; ` +
                        "traffic and credentials are unencrypted, and Docker refuses basic-auth logins without TLS",
                    this,
                ),
            );
        }
        const status: Record<string, pulumi.Output<string>> = {};
        // The registry's identity on client hosts: kept in the state, so a new endpoint, port or
        // address is the same registry changing, and another stack is another registry.
        const id = args.clients.length > 0 ? new random.RandomId(`${name}-id`, { byteLength: 8 }, { parent: this }).hex : undefined;
        for (const c of args.clients) {
            const loginUser = c.loginAs;
            const host = new ClientHost(
                `${name}-client-${c.name}`,
                {
                    owner: pulumi.interpolate`${id}/${c.name}@${c.host}:${c.port}`,
                    connection: {
                        host: c.host,
                        port: c.port,
                        user: c.user,
                        hostKey: c.hostKey,
                        privateKey: c.privateKey === undefined ? undefined : reveal(c.privateKey),
                        privateKeyPassword: c.privateKeyPassword === undefined ? undefined : reveal(c.privateKeyPassword),
                        // `true`: the agent of the process that runs each step, resolved there.
                        agent: c.sshAgent,
                        proxy: c.proxy,
                        sudo: c.sudo,
                    },
                    runtimes: c.runtimes,
                    addresses,
                    caCertPem: pki?.caCertPem,
                    daemonJson: dockerDaemonKeys(c.daemonJson),
                    insecureRegistries: pki ? [] : addresses,
                    login: loginUser ? { username: loginUser, password: users.passwords.apply((p) => p[loginUser]) } : undefined,
                    mirrorOf: args.registry.proxy ? mirrorOf(args.registry.proxy.remoteUrl) : undefined,
                },
                // Clients log in against the running registry.
                { parent: this, dependsOn: [registry] },
            );
            status[c.name] = host.status;
        }
        return pulumi.output(status);
    }

    /** Every image of `imports`, copied by digest into the running registry as its first user. */
    private imports(
        name: string,
        args: ResolvedArgs,
        ctx: { pki: Pki | undefined; users: RegistryUsers; registry: Registry },
    ): pulumi.Output<Record<string, string>> {
        const { pki, users, registry } = ctx;
        const host = args.reachFromHere;
        if (args.imports.length === 0 || host === undefined) return pulumi.output({} as Record<string, string>);
        const user = args.users[0].name;
        const digests: Record<string, pulumi.Output<string>> = {};
        const { host: dockerHost, sshOpts } = args.docker;
        // sshOpts only when given: a source without them stays the same input it always was.
        const onHost = { dockerHost, ...(sshOpts.length > 0 ? { sshOpts } : {}) };
        for (const i of args.imports) {
            const source = "archive" in i.source ? { archive: i.source.archive } : { image: i.source.image, ...onHost };
            const imported = new ImageImport(
                `${name}-import-${i.repository}:${i.tag}`,
                {
                    source,
                    to: { repository: i.repository, tag: i.tag },
                    target: {
                        host,
                        port: args.port,
                        tls: pki !== undefined,
                        servername: pki ? endpointHost(args) : undefined,
                        // A supplied certificate without its CA: the system's trust store.
                        caCertPem: pki?.caCertPem.apply((ca) => ca || undefined) as pulumi.Output<string> | undefined,
                        username: user,
                        password: users.passwords.apply((p) => p[user]),
                    },
                    registryId: registry.containerId,
                },
                // Into the running registry, with its users' htpasswd in place.
                { parent: this, dependsOn: [registry, users] },
            );
            digests[imported.reference] = imported.digest;
        }
        return pulumi.output(digests);
    }
}
