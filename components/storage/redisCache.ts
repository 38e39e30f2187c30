import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { memoryLimit, serviceContainer } from "../containers/serviceContainer";

const TYPE = "private-registry:registry:RedisCache";

/** Where the Redis config lands in the container (the official image's documented place). */
const CONFIG_PATH = "/usr/local/etc/redis/redis.conf";

/** Arguments of {@link RedisCache}. */
export interface RedisCacheArgs {
    image: string;
    keepImage: boolean;
    containerName: string;
    /** The network the registry containers are on: Redis is reachable there only. */
    network: pulumi.Input<string>;
    memoryMb: number;
}

/**
 * Redis as the registry's blob-descriptor cache, run by the program: on the registry's own network
 * only (no published port), with a generated password (in its config file, never on a command line),
 * nothing persisted (a cache: emptied by a restart, refilled from storage), least recently used
 * descriptors evicted at its memory limit.
 */
export class RedisCache extends pulumi.ComponentResource {
    /** The password the registry logs in with. Secret. */
    public readonly password: pulumi.Output<string>;
    /** The container, for what must start after it. */
    public readonly container: docker.Container;

    constructor(name: string, args: RedisCacheArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPE, name, {}, opts);
        const child = { parent: this };
        const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
        this.password = pulumi.secret(password.result);
        // Redis keeps a little above maxmemory for itself: the container's limit leaves room for it.
        const maxMemoryMb = Math.max(8, Math.floor(args.memoryMb * 0.8));
        const config = pulumi.secret(
            password.result.apply((p) =>
                [
                    "bind * -::*",
                    "port 6379",
                    "protected-mode no",
                    `requirepass ${p}`,
                    `maxmemory ${maxMemoryMb}mb`,
                    "maxmemory-policy allkeys-lru",
                    'save ""',
                    "appendonly no",
                    "",
                ].join("\n"),
            ),
        );
        this.container = serviceContainer(
            name,
            args,
            {
                command: ["redis-server", CONFIG_PATH],
                uploads: [{ file: CONFIG_PATH, content: config }],
                ...memoryLimit(args.memoryMb),
                capabilities: { drops: ["ALL"] },
                networksAdvanced: [{ name: args.network }],
            },
            { ...child, additionalSecretOutputs: ["uploads"] },
        );
        this.registerOutputs({ password: this.password });
    }
}
