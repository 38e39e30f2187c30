/** The files the registry reads (config, certificate, key, htpasswd): `RegistryFiles` and its installer's script (`installScript.ts`, pure). */
export { installScript } from "./installScript";
export { RegistryFiles, type RegistryFilesArgs } from "./registryFiles";
