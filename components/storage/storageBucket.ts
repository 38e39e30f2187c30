import * as pulumi from "@pulumi/pulumi";
import { type S3Target, deleteBucket, ensureBucket, registryPrefix } from "./s3Bucket";

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

/** The bucket's identity: its name at its endpoint (spelled as given). */
const sameBucket = (a: S3Target, b: S3Target) => a.bucket === b.bucket && (a.endpoint ?? "") === (b.endpoint ?? "");

/**
 * Creates the bucket when it is missing; a bucket that exists (with data) is adopted as is. Never
 * a replacement: the delete half of one would empty a bucket during a plain `up` (the "new" one
 * being the same physical bucket under another spelling of its endpoint or region). A new name
 * or endpoint is an update that makes sure of the new bucket and leaves the old one alone. Delete
 * (destroy, with `deleteOnDestroy`) removes only what the registry wrote, below its root
 * directory, and then the bucket only if this stack created it and nothing else is left in it.
 */
export const bucketProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: BucketInputs & { created: boolean }, news: BucketInputs) {
        const changes = JSON.stringify(olds.target) !== JSON.stringify(news.target) || olds.deleteOnDestroy !== news.deleteOnDestroy;
        return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: BucketInputs) {
        const { created } = await ensureBucket(inputs.target);
        return { id: `${inputs.target.endpoint ?? "aws"}/${inputs.target.bucket}`, outs: { ...inputs, created } };
    },
    async update(_id: string, olds: BucketInputs & { created: boolean }, news: BucketInputs) {
        const { created } = await ensureBucket(news.target);
        return { outs: { ...news, created: sameBucket(olds.target, news.target) ? olds.created : created } };
    },
    async delete(_id: string, props: BucketInputs & { created?: boolean }) {
        if (props.deleteOnDestroy) await deleteBucket(props.target, { prefix: registryPrefix(props.target.rootDirectory), bucketToo: props.created === true });
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
