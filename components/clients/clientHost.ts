import * as pulumi from "@pulumi/pulumi";
import { type HostResult, reconcile } from "./reconcile";
import type { ClientWants, Runtime } from "./runtimes";
import { type SshConnection, openSsh } from "./ssh";

const TYPE = "private-registry:host:ClientHost";

/** Arguments of {@link ClientHost}. */
export interface ClientHostArgs {
    /**
     * Who owns the changes on the host: the registry's stable id and the client's name. A rename
     * or a second registry is another owner, so neither undoes the other's changes.
     */
    owner: pulumi.Input<string>;
    /** SSH: the host with its pinned key, the login (secrets), an optional bastion, sudo; the host, its key and the login may come from other resources. */
    connection: Omit<SshConnection, "host" | "hostKey" | "privateKey" | "privateKeyPassword"> & {
        host: pulumi.Input<string>;
        hostKey?: pulumi.Input<string>;
        privateKey?: pulumi.Input<string>;
        privateKeyPassword?: pulumi.Input<string>;
    };
    /** Runtimes to configure; unset: those found on the host. */
    runtimes?: Runtime[];
    /** `host:port` folder names, one per address clients use (the first is the login endpoint). */
    addresses: pulumi.Input<string[]>;
    /** The CA to trust, PEM; omit when the registry serves plain HTTP. */
    caCertPem?: pulumi.Input<string>;
    /** daemon.json keys in Docker's spelling. */
    daemonJson: Record<string, unknown>;
    /** Registries to list under `insecure-registries` (only when TLS is off). */
    insecureRegistries: pulumi.Input<string[]>;
    /** Credentials stored for the first address (Docker's config.json, k3s registries.yaml). */
    login?: { username: string; password: pulumi.Input<string> };
    /** The upstream the registry caches (pull-through): clients use it as a mirror of that upstream. */
    mirrorOf?: string;
}

/** What the dynamic resource keeps in the state (secrets marked by the component). */
interface HostInputs {
    owner: string;
    where: string;
    connection: SshConnection;
    wants: ClientWants;
}

interface HostOutputs extends HostInputs {
    runtimes: Runtime[];
    report: string[];
}

async function onHost(inputs: HostInputs, wants: ClientWants | undefined): Promise<HostResult> {
    const ssh = await openSsh(inputs.connection);
    try {
        return await reconcile(ssh.run, inputs.owner, wants, inputs.where);
    } finally {
        ssh.close();
    }
}

/**
 * The host-side provider. A different host or owner is a different thing (replace: configure the
 * new one, then undo the old one); anything else is an update that reconciles in place.
 */
const hostProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: HostOutputs, news: HostInputs) {
        const identity = {
            owner: (i: HostInputs) => i.owner,
            "connection.host": (i: HostInputs) => i.connection.host,
            "connection.port": (i: HostInputs) => i.connection.port,
        };
        const replaces = Object.entries(identity)
            .filter(([, of]) => of(olds) !== of(news))
            .map(([k]) => k);
        const inputs = (i: HostInputs) => JSON.stringify([i.owner, i.where, i.connection, i.wants]);
        return { changes: inputs(olds) !== inputs(news), replaces, deleteBeforeReplace: false };
    },
    async create(inputs: HostInputs) {
        const r = await onHost(inputs, inputs.wants);
        return { id: `${inputs.connection.host}:${inputs.connection.port}#${inputs.owner}`, outs: { ...inputs, ...r } };
    },
    async update(_id: string, olds: HostOutputs, news: HostInputs) {
        const r = await onHost(news, news.wants);
        return { outs: { ...news, ...r, report: r.report.length > 0 ? r.report : olds.report.length > 0 ? ["unchanged"] : [] } };
    },
    async delete(_id: string, props: HostOutputs) {
        await onHost(props, undefined);
    },
};

/** The dynamic resource that owns one client's changes on its host. */
class HostConfiguration extends pulumi.dynamic.Resource {
    declare readonly runtimes: pulumi.Output<Runtime[]>;
    declare readonly report: pulumi.Output<string[]>;
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(hostProvider, name, { ...args, runtimes: undefined, report: undefined }, opts, "private-registry", "HostConfiguration");
    }
}

/**
 * One client host that trusts the registry's CA in every container runtime it has, has its
 * daemon.json keys merged, and holds the login. Every change is recorded item by item in a
 * ledger on the host (`/var/lib/private-registry/ledger.json`), so destroy puts back exactly
 * what was there, and two registries or a renamed client never undo each other.
 */
export class ClientHost extends pulumi.ComponentResource {
    /** A line per change made on the host, and the runtimes configured. */
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: ClientHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const c = args.connection;
        const connection = {
            ...c,
            privateKey: c.privateKey === undefined ? undefined : pulumi.secret(c.privateKey),
            privateKeyPassword: c.privateKeyPassword === undefined ? undefined : pulumi.secret(c.privateKeyPassword),
        };
        const wants = {
            runtimes: args.runtimes,
            addresses: args.addresses,
            caCertPem: args.caCertPem,
            daemonJson: args.daemonJson,
            insecureRegistries: args.insecureRegistries,
            login: args.login && { username: args.login.username, password: pulumi.secret(args.login.password) },
            mirrorOf: args.mirrorOf,
        };
        const host = new HostConfiguration(
            `${name}-config`,
            { owner: args.owner, where: pulumi.interpolate`${name} (${c.host})`, connection, wants },
            // The login and the host's files can hold credentials: never plain in the state.
            { parent: this, dependsOn: opts?.dependsOn, additionalSecretOutputs: ["connection", "wants"] },
        );
        this.status = pulumi
            .all([host.runtimes, host.report])
            .apply(([runtimes, report]) => [`runtimes: ${(runtimes ?? []).join(", ")}`, ...(report ?? [])].join("\n"));
        this.registerOutputs({ status: this.status });
    }
}
