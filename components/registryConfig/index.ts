/**
 * The registry's `config.yml`: the version an image implies (`image.ts`), the rules shared with the
 * stack-config parser (`rules.ts`), validation of the model (`validate.ts`) and rendering
 * (`render.ts`). Pure: no Pulumi types.
 */
export { registryVersionFromImage } from "./image";
export { renderRegistryConfig } from "./render";
export * from "./rules";
export { RegistryConfigError, type RegistryConfigProblem, registryConfigProblems, validateRegistryConfigModel } from "./validate";
