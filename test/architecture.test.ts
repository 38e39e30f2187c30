/**
 * The direction config flows, checked on the imports: stack file → `settings/` → component Args →
 * resources. `components/` never imports `settings/` (nor `scripts/`, `test/`, `stand-ins/` or
 * `bench/`): the types and rules both need live in `components/` (`args.ts`, `secret.ts`, the
 * config model and its rules). Features are folders of their own under `components/`.
 * And the README's architecture section kept true: every file it names exists, every component
 * class is in it, and every `docs/*.md` a code comment cites exists.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(__dirname, "..");

function tsFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") ? [p] : [];
    });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)["']([^"']+)["']/gm)].map((m) => m[1]);
}

/** Every `file → target` where a file under `dir` imports a folder of the project matching `forbidden`. */
function importsInto(dir: string, forbidden: RegExp): string[] {
    return tsFiles(path.join(root, dir)).flatMap((f) =>
        specifiers(f)
            .filter((s) => s.startsWith("."))
            .map((s) => path.relative(root, path.resolve(path.dirname(f), s)))
            .filter((target) => forbidden.test(target))
            .map((target) => `${path.relative(root, f)} → ${target}`),
    );
}

/** The feature folders of components/. */
const features = () =>
    fs
        .readdirSync(path.join(root, "components"), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);

describe("architecture", () => {
    it("components/ imports nothing from settings/, scripts/, test/, stand-ins/ or bench/", () => {
        assert.ok(tsFiles(path.join(root, "components")).length > 20);
        assert.deepEqual(importsInto("components", /^(settings|scripts|test|stand-ins|bench)(\/|$)/), []);
    });

    it("settings/ and the program import neither the user commands, the tests nor the stand-ins", () => {
        assert.deepEqual(importsInto("settings", /^(scripts|test|stand-ins|bench)(\/|$)/), []);
        assert.deepEqual(
            ["program.ts", "index.ts"].flatMap((f) =>
                specifiers(path.join(root, f))
                    .filter((s) => /^\.\/(scripts|test|stand-ins|bench)\//.test(s))
                    .map((s) => `${f} → ${s}`),
            ),
            [],
        );
    });

    it("the user commands reach a feature through its index.ts, not its inner files", () => {
        assert.deepEqual(importsInto("scripts", /^components\/[^/]+\/(?!index$)[^/]+$/), []);
    });

    it("features are folders: each has an index.ts, and no two share a file's base name", () => {
        const folders = features();
        assert.ok(folders.length >= 10, folders.join(", "));
        assert.deepEqual(
            folders.filter((d) => !fs.existsSync(path.join(root, "components", d, "index.ts"))),
            [],
        );
        const seen = new Map<string, string>();
        const twice: string[] = [];
        for (const d of folders) {
            for (const f of tsFiles(path.join(root, "components", d))) {
                const base = path.basename(f);
                if (base === "index.ts") continue;
                const other = seen.get(base);
                if (other !== undefined && other !== d) twice.push(`${base}: ${other}/ and ${d}/`);
                seen.set(base, d);
            }
        }
        assert.deepEqual(twice, []);
    });
});

describe("the README's architecture section", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Architecture and data flow"), readme.indexOf("\n## ", readme.indexOf("## Architecture and data flow") + 1));
    const code = ["components", "settings", "scripts"]
        .flatMap((d) => tsFiles(path.join(root, d)))
        .concat(["program.ts", "index.ts"].map((f) => path.join(root, f)));

    it("names only files that exist (paths from the root or components/, bare names anywhere in the code)", () => {
        const named = [...new Set([...section.matchAll(/[\w./-]*\w\.ts\b/g)].map((m) => m[0]))];
        assert.ok(named.length > 20, `found ${named.length} file names`);
        const exists = (n: string) =>
            n.includes("/") ? [n, `components/${n}`].some((p) => fs.existsSync(path.join(root, p))) : code.some((f) => path.basename(f) === n);
        assert.deepEqual(
            named.filter((n) => !exists(n)),
            [],
        );
    });

    it("names every feature folder of components/", () => {
        assert.deepEqual(
            features().filter((d) => !section.includes(`${d}/`)),
            [],
        );
    });

    it("shows every component the program has", () => {
        const components = tsFiles(path.join(root, "components")).flatMap((f) =>
            [...fs.readFileSync(f, "utf8").matchAll(/class (\w+) extends pulumi\.ComponentResource/g)].map((m) => m[1]),
        );
        assert.ok(components.length >= 10, components.join(", "));
        assert.deepEqual(
            components.filter((c) => !new RegExp(`\\b${c}\\b`).test(section)),
            [],
        );
    });

    it("every docs/*.md a code comment cites exists", () => {
        const cited = code.flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(/docs\/[\w-]+\.md/g)].map((m) => `${path.relative(root, f)} → ${m[0]}`));
        assert.ok(cited.length > 0);
        assert.deepEqual(
            cited.filter((c) => !fs.existsSync(path.join(root, c.split(" → ")[1]))),
            [],
        );
    });
});
