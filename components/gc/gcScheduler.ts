import * as pulumi from "@pulumi/pulumi";
import { GC_FILES, type GcSchedulerModel, gcSchedulerScript } from "./gcScript";
import { memoryLimit, serviceContainer } from "../containers/serviceContainer";

const TYPE = "private-registry:registry:GcScheduler";

/** Arguments of {@link GcScheduler}. */
export interface GcSchedulerArgs {
    /** An image with the docker CLI and `sh`. */
    image: string;
    keepImage: boolean;
    containerName: string;
    /** The Docker socket's path on the registry's Docker host. */
    dockerSocket: string;
    /** What the script runs against (the volume and data names may be outputs). */
    model: Omit<GcSchedulerModel, "filesVolume" | "data" | "image" | "network"> & {
        filesVolume: pulumi.Input<string>;
        network: pulumi.Input<string>;
        data?: { source: pulumi.Input<string>; target: string };
        registryImage: pulumi.Input<string>;
    };
    /** The replicas: the scheduler starts after them. */
    waitFor: pulumi.Resource[];
}

/**
 * Garbage collection on a schedule: a small container on the registry's Docker host with its
 * socket and the files volume, running the collection the way `npm run gc` does (read-only window,
 * `garbage-collect`, read-write, replicas restarted one at a time). See `gcScript.ts`.
 */
export class GcScheduler extends pulumi.ComponentResource {
    /** The scheduler's container name (`docker kill --signal USR1 <it>` runs a collection now). */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: GcSchedulerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        const m = args.model;
        const script = pulumi.all([m.filesVolume, m.data?.source, m.registryImage, m.network]).apply(([filesVolume, dataSource, image, network]) =>
            gcSchedulerScript({
                ...m,
                filesVolume,
                image,
                network,
                data: m.data && dataSource ? { source: dataSource, target: m.data.target } : undefined,
            }),
        );
        const container = serviceContainer(
            name,
            args,
            {
                entrypoints: ["/bin/sh", "-c"],
                command: [script],
                volumes: [
                    { hostPath: args.dockerSocket, containerPath: "/var/run/docker.sock" },
                    { volumeName: m.filesVolume, containerPath: GC_FILES.mount },
                ],
                ...memoryLimit(64),
                // No network: it talks to the Docker socket only.
                networkMode: "none",
                readOnly: true,
                tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=16m" },
                // The docker CLI's config directory, on the tmpfs.
                envs: ["HOME=/tmp"],
                // Root for the socket, and only what its cp and mv on the registry's files need.
                capabilities: { drops: ["ALL"], adds: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"] },
            },
            { ...child, dependsOn: args.waitFor },
        );
        this.containerName = container.name;
        this.registerOutputs({ containerName: this.containerName });
    }
}
