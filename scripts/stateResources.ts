/**
 * A stack's state as the user commands read it (`pulumi stack export`'s deployment, or a file
 * backend's checkpoint): its resources, and the Docker host of a resource's docker provider.
 */
import { ENDPOINT_DEFAULTS } from "../components/defaults";

/** A resource of the state, as far as the scripts read it. */
export interface StateResource {
    urn: string;
    id?: string;
    type: string;
    /** A provider reference, `<urn>::<id>`. */
    provider?: string;
    retainOnDelete?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/**
 * The Docker host and ssh options of `resource`'s docker provider among `resources`: the provider's
 * inputs, else the local engine (a provider without `host` is Docker's default).
 */
export function dockerHostOf(resource: Pick<StateResource, "provider">, resources: readonly StateResource[]): { host: string; sshOpts: string[] } {
    const ref = resource.provider ?? "";
    const sep = ref.lastIndexOf("::");
    const provider = sep < 0 ? undefined : resources.find((r) => r.urn === ref.slice(0, sep) && r.id === ref.slice(sep + 2));
    const host = provider?.inputs?.host;
    const opts = provider?.inputs?.sshOpts;
    return {
        host: typeof host === "string" && host !== "" ? host : ENDPOINT_DEFAULTS.dockerHost,
        // The state holds a list input as a list, or (from older providers) as its JSON text.
        sshOpts: Array.isArray(opts) ? opts.map(String) : typeof opts === "string" ? (JSON.parse(opts) as string[]) : [],
    };
}
