/**
 * Where the bench's time goes: CPU seconds spent by a registry container (its cgroup) and by the
 * `docker-proxy` that forwards its published loopback port (dockerd's userland proxy); the client
 * reports its own. Linux only; a figure that cannot be read is NaN and prints as `?`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

/** CPU seconds by consumer. */
export interface Cpu {
    registry: number;
    proxy: number;
    client: number;
}

const ticksPerSecond = (() => {
    try {
        return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
        return 100;
    }
})();

/** The container's CPU counter file: cgroup v1 `cpuacct.usage` (ns) or v2 `cpu.stat` (usage_usec). */
function cgroupCounter(container: string): (() => number) | undefined {
    try {
        const pid = execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", container], { encoding: "utf8" }).trim();
        const lines = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
        const v1 = lines.find((l) => /^\d+:([^:]*,)?cpuacct(,[^:]*)?:/.test(l));
        if (v1) {
            const [, controllers, rel] = v1.split(":");
            for (const dir of [`/sys/fs/cgroup/${controllers}`, "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct"]) {
                const file = `${dir}${rel}/cpuacct.usage`;
                if (fs.existsSync(file)) return () => Number(fs.readFileSync(file, "utf8")) / 1e9;
            }
        }
        const v2 = lines.find((l) => l.startsWith("0::"));
        if (v2) {
            for (const dir of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]) {
                const file = `${dir}${v2.slice(3)}/cpu.stat`;
                if (fs.existsSync(file)) {
                    return () => Number(/usage_usec (\d+)/.exec(fs.readFileSync(file, "utf8"))?.[1]) / 1e6;
                }
            }
        }
    } catch {
        /* not readable here */
    }
    return undefined;
}

/** The `docker-proxy` processes publishing `port` (none when dockerd forwards in the kernel). */
function proxyPids(port: number): number[] {
    const pids: number[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
            const args = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
            if (args[0].endsWith("docker-proxy") && args[args.indexOf("-host-port") + 1] === String(port)) pids.push(Number(d));
        } catch {
            /* gone */
        }
    }
    return pids;
}

function processSeconds(pid: number): number {
    try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
        return Number.NaN;
    }
}

type ServerCpu = Omit<Cpu, "client">;

/** A sampler for one registry: `sample()` now, `since(earlier)` the CPU spent in between. */
export function cpuMeter(container: string, port: number): { sample: () => ServerCpu; since: (before: ServerCpu) => ServerCpu } {
    const registry = cgroupCounter(container);
    const pids = proxyPids(port);
    const sample = (): ServerCpu => ({
        registry: registry ? registry() : Number.NaN,
        proxy: pids.reduce((a, p) => a + processSeconds(p), 0),
    });
    const since = (before: ServerCpu): ServerCpu => {
        const now = sample();
        return { registry: now.registry - before.registry, proxy: now.proxy - before.proxy };
    };
    return { sample, since };
}
