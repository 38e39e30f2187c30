/**
 * The front door: `PrivateRegistry` and its parts, for any Pulumi TypeScript program.
 *
 *     import { PrivateRegistry } from "private-registry/components";
 *     const registry = new PrivateRegistry("registry", { hostnames: ["registry.lab"], clients: [{ name: "build", host: vm.publicIp }] });
 *
 * Every argument is optional (`PrivateRegistryArgs` states each default); values that may come
 * from other resources are `pulumi.Input`s. `examples/` holds whole programs.
 */
export * from "./args";
export { ArgsError, resolveArgs } from "./resolveArgs";
export { PrivateRegistry, registryAddresses } from "./privateRegistry";
export * from "./pki";
export * from "./users";
export * from "./registry";
export * from "./registryConfig";
export * from "./files";
export * from "./balancer";
export * from "./storage";
export * from "./gc";
export * from "./imports";
export * from "./clients";
export * from "./containers";
