/**
 * The load balancer's `haproxy.cfg` in front of several registry replicas. Pure: no Pulumi import.
 *
 * TLS passes through (TCP mode): each replica serves the stack's own certificate, so what clients
 * trust and verify is the same with one replica or ten, and the balancer never holds the key or
 * sees a password. Health is HTTP (see {@link HealthCheck}): 503 when the storage driver fails its
 * check, so a replica whose object store is away leaves the pool.
 */

/** Where the official image (and ours) reads its config. */
export const HAPROXY_CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg";

/** One registry replica as the balancer reaches it: by container name on the replica network, or at a replica host's address. */
export interface Backend {
    name: string;
    /** A container name (resolved by Docker's DNS) or a replica host's address. */
    address: string;
    port: number;
}

/**
 * How the balancer tells a replica is healthy: `/debug/health` on the debug server, which the
 * replica network reaches; or, for a replica on another host (whose debug server is not
 * published), `GET /` on the registry's own port, which distribution wraps in the same health
 * checks (503 while one fails), over TLS when the registry serves it (not verified: liveness only).
 */
export type HealthCheck = { debugPort: number } | { endpoint: { tls: boolean } };

/** What the balancer does. */
export interface LoadBalancerModel {
    /** The port clients connect to (the registry's port: `certs.d/<host:port>` stays the same). */
    port: number;
    backends: Backend[];
    health: HealthCheck;
    /** How often each replica is checked, ms; two failures take it out, one pass puts it back. */
    checkIntervalMs: number;
}

/** Renders `haproxy.cfg`. */
export function renderHaproxyConfig(m: LoadBalancerModel): string {
    // On the replica network: names through Docker's DNS, health on the debug port.
    const debugPort = "debugPort" in m.health ? m.health.debugPort : undefined;
    const local = debugPort !== undefined;
    const checkSsl = "endpoint" in m.health && m.health.endpoint.tls ? " check-ssl verify none" : "";
    const lines = [
        "# Rendered by private-registry: TLS passes through to the registry replicas.",
        "global",
        "  log stdout format raw local0 notice",
        "  maxconn 4096",
        "",
        // Docker's embedded DNS: a replica replaced by up gets a new address, followed here.
        ...(local ? ["resolvers docker", "  nameserver dns 127.0.0.11:53", "  hold valid 1s", "  hold obsolete 5s", ""] : []),
        "defaults",
        "  mode tcp",
        "  log global",
        "  option tcplog",
        "  timeout connect 2s",
        // Pulls and pushes of large layers stream for minutes without a gap long enough to matter.
        "  timeout client 10m",
        "  timeout server 10m",
        // A connection refused by a replica that just stopped is retried on another one: the
        // client never sees it.
        "  retries 3",
        "  option redispatch 1",
        "",
        "frontend registry",
        `  bind :${m.port}`,
        "  default_backend replicas",
        "",
        "backend replicas",
        "  balance leastconn",
        // A replica whose host is lost answers nothing, not even a reset: TCP keepalive probes end
        // its sessions after some 20 s of silence, where `timeout server` would wait 10 minutes.
        // A replica that is only slow (committing a large blob) answers the probes.
        "  option srvtcpka",
        "  srvtcpka-idle 10s",
        "  srvtcpka-intvl 3s",
        "  srvtcpka-cnt 3",
        `  option httpchk GET ${local ? "/debug/health" : "/"}`,
        "  http-check expect status 200",
        // A replica taken out keeps the sessions it has: stopped, it drains them (http.draintimeout).
        `  default-server check inter ${m.checkIntervalMs} fall 2 rise 1${checkSsl}${local ? " resolvers docker" : ""} init-addr last,libc,none`,
        ...m.backends.map((b) => `  server ${b.name} ${b.address}:${b.port}${local ? ` port ${debugPort}` : ""}`),
        "",
    ];
    return lines.join("\n");
}
