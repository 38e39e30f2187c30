import * as crypto from "node:crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { FILES_DIR, installScript, type RegistryFile, type RunAs, stagedPath } from "./installScript";

const TYPE = "private-registry:registry:RegistryFiles";

/** One file and its content. */
export interface RegistryFileContent extends RegistryFile {
    /** Secret where the file holds one. */
    content: pulumi.Input<string>;
}

/** Arguments of {@link RegistryFiles}. */
export interface RegistryFilesArgs {
    /** The registry image (its busybox `sh` runs the installer). */
    imageId: pulumi.Input<string>;
    /** Name of the volume the files land on. */
    volumeName: string;
    /** Name of the installer container. */
    installerName: string;
    /** Files whose change needs a registry restart: config, certificate, key. */
    restartOnChange: RegistryFileContent[];
    /** Files the running registry re-reads when they change: htpasswd. */
    liveReload: RegistryFileContent[];
    /** Who the registry runs as: the owner of every file and of the data folder. */
    owner: RunAs;
    /** The registry's data mount (filesystem storage), handed to `owner`. */
    data?: { volumeName: pulumi.Input<string> } | { hostPath: string };
    /** Where data is mounted in the containers. */
    dataPath: string;
}

/**
 * The registry's files on a volume of their own: a one-shot installer container receives them as
 * uploads and moves them into place (see `installScript.ts` for why). Only the installer is
 * replaced when a file changes; {@link RegistryFiles.restartDigest} tells the registry container
 * when it has to be replaced too.
 */
export class RegistryFiles extends pulumi.ComponentResource {
    /** The files volume's name. */
    public readonly volumeName: pulumi.Output<string>;
    /**
     * A digest of the files the registry reads only at start (config, certificate, key). Secret:
     * derived from secrets. The registry container carries it as a label, so a change replaces it.
     */
    public readonly restartDigest: pulumi.Output<string>;
    /** The installer container, to order the registry after it. */
    public readonly installer: docker.Container;

    constructor(name: string, args: RegistryFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        const files = [...args.restartOnChange, ...args.liveReload];
        const volume = new docker.Volume(`${name}-volume`, { name: args.volumeName }, child);
        const mounts: docker.types.input.ContainerVolume[] = [{ volumeName: volume.name, containerPath: FILES_DIR }];
        if (args.data && "volumeName" in args.data) mounts.push({ volumeName: args.data.volumeName, containerPath: args.dataPath });
        if (args.data && "hostPath" in args.data) mounts.push({ hostPath: args.data.hostPath, containerPath: args.dataPath });

        this.installer = new docker.Container(
            `${name}-installer`,
            {
                name: args.installerName,
                image: args.imageId,
                user: "0:0",
                entrypoints: ["/bin/sh", "-c", installScript(files, args.owner, args.data ? args.dataPath : undefined)],
                command: [],
                volumes: mounts,
                uploads: files.map((f) => ({ file: stagedPath(f), content: f.content, permissions: "0600" })),
                // chown and chmod of files it does not own; nothing else. Named as Docker stores
                // them (CAP_…): the provider's Read stores Docker's names, and any other spelling
                // would replace the installer after every refresh.
                capabilities: { drops: ["ALL"], adds: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"] },
                securityOpts: ["no-new-privileges:true"],
                networkMode: "none",
                restart: "no",
                mustRun: false,
                attach: true,
            },
            child,
        );
        // A failed install would leave the registry on old files without a word.
        this.installer.exitCode.apply((code) => {
            if (code !== undefined && code !== 0) {
                throw new pulumi.ResourceError(`installing the registry's files failed (exit code ${code}); see \`docker logs\` of the installer`, this);
            }
        });

        this.volumeName = volume.name;
        this.restartDigest = pulumi.secret(
            pulumi.all(args.restartOnChange.map((f) => pulumi.output(f.content))).apply((contents) => {
                const h = crypto.createHash("sha256");
                for (const [i, f] of args.restartOnChange.entries()) h.update(`${f.path}\0${f.mode}\0${contents[i]}\0`);
                return h.digest("hex");
            }),
        );
        this.registerOutputs({ volumeName: this.volumeName, restartDigest: this.restartDigest });
    }
}
