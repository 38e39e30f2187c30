/**
 * The smallest program: a private registry on this machine's Docker engine, as another Pulumi
 * program would declare it. Every argument left out takes its default: the registry:3.1.2 image,
 * TLS from a generated CA for localhost and 127.0.0.1, filesystem storage on a kept volume.
 *
 *     cd examples/minimal && pulumi up      # then: docker login localhost:5055 -u ci
 */
import { PrivateRegistry } from "../../components";

const registry = new PrivateRegistry("registry", {
    containerName: "example-registry",
    port: 5055,
    users: [{ name: "ci" }],
    // The data volume goes with the stack here; a real registry keeps it (the default).
    data: { kind: "volume", volumeName: "example-registry-data", keepOnDestroy: false },
});

/** `host:port` to push to. */
export const endpoint = registry.endpoint;
/** The CA clients trust (curl --cacert, /etc/docker/certs.d/<endpoint>/ca.crt). */
export const caCertPem = registry.caCertPem;
/** The generated password of `ci` (secret). */
export const password = registry.passwords.apply((p) => p.ci);
/** `docker login` for `ci`, the password read from $REGISTRY_PASSWORD_CI. */
export const loginCommand = registry.loginCommands.apply((c) => c.ci);
