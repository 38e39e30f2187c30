/**
 * `npm run render -- --stack <name> --out <dir> [--include-secrets] [--config-file f] [--config k=v] [--secret k=v|k=@file]`
 * (`--help` says more).
 *
 * Evaluates the program without touching any host, like `helm template`: every provider is mocked,
 * but keys, certificates, random passwords and bcrypt hashes are real (stand-ins/offline/), and writes
 * what would land: the registry's files, each client host's scripts, every resource and the outputs.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { parseDocument, visit } from "yaml";
import { type ClientWants, desiredItems, parseProbe } from "../components/clients";
import { NAMESPACE, parseSettings } from "../settings";
import { secretValues } from "../components/secret";
import { OFFLINE_REALIZERS } from "../stand-ins/offline";
import { isWrappedSecret as isWrapped, unwrapSecrets as unwrap } from "../stand-ins/offline/rpcSecrets";
import { readStackConfig, type StackConfig, StackFileError } from "./stackFile";

const REDACTED = "<redacted>";

/** One registered resource as render saw it. */
interface Seen {
    type: string;
    name: string;
    provider: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
}

/** What render says for values only a real host could give. */
function offlineOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    const hex = crypto.createHash("sha256").update(`${type}/${name}`).digest("hex");
    switch (type) {
        case "docker:index/remoteImage:RemoteImage":
            return { imageId: `sha256:${hex}`, repoDigest: "" };
        case "docker:index/container:Container":
        case "docker:index/volume:Volume":
        case "docker:index/network:Network":
            // The engine names these `<logical name>-<7 hex>` when no name is given.
            return { name: inputs.name ?? `${name}-${hex.slice(0, 7)}` };
        case "command:remote:Command":
        case "command:local:Command":
            return { stdout: "", stderr: "" };
        default:
            return {};
    }
}

const USAGE = `usage: npm run render -- --stack <name> --out <dir> [options]

Evaluates the program for a stack with every provider mocked and writes what would land, without
touching any host: registry/ (config.yml, htpasswd, certs), clients/<client>/ (every change the
host would get, item by item, the daemon.json keys merged and the CA), resources.json and outputs.json. Files are written 0600 (scripts 0700),
folders 0700.

  --stack <name>          the stack: reads Pulumi.<name>.yaml (default dev)
  --out <dir>             a new or empty folder, or one an earlier render wrote (its files are replaced)
  --include-secrets       write secret values (the server key too) instead of <redacted>
  --config-file <file>    read this stack file instead of Pulumi.<name>.yaml
  --config <key>=<value>  set a plain value (YAML text); repeatable
  --secret <key>=<value>  set a secret value (taken literally, JSON objects and lists parsed),
  --secret <key>=@<file>  or read it from a file; repeatable. Use it for values the stack file
                          holds encrypted, which only the Pulumi CLI can decrypt.
  -h, --help              this text

A key may be a path, as \`pulumi config set --path\` takes it: --secret storage.secretKey=…
sets that field inside the stack file's storage object (and makes storage secret);
users[1].password and headers["X-Key"] work too.`;

/** A mistake in how render was called or in the stack file: one line, exit code 2. */
class UsageError extends Error {}

