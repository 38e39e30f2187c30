/**
 * A Pulumi resource-provider plugin server (the gRPC `ResourceProvider` service) for the providers
 * the real engine loads in the tests, when their real plugins cannot be built here (docs/engine.md).
 * The engine drives it exactly as it drives a real plugin: CheckConfig/Configure, Check, Diff
 * against the state it stored, Create/Read/Update/Delete, Invoke. What each resource does lives in
 * the provider modules beside this file; this file is only the wire.
 *
 * Secrets arrive wrapped (`acceptSecrets`) and are unwrapped for the provider; outputs named by the
 * provider as secret, and outputs whose input was secret, go back wrapped. Unknown values (preview)
 * reach Check and Diff as the engine's sentinel string, which compares as a change.
 */
import * as grpc from "@grpc/grpc-js";
import { isDeepStrictEqual } from "node:util";

// The SDK's generated protobuf modules (pinned @pulumi/pulumi); they have no typings we can import.
/* eslint-disable @typescript-eslint/no-require-imports */
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const plugproto = require("@pulumi/pulumi/proto/plugin_pb");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb");
const anyproto = require("google-protobuf/google/protobuf/any_pb");
const statusproto = require("@pulumi/pulumi/proto/status_pb");
const structproto = require("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

export type Props = Record<string, any>;

/**
 * A create that failed after the object was made (the docker provider's failed health wait): the
 * engine records the ID and these outputs as a partial create, with `reasons` as its init errors.
 */
export class PartialCreate extends Error {
    constructor(
        readonly id: string,
        readonly outs: Props,
        message: string,
    ) {
        super(message);
    }
}

/** The gRPC error the engine reads a partial create from: ErrorResourceInitFailed in the status details. */
function initFailed(e: PartialCreate, inputs: Props, secrets: string[]): grpc.ServiceError {
    const detail = new provproto.ErrorResourceInitFailed();
    detail.setId(e.id);
    detail.setProperties(encode({ ...inputs, ...e.outs }, secrets));
    detail.setInputs(encode(inputs, secrets));
    detail.setReasonsList([e.message]);
    const any = new anyproto.Any();
    any.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
    const status = new statusproto.Status();
    status.setCode(grpc.status.UNKNOWN);
    status.setMessage(e.message);
    status.setDetailsList([any]);
    const metadata = new grpc.Metadata();
    metadata.set("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
    return Object.assign(new Error(e.message), { code: grpc.status.UNKNOWN, details: e.message, metadata }) as grpc.ServiceError;
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";

/**
 * A value as the provider sees it: secrets unwrapped (`onSecret` hears of each), assets and
 * archives as plain descriptors (`{__asset|__archive, text|path|uri|assets, hash}`).
 */
function decodeValue(v: unknown, onSecret: () => void): any {
    if (Array.isArray(v)) return v.map((x) => decodeValue(x, onSecret));
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SIG] === SECRET_SIG) {
            onSecret();
            return decodeValue(o.value, onSecret);
        }
        if (o[SIG] === ASSET_SIG) {
            if (typeof o.text === "string") return { __asset: "StringAsset", text: o.text };
            if (typeof o.path === "string") return { __asset: "FileAsset", path: o.path, hash: o.hash };
            return { __asset: "RemoteAsset", uri: o.uri, hash: o.hash };
        }
        if (o[SIG] === ARCHIVE_SIG) {
            if (typeof o.path === "string") return { __archive: "FileArchive", path: o.path, hash: o.hash };
            if (o.assets) return { __archive: "AssetArchive", assets: decodeValue(o.assets, onSecret), hash: o.hash };
            return { __archive: "RemoteArchive", uri: o.uri, hash: o.hash };
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeValue(x, onSecret)]));
    }
    return v;
}

/** A Struct's top-level properties, plain, with the names of those that held a secret. */
export function decode(s: any): { props: Props; secrets: Set<string> } {
    const raw = s ? (s.toJavaScript() as Props) : {};
    const secrets = new Set<string>();
    const props: Props = {};
    // A secret anywhere inside a property makes the whole property secret on the way back, as the
    // engine's own secret tracking is per top-level property for providers.
    for (const [k, v] of Object.entries(raw)) props[k] = decodeValue(v, () => secrets.add(k));
    return { props, secrets };
}

