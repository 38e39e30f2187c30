/**
 * The direction config flows, checked on the imports: stack file → `settings/` → component Args →
 * resources. `components/` never imports `settings/` (nor `scripts/` or `test/`): the types and
 * rules both need live in `components/` (`args.ts`, `secret.ts`, the config model and its rules).
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
