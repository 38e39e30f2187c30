/**
 * The registry itself: the `Registry` component (image, data, containers), its config model from
 * the arguments (`registryModel.ts`), the placement plan (`registryTopology.ts`) and the
 * end-of-up check as a client (`registryCheck.ts`). All but `registry.ts` are pure.
 */
export { Registry, type RegistryArgs } from "./registry";
export { type CheckTarget, checkTargets, probe } from "./registryCheck";
export {
    CONTAINER_PATHS,
    type RegistryConfigDraft,
    registryConfigDraft,
    registryModelArgs,
    registryProcessEnv,
    sourceOf,
    traceRegistryConfig,
} from "./registryModel";
export { planTopology, replicaName, type Topology } from "./registryTopology";
