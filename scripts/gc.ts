/**
 * `npm run gc [-- --delete-untagged]`: garbage collection of the stack's registry (STACK, default
 * dev), in read-only maintenance mode (scripts/operations/gc.ts). What it freed is printed and kept
 * in `.pulumi-state/gc-<stack>.json`, where `npm run status` reads the last run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { garbageCollect } from "./operations/gc";
import { fail, openStack, UserError } from "./pulumi";

/** Where the last run of a stack is kept. */
export const gcRecord = (stackName: string) => path.resolve(__dirname, "..", ".pulumi-state", `gc-${stackName}.json`);

async function main(): Promise<void> {
    let deleteUntagged = false;
    try {
        deleteUntagged = parseArgs({ args: process.argv.slice(2), options: { "delete-untagged": { type: "boolean", default: false } } }).values[
            "delete-untagged"
        ];
    } catch (e) {
        throw new UserError(`${(e as Error).message.split(". ")[0]} (usage: npm run gc -- [--delete-untagged])`);
    }
    const stack = await openStack();
    const r = await garbageCollect(stack, { deleteUntagged, log: (m) => console.log(m) });
    const freed =
        r.beforeKiB !== undefined && r.afterKiB !== undefined
            ? `${((r.beforeKiB - r.afterKiB) / 1024).toFixed(1)} MiB freed (${(r.beforeKiB / 1024).toFixed(1)} → ${(r.afterKiB / 1024).toFixed(1)} MiB)`
            : "object storage: see the report";
    console.log(`gc: done in ${r.seconds.toFixed(0)} s: ${freed}\n${r.report.map((l) => `  ${l}`).join("\n")}`);
    fs.mkdirSync(path.dirname(gcRecord(stack.name)), { recursive: true });
    fs.writeFileSync(gcRecord(stack.name), `${JSON.stringify(r, null, 2)}\n`);
}

if (require.main === module) main().catch((e) => fail(e, "gc"));
