/**
 * What `npm run destroy` leaves behind on purpose: the data volume with `data.keepOnDestroy`
 * (`retainOnDelete`), which the engine reports only as `deleted [retain]`. The wrapper names it
 * and the command that removes it, images and all.
 */
import { shWord } from "../components/sh";

/** The Docker volume type token. */
const VOLUME = "docker:index/volume:Volume";
/** Docker's own default: no `DOCKER_HOST` needed to reach it. */
const LOCAL_DOCKER = "unix:///var/run/docker.sock";

/** A resource as `pulumi stack export` shows it (the fields read here). */
interface StateResource {
    urn: string;
    type: string;
    retainOnDelete?: boolean;
    provider?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** A volume a destroy keeps: its URN, its name, and the Docker host it is on. */
export interface KeptVolume {
    urn: string;
    name: string;
    dockerHost: string;
}

const resourcesOf = (deployment: unknown): StateResource[] => (deployment as { resources?: StateResource[] } | undefined)?.resources ?? [];

/** The volumes in a deployment (`stack export`'s `deployment`) that a destroy keeps. */
export function retainedVolumes(deployment: unknown): KeptVolume[] {
    const resources = resourcesOf(deployment);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return resources
        .filter((r) => r.type === VOLUME && r.retainOnDelete === true && typeof r.outputs?.name === "string")
        .map((r) => {
            // A provider reference is `<urn>::<id>`.
            const provider = r.provider === undefined ? undefined : byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
            const host = provider?.inputs?.host;
            return { urn: r.urn, name: r.outputs?.name as string, dockerHost: typeof host === "string" && host !== "" ? host : LOCAL_DOCKER };
        });
}

/**
 * One line per volume of `retained` no longer in `after` (the deployment after the destroy): kept,
 * with the command that removes it.
 */
export function keptVolumeLines(retained: KeptVolume[], after: unknown): string[] {
    const left = new Set(resourcesOf(after).map((r) => r.urn));
    return retained
        .filter((v) => !left.has(v.urn))
        .map((v) => {
            const env = v.dockerHost === LOCAL_DOCKER ? "" : `DOCKER_HOST=${shWord(v.dockerHost)} `;
            return `destroy: the data volume ${v.name} is kept, with the images in it (data.keepOnDestroy); to remove it: ${env}docker volume rm ${shWord(v.name)}`;
        });
}
