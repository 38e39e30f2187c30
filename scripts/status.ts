/**
 * `npm run status [-- --connect <address>]`: the stack's registry (STACK, default dev) as a client
 * sees it (scripts/operations/status.ts). One line per check; exit 1 when one fails, so it can
 * run from cron. `--connect` reaches the registry at another address than its endpoint's name (TLS
 * still verifies the name).
 */
import { parseArgs } from "node:util";
import { gcRecord } from "./gc";
import { registryStatus } from "./operations/status";
import { fail, openStack, UserError } from "./pulumi";

async function main(): Promise<void> {
    let connect: string | undefined;
    try {
        connect = parseArgs({ args: process.argv.slice(2), options: { connect: { type: "string" } } }).values.connect;
    } catch (e) {
        throw new UserError(`${(e as Error).message.split(". ")[0]} (usage: npm run status -- [--connect <address>])`);
    }
    const stack = await openStack();
    const { ok, checks } = await registryStatus(stack, { connect, gcRecordFile: gcRecord(stack.name) });
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}`);
    process.exit(ok ? 0 : 1);
}

main().catch((e) => fail(e, "status"));
