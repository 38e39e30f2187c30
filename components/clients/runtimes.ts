/**
 * What each container runtime on a client host needs to trust and use the registry, as ledger
 * items. Pure. Formats and pitfalls: docs/configuration.md ("What each runtime gets").
 */
import type { DaemonJsonSettings } from "../args";
import type { DesiredItem } from "./ledger";
import type { Probe } from "./shell";

/** The runtimes we configure. */
export const RUNTIMES = ["docker", "containerd", "podman", "k3s", "buildkit"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Docker's daemon.json keys we may set (Docker's spelling) and their values. */
export type DaemonJsonKeys = Record<string, unknown>;

/** What one client host is asked to have. */
export interface ClientWants {
    /** Runtimes to configure; undefined: those found on the host. */
    runtimes?: Runtime[];
    /** `host:port` folder names, one per address clients use (first is the login endpoint). */
    addresses: string[];
    /** The CA to trust (PEM); undefined for a plain-HTTP registry. */
    caCertPem?: string;
    /** daemon.json keys (Docker spelling); lists are merged member by member, `log-opts` key by key. */
    daemonJson: DaemonJsonKeys;
    /** Registries to list under `insecure-registries` (plain HTTP only). */
    insecureRegistries: string[];
    /** Credentials to store for the first address. */
    login?: { username: string; password: string };
    /**
     * The upstream the registry is a pull-through cache of (`docker.io` for Docker Hub, else its
     * `host[:port]`): Docker gets the registry as a `registry-mirrors` entry (Docker Hub only, as
     * dockerd allows), containerd a mirror `hosts.toml` for that upstream.
     */
    mirrorOf?: string;
}

/** The upstream name clients use for a pull-through cache's `remoteUrl` (Docker Hub is `docker.io`). */
export function mirrorOf(remoteUrl: string): string {
    const u = new URL(remoteUrl);
    return ["registry-1.docker.io", "index.docker.io", "docker.io"].includes(u.hostname) ? "docker.io" : u.host;
}

/** Where each runtime reads its trust; `certs.d` folder names must match the image reference exactly. */
export const PATHS = {
    dockerCerts: "/etc/docker/certs.d",
    daemonJson: "/etc/docker/daemon.json",
    containerdCerts: "/etc/containerd/certs.d",
    containerdConfig: "/etc/containerd/config.toml",
    buildkitConfig: "/etc/buildkit/buildkitd.toml",
    buildkitCerts: "/etc/buildkit/certs",
    containersCerts: "/etc/containers/certs.d",
    k3sRegistries: "/etc/rancher/k3s/registries.yaml",
    k3sCa: "/etc/rancher/k3s/private-registry",
    rke2Registries: "/etc/rancher/rke2/registries.yaml",
} as const;

/**
 * The \`certs.d\` folder name for a registry address: \`<host>:<port>\`, just \`<host>\` on 443, and
 * IPv6 literals in brackets (the form image references use).
 */
export function certsDirName(host: string, port: number): string {
    return port === 443 ? bracketed(host) : hostPort(host, port);
}

/** An IPv6 address in brackets, any other host as it is. */
const bracketed = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/** `host:port`, an IPv6 host in brackets. */
export const hostPort = (host: string, port: number): string => `${bracketed(host)}:${port}`;

/** The daemon.json keys we manage, in our camelCase and Docker's spelling. */
const DAEMON_KEY_NAMES: Record<keyof DaemonJsonSettings, string> = {
    registryMirrors: "registry-mirrors",
    maxConcurrentDownloads: "max-concurrent-downloads",
    maxConcurrentUploads: "max-concurrent-uploads",
    liveRestore: "live-restore",
    logOpts: "log-opts",
    debug: "debug",
};

/** The stack's daemonJson settings in Docker's spelling. */
export function dockerDaemonKeys(d: DaemonJsonSettings): DaemonJsonKeys {
    const out: DaemonJsonKeys = {};
    for (const [k, v] of Object.entries(d)) if (v !== undefined) out[DAEMON_KEY_NAMES[k as keyof DaemonJsonSettings]] = v;
    return out;
}