function encodeValue(v: unknown): unknown {
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v.map((x) => encodeValue(x) ?? null);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (typeof o.__asset === "string") {
            const { __asset, ...rest } = o;
            return { [SIG]: ASSET_SIG, ...rest };
        }
        if (typeof o.__archive === "string") {
            const { __archive, ...rest } = o;
            return { [SIG]: ARCHIVE_SIG, ...(rest.assets ? { ...rest, assets: encodeValue(rest.assets) } : rest) };
        }
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(o)) {
            const e = encodeValue(x);
            if (e !== undefined) out[k] = e;
        }
        return out;
    }
    return v;
}

/** Properties to a Struct, wrapping the named ones as secrets. */
export function encode(props: Props, secrets: Iterable<string> = []): any {
    const secret = new Set(secrets);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) {
        const e = encodeValue(v);
        if (e === undefined) continue;
        out[k] = secret.has(k) ? { [SIG]: SECRET_SIG, value: e } : e;
    }
    return structproto.Struct.fromJavaScript(out);
}

/** The context a resource operation gets: the provider's configuration and a log to stderr. */
export interface Context {
    config: Props;
    /** The resource's logical name (the URN's last part). */
    name: string;
    log: (msg: string) => void;
    /** The operation's custom timeout in seconds (0: none given). */
    timeoutSeconds: number;
}

/** What a provider does for one resource type. Every hook receives plain values (no wrappers). */
export interface ResourceType {
    /** Inputs that change in place; a change to any other input replaces (ForceNew). */
    inPlace?: ReadonlySet<string>;
    /** Inputs whose change replaces; everything else updates in place (commands). Wins over `inPlace`. */
    replaceOn?: ReadonlySet<string>;
    /**
     * Inputs the provider's Read overwrites from the live object and that are not Computed in its
     * schema: their diff is against the stored state, so a value the host adds shows as a change.
     */
    readBack?: ReadonlySet<string>;
    /** Replacements delete the old resource first. */
    deleteBeforeReplace?: boolean;
    /** Keys the provider's plan replaces whatever the inputs say (the tls provider's renewal window). */
    forceReplace?(olds: Props, news: Props): string[];
    /** Keys the provider's plan changes in place whatever the inputs say (computed keys filled in). */
    forceChange?(olds: Props, news: Props): string[];
    /** Outputs the provider's schema marks secret. */
    secretOutputs?: readonly string[];
    /** `secrets`: outputs that are secret for this resource only, beyond `secretOutputs`. */
    create(inputs: Props, ctx: Context): Promise<{ id: string; outs: Props; secrets?: string[] }>;
    /** Refresh: the current outputs, or undefined when the resource is gone. Default: unchanged. */
    read?(id: string, state: Props, ctx: Context): Promise<{ id: string; outs: Props } | undefined>;
    update?(id: string, olds: Props, news: Props, changed: string[], ctx: Context): Promise<Props>;
    delete?(id: string, state: Props, ctx: Context): Promise<void>;
}

/** One provider plugin: its name, version, resource types by token, and invokes. */
export interface ProviderDef {
    name: string;
    version: string;
    types: Record<string, ResourceType>;
    invokes?: Record<string, (args: Props, ctx: Context) => Promise<Props>>;
}

const isEmpty = (v: unknown) =>
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/**
 * A value as Terraform compares it: the bridge's `__defaults` bookkeeping (Check adds it to
 * inputs) dropped, and empty lists, maps and nulls the same as absent at any depth; with
 * `zeroIsUnset`, also 0, "" and false (an Optional attribute that Read filled in).
 */
export function terraformValue(v: unknown, zeroIsUnset = false): unknown {
    if (Array.isArray(v)) {
        const items = v.map((x) => terraformValue(x, zeroIsUnset));
        return items.length === 0 ? undefined : items;
    }
    if (v && typeof v === "object") {
        const entries = Object.entries(v)
            .filter(([k]) => k !== "__defaults")
            .map(([k, x]) => [k, terraformValue(x, zeroIsUnset)] as const)
            .filter(([, x]) => x !== undefined);
        return entries.length === 0 ? undefined : Object.fromEntries(entries);
    }
    if (v === null || (zeroIsUnset && (v === 0 || v === "" || v === false))) return undefined;
    return v;
}

