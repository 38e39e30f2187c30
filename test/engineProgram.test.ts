/**
 * How the engine tests run the project's program (test/engine/engine.ts): through the language host
 * beside the CLI, on a copy of the project folder that holds everything the program needs and
 * nothing of the checkout's state, or inline.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { chooseLanguageHost, copyProject } from "./engine/engine";

const root = path.resolve(__dirname, "..");

describe("the engine tests' program mode", () => {
    it("the language host beside the CLI where there is one; PRIVATE_REGISTRY_PROGRAM=inline or =language-host overrides", () => {
        const withHost = fs.mkdtempSync(path.join(os.tmpdir(), "pr-bin-"));
        const without = fs.mkdtempSync(path.join(os.tmpdir(), "pr-bin-"));
        try {
            fs.writeFileSync(path.join(withHost, "pulumi-language-nodejs"), "", { mode: 0o755 });
            assert.equal(chooseLanguageHost(withHost, {}), path.join(withHost, "pulumi-language-nodejs"));
            assert.equal(chooseLanguageHost(without, {}), undefined);
            assert.equal(chooseLanguageHost(withHost, { PRIVATE_REGISTRY_PROGRAM: "inline" }), undefined);
            assert.equal(chooseLanguageHost(withHost, { PRIVATE_REGISTRY_PROGRAM: "language-host" }), path.join(withHost, "pulumi-language-nodejs"));
            assert.throws(() => chooseLanguageHost(without, { PRIVATE_REGISTRY_PROGRAM: "language-host" }), /has no pulumi-language-nodejs: npm run providers/);
            assert.throws(() => chooseLanguageHost(withHost, { PRIVATE_REGISTRY_PROGRAM: "yes" }), /use inline or language-host/);
        } finally {
            fs.rmSync(withHost, { recursive: true, force: true });
            fs.rmSync(without, { recursive: true, force: true });
        }
    });

    it("the project's copy has what the language host runs (Pulumi.yaml, package.json's main, every file tsconfig.json compiles) and no stack file, state or tests", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-project-"));
        try {
            copyProject(dir);
            const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { main: string };
            for (const f of ["Pulumi.yaml", "package.json", "tsconfig.json", pkg.main]) assert.ok(fs.existsSync(path.join(dir, f)), f);
            const tsconfig = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8")) as { include: string[] };
            for (const pattern of tsconfig.include) {
                const top = pattern.split("/")[0];
                assert.ok(fs.existsSync(path.join(dir, top)), `${top} (tsconfig.json includes ${pattern})`);
            }
            const copied = fs.readdirSync(dir);
            assert.deepEqual(
                copied.filter((e) => /^Pulumi\..+\.yaml$/.test(e) || ["node_modules", "test", ".git", ".pulumi-state"].includes(e)),
                [],
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
