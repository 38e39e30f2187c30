/**
 * Parses a stack's raw Pulumi config into typed {@link Settings}. Pure: no Pulumi import, so every
 * rule is testable without the engine. All problems are collected and reported together,
 * each naming its full config key, before the program registers any resource.
 *
 * The rule of thumb: anything Docker, SSH, the TLS provider or the registry would refuse later (in
 * an `apply` after resources exist, or at container start-up), and anything that would be silently
 * ignored, is refused here instead.
 *
 * The parser is split by concern: `reader.ts` (reading values, problems), `rules.ts` (shared
 * patterns), `pem.ts` (keys and certificates), one file per config section, and
 * `registryChecks.ts`, which reports the registry-config validator's cross-field rules under
 * config keys.
 */
import { REGISTRY_DEFAULTS } from "../components/defaults";
import type { Settings } from "./types";
import { parseClients } from "./clients";
import { parseContainer } from "./container";
import { parseData } from "./data";
import { parseDockerHost } from "./docker";
import { parseEndpoint } from "./endpoint";
import { parseImage } from "./image";
import { parseGcSchedule } from "./gcSchedule";
import { checkImports, parseImports } from "./imports";
import { endpointHost, importConnectHost } from "../components/hosts";
import { checkReplicas, parseRedisCache, parseReplicaHosts, parseReplicas } from "./replicas";
import { parseObjectStore } from "./objectStore";
import { type RawConfig, Reader, SettingsError, unknownKey } from "./reader";
import { parseRegistry } from "./registry";
import { checkRegistryConfig } from "./registryChecks";
import { registryModelArgs } from "../components/registry/registryModel";
import { isLoopback } from "./rules";
import { parseStorage } from "./storage";
import { parseTls } from "./tls";
import { parseUsers } from "./users";

export { NAMESPACE, SettingsError, type RawConfig, type SettingsProblem } from "./reader";
export { isDnsName } from "./rules";

/** Options for {@link parseSettings}. */
export interface ParseOptions {
    /** The time supplied certificates must be valid at. Defaults to now. */
    now?: Date;
}

/** The top-level keys of the `private-registry` namespace. */
export const TOP_KEYS = [
    "dockerHost",
    "dockerSshOpts",
    "image",
    "imageArchive",
    "registryVersion",
    "keepImage",
    "containerName",
    "hostnames",
    "ipAddresses",
    "port",
    "bindAddress",
    "networks",
    "tls",
    "caCertificate",
    "caPrivateKey",
    "serverCertificate",
    "serverPrivateKey",
    "serverCaCertificate",
    "users",
    "storage",
    "objectStore",
    "data",
    "container",
    "registry",
    "sshPrivateKey",
    "daemonJson",
    "clients",
    "imports",
    "replicas",
    "replicaHosts",
    "loadBalancer",
    "redisCache",
    "gcSchedule",
    "verify",
] as const;

/**
 * Parses and checks a stack's config. Throws a {@link SettingsError} listing every problem, each
 * with its full key; secret values are never quoted. What is allowed but probably not meant is
 * returned in `warnings`.
 */
export function parseSettings(raw: RawConfig, opts: ParseOptions = {}): Settings {
    const r = new Reader(raw);
    const now = opts.now ?? new Date();
    for (const k of Object.keys(raw.values)) {
        if (!(TOP_KEYS as readonly string[]).includes(k)) r.fail(k, unknownKey(k, TOP_KEYS));
    }
    const docker = parseDockerHost(r);
    const verify = r.has("verify") ? r.bool("verify", r.text("verify")) : REGISTRY_DEFAULTS.verify;
    const { image, registryVersion, keepImage, containerName, imageArchive } = parseImage(r);
    const { hostnames, ipAddresses, port, bindAddress, networks } = parseEndpoint(r);
    const tls = parseTls(r, hostnames, ipAddresses, now);
    const users = parseUsers(r);
    const storage = parseStorage(r, registryVersion);
    const objectStore = parseObjectStore(r, storage?.driver, now);
    const data = parseData(r, containerName, storage?.driver);
    const container = parseContainer(r);
    const registry = parseRegistry(r);
    const clients = parseClients(r, users, tls.enabled);
    const imports = parseImports(r);
    const replicaHosts = parseReplicaHosts(r, port);
    const { replicas, loadBalancer } = parseReplicas(r, replicaHosts);
    const redisCache = parseRedisCache(r);
    const gcSchedule = parseGcSchedule(r, registryVersion);
    checkReplicas(r, { replicas, replicaHosts, registry, redisCache, gcSchedule, docker, data, port, driver: storage?.driver });
    if (bindAddress !== undefined) checkImports(r, { docker, bindAddress, proxy: registry.proxy !== undefined, imports });
    if (registryVersion !== undefined && port !== undefined && storage !== undefined) {
        const name = containerName ?? REGISTRY_DEFAULTS.containerName;
        checkRegistryConfig(r, registryModelArgs({ registryVersion, port, storage, registry, containerName: name, replicas, replicaHosts, redisCache, tls }));
    }
    const endpoint = endpointHost({ hostnames, ipAddresses });
    if (clients.length > 0 && endpoint !== undefined && isLoopback(endpoint)) {
        r.warn(
            hostnames.length > 0 ? "hostnames" : "ipAddresses",
            `starts with ${endpoint}, a loopback name, and that is the endpoint client hosts log in to and pull from: on a remote client it is the client itself. Put a name or address the clients reach first`,
        );
    }

    if (r.problems.length > 0) throw new SettingsError(r.problems);
    // Past this point every required value is there: a missing one was recorded as a problem.
    const defined = <T>(v: T | undefined): T => {
        if (v === undefined) throw new Error("settings: a required value is missing without a problem recorded");
        return v;
    };
    return {
        docker,
        image: defined(image),
        ...(imageArchive ? { imageArchive } : {}),
        registryVersion: defined(registryVersion),
        keepImage: defined(keepImage),
        verify: defined(verify),
        containerName: defined(containerName),
        replicas,
        replicaHosts,
        ...(loadBalancer ? { loadBalancer } : {}),
        ...(redisCache ? { redisCache } : {}),
        ...(gcSchedule ? { gcSchedule } : {}),
        hostnames,
        ipAddresses,
        port: defined(port),
        bindAddress: defined(bindAddress),
        networks,
        tls,
        users,
        storage: defined(storage),
        data,
        container,
        registry,
        clients,
        imports,
        ...reachable(docker, defined(bindAddress)),
        ...(objectStore ? { objectStore } : {}),
        warnings: r.warnings,
    };
}

/** `reachFromHere`, set only when the machine running up reaches the registry. */
function reachable(docker: Settings["docker"], bindAddress: string): Pick<Settings, "reachFromHere"> {
    const host = importConnectHost({ docker, bindAddress });
    return host === undefined ? {} : { reachFromHere: host };
}
