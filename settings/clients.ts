/** The client hosts section: `clients`, `daemonJson` (their shared daemon.json defaults) and `sshPrivateKey`. */
import { RUNTIMES, type Runtime } from "../components/clients/runtimes";
import type { DaemonJsonSettings } from "../components/args";
import type { ClientSettings, UserSettings } from "./types";
import { sshKey } from "./pem";
import { BAD, NAMESPACE, type Reader, show } from "./reader";
import { canonicalHost, urlHasUserinfo } from "./rules";
import { parseAddress, parseSshAccess } from "./ssh";
import { CLIENT_DEFAULTS } from "../components/defaults";

export const DAEMON_JSON_KEYS = ["registryMirrors", "maxConcurrentDownloads", "maxConcurrentUploads", "liveRestore", "logOpts", "debug"];
export const CLIENT_KEYS = [
    "name",
    "host",
    "port",
    "user",
    "hostKey",
    "insecureSkipHostKeyCheck",
    "privateKey",
    "privateKeyPassword",
    "sshAgent",
    "proxy",
    "sudo",
    "login",
    "daemonJson",
    "runtimes",
];
const CLIENT_SHAPE =
    "{name, host, hostKey, port?, user?, privateKey?, privateKeyPassword?, sshAgent?, proxy?, insecureSkipHostKeyCheck?, sudo?, login?, daemonJson?, runtimes?}";

