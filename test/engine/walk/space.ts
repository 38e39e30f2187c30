/**
 * The config space of the random walk (walk.engine.test.ts): the part of the e2e stack's config a
 * step changes, the steps, and a seeded choice among them. Pure: a seed and a step count give the
 * same sequence on every machine, so a failing seed is replayed exactly.
 */

/** A client host of the walk: host-a runs Docker, host-b containerd alone. */
export interface WalkClient {
    /** The client's name in the stack (a rename is a new owner on the host). */
    name: string;
    host: "a" | "b";
    runtimes?: string[];
}

/** What the walk changes, in the stack's own keys. */
export interface WalkConfig {
    users: { name: string; rotate: number }[];
    minimumTls: "tls1.2" | "tls1.3";
    containerName: string;
    volumeName: string;
    port: number;
    alias: boolean;
    replicas: 1 | 2;
    clients: WalkClient[];
    maxConcurrentDownloads: number;
}

/** The walk's first config: the e2e stack's, with host-b containerd-only. */
export const START: WalkConfig = {
    users: [
        { name: "pusher", rotate: 0 },
        { name: "puller", rotate: 0 },
    ],
    minimumTls: "tls1.2",
    containerName: "pr-e2e-registry",
    volumeName: "pr-e2e-registry-data",
    port: 5000,
    alias: false,
    replicas: 1,
    clients: [
        { name: "host-a", host: "a" },
        { name: "host-b", host: "b", runtimes: ["containerd"] },
    ],
    maxConcurrentDownloads: 4,
};

/** A fault injected during a valid step: host-b paused for the step's up, or the up's CLI killed `killAfterMs` in. */
export type Fault = { kind: "host-b unreachable" } | { kind: "up killed"; killAfterMs: number };

/** One step: a valid change, or an invalid one the program must refuse naming `refusedKey`. */
export interface Step {
    name: string;
    /** A fault during this (valid) step's first up; the next up must converge with nothing lost. */
    fault?: Fault;
    /** The config after the step (for an invalid step, the config the up is tried with). */
    next: WalkConfig;
    /** For an invalid step: the config key its error names (`private-registry:<key>`). */
    refusedKey?: string;
    /** Raw overrides an invalid step sets on top of `next`, key → value. */
    raw?: Record<string, unknown>;
}

/** mulberry32: a small seeded generator, the same numbers on every machine. */
export function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const with_ = (c: WalkConfig, over: Partial<WalkConfig>): WalkConfig => ({ ...c, ...over });

