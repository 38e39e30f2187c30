/**
 * The direction config flows, checked on the imports: stack file → `settings/` → component Args →
 * resources. `components/` never imports `settings/` (nor `scripts/` or `test/`): the types and
 * rules both need live in `components/` (`args.ts`, `secret.ts`, the config model and its rules).
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

describe("architecture", () => {
    it("components/ imports nothing from settings/, scripts/ or test/", () => {
        const files = tsFiles(path.join(root, "components"));
        assert.ok(files.length > 20, `found ${files.length} component files`);
        const wrong = files.flatMap((f) =>
            specifiers(f)
                .filter((s) => s.startsWith("."))
                .map((s) => path.relative(root, path.resolve(path.dirname(f), s)))
                .filter((target) => /^(settings|scripts|test)(\/|$)/.test(target))
                .map((target) => `${path.relative(root, f)} → ${target}`),
        );
        assert.deepEqual(wrong, []);
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
