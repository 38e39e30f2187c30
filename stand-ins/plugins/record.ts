/**
 * A recording plugin, for re-recording the stand-ins' contract (docs/engine.md): the engine starts
 * it as `pulumi-resource-<name>`; it starts the real plugin, forwards every unary ResourceProvider
 * call to it unchanged, and appends each Check, Diff and Read (request and answer) to
 * `<dir>/<name>.jsonl`. Secret values are replaced by a hash of themselves before anything is
 * written, so equal stays equal and different stays different.
 *
 *   node --import tsx record.ts <name> <real plugin binary> <dir> [engine address]
 */
import * as grpc from "@grpc/grpc-js";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { GRPC_LIMITS, startPlugin } from "./pluginProcess";

/* eslint-disable @typescript-eslint/no-require-imports */
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const structproto = require("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The methods recorded, and the Struct fields of their request and answer that may hold secrets. */
export const RECORDED: Record<string, { request: string[]; response: string[] }> = {
    check: { request: ["Olds", "News"], response: ["Inputs"] },
    diff: { request: ["Olds", "News", "OldInputs"], response: [] },
    read: { request: ["Properties", "Inputs"], response: ["Properties", "Inputs"] },
};

/** `v` with every secret's value replaced by `redacted:<sha256 prefix>` (whatever its type). */
export function redact(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(redact);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SIG] === SECRET_SIG)
            return { [SIG]: SECRET_SIG, value: `redacted:${crypto.createHash("sha256").update(JSON.stringify(o.value)).digest("hex").slice(0, 16)}` };
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, redact(x)]));
    }
    return v;
}

/** The message with its Struct fields redacted (a copy). */
function redacted(msg: any, fields: string[]): any {
    const copy = msg.clone();
    for (const f of fields) {
        if (!copy[`has${f}`]?.()) continue;
        copy[`set${f}`](structproto.Struct.fromJavaScript(redact(copy[`get${f}`]().toJavaScript()) as Record<string, never>));
    }
    return copy;
}

async function main(): Promise<void> {
    const [name, binary, dir, ...rest] = process.argv.slice(2);
    const { child, client } = await startPlugin(binary, rest);
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, `${name}.jsonl`);
    const handlers: Record<string, unknown> = {};
    for (const [method, def] of Object.entries(provrpc.ResourceProviderService as Record<string, any>)) {
        if (def.requestStream || def.responseStream) continue;
        handlers[method] = (call: any, cb: any) => {
            client[method](call.request, call.metadata, (err: grpc.ServiceError | null, res: any) => {
                const rec = RECORDED[method];
                if (rec) {
                    const line = {
                        method,
                        request: Buffer.from(def.requestSerialize(redacted(call.request, rec.request))).toString("base64"),
                        ...(err ? { error: err.details } : { response: Buffer.from(def.responseSerialize(redacted(res, rec.response))).toString("base64") }),
                    };
                    fs.appendFileSync(out, `${JSON.stringify(line)}\n`);
                }
                cb(err, res);
            });
        };
    }
    const server = new grpc.Server(GRPC_LIMITS);
    server.addService(provrpc.ResourceProviderService, handlers as grpc.UntypedServiceImplementation);
    const mine = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    process.stdout.write(`${mine}\n`);
    child.once("exit", (code) => process.exit(code ?? 0));
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`${(e as Error).stack ?? e}\n`);
        process.exit(1);
    });
}
