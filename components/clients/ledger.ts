/**
 * The ledger a client host keeps of every change registries make to it, item by item: a whole file
 * we own (a `ca.crt`, a `hosts.toml`), a key inside a JSON or YAML file, or a member of a list
 * inside one. Each item records what was there before any of us and, as a stack of layers, what
 * each owner (one client of one registry) wants there; the live value is the top layer's. Removing
 * an owner puts back the value below it, or the original once no owner is left, and only when the
 * live value is still ours: a value someone changed since is left as they set it, and reported.
 *
 * Pure: snapshots and the ledger in, the new ledger and the file writes out. The host side
 * (`shell.ts`) reads and writes; nothing here touches a host.
 */
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { parseDocument, stringify as stringifyYaml } from "yaml";

/** A path as it was before us (or after us): absent, a regular file, a symlink, or a folder. */
export type PathState =
    | { kind: "absent" }
    | { kind: "file"; b64: string; mode: string; uid: number; gid: number }
    | { kind: "link"; target: string }
    | { kind: "dir"; mode: string; uid: number; gid: number };

/** A structured file's format. */
export type Format = "json" | "yaml" | "toml";

/** What one owner wants on a host. */
export type DesiredItem =
    /** A whole file, ours while any owner wants it. */
    | { kind: "file"; path: string; content: string; mode: string }
    /** A value at a key path inside a JSON/YAML object file; `secret` when it holds a credential. */
    | { kind: "key"; file: string; format: Format; path: string[]; value: unknown; secret?: boolean }
    /** A value present in the list at a key path. */
    | { kind: "member"; file: string; format: Format; path: string[]; value: unknown };

/** An item as the ledger names it: a member keeps its value (it is the item), a key and a file do not. */
export type ItemRef =
    | { kind: "file"; path: string }
    | { kind: "key"; file: string; format: Format; path: string[] }
    | { kind: "member"; file: string; format: Format; path: string[]; value: unknown };

/** One owner's layer on an item. `value` is the file's text (base64) for a file item. */
export interface Layer {
    owner: string;
    value: unknown;
}

/** What the ledger keeps for one item. */
export interface Entry {
    item: ItemRef;
    /** For a file: its PathState; for a key: `{ absent: true }` or `{ value }`; for a member: `{ present }`. */
    before: unknown;
    /** Bottom first; the last is in force. File layers also carry the mode. */
    layers: (Layer & { mode?: string })[];
}

/** The ledger file: `/var/lib/private-registry/ledger.json` on the host. */
export interface Ledger {
    version: 1;
    entries: Record<string, Entry>;
    /** Structured files we edit, as they were before the first of us: restored byte for byte when our last key leaves and nothing else changed. */
    files: Record<string, PathState>;
    /** Folders we created, with the owners that need them. */
    dirs: Record<string, string[]>;
}

/** An empty ledger. */
export function emptyLedger(): Ledger {
    return { version: 1, entries: {}, files: {}, dirs: {} };
}

/** A write the host side performs: put `state` at `path` (through temporary file and rename). */
export interface Write {
    path: string;
    state: PathState;
}

/** The result of planning one owner's changes. */
export interface Plan {
    ledger: Ledger;
    /** Files to write, in order; folders to create come first, folders to remove last. */
    writes: Write[];
    mkdirs: string[];
    rmdirs: string[];
    /** Human-readable lines: what changed, and what was left because someone changed it. */
    report: string[];
    /** Structured files whose parsed content changed: path → [before, after] objects. */
    changedDocs: Record<string, { before: unknown; after: unknown }>;
}

/**
 * A host's file that cannot be taken over safely (not parseable, not an object): an Error named
 * "LedgerError". Plain Errors, not subclasses: the engine runs a serialized copy of this code, and
 * a serialized Error subclass loses its message.
 */
