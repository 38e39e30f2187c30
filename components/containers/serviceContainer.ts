/**
 * The containers the program runs beside the registry (the load balancer, Redis, the collection
 * scheduler) and what they share with the registry's own: restarted always, running after every
 * `up`, their logs rotated, no privilege gained through setuid.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";

/** The settings every long-running container of the program has. */
export const SERVICE_CONTAINER = {
    restart: "always",
    mustRun: true,
    securityOpts: ["no-new-privileges:true"],
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
};

/**
 * dockerd merges its own daemon.json log-opts into the container's, and the provider reads the
 * merged map back: without this, such a host would replace the container whenever the state is
 * refreshed. The program sets logOpts itself, never the user.
 */
export const SERVICE_CONTAINER_IGNORED = ["logOpts"];

/**
 * A memory limit of `mb` MiB with no swap beyond it. Docker sets memory+swap to twice the limit
 * when only the limit is given, and the docker provider reads that back (`memorySwap` is not a
 * computed input there): the next `up` would then update the container, and raising the limit
 * past the old memory+swap is refused by Docker. Given both, each `up` sends both.
 */
export function memoryLimit(mb: number): { memory: number; memorySwap: number } {
    return { memory: mb, memorySwap: mb };
}

/** An image (kept or not on destroy) and its container `${name}-container`, with {@link SERVICE_CONTAINER}'s settings. */
export function serviceContainer(
    name: string,
    what: { image: string; keepImage: boolean; containerName: string },
    args: Omit<docker.ContainerArgs, "name" | "image">,
    opts: pulumi.CustomResourceOptions,
): docker.Container {
    const image = new docker.RemoteImage(`${name}-image`, { name: what.image, keepLocally: what.keepImage }, { parent: opts.parent });
    return new docker.Container(
        `${name}-container`,
        { name: what.containerName, image: image.imageId, ...SERVICE_CONTAINER, ...args },
        { ...opts, ignoreChanges: [...SERVICE_CONTAINER_IGNORED, ...(opts.ignoreChanges ?? [])] },
    );
}
