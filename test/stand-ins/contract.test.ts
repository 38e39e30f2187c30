/**
 * The stand-ins' contract: the Check and Diff requests the real plugins answered during engine
 * runs (recorded by record.ts into recordings/, secrets hashed) are sent to the stand-in plugins,
 * and every decision must be the same: whether anything changes, which keys, which replace, delete
 * before replace, and Check's failures. Read answers are in the recordings too: what the real Read
 * stored reaches these decisions through the next Diff's `olds`. No Docker or SSH is needed: a Diff
 * decides from its request alone. How to re-record: docs/engine.md.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, describe, it } from "node:test";
import { startPlugin, tsxCommand } from "../../stand-ins/plugins/pluginProcess";

/* eslint-disable @typescript-eslint/no-require-imports */
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const RECORDINGS = path.join(__dirname, "..", "..", "stand-ins", "plugins", "recordings");
const service = provrpc.ResourceProviderService as Record<string, any>;

interface Recorded {
    method: "check" | "diff" | "read";
    request: string;
    response?: string;
    error?: string;
}

/** A Diff answer's decisions. */
export function diffDecision(r: any): { changes: number; keys: string[]; replaces: string[]; deleteBeforeReplace: boolean } {
    const top = (k: string) => k.split(/[.[]/)[0];
    const keys = new Set<string>([...r.getDiffsList().map(top)]);
    r.getDetaileddiffMap().forEach((_v: unknown, k: string) => {
        keys.add(top(k));
    });
    const replaces = [...new Set<string>(r.getReplacesList().map(top))].sort();
    return { changes: r.getChanges(), keys: [...keys].sort(), replaces, deleteBeforeReplace: replaces.length > 0 && r.getDeletebeforereplace() };
}

/** A Check answer's decisions: the properties it refused. */
function checkDecision(r: any): string[] {
    return r
        .getFailuresList()
        .map((f: any) => f.getProperty())
        .sort();
}

const children: ChildProcess[] = [];
after(() => {
    for (const c of children) c.kill();
});

/** The stand-in plugin `name`, started as the engine starts it, and a client to it. */
async function standIn(name: string): Promise<any> {
    const [node, ...args] = tsxCommand(path.join(__dirname, "..", "..", "stand-ins", "plugins", "plugin.ts"), name);
    const { child, client } = await startPlugin(node, args);
    children.push(child);
    return client;
}

function call(client: any, method: string, request: unknown): Promise<any> {
    return new Promise((resolve, reject) => client[method](request, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
}

// Committed gzipped (record.ts writes plain .jsonl; docs/engine.md says how to re-record).
const files = fs.existsSync(RECORDINGS) ? fs.readdirSync(RECORDINGS).filter((f) => /\.jsonl(\.gz)?$/.test(f)) : [];
const read = (file: string) => {
    const raw = fs.readFileSync(path.join(RECORDINGS, file));
    return (file.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString("utf8");
};

describe("the stand-ins decide as the real plugins did", () => {
    it("there are recordings of every plugin", () => {
        assert.deepEqual(files.map((f) => f.replace(/\.jsonl(\.gz)?$/, "")).sort(), ["command", "docker", "random", "tls"]);
    });

    for (const file of files) {
        const name = file.replace(/\.jsonl(\.gz)?$/, "");
        it(`${name}: every recorded Check and Diff`, async () => {
            const records = read(file)
                .split("\n")
                .filter((l) => l !== "")
                .map((l) => JSON.parse(l) as Recorded)
                .filter((r) => r.response !== undefined && r.method !== "read");
            assert.ok(records.length > 0, `${file} holds Check or Diff answers`);
            const client = await standIn(name);
            const differences: string[] = [];
            for (const r of records) {
                const def = service[r.method];
                const request = def.requestDeserialize(Buffer.from(r.request, "base64"));
                const real = def.responseDeserialize(Buffer.from(r.response!, "base64"));
                const mine = await call(client, r.method, request).catch((e: Error) => ({ error: e.message }));
                const where = `${r.method} ${request.getUrn()}`;
                if ("error" in mine) {
                    differences.push(`${where}: the stand-in failed: ${mine.error}`);
                    continue;
                }
                const [a, b] = r.method === "diff" ? [diffDecision(real), diffDecision(mine)] : [checkDecision(real), checkDecision(mine)];
                if (JSON.stringify(a) !== JSON.stringify(b))
                    differences.push(`${where}:\n    real     ${JSON.stringify(a)}\n    stand-in ${JSON.stringify(b)}`);
            }
            assert.deepEqual(differences, [], `${differences.length} of ${records.length} decisions differ:\n${differences.join("\n")}`);
        });
    }
});
