import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { DaemonJsonSettings } from "../settings/types";
import {
    renderDaemonApply,
    renderDaemonRead,
    renderDaemonRestore,
    renderFailure,
    renderLogin,
    renderLogout,
    renderTrustInstall,
    renderTrustRemove,
    runScript,
} from "./render/clientScripts";
import { DaemonJsonError, daemonJsonIsEmpty, mergeDaemonJson } from "./render/daemonJson";

const TYPE = "private-registry:host:ClientHost";

/** Arguments of {@link ClientHost}. */
export interface ClientHostArgs {
    /** SSH connection (@pulumi/command's `connection`). The key and its passphrase are treated as secrets. */
    connection: {
        host: string;
        port?: number;
        user?: string;
        /** Secret. Absent when only the agent logs in. */
        privateKey?: pulumi.Input<string>;
        /** Secret. Decrypts `privateKey`. */
        privateKeyPassword?: pulumi.Input<string>;
        /** The ssh-agent socket. Unset, the provider uses `$SSH_AUTH_SOCK` of its own process when that is set. */
        agentSocketPath?: string;
        /** The host's public key, `<type> <base64>`; unset, the provider accepts any host key. */
        hostKey?: string;
        /** A bastion reached first, with the same key, passphrase and agent. */
        proxy?: { host: string; port?: number; user?: string; hostKey?: string };
    };
    /** Run host-side steps through `sudo -n` (needs NOPASSWD; there is no TTY). Defaults to false. */
    sudo?: boolean;
    /** The CA to trust, PEM; omit when the registry serves plain HTTP. */
    caCertPem?: pulumi.Input<string>;
    /** `certs.d` folder names, one per address clients use (`host:port`, or `host` on 443). */
    certDirs: string[];
    /** Host-side bookkeeping folder for undoing our changes, e.g. `/var/lib/private-registry/<registry>`. */
    stateDir: string;
    /** daemon.json keys to merge in. */
    daemonJson?: DaemonJsonSettings;
    /** Registries to add to `insecure-registries` (only when TLS is off). */
    insecureRegistries?: string[];
    /** Log in to the registry on this host (password sent on stdin, never in the command). */
    login?: { endpoint: string; username: string; password: pulumi.Input<string> };
    /** Failed SSH dials before a step gives up (-1: no limit). Defaults to the provider's 10. */
    dialErrorLimit?: number;
}

/** One client host that trusts the registry's CA, has its daemon.json merged, and is logged in. */
export class ClientHost extends pulumi.ComponentResource {
    /** A line per step with what it did on the host. */
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: ClientHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        const sudo = args.sudo ?? false;
        const c = args.connection;
        const auth = {
            privateKey: c.privateKey === undefined ? undefined : pulumi.secret(c.privateKey),
            privateKeyPassword: c.privateKeyPassword === undefined ? undefined : pulumi.secret(c.privateKeyPassword),
            agentSocketPath: c.agentSocketPath,
            dialErrorLimit: args.dialErrorLimit,
        };
        const connection = {
            host: c.host,
            port: c.port ?? 22,
            user: c.user ?? "root",
            hostKey: c.hostKey,
            ...auth,
            proxy: c.proxy && { host: c.proxy.host, port: c.proxy.port ?? 22, user: c.proxy.user ?? "root", hostKey: c.proxy.hostKey, ...auth },
        };
        const paths = { stateDir: args.stateDir };

        const poll = new command.remote.Command(
            `${name}-poll`,
            {
                connection,
                create: runScript(
                    'command -v docker >/dev/null 2>&1 || { echo "private-registry: no docker CLI on this host" >&2; exit 1; }\n' +
                        "docker version --format '{{.Server.Version}}'\n",
                    sudo,
                ),
            },
            // dependsOn on a component does not reach its children: the first step carries it,
            // and every other step depends on that one.
            { ...child, dependsOn: opts?.dependsOn },
        );
        const steps: pulumi.Output<string>[] = [poll.stdout.apply((v) => `docker ${v}`)];
        const after: pulumi.Resource[] = [poll];

        if (args.caCertPem !== undefined) {
            const trust = new command.remote.Command(
                `${name}-trust`,
                {
                    connection,
                    create: runScript(renderTrustInstall(args.certDirs, paths), sudo),
                    delete: runScript(renderTrustRemove(args.certDirs, paths), sudo),
                    stdin: args.caCertPem,
                    // A different set of folders is a new install: remove the old one first, or
                    // its delete would take away the ca.crt just installed in a shared folder.
                    triggers: args.certDirs,
                },
                { ...child, dependsOn: after, deleteBeforeReplace: true },
            );
            steps.push(trust.stdout);
            after.push(trust);
        }

        const desired = args.daemonJson ?? {};
        const insecure = args.insecureRegistries ?? [];
        if (!daemonJsonIsEmpty(desired, insecure)) {
            const read = new command.remote.Command(
                `${name}-daemon-read`,
                { connection, create: runScript(renderDaemonRead(paths), sudo), logging: "stderr" },
                // The host's daemon.json can hold proxy or mirror credentials: never plain in the state.
                { ...child, dependsOn: after, additionalSecretOutputs: ["stdout"] },
            );
            // A daemon.json we cannot merge fails this host's step with a message naming host and
            // file, rather than throwing inside the apply, so the other hosts still converge.
            const merged = read.stdout.apply((existing) => {
                try {
                    return { ok: true as const, ...mergeDaemonJson(existing, desired, insecure) };
                } catch (e) {
                    if (!(e instanceof DaemonJsonError)) throw e;
                    const where = `${name} (${args.connection.host}): /etc/docker/daemon.json`;
                    return { ok: false as const, error: `private-registry: ${where}: ${e.message}; fix or remove the file, then run up again` };
                }
            });
            const apply = new command.remote.Command(
                `${name}-daemon-json`,
                {
                    connection,
                    stdin: merged.apply((m) => (m.ok ? m.text : "")),
                    create: merged.apply((m) =>
                        m.ok
                            ? runScript(renderDaemonApply({ ...paths, managedKeys: m.managedKeys, restart: m.restartNeeded, expect: m.expect }), sudo)
                            : runScript(renderFailure(m.error), false),
                    ),
                    delete: merged.apply((m) =>
                        m.ok ? runScript(renderDaemonRestore({ ...paths, managedKeys: m.managedKeys, restart: m.restartNeeded }), sudo) : "true",
                    ),
                },
                { ...child, dependsOn: after },
            );
            steps.push(apply.stdout);
            after.push(apply);
        }

        if (args.login) {
            const login = new command.remote.Command(
                `${name}-login`,
                {
                    connection,
                    create: runScript(renderLogin(args.login.endpoint, args.login.username), sudo),
                    delete: runScript(renderLogout(args.login.endpoint), sudo),
                    stdin: pulumi.secret(args.login.password),
                },
                { ...child, dependsOn: after },
            );
            steps.push(login.stdout);
        }

        this.status = pulumi.all(steps).apply((lines) => lines.filter((l) => l !== "").join("\n"));
        this.registerOutputs({ status: this.status });
    }
}