async function main(): Promise<void> {
    let values: ReturnType<typeof parseOptions>;
    try {
        values = parseOptions();
    } catch (e) {
        const m = /^Unknown option '([^']+)'/.exec((e as Error).message);
        throw new UsageError(m ? `unknown option ${m[1]} (npm run render -- --help)` : `${(e as Error).message.split(". ")[0]} (npm run render -- --help)`);
    }
    if (values.help) {
        console.log(USAGE);
        return;
    }
    if (!values.out) throw new UsageError("--out <dir> is required (npm run render -- --help)");
    const root = path.resolve(__dirname, "..");
    const stackFile = values["config-file"] ? path.resolve(values["config-file"]) : path.join(root, `Pulumi.${values.stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        if (values["config-file"]) throw new UsageError(`no stack file ${stackFile}`);
        const stacks = fs
            .readdirSync(root)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s) => s !== undefined);
        throw new UsageError(`no stack ${values.stack}: ${stackFile} does not exist (stacks here: ${stacks.join(", ")})`);
    }
    const pairs = (option: string, list: string[]) =>
        Object.fromEntries(
            list.map((kv) => {
                const i = kv.indexOf("=");
                if (i < 1) throw new UsageError(`--${option} expects key=value, got ${JSON.stringify(kv)}`);
                const v = kv.slice(i + 1);
                if (!v.startsWith("@")) return [kv.slice(0, i), v];
                try {
                    return [kv.slice(0, i), fs.readFileSync(v.slice(1), "utf8")];
                } catch (e) {
                    throw new UsageError(
                        `--${option} ${kv.slice(0, i)}: cannot read ${v.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
                    );
                }
            }),
        );
    let cfg: StackConfig;
    try {
        cfg = readStackConfig(stackFile, { namespace: NAMESPACE, set: pairs("config", values.config), setSecret: pairs("secret", values.secret) });
    } catch (e) {
        throw e instanceof StackFileError ? new UsageError(e.message) : e;
    }
    return render(cfg, values.stack, path.resolve(values.out), values["include-secrets"]);
}

function parseOptions() {
    return parseArgs({
        options: {
            stack: { type: "string", default: "dev" },
            out: { type: "string" },
            "include-secrets": { type: "boolean", default: false },
            "config-file": { type: "string" },
            config: { type: "string", multiple: true, default: [] },
            secret: { type: "string", multiple: true, default: [] },
            help: { type: "boolean", short: "h", default: false },
        },
    }).values;
}

/** Folders and files that an earlier render wrote into `out`. */
const RENDERED = ["registry", "clients", "resources.json", "outputs.json"];

/**
 * Makes `out` ready: a new or empty folder, or one an earlier render wrote, whose files go (a key
 * from an earlier --include-secrets run must not stay behind). Refuses anything else, as it is
 * about to be made private to the user (0700).
 */
