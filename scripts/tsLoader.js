// @ts-check
/**
 * The program's TypeScript loader for the CLI's runs (`Pulumi.yaml`: `typescript: false`,
 * `nodeargs: --require ./scripts/tsLoader.js`), in place of the ts-node the nodejs runtime would
 * register. `pulumi up` runs the program twice (preview, then update), and ts-node loads the
 * TypeScript compiler (about 0.2 s) in each run even when its cache holds every file. Here each
 * `.ts` file's JavaScript is kept on disk keyed by its path, its content, the compiler's version and
 * `tsconfig.json`, and the compiler is loaded only for a file not there: then, as ts-node does,
 * the whole program is type-checked before that file runs, and a type error stops the run with
 * the compiler's own lines (nothing is cached until the program checks). Stack traces point into
 * the `.ts` sources: each entry's source map is beside it, handed to `source-map-support`.
 *
 * The cache is `node_modules/.cache/private-registry-ts/`; removing it costs one type-check.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/** The project folder: the one holding this script's folder. */
const ROOT = path.resolve(__dirname, "..");
const TSCONFIG = path.join(ROOT, "tsconfig.json");
const CACHE = path.join(ROOT, "node_modules", ".cache", "private-registry-ts");
/** Changes with what this loader writes, so that an older entry is never served. */
const FORMAT = "1";

/** @type {string | undefined} */
let keyBase;
/** What every key starts with: the format, the compiler's version, tsconfig.json's text. */
function base() {
    if (keyBase === undefined) {
        const version = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json", { paths: [ROOT] }), "utf8")).version;
        keyBase = [FORMAT, version, fs.readFileSync(TSCONFIG, "utf8")].join("\0");
    }
    return keyBase;
}

/** The compiler and the options it compiles with, once the program has type-checked. */
/** @type {{ ts: typeof import("typescript"), options: import("typescript").CompilerOptions } | undefined} */
let checked;

/** The compiler and tsconfig.json's options; the first call type-checks the program, and throws on an error. */
function typescript() {
    if (checked) return checked;
    const ts = /** @type {typeof import("typescript")} */ (require(require.resolve("typescript", { paths: [ROOT] })));
    const host = { getCanonicalFileName: (/** @type {string} */ f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" };
    /** @type {import("typescript").Diagnostic[]} */
    const configErrors = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(
        TSCONFIG,
        {},
        {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (d) => {
                configErrors.push(d);
            },
        },
    );
    const diagnostics = parsed
        ? [...parsed.errors, ...ts.getPreEmitDiagnostics(ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } }))]
        : configErrors;
    if (!parsed || diagnostics.length > 0) {
        const error = new Error(`the program does not type-check (\`npm run typecheck\` shows the same):\n${ts.formatDiagnostics(diagnostics, host).trimEnd()}`);
        // The compiler's lines say where; this loader's frames would only bury them.
        error.stack = `Error: ${error.message}`;
        throw error;
    }
    checked = { ts, options: { ...parsed.options, module: ts.ModuleKind.CommonJS, sourceMap: true, inlineSourceMap: false, inlineSources: false, noEmit: false } };
    return checked;
}

/** Writes `text` to `file` aside, then renames: a run beside this one reads a whole entry or none. */
function store(/** @type {string} */ file, /** @type {string} */ text) {
    const partial = `${file}.${process.pid}`;
    fs.writeFileSync(partial, text);
    fs.renameSync(partial, file);
}

/**
 * One `.ts` file's JavaScript and the cache entry it is in: from the cache, else compiled (after
 * the program's check) and cached. Its source map is a file beside it (`<entry>.map`), read only
 * when a stack trace is mapped, not parsed with the code on every run as an inline map would be.
 */
function compile(/** @type {string} */ filename, /** @type {string} */ source) {
    const key = crypto.createHash("sha256").update(`${base()}\0${path.relative(ROOT, filename)}\0${source}`).digest("hex");
    const entry = path.join(CACHE, `${key}.js`);
    try {
        return { code: fs.readFileSync(entry, "utf8"), entry };
    } catch {
        // Not cached yet.
    }
    const { ts, options } = typescript();
    const out = ts.transpileModule(source, { fileName: filename, compilerOptions: options });
    const code = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
    try {
        fs.mkdirSync(CACHE, { recursive: true });
        store(`${entry}.map`, out.sourceMapText ?? "");
        store(entry, code);
    } catch {
        // A read-only folder only costs the next run a compile.
    }
    return { code, entry };
}

/** Each loaded `.ts` file's cache entry, for its source map. */
const entries = new Map();
// The map's one source is the file's own name, which source-map-support resolves beside `url`.
require("source-map-support").install({
    environment: "node",
    retrieveSourceMap: (/** @type {string} */ source) => {
        const entry = entries.get(source);
        if (entry === undefined) return null;
        try {
            return { url: source, map: fs.readFileSync(`${entry}.map`, "utf8") };
        } catch {
            return null;
        }
    },
});

// require.extensions, deprecated but the way a CommonJS loader registers (ts-node and the others do).
require.extensions[".ts"] = (module, filename) => {
    const { code, entry } = compile(filename, fs.readFileSync(filename, "utf8"));
    entries.set(filename, entry);
    /** @type {any} */ (module)._compile(code, filename);
};