const CLIENT_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** Why dockerd would refuse a mirror URL: it must be an http(s) registry root with a valid host and port. */
function mirrorProblem(s: string): string | undefined {
    if (!/^https?:\/\/[^\s/?#]+\/?$/.test(s)) return "must be the http(s) URL of a registry root (no path)";
    const authority = s.replace(/^https?:\/\//, "").replace(/\/$/, "");
    let url: URL;
    try {
        url = new URL(s);
    } catch {
        return `has an invalid host or port (${authority})`;
    }
    // URL() accepts ports up to 65535 only, but drops a default port silently: check what was written.
    const port = authority.match(/:(\d+)$/)?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `has port ${port}, outside 1-65535`;
    if (url.hostname === "") return "has no host";
    return undefined;
}

export function parseDaemonJson(r: Reader, key: string, raw: unknown): DaemonJsonSettings {
    const o = r.obj(key, raw, DAEMON_JSON_KEYS, `an object {${DAEMON_JSON_KEYS.map((k) => `${k}?`).join(", ")}}`);
    if (!o) return {};
    const d: DaemonJsonSettings = {};
    const set = <K extends keyof DaemonJsonSettings>(k: K, value: DaemonJsonSettings[K] | undefined) => {
        if (value !== undefined) d[k] = value;
    };
    // Docker accepts only a registry root as a mirror, and only for Docker Hub (moby#18818). It
    // prints mirror URLs in its logs and `docker info`, so credentials in one would leak even from a secret.
    const mirror = (s: string) =>
        urlHasUserinfo(s)
            ? "must not hold credentials (user:password@): dockerd shows mirror URLs in its logs and docker info; log in to the mirror with docker login instead"
            : mirrorProblem(s);
    if (o.registryMirrors !== undefined) set("registryMirrors", r.stringList(`${key}.registryMirrors`, o.registryMirrors, mirror, "URLs"));
    if (o.maxConcurrentDownloads !== undefined) set("maxConcurrentDownloads", r.int(`${key}.maxConcurrentDownloads`, o.maxConcurrentDownloads, 1, 1000));
    if (o.maxConcurrentUploads !== undefined) set("maxConcurrentUploads", r.int(`${key}.maxConcurrentUploads`, o.maxConcurrentUploads, 1, 1000));
    if (o.liveRestore !== undefined) set("liveRestore", r.bool(`${key}.liveRestore`, o.liveRestore));
    if (o.debug !== undefined) set("debug", r.bool(`${key}.debug`, o.debug));
    if (o.logOpts !== undefined) set("logOpts", r.stringMap(`${key}.logOpts`, o.logOpts, `{"max-size": "10m", "max-file": "3"}`));
    return d;
}

export function parseClients(r: Reader, users: UserSettings[], tlsEnabled: boolean): ClientSettings[] {
    let defaults: DaemonJsonSettings = {};
    if (r.has("daemonJson")) {
        const v = r.json("daemonJson", "an object");
        if (v !== BAD) defaults = parseDaemonJson(r, "daemonJson", v);
    }
    let defaultKey: string | undefined;
    if (r.has("sshPrivateKey")) {
        r.requireSecret("sshPrivateKey", "an SSH private key");
        defaultKey = sshKey(r, "sshPrivateKey", r.text("sshPrivateKey"));
    }
    const raw = r.has("clients") ? r.json("clients", "a list of client hosts {name, host, …}") : [];
    if (raw === BAD) return [];
    const seen = new Set<string>();
    const endpoints = new Map<string, string>();
    return (
        r.list("clients", raw, `client hosts ${CLIENT_SHAPE}`, (key, c, i) => {
            const o = r.obj(key, c, CLIENT_KEYS, `an object ${CLIENT_SHAPE}`);
            if (!o) return undefined;
            const name = r.required(key, o, "name") ? r.str(`${key}.name`, o.name) : undefined;
            if (name !== undefined) {
                if (!CLIENT_NAME.test(name))
                    r.fail(`${key}.name`, `must be 1-32 lower-case letters, digits and inner '-' (it names resources), got ${show(name)}`);
                else if (seen.has(name)) r.fail(`${key}.name`, `repeats client ${show(name)}`);
                seen.add(name);
            }
            const { host, port, user, valid } = parseAddress(r, key, o, " (the SSH address of the client host)");
            if (valid && host !== undefined && port !== undefined) {
                // Two clients on one host would edit the same daemon.json and certs.d concurrently;
                // fd00::5 and fd00:0:0:0:0:0:0:5 are one host.
                const at = `${canonicalHost(host)} port ${port}`;
                const other = endpoints.get(at);
                if (other !== undefined) r.fail(`${key}.host`, `is the same host and port as ${other} (${at}), got ${show(host)}`);
                endpoints.set(at, key);
            }
            const ssh = parseSshAccess(r, key, i, o, defaultKey, `${name ?? key} (${host}:${port ?? CLIENT_DEFAULTS.port})`);
            const sudo = o.sudo === undefined ? user !== CLIENT_DEFAULTS.user : r.bool(`${key}.sudo`, o.sudo);
            let loginAs: string | undefined;
            const login = o.login;
            if (login === undefined || login === true || login === "true") loginAs = users[0]?.name;
            else if (login === false || login === "false") loginAs = undefined;
            else if (typeof login === "string" && login !== "") {
                loginAs = login;
                if (users.length > 0 && !users.some((u) => u.name === login)) {
                    r.fail(`${key}.login`, `must name a user in ${NAMESPACE}:users (${users.map((u) => u.name).join(", ")}), got ${show(login)}`);
                }
            } else r.fail(`${key}.login`, `must be true (the first user), false, or a user name, got ${show(login)}`);
            if (!tlsEnabled) {
                // Docker refuses basic auth to a plain-HTTP registry (insecure.md). An explicit login
                // is an error; the implicit default just does not log in.
                if (login !== undefined && loginAs !== undefined) {
                    r.fail(
                        `${key}.login`,
                        `needs TLS: Docker refuses basic-auth logins to a registry served over plain HTTP (set login: false, or enable tls), got ${show(login)}`,
                    );
                }
                loginAs = undefined;
            }
            let runtimes: Runtime[] | undefined;
            if (o.runtimes !== undefined) {
                runtimes = r.stringList(
                    `${key}.runtimes`,
                    o.runtimes,
                    (v) => ((RUNTIMES as readonly string[]).includes(v) ? undefined : `must be one of ${RUNTIMES.join(", ")}`),
                    "runtime names",
                ) as Runtime[] | undefined;
                if (runtimes?.length === 0)
                    r.fail(`${key}.runtimes`, `must name at least one runtime (${RUNTIMES.join(", ")}), or be left out to use those found on the host`);
            }
            const daemonJson = { ...defaults, ...(o.daemonJson === undefined ? {} : parseDaemonJson(r, `${key}.daemonJson`, o.daemonJson)) };
            if (name === undefined || host === undefined || ssh === undefined || user === undefined) return undefined;
            return {
                name,
                host,
                port: port ?? CLIENT_DEFAULTS.port,
                user,
                ...ssh,
                sudo: sudo ?? false,
                loginAs,
                daemonJson,
                ...(runtimes ? { runtimes } : {}),
            };
        }) ?? []
    );
}