/**
 * Keys whose value changed: the new checked inputs against the stored checked inputs, except the
 * `readBack` keys, which are compared against the stored state (what the provider read back from
 * the live object). Compared as Terraform compares them ({@link terraformValue}).
 */
export function changedKeys(t: ResourceType, olds: Props, oldInputs: Props, news: Props): string[] {
    const keys = new Set([...Object.keys(news), ...Object.keys(oldInputs), ...(t.readBack ?? [])]);
    const changed: string[] = [];
    for (const k of keys) {
        if (k === "__defaults") continue;
        const readBack = t.readBack?.has(k) === true;
        const n = terraformValue(news[k], readBack);
        const o = terraformValue(readBack ? olds[k] : oldInputs[k], readBack);
        if (isEmpty(n) && isEmpty(o)) continue;
        if (!isDeepStrictEqual(n, o)) changed.push(k);
    }
    return changed;
}

/** Whether the changed keys replace the resource. */
export function replaces(t: ResourceType, changed: string[]): string[] {
    if (t.replaceOn) return changed.filter((k) => t.replaceOn!.has(k));
    return changed.filter((k) => !t.inPlace?.has(k));
}

function typeOf(urn: string): string {
    const parts = urn.split("::");
    const qualified = parts[2] ?? "";
    return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** Starts the plugin: binds on loopback and prints the port, as the engine expects. */
export async function serve(def: ProviderDef): Promise<void> {
    const log = (m: string) => process.stderr.write(`[${def.name}] ${m}\n`);
    let config: Props = {};
    const ctx = (urn = "", timeout = 0): Context => ({ config, log, name: urn.slice(urn.lastIndexOf("::") + 2), timeoutSeconds: timeout });
    const typeFor = (urn: string) => {
        const t = def.types[typeOf(urn)];
        if (!t) throw new Error(`${def.name}: unknown resource type ${typeOf(urn)}`);
        return t;
    };
    const secretsOf = (t: ResourceType, inputSecrets: Set<string>) => [...(t.secretOutputs ?? []), ...inputSecrets];

    // Each handler: a promise-returning function; errors become gRPC UNKNOWN with the message,
    // which the engine shows as the provider's error.
    const unary = (f: (req: any) => Promise<any>) => (call: any, cb: any) => {
        f(call.request).then(
            (res) => cb(null, res),
            (e: Error) => {
                log(`error: ${e?.stack ?? e}`);
                // A ServiceError carries its own status details (a partial create).
                cb("metadata" in (e ?? {}) ? e : { code: grpc.status.UNKNOWN, details: e?.message ?? String(e) });
            },
        );
    };

    const impl = {
        getPluginInfo: unary(async () => {
            const r = new plugproto.PluginInfo();
            r.setVersion(def.version);
            return r;
        }),
        getSchema: unary(async () => {
            const r = new provproto.GetSchemaResponse();
            r.setSchema("{}");
            return r;
        }),
        checkConfig: unary(async (req) => {
            const r = new provproto.CheckResponse();
            r.setInputs(req.getNews());
            return r;
        }),
        diffConfig: unary(async (req) => {
            const olds = decode(req.hasOldInputs() ? req.getOldInputs() : req.getOlds()).props;
            const news = decode(req.getNews()).props;
            const r = new provproto.DiffResponse();
            const changed = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => k !== "version" && !isDeepStrictEqual(olds[k], news[k]));
            r.setChanges(changed.length ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
            r.setDiffsList(changed);
            return r;
        }),
        configure: unary(async (req) => {
            if (req.hasArgs()) config = decode(req.getArgs()).props;
            else {
                config = {};
                req.getVariablesMap().forEach((v: string, k: string) => {
                    config[k.slice(k.lastIndexOf(":") + 1)] = v;
                });
            }
            const r = new provproto.ConfigureResponse();
            r.setAcceptsecrets(true);
            r.setAcceptresources(false);
            r.setSupportspreview(false);
            return r;
        }),
        check: unary(async (req) => {
            typeFor(req.getUrn()); // an unknown type fails here, before anything is planned
            const { props: news, secrets } = decode(req.getNews());
            const r = new provproto.CheckResponse();
            r.setInputs(encode(news, secrets));
            return r;
        }),
        diff: unary(async (req) => {
            const t = typeFor(req.getUrn());
            const olds = decode(req.getOlds()).props;
            const oldInputs = req.hasOldInputs() ? decode(req.getOldInputs()).props : olds;
            const news = decode(req.getNews()).props;
            const forced = t.forceReplace?.(olds, news) ?? [];
            const changed = [...new Set([...changedKeys(t, olds, oldInputs, news), ...forced, ...(t.forceChange?.(olds, news) ?? [])])];
            const repl = [...new Set([...replaces(t, changed), ...forced])];
            const r = new provproto.DiffResponse();
            r.setChanges(changed.length ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
            r.setDiffsList(changed);
            r.setReplacesList(repl);
            r.setDeletebeforereplace(repl.length > 0 && t.deleteBeforeReplace === true);
            return r;
        }),
        create: unary(async (req) => {
            const t = typeFor(req.getUrn());
            const { props: inputs, secrets } = decode(req.getProperties());
            const c = ctx(req.getUrn(), req.getTimeout());
            const {
                id,
                outs,
                secrets: extra = [],
            } = await t.create(inputs, c).catch((e: Error) => {
                throw e instanceof PartialCreate ? initFailed(e, inputs, secretsOf(t, secrets)) : e;
            });
            const r = new provproto.CreateResponse();
            r.setId(id);
            r.setProperties(encode({ ...inputs, ...outs }, [...secretsOf(t, secrets), ...extra]));
            return r;
        }),
        read: unary(async (req) => {
            const t = typeFor(req.getUrn());
            const { props: state, secrets } = decode(req.getProperties());
            const r = new provproto.ReadResponse();
            const got = t.read ? await t.read(req.getId(), state, ctx(req.getUrn())) : { id: req.getId(), outs: state };
            if (!got) return r; // gone: an empty ID tells the engine to drop it from the state
            r.setId(got.id);
            r.setProperties(encode({ ...state, ...got.outs }, secretsOf(t, secrets)));
            if (req.hasInputs()) r.setInputs(req.getInputs());
            return r;
        }),
        update: unary(async (req) => {
            const t = typeFor(req.getUrn());
            const { props: olds, secrets: oldSecrets } = decode(req.getOlds());
            const oldInputs = req.hasOldInputs() ? decode(req.getOldInputs()).props : olds;
            const { props: news, secrets } = decode(req.getNews());
            for (const k of oldSecrets) if (!(k in news)) secrets.add(k);
            const changed = changedKeys(t, olds, oldInputs, news);
            const outs = t.update ? await t.update(req.getId(), olds, news, changed, ctx(req.getUrn(), req.getTimeout())) : {};
            const r = new provproto.UpdateResponse();
            r.setProperties(encode({ ...olds, ...news, ...outs }, secretsOf(t, secrets)));
            return r;
        }),
        delete: unary(async (req) => {
            const t = typeFor(req.getUrn());
            const state = decode(req.getProperties()).props;
            if (t.delete) await t.delete(req.getId(), state, ctx(req.getUrn(), req.getTimeout()));
            return new emptyproto.Empty();
        }),
        invoke: unary(async (req) => {
            const f = def.invokes?.[req.getTok()];
            if (!f) throw new Error(`${def.name}: unknown function ${req.getTok()}`);
            const { props: args, secrets } = decode(req.getArgs());
            const r = new provproto.InvokeResponse();
            r.setReturn(encode(await f(args, ctx()), secrets));
            return r;
        }),
        cancel: unary(async () => new emptyproto.Empty()),
    };

    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    // Methods not listed answer UNIMPLEMENTED, which the engine treats as "not supported".
    const handlers: Record<string, unknown> = {};
    for (const name of Object.keys(provrpc.ResourceProviderService)) {
        handlers[name] =
            (impl as Record<string, unknown>)[name] ??
            ((_: unknown, cb: any) => cb({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` }));
    }
    server.addService(provrpc.ResourceProviderService, handlers as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    process.stdout.write(`${port}\n`);
}
