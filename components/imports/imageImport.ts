import * as pulumi from "@pulumi/pulumi";
import { type CopyResult, type Destination, type ImageSource, copyImage, fingerprint } from "./copy";
import type { RegistryTarget } from "./registryClient";

const TYPE = "private-registry:index:ImageImport";

/** Arguments of {@link ImageImport}. */
export interface ImageImportArgs {
    /** An archive on this machine, or an image on the registry's Docker host. */
    source: ImageSource;
    /** The repository and tag it gets. */
    to: Destination;
    /** How this machine reaches the registry; the password is made secret. */
    target: Omit<RegistryTarget, "password" | "caCertPem" | "servername"> & {
        password: pulumi.Input<string>;
        caCertPem?: pulumi.Input<string>;
        servername?: pulumi.Input<string>;
    };
    /** The registry container's ID: a new container (new storage, perhaps) gets the copy checked again. */
    registryId: pulumi.Input<string>;
}

interface ImportInputs {
    source: ImageSource;
    to: Destination;
    target: RegistryTarget;
    registryId: string;
}

interface ImportOutputs extends ImportInputs, CopyResult {
    fingerprint: string;
}

async function copy(inputs: ImportInputs): Promise<{ id: string; outs: ImportOutputs }> {
    const print = await fingerprint(inputs.source);
    const result = await copyImage(inputs.source, inputs.to, inputs.target, (m) => pulumi.log.info(m, undefined, undefined, true));
    return { id: `${inputs.to.repository}:${inputs.to.tag}`, outs: { ...inputs, ...result, fingerprint: print } };
}

/**
 * Copies on create, and on update when anything changed: the inputs, the source's content (its
 * fingerprint, read again at every diff) or the registry container. Delete leaves the image in
 * the registry: an import is a delivery, not ownership.
 */
const importProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: ImportOutputs, news: ImportInputs) {
        const same = (a: ImportInputs, b: ImportInputs) =>
            JSON.stringify([a.source, a.to, a.target, a.registryId]) === JSON.stringify([b.source, b.to, b.target, b.registryId]);
        const moved = await fingerprint(news.source).then(
            (p) => p !== olds.fingerprint,
            () => true,
        );
        return { changes: moved || !same(olds, news), replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: ImportInputs) {
        return copy(inputs);
    },
    async update(_id: string, _olds: ImportOutputs, news: ImportInputs) {
        return { outs: (await copy(news)).outs };
    },
    async delete() {
        // The image stays in the registry.
    },
};

class ImageCopy extends pulumi.dynamic.Resource {
    declare readonly digest: pulumi.Output<string>;
    declare readonly blobsCopied: pulumi.Output<number>;
    declare readonly bytesCopied: pulumi.Output<number>;
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(importProvider, name, { ...args, digest: undefined, blobsCopied: undefined, bytesCopied: undefined }, opts, "private-registry", "ImageCopy");
    }
}

/**
 * One image copied into the registry by digest: from an archive (`docker save`, OCI) on this
 * machine or from an image on the registry's Docker host. Only the blobs the registry lacks are
 * sent; a source that has not changed is not read again; removing the import leaves the image.
 */
export class ImageImport extends pulumi.ComponentResource {
    /** `repository:tag` in the registry. */
    public readonly reference: string;
    /** The manifest digest the tag names: what clients pull by. */
    public readonly digest: pulumi.Output<string>;

    constructor(name: string, args: ImageImportArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const copyResource = new ImageCopy(
            `${name}-copy`,
            {
                source: args.source,
                to: args.to,
                target: pulumi.secret(pulumi.output(args.target)),
                registryId: args.registryId,
            },
            { parent: this, additionalSecretOutputs: ["target"] },
        );
        this.reference = `${args.to.repository}:${args.to.tag}`;
        this.digest = copyResource.digest;
        this.registerOutputs({ digest: this.digest });
    }
}
