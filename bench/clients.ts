/**
 * The `clients` section of `npm run bench`: the time one `up` takes to configure 1, 5 and 20
 * client hosts (real SSH hosts with their own dockerd, on the real engine), each from a stack whose
 * registry is already up and whose hosts are unconfigured; then the time to remove them again.
 * Goal: T(20)/T(1) at most 2 (every host is configured in parallel).
 */
import { hostKeyOf, isolate, REGISTRY, startInfra, stopInfra } from "../test/e2e/infra/hosts";
import { createE2eStack } from "../test/engine/engine";

const SIZES = [1, 5, 20];
const GOAL = 2;

/** Measures and returns the section's table. */
export async function benchClients(log: (m: string) => void = () => undefined): Promise<string> {
    const infra = await startInfra(Math.max(...SIZES), log);
    const rows: { n: number; add: number; remove: number }[] = [];
    try {
        const clients = infra.hosts.map((h, i) => ({ name: h.name, host: h.ip, hostKey: hostKeyOf(h), login: i % 2 === 0 ? "pusher" : "puller" }));
        const ts = await createE2eStack({
            name: "bench-clients",
            sshPrivateKeyPem: infra.sshKey.privateKeyPem,
            config: { "private-registry:clients": { value: "[]" } },
            log,
        });
        const setClients = (n: number) => ts.stack.setConfig("private-registry:clients", { value: JSON.stringify(clients.slice(0, n)) });
        const timed = async (f: () => Promise<unknown>) => {
            const t0 = process.hrtime.bigint();
            await f();
            return Number(process.hrtime.bigint() - t0) / 1e9;
        };
        try {
            await ts.stack.up({ color: "never" });
            isolate(REGISTRY.container);
            for (const n of SIZES) {
                await setClients(n);
                const add = await timed(() => ts.stack.up({ color: "never" }));
                await setClients(0);
                const remove = await timed(() => ts.stack.up({ color: "never" }));
                log(`clients: ${n} host(s) configured in ${add.toFixed(1)} s, removed in ${remove.toFixed(1)} s`);
                rows.push({ n, add, remove });
            }
        } finally {
            await ts.stack.destroy({ color: "never" }).catch((e) => log(`destroy: ${(e as Error).message}`));
        }
    } finally {
        stopInfra();
    }
    const one = rows[0];
    const last = rows[rows.length - 1];
    const ratio = last.add / one.add;
    return [
        "| client hosts | up that configures them (s) | × 1 host | up that removes them (s) | × 1 host |",
        "|---:|---:|---:|---:|---:|",
        ...rows.map(
            (r) => `| ${r.n} | ${r.add.toFixed(1)} | ${(r.add / one.add).toFixed(2)} | ${r.remove.toFixed(1)} | ${(r.remove / one.remove).toFixed(2)} |`,
        ),
        "",
        `T(${last.n})/T(1) = ${ratio.toFixed(2)} (goal: at most ${GOAL}): ${ratio <= GOAL ? "met" : "MISSED"}`,
    ].join("\n");
}
