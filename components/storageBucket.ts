import * as pulumi from "@pulumi/pulumi";
import { type S3Target, deleteBucket, ensureBucket } from "./objectStore/s3Bucket";

const TYPE = "private-registry:storage:StorageBucket";

/** Arguments of {@link StorageBucket}. */
export interface StorageBucketArgs {
    /** The bucket and how to reach it; `accessKey` and `secretKey` are made secret. */
    target: Omit<S3Target, "accessKey" | "secretKey"> & { accessKey?: pulumi.Input<string>; secretKey?: pulumi.Input<string> };
    /** Empty and delete the bucket on destroy. Defaults to false: the images outlive the stack. */
    deleteOnDestroy?: boolean;
}

interface BucketInputs {
    target: S3Target;
    deleteOnDestroy: boolean;
}

/**
 * Creates the bucket when it is missing; a bucket that exists (with data) is adopted as is. Delete
 * removes it only when `deleteOnDestroy` was set; a new name or endpoint is another bucket, and the
 * old one is left alone the same way.
 */
const bucketProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: BucketInputs & { created: boolean }, news: BucketInputs) {
        const where = (i: BucketInputs) => JSON.stringify([i.target.bucket, i.target.endpoint ?? "", i.target.region]);
        const replaces = where(olds) !== where(news) ? ["target"] : [];
        const changes = replaces.length > 0 || JSON.stringify(olds.target) !== JSON.stringify(news.target) || olds.deleteOnDestroy !== news.deleteOnDestroy;
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs: BucketInputs) {
        const { created } = await ensureBucket(inputs.target);
        return { id: `${inputs.target.endpoint ?? "aws"}/${inputs.target.bucket}`, outs: { ...inputs, created } };
    },
    async update(_id: string, olds: BucketInputs & { created: boolean }, news: BucketInputs) {
        await ensureBucket(news.target);
        return { outs: { ...news, created: olds.created } };
    },
    async delete(_id: string, props: BucketInputs) {
        if (props.deleteOnDestroy) await deleteBucket(props.target);
    },
};

class S3BucketResource extends pulumi.dynamic.Resource {
    declare readonly created: pulumi.Output<boolean>;
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(bucketProvider, name, { ...args, created: undefined }, opts, "private-registry", "S3Bucket");
    }
}

/** The S3 bucket the registry stores into, made sure to exist; kept on destroy unless asked. */
export class StorageBucket extends pulumi.ComponentResource {
    /** True when this stack created the bucket (false: it existed and was adopted). */
    public readonly created: pulumi.Output<boolean>;
    /** The resource the registry waits for. */
    public readonly ready: pulumi.Resource;

    constructor(name: string, args: StorageBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const t = args.target;
        const bucket = new S3BucketResource(
            `${name}-bucket`,
            {
                target: {
                    ...t,
                    accessKey: t.accessKey === undefined ? undefined : pulumi.secret(t.accessKey),
                    secretKey: t.secretKey === undefined ? undefined : pulumi.secret(t.secretKey),
                },
                deleteOnDestroy: args.deleteOnDestroy ?? false,
            },
            { parent: this, additionalSecretOutputs: ["target"] },
        );
        this.created = bucket.created;
        this.ready = bucket;
        this.registerOutputs({ created: this.created });
    }
}
