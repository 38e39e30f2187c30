/**
 * `PrivateRegistryArgs` → `ResolvedArgs`: every absent field gets its default, each taken from
 * `defaults.ts` (the settings parser fills absent config keys from the same constants). Pure: no
 * Pulumi value is read, so the same arguments always resolve the same way. A stack file's settings
 * arrive complete and pass through unchanged.
 */
import type { ClientArgs, PrivateRegistryArgs, ResolvedArgs, TlsArgs, UserArgs } from "./args";
import {
    BEHAVIOUR_DEFAULTS,
    CA_DEFAULTS,
    CERTIFICATE_DEFAULTS,
    CLIENT_DEFAULTS,
    DATA_DEFAULTS,
    objectStoreDefaults,
    usesObjectStore,
    dataVolumeName,
    defaultMemoryLimitMb,
    ENDPOINT_DEFAULTS,
    GC_SCHEDULE_DEFAULTS,
    LOAD_BALANCER_DEFAULTS,
    REDIS_CACHE_DEFAULTS,
    REGISTRY_DEFAULTS,
    TLS_DEFAULTS,
    USER_DEFAULTS,
} from "./defaults";
import { importConnectHost } from "./hosts";
import { registryVersionFromImage } from "./registryConfig";
import { isBalanced, replicaCount } from "./registry/registryTopology";

/** A problem with the arguments, naming the argument. */
export class ArgsError extends Error {}

function resolveTls(t: PrivateRegistryArgs["tls"]): TlsArgs {
    const key = { algorithm: TLS_DEFAULTS.algorithm, ecdsaCurve: TLS_DEFAULTS.ecdsaCurve } as const;
    return {
        enabled: t?.enabled ?? TLS_DEFAULTS.enabled,
        minimumTls: t?.minimumTls ?? TLS_DEFAULTS.minimumTls,
        ca: t?.ca ?? {
            mode: "generate",
            ...key,
            rsaBits: CA_DEFAULTS.rsaBits,
            commonName: CA_DEFAULTS.commonName,
            organization: CA_DEFAULTS.organization,
            validityHours: CA_DEFAULTS.validityHours,
            generation: 1,
        },
        certificate: t?.certificate ?? {
            mode: "generate",
            ...key,
            rsaBits: CERTIFICATE_DEFAULTS.rsaBits,
            validityHours: CERTIFICATE_DEFAULTS.validityHours,
            earlyRenewalHours: CERTIFICATE_DEFAULTS.earlyRenewalHours,
        },
    };
}

function resolveUsers(users: PrivateRegistryArgs["users"]): UserArgs[] {
    const list = users ?? [{ name: "admin" }];
    if (list.length === 0) throw new ArgsError("users: at least one user is needed (the registry refuses every request without one)");
    return list.map((u) => ({ ...u, passwordLength: u.passwordLength ?? USER_DEFAULTS.passwordLength, rotate: u.rotate ?? 0 }));
}

function resolveClients(clients: PrivateRegistryArgs["clients"], users: UserArgs[], tls: boolean): ClientArgs[] {
    return (clients ?? []).map((c) => {
        const user = c.user ?? CLIENT_DEFAULTS.user;
        return {
            ...c,
            port: c.port ?? CLIENT_DEFAULTS.port,
            user,
            insecureSkipHostKeyCheck: c.insecureSkipHostKeyCheck ?? false,
            sudo: c.sudo ?? user !== CLIENT_DEFAULTS.user,
            // Docker refuses basic auth to a plain-HTTP registry: without TLS, no login unless asked.
            loginAs: "loginAs" in c ? c.loginAs : tls ? users[0].name : undefined,
            daemonJson: c.daemonJson ?? {},
        };
    });
}

/**
 * What is wrong with a hard memory limit below the registry's own memory (`container.memoryLimitMb`
 * against `container.memoryMb`), if anything: the kernel would kill the registry before the Go
 * runtime's soft limit made it collect.
 */
