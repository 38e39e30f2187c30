import { main } from "./program";

const outputs = main();

/** `host:port` that clients use. */
export const endpoint = outputs.endpoint;
/** Every address in the server certificate. */
export const endpoints = outputs.endpoints;
/** The CA certificate clients trust (PEM). */
export const caCertPem = outputs.caCertPem;
export const usernames = outputs.usernames;
/** Secret: `pulumi stack output passwords --show-secrets`. */
export const passwords = outputs.passwords;
export const loginCommands = outputs.loginCommands;
export const clientStatus = outputs.clientStatus;
export const containerName = outputs.containerName;
/** `repository:tag` → manifest digest of each image in `imports` (pull by `<endpoint>/<repository>@<digest>`). */
export const imported = outputs.imported;
/** Replica host → the `address:port` of its replica (with `replicaHosts`; `npm run status` checks each). */
export const replicaAddresses = outputs.replicaAddresses;
