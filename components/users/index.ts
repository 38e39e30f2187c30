/** The registry's users: passwords (generated or supplied) and the htpasswd file (`htpasswd.ts`, pure). */
export { type HtpasswdEntry, renderHtpasswd } from "./htpasswd";
export { RegistryUsers, type RegistryUserArgs, type RegistryUsersArgs } from "./registryUsers";
