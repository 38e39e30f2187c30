/**
 * What `npm run destroy` leaves behind on purpose: the data volume with `data.keepOnDestroy`
 * (`retainOnDelete`), which the engine reports only as `deleted [retain]`. The wrapper names it
 * and the command that removes it, images and all.
 */
import { ENDPOINT_DEFAULTS } from "../components/defaults";
import { shWord } from "../components/sh";
import { dockerHostOf, type StateResource } from "./stateResources";

/** The Docker volume type token. */
const VOLUME = "docker:index/volume:Volume";

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
    return resources
        .filter((r) => r.type === VOLUME && r.retainOnDelete === true && typeof r.outputs?.name === "string")
        .map((r) => ({ urn: r.urn, name: r.outputs?.name as string, dockerHost: dockerHostOf(r, resources).host }));
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
            // Docker's own default needs no DOCKER_HOST.
            const env = v.dockerHost === ENDPOINT_DEFAULTS.dockerHost ? "" : `DOCKER_HOST=${shWord(v.dockerHost)} `;
            return `destroy: the data volume ${v.name} is kept, with the images in it (data.keepOnDestroy); to remove it: ${env}docker volume rm ${shWord(v.name)}`;
        });
}