/** Folders under which we may create parents (and remove them again). */
export const DIR_ROOTS = ["/etc", "/root", "/home"];

/** The runtimes configured on a host: the stack's list, or those the probe found. */
export function runtimesFor(wants: ClientWants, probe: Probe): Runtime[] {
    if (wants.runtimes) return wants.runtimes;
    const has = (c: string) => probe.commands.includes(c);
    const found: Runtime[] = [];
    if (has("docker")) found.push("docker");
    // Docker's own containerd serves Docker only; a containerd without Docker is a node runtime.
    if (has("containerd") && !has("docker")) found.push("containerd");
    if (has("podman") || has("crio") || has("skopeo") || has("buildah")) found.push("podman");
    if (has("k3s") || has("rke2")) found.push("k3s");
    if (has("buildkitd")) found.push("buildkit");
    return found;
}

/** The Docker CLI's credentials file for the user the steps run as. */
export const dockerConfigPath = (home: string) => `${home.replace(/\/$/, "")}/.docker/config.json`;

/**
 * containerd's hosts.toml: requests for `server` go to the registry at `address` first, trusted
 * through the CA beside it. For the registry itself `server` is the registry (pull, resolve, push);
 * for a pull-through cache it is the upstream, which stays the fallback (pull and resolve only).
 */
export function hostsToml(address: string, caPath: string | undefined, upstream?: string): string {
    const registry = `${caPath ? "https" : "http"}://${address}`;
    const server = upstream === undefined ? registry : upstream === "docker.io" ? "https://registry-1.docker.io" : `https://${upstream}`;
    return [
        "# Written by private-registry; removed again by its destroy.",
        `server = "${server}"`,
        "",
        `[host."${registry}"]`,
        `  capabilities = [${(upstream === undefined ? ["pull", "resolve", "push"] : ["pull", "resolve"]).map((c) => `"${c}"`).join(", ")}]`,
        ...(caPath ? [`  ca = "${caPath}"`] : []),
        "",
    ].join("\n");
}