/** The valid steps from `c` (each a pure change of the config). */
function validSteps(c: WalkConfig, n: number): Step[] {
    const steps: Step[] = [];
    const logins = new Set(["pusher", "puller"]);
    if (c.users.length < 4) steps.push({ name: `add user u${n}`, next: with_(c, { users: [...c.users, { name: `u${n}`, rotate: 0 }] }) });
    const removable = c.users.filter((u) => !logins.has(u.name));
    if (removable.length > 0) {
        const u = removable[n % removable.length];
        steps.push({ name: `remove user ${u.name}`, next: with_(c, { users: c.users.filter((x) => x !== u) }) });
    }
    const rotated = c.users[n % c.users.length];
    steps.push({
        name: `rotate ${rotated.name}'s password`,
        next: with_(c, { users: c.users.map((u) => (u === rotated ? { ...u, rotate: u.rotate + 1 } : u)) }),
    });
    steps.push({
        name: `minimumTls ${c.minimumTls === "tls1.2" ? "tls1.3" : "tls1.2"}`,
        next: with_(c, { minimumTls: c.minimumTls === "tls1.2" ? "tls1.3" : "tls1.2" }),
    });
    const containerName = c.containerName === "pr-e2e-registry" ? "pr-e2e-walk" : "pr-e2e-registry";
    steps.push({ name: `containerName ${containerName}`, next: with_(c, { containerName }) });
    const volumeName = c.volumeName === "pr-e2e-registry-data" ? "pr-e2e-walk-data" : "pr-e2e-registry-data";
    steps.push({ name: `data.volumeName ${volumeName}`, next: with_(c, { volumeName }) });
    const port = c.port === 5000 ? 5443 : 5000;
    steps.push({ name: `port ${port}`, next: with_(c, { port }) });
    steps.push({ name: c.alias ? "hostnames without the alias" : "hostnames with an alias", next: with_(c, { alias: !c.alias }) });
    const replicas = c.replicas === 1 ? 2 : 1;
    steps.push({ name: `replicas ${replicas}`, next: with_(c, { replicas }) });
    steps.push({ name: `daemonJson.maxConcurrentDownloads ${2 + (n % 7)}`, next: with_(c, { maxConcurrentDownloads: 2 + (n % 7) }) });
    const a = c.clients.find((x) => x.host === "a");
    if (a) {
        const name = a.name === "host-a" ? "builder-a" : "host-a";
        steps.push({ name: `rename client ${a.name} to ${name}`, next: with_(c, { clients: c.clients.map((x) => (x === a ? { ...x, name } : x)) }) });
    }
    const b = c.clients.find((x) => x.host === "b");
    if (b) {
        steps.push({ name: "remove client host-b", next: with_(c, { clients: c.clients.filter((x) => x !== b) }) });
        const runtimes = b.runtimes?.includes("podman") ? ["containerd"] : ["containerd", "podman"];
        steps.push({ name: `host-b runtimes ${runtimes.join("+")}`, next: with_(c, { clients: c.clients.map((x) => (x === b ? { ...x, runtimes } : x)) }) });
    } else {
        steps.push({ name: "add client host-b", next: with_(c, { clients: [...c.clients, { name: "host-b", host: "b", runtimes: ["containerd"] }] }) });
    }
    return steps;
}

/** Invalid steps: each must be refused before anything is touched, naming its key. */
function invalidSteps(c: WalkConfig): Step[] {
    return [
        { name: "invalid: port 70000", next: c, refusedKey: "port", raw: { port: 70000 } },
        { name: "invalid: no users", next: c, refusedKey: "users", raw: { users: [] } },
        { name: "invalid: tls.minimumTls tls1.0", next: c, refusedKey: "tls.minimumTls", raw: { tls: { minimumTls: "tls1.0" } } },
        { name: "invalid: replicas 0", next: c, refusedKey: "replicas", raw: { replicas: 0 } },
        {
            name: "invalid: data.volumeName is the files volume",
            next: c,
            refusedKey: "data.volumeName",
            raw: { data: { volumeName: `${c.containerName}-files`, keepOnDestroy: true } },
        },
        { name: "invalid: data.hostPath /etc/registry", next: c, refusedKey: "data.hostPath", raw: { data: { hostPath: "/etc/registry" } } },
        {
            name: "invalid: daemonJson.maxConcurrentDownloads -1",
            next: c,
            refusedKey: "daemonJson.maxConcurrentDownloads",
            raw: { daemonJson: { debug: true, maxConcurrentDownloads: -1 } },
        },
    ];
}

/**
 * The walk: `count` steps from `START`, one in five (about) invalid, chosen by `seed`; with
 * `faults`, one valid step in four (about) also gets a fault.
 */
export function walk(seed: number, count: number, faults = false): Step[] {
    const next = prng(seed);
    const out: Step[] = [];
    let c = START;
    for (let n = 0; n < count; n++) {
        const pool = next() < 0.2 ? invalidSteps(c) : validSteps(c, n);
        let step = pool[Math.floor(next() * pool.length)];
        if (faults && !step.refusedKey && next() < 0.25) {
            const fault: Fault = next() < 0.5 ? { kind: "host-b unreachable" } : { kind: "up killed", killAfterMs: 500 + Math.floor(next() * 6000) };
            step = { ...step, name: `${step.name} [${fault.kind}${fault.kind === "up killed" ? ` after ${fault.killAfterMs} ms` : ""}]`, fault };
        }
        out.push(step);
        if (!step.refusedKey) c = step.next;
    }
    return out;
}