export function ledgerError(message: string): Error {
    return Object.assign(new Error(message), { name: "LedgerError" });
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
const canonical = (v: unknown): string =>
    JSON.stringify(v, (_k, x) =>
        x && typeof x === "object" && !Array.isArray(x)
            ? Object.fromEntries(
                  Object.keys(x as object)
                      .sort()
                      .map((k) => [k, (x as Record<string, unknown>)[k]]),
              )
            : x,
    );
/** Deep equality of JSON values (object key order ignored). */
export const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The ledger key of an item. */
export function itemId(i: DesiredItem | ItemRef): string {
    if (i.kind === "file") return `file:${i.path}`;
    const k = `${i.file}#${JSON.stringify(i.path)}`;
    return i.kind === "key" ? `key:${k}` : `member:${k}=${canonical((i as { value: unknown }).value)}`;
}

/** The folders between `root` (exclusive) and `path`'s parent (inclusive), outermost first. */
export function parentsBelow(path: string, root: string): string[] {
    const out: string[] = [];
    let p = path.slice(0, path.lastIndexOf("/"));
    while (p.length > root.length && p.startsWith(`${root}/`)) {
        out.unshift(p);
        p = p.slice(0, p.lastIndexOf("/"));
    }
    return out;
}

/** A structured file's text parsed to an object ({} when absent or blank). */
export function parseDoc(path: string, format: Format, text: string | undefined): Record<string, unknown> {
    if (text === undefined || text.trim() === "") return {};
    let v: unknown;
    try {
        v = format === "json" ? JSON.parse(text) : format === "toml" ? parseToml(text) : parseYaml(text);
    } catch (e) {
        throw ledgerError(`${path} is not valid ${format.toUpperCase()} (${(e as Error).message.split("\n")[0]}); fix or remove it, then run up again`);
    }
    if (v === null || v === undefined) return {};
    if (typeof v !== "object" || Array.isArray(v)) throw ledgerError(`${path} is not a ${format.toUpperCase()} object; fix or remove it, then run up again`);
    return v as Record<string, unknown>;
}

/**
 * One YAML document, strictly: the yaml library collects syntax errors instead of throwing and
 * reads only the first of several documents, so either would be "repaired" by our rewrite.
 */
function parseYaml(text: string): unknown {
    const doc = parseDocument(text, { uniqueKeys: true });
    const [error] = doc.errors;
    if (error?.code === "MULTIPLE_DOCS") throw new Error("it holds several YAML documents; the runtime reads one");
    if (error) throw error;
    return doc.toJS();
}

/** Serializes an object the way the file was written: its indentation and final newline kept. */
export function formatDoc(format: Format, doc: Record<string, unknown>, previous: string | undefined): string {
    if (format === "yaml") return stringifyYaml(doc);
    // A TOML file is rewritten whole (comments go); it comes back byte for byte once our keys leave.
    if (format === "toml") return `${stringifyToml(doc)}\n`;
    const indent = previous?.match(/\n([ \t]+)"/)?.[1] ?? "  ";
    const text = JSON.stringify(doc, null, indent.startsWith("\t") ? "\t" : indent.length);
    return previous === undefined || previous === "" || previous.endsWith("\n") ? `${text}\n` : text;
}

/** "No value here": an object, not a Symbol, so it survives the provider's serialization as one value. */
const ABSENT: unknown = { absentMarker: "private-registry" };
function getAt(doc: Record<string, unknown>, path: string[]): unknown {
    let cur: unknown = doc;
    for (const k of path) {
        if (cur === null || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur as object, k)) return ABSENT;
        cur = (cur as Record<string, unknown>)[k];
    }
    return cur;
}
/**
 * Sets (or, with ABSENT, removes) the value at `path`. Objects created on the way are created;
 * on removal, objects left empty are dropped unless `original` (the file before any of us) had them.
 */
function setAt(doc: Record<string, unknown>, file: string, path: string[], value: unknown, original: Record<string, unknown>): void {
    let cur = doc;
    for (const k of path.slice(0, -1)) {
        if (!Object.hasOwn(cur, k)) {
            if (value === ABSENT) return;
            Object.defineProperty(cur, k, { value: {}, enumerable: true, writable: true, configurable: true });
        }
        const next = cur[k];
        if (next === null || typeof next !== "object" || Array.isArray(next)) throw ledgerError(`${file}: "${path.join(".")}" needs "${k}" to be an object`);
        cur = next as Record<string, unknown>;
    }
    const last = path[path.length - 1];
    if (value === ABSENT) delete cur[last];
    // defineProperty, not assignment: a key named __proto__ must become a key.
    else Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true });
    for (let i = path.length - 1; i > 0 && value === ABSENT; i--) {
        const at = path.slice(0, i);
        const child = getAt(doc, at);
        if (!child || typeof child !== "object" || Array.isArray(child) || Object.keys(child).length > 0 || getAt(original, at) !== ABSENT) break;
        delete (getAt(doc, at.slice(0, -1)) as Record<string, unknown>)[at[at.length - 1]];
    }
}

/** What the host side reports for the paths a plan needs. */
export interface Snapshot {
    /** Each path's state; structured files are read through symlinks (the target is edited). */
    paths: Record<string, PathState>;
}

/** A file's text from its state (undefined unless it is a regular file). */
export const fileText = (s: PathState | undefined) => (s?.kind === "file" ? unb64(s.b64) : undefined);