export function memoryLimitProblem(memoryMb: number, memoryLimitMb: number): string | undefined {
    return memoryLimitMb < memoryMb ? `must be at least container.memoryMb (${memoryMb}), got ${memoryLimitMb}` : undefined;
}

/** The arguments with every default applied. Throws an {@link ArgsError} naming the argument when one cannot be resolved. */
export function resolveArgs(a: PrivateRegistryArgs): ResolvedArgs {
    const image = a.image ?? REGISTRY_DEFAULTS.image;
    const registryVersion = a.registryVersion ?? registryVersionFromImage(image);
    if (registryVersion === undefined) throw new ArgsError(`registryVersion: give 2 or 3, it cannot be read from the image tag of ${image}`);
    const containerName = a.containerName ?? REGISTRY_DEFAULTS.containerName;
    const docker = a.docker ?? { host: ENDPOINT_DEFAULTS.dockerHost, sshOpts: [] };
    const bindAddress = a.bindAddress ?? ENDPOINT_DEFAULTS.bindAddress;
    const named = a.hostnames !== undefined || a.ipAddresses !== undefined;
    const tls = resolveTls(a.tls);
    const users = resolveUsers(a.users);
    const replicaHosts = a.replicaHosts ?? [];
    const replicas = replicaCount(a.replicas, replicaHosts.length);
    const storage = a.storage ?? { driver: "filesystem" };
    const objectStore = usesObjectStore(storage.driver) ? objectStoreDefaults(storage.driver) : undefined;
    const reachFromHere = a.reachFromHere ?? importConnectHost({ docker, bindAddress });
    const memoryMb = a.container?.memoryMb ?? REGISTRY_DEFAULTS.memoryMb;
    const memoryLimitMb = a.container?.memoryLimitMb ?? defaultMemoryLimitMb(memoryMb);
    const memoryProblem = memoryLimitProblem(memoryMb, memoryLimitMb);
    if (memoryProblem) throw new ArgsError(`container.memoryLimitMb ${memoryProblem}`);
    return {
        ...a,
        docker,
        image,
        registryVersion,
        keepImage: a.keepImage ?? REGISTRY_DEFAULTS.keepImage,
        verify: a.verify ?? REGISTRY_DEFAULTS.verify,
        containerName,
        replicas,
        replicaHosts,
        loadBalancer: isBalanced(replicas, replicaHosts.length) ? { ...LOAD_BALANCER_DEFAULTS, ...a.loadBalancer } : undefined,
        redisCache: a.redisCache && { ...REDIS_CACHE_DEFAULTS, ...a.redisCache },
        gcSchedule: a.gcSchedule && { ...GC_SCHEDULE_DEFAULTS, ...a.gcSchedule },
        hostnames: a.hostnames ?? (named ? [] : [...ENDPOINT_DEFAULTS.hostnames]),
        ipAddresses: a.ipAddresses ?? (named ? [] : [...ENDPOINT_DEFAULTS.ipAddresses]),
        port: a.port ?? ENDPOINT_DEFAULTS.port,
        bindAddress,
        networks: a.networks ?? [],
        tls,
        users,
        storage,
        data: a.data ?? { kind: "volume", volumeName: dataVolumeName(containerName), ...DATA_DEFAULTS },
        container: {
            runAs: a.container?.runAs ?? { ...REGISTRY_DEFAULTS.runAs },
            memoryMb,
            memoryLimitMb,
            pidsLimit: a.container?.pidsLimit ?? REGISTRY_DEFAULTS.pidsLimit,
        },
        registry: { ...BEHAVIOUR_DEFAULTS, realm: REGISTRY_DEFAULTS.realm, headers: {}, notifications: [], ...a.registry },
        clients: resolveClients(a.clients, users, tls.enabled),
        imports: a.imports ?? [],
        ...(reachFromHere === undefined ? {} : { reachFromHere }),
        objectStore: a.objectStore ?? objectStore,
    };
}
