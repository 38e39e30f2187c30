/**
 * Client hosts over SSH: `ClientHost` (a dynamic provider) and its pure parts: the ledger and the
 * plan (`ledger.ts`), what each runtime needs (`runtimes.ts`), the host-side scripts (`shell.ts`),
 * probe → plan → commit (`reconcile.ts`), the SSH session (`ssh.ts`).
 */
export { ClientHost, type ClientHostArgs } from "./clientHost";
export { type ClientWants, desiredItems, RUNTIMES, type Runtime } from "./runtimes";
export { parseProbe } from "./shell";
export type { SshConnection } from "./ssh";