/** Every item one client host should have, for the runtimes chosen. */
export function desiredItems(wants: ClientWants, runtimes: Runtime[], probe: Probe): DesiredItem[] {
    const items: DesiredItem[] = [];
    const ca = wants.caCertPem;
    const caFile = (root: string, a: string): DesiredItem[] => (ca ? [{ kind: "file", path: `${root}/${a}/ca.crt`, content: ca, mode: "0644" }] : []);
    const endpoint = wants.addresses[0];
    for (const r of runtimes) {
        if (r === "docker") {
            for (const a of wants.addresses) items.push(...caFile(PATHS.dockerCerts, a));
            for (const [key, value] of Object.entries(wants.daemonJson)) {
                if (key === "registry-mirrors" && Array.isArray(value)) {
                    for (const m of value) items.push({ kind: "member", file: PATHS.daemonJson, format: "json", path: [key], value: m });
                } else if (key === "log-opts" && value && typeof value === "object") {
                    for (const [k, v] of Object.entries(value)) items.push({ kind: "key", file: PATHS.daemonJson, format: "json", path: [key, k], value: v });
                } else items.push({ kind: "key", file: PATHS.daemonJson, format: "json", path: [key], value });
            }
            for (const a of wants.insecureRegistries)
                items.push({ kind: "member", file: PATHS.daemonJson, format: "json", path: ["insecure-registries"], value: a });
            if (wants.mirrorOf === "docker.io" && endpoint)
                items.push({
                    kind: "member",
                    file: PATHS.daemonJson,
                    format: "json",
                    path: ["registry-mirrors"],
                    value: `${ca ? "https" : "http"}://${endpoint}`,
                });
            if (wants.login && endpoint) {
                const auth = Buffer.from(`${wants.login.username}:${wants.login.password}`).toString("base64");
                items.push({ kind: "key", file: dockerConfigPath(probe.home), format: "json", path: ["auths", endpoint], value: { auth }, secret: true });
            }
        } else if (r === "containerd") {
            for (const a of wants.addresses) {
                items.push(...caFile(PATHS.containerdCerts, a));
                const caPath = ca ? `${PATHS.containerdCerts}/${a}/ca.crt` : undefined;
                items.push({ kind: "file", path: `${PATHS.containerdCerts}/${a}/hosts.toml`, content: hostsToml(a, caPath), mode: "0644" });
            }
            if (wants.mirrorOf && endpoint) {
                const caPath = ca ? `${PATHS.containerdCerts}/${endpoint}/ca.crt` : undefined;
                items.push({
                    kind: "file",
                    path: `${PATHS.containerdCerts}/${wants.mirrorOf}/hosts.toml`,
                    content: hostsToml(endpoint, caPath, wants.mirrorOf),
                    mode: "0644",
                });
            }
        } else if (r === "podman") {
            for (const a of wants.addresses) items.push(...caFile(PATHS.containersCerts, a));
        } else if (r === "buildkit") {
            for (const a of wants.addresses) {
                items.push(...caFile(PATHS.buildkitCerts, a));
                if (ca)
                    items.push({
                        kind: "key",
                        file: PATHS.buildkitConfig,
                        format: "toml",
                        path: ["registry", a, "ca"],
                        value: [`${PATHS.buildkitCerts}/${a}/ca.crt`],
                    });
            }
        } else if (r === "k3s") {
            const file = probe.commands.includes("rke2") && !probe.commands.includes("k3s") ? PATHS.rke2Registries : PATHS.k3sRegistries;
            for (const a of wants.addresses) {
                items.push(...caFile(PATHS.k3sCa, a));
                if (ca) items.push({ kind: "key", file, format: "yaml", path: ["configs", a, "tls", "ca_file"], value: `${PATHS.k3sCa}/${a}/ca.crt` });
                if (wants.login) {
                    items.push({ kind: "key", file, format: "yaml", path: ["configs", a, "auth", "username"], value: wants.login.username });
                    items.push({ kind: "key", file, format: "yaml", path: ["configs", a, "auth", "password"], value: wants.login.password, secret: true });
                }
            }
        }
    }
    return items;
}

/**
 * What containerd's own config needs so that its CRI plugin reads `certs.d`: `config_path`, under
 * the plugin its schema names (`io.containerd.grpc.v1.cri` in version 2, containerd 1.x;
 * `io.containerd.cri.v1.images` in version 3, containerd 2.x). Nothing when it is set to include
 * `certs.d` already or when containerd 2.x's default (which does) applies; a note when the
 * operator set another folder or the file is schema version 1.
 */
export function containerdConfigItems(probe: Probe, live: Record<string, unknown> | undefined): { items: DesiredItem[]; note?: string; problem?: string } {
    const file = PATHS.containerdConfig;
    const major = probe.containerdMajor ?? 1;
    const declared = live?.version;
    const version = typeof declared === "number" ? declared : live === undefined ? (major >= 2 ? 3 : 2) : 1;
    if (version < 2) return { items: [], note: `${file} is schema version 1 (no version key): set config_path to ${PATHS.containerdCerts} yourself` };
    const path = ["plugins", version >= 3 ? "io.containerd.cri.v1.images" : "io.containerd.grpc.v1.cri", "registry", "config_path"];
    let current: unknown = live;
    for (const k of path) current = current && typeof current === "object" ? (current as Record<string, unknown>)[k] : undefined;
    if (typeof current === "string" && current !== "") {
        return current.split(":").includes(PATHS.containerdCerts)
            ? { items: [] }
            : { items: [], note: `${file} sets config_path to ${current}: containerd's CRI does not read ${PATHS.containerdCerts}; add it there` };
    }
    if (major >= 2 && current === undefined) return { items: [] };
    const refused = legacyRegistryKeys(live, path.slice(0, -1));
    if (refused.length > 0) {
        return {
            items: [],
            problem: `${file} sets ${refused.join(" and ")}, which containerd refuses beside config_path (its CRI plugin would not load, and a Kubernetes node would go NotReady); move those entries to ${PATHS.containerdCerts}/<host>/hosts.toml files and remove them, or leave containerd out of clients[].runtimes`,
        };
    }
    const items: DesiredItem[] = [{ kind: "key", file, format: "toml", path, value: PATHS.containerdCerts }];
    if (declared === undefined) items.push({ kind: "key", file, format: "toml", path: ["version"], value: version });
    return { items };
}