/**
 * Plans `owner`'s changes: `desired` is everything the owner wants now (empty to remove it all).
 * Items the owner had and no longer wants are removed; new ones are added over what is live.
 */
export function plan(owner: string, desired: DesiredItem[], snap: Snapshot, previous: Ledger, dirRoots: string[]): Plan {
    const ledger: Ledger = structuredClone(previous);
    const report: string[] = [];
    const wantIds = new Map(desired.map((d) => [itemId(d), d]));
    const state = (p: string): PathState => snap.paths[p] ?? { kind: "absent" };

    // Structured documents: loaded once, edited, compared at the end.
    const docs = new Map<
        string,
        { format: Format; before: Record<string, unknown>; doc: Record<string, unknown>; text?: string; original: Record<string, unknown> }
    >();
    const docOf = (file: string, format: Format) => {
        let d = docs.get(file);
        if (!d) {
            const text = fileText(state(file));
            const before = parseDoc(file, format, text);
            // The file before the first of us: what decides whether a list or object we emptied goes.
            const first = previous.files[file];
            let original = before;
            if (first) {
                try {
                    original = parseDoc(file, format, fileText(first));
                } catch {
                    original = {};
                }
            }
            d = { format, before, doc: structuredClone(before), text, original };
            docs.set(file, d);
        }
        return d;
    };
    const fileWrites = new Map<string, PathState>();

    const liveOf = (e: Entry): unknown => {
        const i = e.item;
        if (i.kind === "file") return fileWrites.get(i.path) ?? state(i.path);
        const d = docOf(i.file, i.format);
        if (i.kind === "key") {
            const v = getAt(d.doc, i.path);
            return v === ABSENT ? { absent: true } : { value: v };
        }
        const list = getAt(d.doc, i.path);
        return { present: Array.isArray(list) && list.some((x) => same(x, i.value)) };
    };
    const layerView = (e: Entry, value: unknown): unknown => (e.item.kind === "file" ? value : e.item.kind === "key" ? { value } : { present: true });
    /** Comparable form: a file's bytes, a key's value or absence, a member's presence. */
    const view = (e: Entry, x: unknown): string => {
        if (e.item.kind === "file") return typeof x === "string" ? x : (x as PathState).kind === "file" ? (x as { b64: string }).b64 : canonical(x);
        if (e.item.kind === "member") return String((x as { present: boolean }).present);
        return canonical(x);
    };
    const put = (e: Entry, target: unknown, mode?: string) => {
        const i = e.item;
        if (i.kind === "file") {
            const s = target as PathState | string;
            fileWrites.set(i.path, typeof s === "string" ? { kind: "file", b64: s, mode: mode ?? "0644", uid: 0, gid: 0 } : s);
            return;
        }
        const d = docOf(i.file, i.format);
        if (i.kind === "key") {
            const t = target as { absent?: true; value?: unknown };
            setAt(d.doc, i.file, i.path, t.absent ? ABSENT : t.value, d.original);
            return;
        }
        const value = i.value;
        const list = getAt(d.doc, i.path);
        const items = Array.isArray(list) ? [...list] : [];
        if ((target as { present: boolean }).present) {
            if (list !== ABSENT && !Array.isArray(list)) throw ledgerError(`${i.file}: "${i.path.join(".")}" is not a list`);
            if (!items.some((x) => same(x, value))) setAt(d.doc, i.file, i.path, [...items, value], d.original);
        } else if (Array.isArray(list)) {
            const rest = items.filter((x) => !same(x, value));
            setAt(d.doc, i.file, i.path, rest.length === 0 && getAt(d.original, i.path) === ABSENT ? ABSENT : rest, d.original);
        }
    };
    const describe = (i: ItemRef) => (i.kind === "file" ? i.path : `${i.file} ${i.kind === "key" ? "key" : "list"} ${i.path.join(".")}`);

    // Removals first: the owner's layers on items it no longer wants.
    for (const [id, e] of Object.entries(ledger.entries)) {
        const at = e.layers.findIndex((l) => l.owner === owner);
        if (at < 0 || wantIds.has(id)) continue;
        const top = at === e.layers.length - 1;
        const below = at > 0 ? layerView(e, e.layers[at - 1].value) : e.before;
        const ours = layerView(e, e.layers[at].value);
        e.layers.splice(at, 1);
        if (top) {
            const live = liveOf(e);
            if (view(e, live) === view(e, ours)) {
                put(e, below, e.layers[at - 1]?.mode);
                report.push(`restored ${describe(e.item)}`);
            } else if (view(e, live) !== view(e, below)) {
                report.push(`left ${describe(e.item)} as it is: changed on the host since we set it`);
            }
        }
        if (e.layers.length === 0) delete ledger.entries[id];
    }

    // Then what the owner wants, over whatever is live.
    for (const [id, d] of wantIds) {
        let e = ledger.entries[id];
        if (!e) {
            const item: ItemRef =
                d.kind === "file"
                    ? { kind: "file", path: d.path }
                    : d.kind === "key"
                      ? { kind: "key", file: d.file, format: d.format, path: d.path }
                      : { ...d };
            e = { item, before: undefined, layers: [] };
            e.before = liveOf(e);
            ledger.entries[id] = e;
        }
        const value = d.kind === "file" ? b64(d.content) : d.kind === "key" ? d.value : true;
        const mode = d.kind === "file" ? d.mode : undefined;
        const at = e.layers.findIndex((l) => l.owner === owner);
        if (at >= 0) e.layers.splice(at, 1);
        e.layers.push({ owner, value, ...(mode ? { mode } : {}) });
        const want = layerView(e, value);
        const live = liveOf(e);
        if (view(e, live) !== view(e, want) || (d.kind === "file" && (live as PathState).kind === "file" && (live as { mode: string }).mode !== mode)) {
            put(e, want, mode);
            report.push(`${d.kind === "file" ? "wrote" : "set"} ${describe(e.item)}`);
        }
    }

    // Folders for our files: created ones are recorded per owner, removed when no owner needs them.
    const mkdirs: string[] = [];
    const rmdirs: string[] = [];
    const needed = new Set<string>();
    for (const d of desired) {
        const path = d.kind === "file" ? d.path : d.file;
        const root = dirRoots.find((r) => path.startsWith(`${r}/`));
        for (const dir of root ? parentsBelow(path, root) : []) needed.add(dir);
    }
    for (const dir of [...needed].sort()) {
        const owners = ledger.dirs[dir];
        if (owners) {
            if (!owners.includes(owner)) owners.push(owner);
            if (state(dir).kind === "absent") mkdirs.push(dir);
        } else if (state(dir).kind === "absent") {
            ledger.dirs[dir] = [owner];
            mkdirs.push(dir);
        }
    }
    for (const [dir, owners] of Object.entries(ledger.dirs)) {
        if (!owners.includes(owner) || needed.has(dir)) continue;
        ledger.dirs[dir] = owners.filter((o) => o !== owner);
        if (ledger.dirs[dir].length === 0) {
            delete ledger.dirs[dir];
            rmdirs.push(dir);
        }
    }
    rmdirs.sort().reverse();

    // Structured files: written when their object changed; byte for byte as before us when the
    // last of our keys left and the object is what it was.
    const writes: Write[] = [];
    const changedDocs: Plan["changedDocs"] = {};
    // A file that will hold one of our credentials is readable by its owner alone: created 0600,
    // or an existing one's group and other bits taken away (its mode comes back with the file).
    const secretFiles = new Set(desired.flatMap((d) => (d.kind === "key" && d.secret ? [d.file] : [])));
    const modeFor = (file: string, live: PathState) => {
        const m = live.kind === "file" ? live.mode : "0644";
        return secretFiles.has(file) ? (Number.parseInt(m, 8) & 0o7700).toString(8).padStart(4, "0") : m;
    };
    const stillOurs = new Set(Object.values(ledger.entries).flatMap((e) => (e.item.kind === "file" ? [] : [e.item.file])));
    for (const [file, d] of docs) {
        const live = state(file);
        if (!ledger.files[file] && stillOurs.has(file)) ledger.files[file] = live;
        if (same(d.doc, d.before)) continue;
        changedDocs[file] = { before: d.before, after: d.doc };
        const original = ledger.files[file] ?? previous.files[file];
        let next: PathState;
        if (!stillOurs.has(file) && original && same(d.doc, parseDoc(file, d.format, fileText(original) ?? ""))) next = original;
        else {
            const text = formatDoc(d.format, d.doc, d.text);
            next = {
                kind: "file",
                b64: b64(text),
                mode: modeFor(file, live),
                uid: live.kind === "file" ? live.uid : 0,
                gid: live.kind === "file" ? live.gid : 0,
            };
        }
        writes.push({ path: file, state: next });
        if (!stillOurs.has(file)) delete ledger.files[file];
    }
    for (const file of Object.keys(ledger.files)) if (!stillOurs.has(file)) delete ledger.files[file];
    for (const [path, s] of fileWrites) writes.push({ path, state: s });
    return { ledger, writes, mkdirs, rmdirs, report, changedDocs };
}
