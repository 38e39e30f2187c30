/**
 * A registry whose client hosts come from another stack: the infrastructure stack that made the
 * build machines exports each one's address and SSH host key, and this program configures them to
 * trust and log in to the registry (CA in every container runtime they have, daemon.json keys,
 * `docker login`). Nothing here is known before that stack's outputs resolve: the hostname comes
 * from its DNS record, the hosts' addresses and keys from its VMs, the SSH key and a password from
 * this stack's secrets.
 *
 *     pulumi config set infraStack acme/infra/prod
 *     pulumi config set dockerHost ssh://deploy@registry-01.lab
 *     pulumi config set --secret sshPrivateKey < deploy_ed25519
 *     pulumi config set --secret ciPassword '…'
 *     pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { PrivateRegistry } from "../../components";

const config = new pulumi.Config();
const infra = new pulumi.StackReference(config.require("infraStack"));
const sshPrivateKey = config.requireSecret("sshPrivateKey");

/** The build machines the infrastructure stack exports (the list decides how many client resources exist, so it is plain). */
const machines = ["build-01", "build-02"];

const registry = new PrivateRegistry("registry", {
    // Where the registry runs decides which Docker provider exists: plain config, not an output.
    docker: { host: config.require("dockerHost"), sshOpts: [] },
    hostnames: [infra.requireOutput("registryDnsName") as pulumi.Output<string>],
    users: [{ name: "ci", password: config.requireSecret("ciPassword") }, { name: "admin" }],
    clients: machines.map((name) => ({
        name,
        host: infra.requireOutput(`${name}.address`) as pulumi.Output<string>,
        hostKey: infra.requireOutput(`${name}.hostKey`) as pulumi.Output<string>,
        user: "deploy",
        privateKey: sshPrivateKey,
        loginAs: "ci",
        daemonJson: { maxConcurrentDownloads: 6 },
    })),
});

export const endpoint = registry.endpoint;
export const clientStatus = registry.clientStatus;