/**
 * The keys of the CRI registry section (at `registry`, the path's parents) that containerd refuses
 * once config_path is set: `mirrors`, and the TLS of any `configs` entry (its criconfig validation).
 */
function legacyRegistryKeys(live: Record<string, unknown> | undefined, registry: string[]): string[] {
    let section: unknown = live;
    for (const k of registry) section = section && typeof section === "object" ? (section as Record<string, unknown>)[k] : undefined;
    if (!section || typeof section !== "object") return [];
    const at = (k: string) => `${registry.map((p) => (p.includes(".") ? JSON.stringify(p) : p)).join(".")}.${k}`;
    const { mirrors, configs } = section as Record<string, unknown>;
    const out: string[] = [];
    if (mirrors && typeof mirrors === "object" && Object.keys(mirrors).length > 0) out.push(at("mirrors"));
    if (configs && typeof configs === "object") {
        for (const [host, c] of Object.entries(configs)) if (c && typeof c === "object" && "tls" in c) out.push(at(`configs.${JSON.stringify(host)}.tls`));
    }
    return out;
}

/**
 * daemon.json keys dockerd applies on SIGHUP (moby daemon/reload.go and the dockerd reference,
 * "configuration reload behavior"); a change to any other key needs a restart.
 */
// Arrays and plain objects only at module level here and in the modules the host provider uses:
// the engine runs a serialized copy of them, and serialization loses a Set's or a Symbol's identity.
export const RELOADABLE_DAEMON_KEYS = [
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "default-runtime",
    "runtimes",
    "authorization-plugins",
    "insecure-registries",
    "registry-mirrors",
    "shutdown-timeout",
    "features",
];

/** Daemon flags that collide with a daemon.json key: dockerd then refuses to (re)load the file. */
export const CONFLICTING_FLAGS: Record<string, string[]> = {
    "registry-mirrors": ["--registry-mirror"],
    "insecure-registries": ["--insecure-registry"],
    "max-concurrent-downloads": ["--max-concurrent-downloads"],
    "max-concurrent-uploads": ["--max-concurrent-uploads"],
    "live-restore": ["--live-restore"],
    "log-opts": ["--log-opt"],
    debug: ["--debug", "-D"],
};

/** The top-level keys whose value differs between two daemon.json objects. */
export function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** `docker info` conditions (shell) that hold once `doc` is in force. */
export function dockerInfoChecks(doc: Record<string, unknown>, q: (s: string) => string): string[] {
    const checks: string[] = [];
    if (typeof doc.debug === "boolean") checks.push(`[ "$(docker info --format '{{.Debug}}')" = ${q(String(doc.debug))} ]`);
    if (typeof doc["live-restore"] === "boolean") checks.push(`[ "$(docker info --format '{{.LiveRestoreEnabled}}')" = ${q(String(doc["live-restore"]))} ]`);
    for (const m of Array.isArray(doc["registry-mirrors"]) ? doc["registry-mirrors"] : []) {
        if (typeof m === "string") checks.push(`docker info --format '{{range .RegistryConfig.Mirrors}}{{.}} {{end}}' | grep -qF -- ${q(m)}`);
    }
    for (const r of Array.isArray(doc["insecure-registries"]) ? doc["insecure-registries"] : []) {
        if (typeof r === "string") checks.push(`docker info --format '{{range $k, $v := .RegistryConfig.IndexConfigs}}{{$k}} {{end}}' | grep -qF -- ${q(r)}`);
    }
    return checks;
}