function prepareOut(out: string): void {
    if (fs.existsSync(out)) {
        if (!fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out} is not a folder`);
        const entries = fs.readdirSync(out);
        if (entries.length > 0 && !entries.includes("resources.json")) {
            throw new UsageError(`--out ${out} holds other files: give a new or empty folder (or one an earlier render wrote)`);
        }
        for (const e of RENDERED) fs.rmSync(path.join(out, e), { recursive: true, force: true });
    }
    fs.mkdirSync(out, { recursive: true, mode: 0o700 });
    fs.chmodSync(out, 0o700);
}

/** Renders one stack's config into `out`. Exported for tests. */
export async function render(
    cfg: { values: Record<string, string>; secretKeys: string[] },
    stack: string,
    out: string,
    includeSecrets: boolean,
): Promise<void> {
    prepareOut(out);
    // The same settings the program will parse, for the list of secret values to redact.
    const short = (k: string) => k.slice(NAMESPACE.length + 1);
    const settings = parseSettings({
        values: Object.fromEntries(
            Object.entries(cfg.values)
                .filter(([k]) => k.startsWith(`${NAMESPACE}:`))
                .map(([k, v]) => [short(k), v]),
        ),
        secretKeys: new Set(cfg.secretKeys.map(short)),
    });
    const secrets = new Set<string>(secretValues(settings).filter((x) => x.length > 0));

    const seen: Seen[] = [];
    // Nothing runs here for the end-of-up check to reach (`verify` only gates that check).
    pulumi.runtime.setAllConfig({ ...cfg.values, [`${NAMESPACE}:verify`]: "false" }, cfg.secretKeys);
    await pulumi.runtime.setMocks(
        {
            async newResource(args) {
                const inputs = unwrap(args.inputs) as Record<string, any>;
                const realize = OFFLINE_REALIZERS[args.type];
                let id = `${args.name}-id`;
                let outputs: Record<string, unknown> = {};
                let secretOutputs: string[] = [];
                if (realize) {
                    const r = await realize(inputs);
                    ({ id, outputs, secretOutputs } = r);
                    for (const k of secretOutputs) {
                        const v = outputs[k];
                        if (typeof v === "string" && v !== "") secrets.add(v);
                    }
                } else {
                    outputs = offlineOutputs(args.type, args.name, inputs);
                }
                seen.push({ type: args.type, name: args.name, provider: args.provider ?? "", inputs: args.inputs, outputs });
                const state: Record<string, unknown> = { ...args.inputs };
                for (const [k, v] of Object.entries(outputs)) state[k] = secretOutputs.includes(k) ? pulumi.secret(v) : v;
                return { id: args.custom === false ? "" : id, state };
            },
            call: (args) => args.inputs,
        },
        "private-registry",
        stack,
        false,
    );
    // Installed after setMocks so that it wraps the monitor render uses.
    const tap: typeof import("../stand-ins/offline/monitorTap") = require("../stand-ins/offline/monitorTap");
    tap.installMonitorTap();
    const program: typeof import("../program") = require("../program");
    const outputs = program.main();
    const resolved: Record<string, { value: unknown; secret: boolean }> = {};
    for (const [k, o] of Object.entries(outputs) as [string, pulumi.Output<unknown>][]) {
        const value = await new Promise((resolve) => o.apply(resolve));
        resolved[k] = { value, secret: await pulumi.isSecret(o) };
    }
    for (let n = -1; n !== seen.length; ) {
        n = seen.length;
        await new Promise((r) => setTimeout(r, 100));
    }

    // By secretness, as the engine holds it: a property made from a secret (an htpasswd line
    // hashed from a supplied password) is secret without holding any known secret value. Inside
    // one, only what says where a value goes is shown.
    const WHERE = new Set(["file", "permissions", "host", "user", "port"]);
    const redactSecret = (v: unknown, key?: string): unknown => {
        if (isWrapped(v)) return redactSecret(v.value, key);
        if (Array.isArray(v)) return v.map((x) => redactSecret(x));
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactSecret(x, k)]));
        return typeof v === "string" && !(key && WHERE.has(key)) ? REDACTED : v;
    };
    const redact = (v: unknown): unknown => {
        if (includeSecrets) return unwrap(v);
        if (isWrapped(v)) return redactSecret(v.value);
        if (typeof v === "string") return [...secrets].some((s) => v.includes(s)) ? REDACTED : v;
        if (Array.isArray(v)) return v.map(redact);
        if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
        }
        return v;
    };
    // Every file private to the user (the scripts executable by them), whatever it holds: with
    // --include-secrets most of them hold one, and a reader should not have to know which.
    const write = (rel: string, content: string, mode = 0o600) => {
        const file = path.join(out, rel);
        let dir = out;
        for (const part of path
            .dirname(rel)
            .split(path.sep)
            .filter((p) => p !== ".")) {
            dir = path.join(dir, part);
            if (!fs.existsSync(dir)) fs.mkdirSync(dir, { mode: 0o700 });
            fs.chmodSync(dir, 0o700);
        }
        fs.writeFileSync(file, content, { mode });
        fs.chmodSync(file, mode);
    };

    // The registry's files, from what the installer container uploads.
    const container = seen.find((r) => r.type === "docker:index/container:Container" && r.name.endsWith("-files-installer"));
    const uploads = (container ? (unwrap(container.inputs.uploads) as { file: string; content: string }[]) : []) ?? [];
    const byFile = (suffix: string) => uploads.find((u) => u.file.endsWith(suffix));
    const configYml = byFile("/config.yml");
    if (configYml) {
        const doc = parseDocument(configYml.content);
        if (!includeSecrets) {
            visit(doc, {
                Scalar(_key, node) {
                    if (typeof node.value === "string" && [...secrets].some((s) => (node.value as string).includes(s))) node.value = REDACTED;
                },
            });
        }
        write("registry/config.yml", includeSecrets ? configYml.content : doc.toString({ lineWidth: 0 }));
    }
    // A bcrypt hash is a secret too: offline guessing needs nothing else.
    const htpasswd = byFile("/htpasswd");
    if (htpasswd) write("registry/htpasswd", includeSecrets ? htpasswd.content : htpasswd.content.replace(/:.*$/gm, `:${REDACTED}`));
    const cert = byFile("/registry.crt");
    if (cert) write("registry/certs/registry.crt", cert.content);
    const key = byFile("/registry.key");
    if (key && includeSecrets) write("registry/certs/registry.key", key.content);
    const ca = resolved.caCertPem?.value;
    if (typeof ca === "string" && ca !== "") write("registry/certs/ca.crt", ca);

    // Each client host: what it would get, item by item, for the runtimes the stack names (Docker
    // when it names none: the real list is what \`up\` finds on the host).
    for (const r of seen.filter((x) => x.type === "pulumi-nodejs:dynamic/private-registry:HostConfiguration")) {
        const m = /^.+?-client-(.+)-config$/.exec(r.name);
        if (!m) continue;
        const client = m[1];
        const inputs = unwrap(r.inputs) as { connection: Record<string, unknown>; wants: ClientWants; owner: string };
        const wants = inputs.wants;
        const user = String(inputs.connection.user ?? "root");
        const home = user === "root" || inputs.connection.sudo ? "/root" : `/home/${user}`;
        const runtimes = wants.runtimes ?? ["docker"];
        const items = desiredItems(wants, runtimes, { ...parseProbe(""), home }).map((i) =>
            i.kind === "file"
                ? { ...i, content: i.path.endsWith("ca.crt") ? "(ca.crt)" : i.content }
                : i.kind === "key" && i.secret && !includeSecrets
                  ? { ...i, value: REDACTED }
                  : i,
        );
        write(`clients/${client}/connection.json`, `${JSON.stringify(redact({ ...inputs.connection }), null, 2)}\n`);
        write(
            `clients/${client}/changes.json`,
            `${JSON.stringify(redact({ owner: inputs.owner, runtimes, detected: wants.runtimes === undefined, items }), null, 2)}\n`,
        );
        if (wants.caCertPem) write(`clients/${client}/ca.crt`, wants.caCertPem);
        const daemon = { ...wants.daemonJson, ...(wants.insecureRegistries.length > 0 ? { "insecure-registries": wants.insecureRegistries } : {}) };
        if (Object.keys(daemon).length > 0) write(`clients/${client}/daemon.json`, `${JSON.stringify(daemon, null, 2)}\n`);
    }

    const regs = tap.tappedRegistrations();
    const resources = seen.map((r) => {
        const reg = regs.find((x) => x.type === r.type && x.name === r.name);
        return {
            type: r.type,
            name: r.name,
            urn: reg?.urn,
            parent: reg?.parent || undefined,
            provider: r.provider || undefined,
            dependsOn: reg?.dependencies.length ? reg.dependencies : undefined,
            options: reg
                ? Object.fromEntries(
                      Object.entries({ deleteBeforeReplace: reg.deleteBeforeReplace, retainOnDelete: reg.retainOnDelete, protect: reg.protect }).filter(
                          ([, v]) => v,
                      ),
                  )
                : undefined,
            inputs: redact(r.inputs),
        };
    });
    write("resources.json", `${JSON.stringify(resources, null, 2)}\n`);
    const outJson = Object.fromEntries(Object.entries(resolved).map(([k, { value, secret }]) => [k, secret && !includeSecrets ? "[secret]" : value]));
    write("outputs.json", `${JSON.stringify(outJson, null, 2)}\n`);
    console.log(`rendered stack ${stack} into ${out}: ${seen.length} resources${includeSecrets ? " (secrets included)" : ""}`);
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(`render: ${e.message}`);
        process.exit(e instanceof UsageError ? 2 : 1);
    });
}
