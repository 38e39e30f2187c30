/**
 * scripts/tsLoader.js, the TypeScript loader `Pulumi.yaml` gives the CLI's runs of the program:
 * run as the language host runs it (`node --require <loader> <program>`) on a scratch project
 * that holds a copy of the loader, its own tsconfig.json and this project's node_modules.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

const root = path.resolve(__dirname, "..", "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pr-tsloader-"));
const cache = path.join(scratch, "node_modules", ".cache", "private-registry-ts");
after(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
});

const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(scratch, rel)), { recursive: true });
    fs.writeFileSync(path.join(scratch, rel), text);
};

/** The main file: prints what it computed, then whether the compiler was loaded in this process. */
const MAIN = `import { double } from "./lib/math";
console.log(JSON.stringify({ value: double(21), compiler: Object.keys(require.cache).some((k) => k.includes("/node_modules/typescript/")) }));
`;
const MATH = `/** Twice n. */
export function double(n: number): number {
    return n * 2;
}
`;

/** Runs the scratch program as the language host does, from its folder. */
function run(main = "main.ts") {
    const r = spawnSync(process.execPath, ["--require", "./scripts/tsLoader.js", main], { cwd: scratch, encoding: "utf8", timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "null") };
}
const entries = () => (fs.existsSync(cache) ? fs.readdirSync(cache).sort() : []);

describe("scripts/tsLoader.js", () => {
    before(() => {
        fs.mkdirSync(path.join(scratch, "scripts"));
        fs.copyFileSync(path.join(root, "scripts", "tsLoader.js"), path.join(scratch, "scripts", "tsLoader.js"));
        // Its own node_modules folder (for the cache) whose packages are this project's.
        fs.mkdirSync(path.join(scratch, "node_modules"));
        for (const pkg of ["typescript", "source-map-support", "source-map", "buffer-from", "@types"]) {
            fs.symlinkSync(path.join(root, "node_modules", pkg), path.join(scratch, "node_modules", pkg));
        }
        write(
            "tsconfig.json",
            JSON.stringify({
                compilerOptions: { strict: true, target: "ES2022", module: "commonjs", types: ["node"], esModuleInterop: true, sourceMap: true },
                include: ["main.ts", "lib/**/*.ts", "throws.ts"],
            }),
        );
        write("main.ts", MAIN);
        write("lib/math.ts", MATH);
        write("throws.ts", `\n\n// line 3\nexport function fail(): never {\n    throw new Error("from line 5");\n}\nfail();\n`);
    });

    it("compiles each file once: the first run type-checks and caches, the next loads no compiler at all", () => {
        const first = run();
        assert.equal(first.status, 0, first.stderr);
        assert.deepEqual(first.json(), { value: 42, compiler: true });
        const cached = entries();
        assert.equal(cached.filter((f) => f.endsWith(".js")).length, 2, `main.ts and lib/math.ts cached: ${cached.join(", ")}`);
        assert.equal(cached.filter((f) => f.endsWith(".js.map")).length, 2, "each with its source map beside it");
        const second = run();
        assert.equal(second.status, 0, second.stderr);
        assert.deepEqual(second.json(), { value: 42, compiler: false });
        assert.deepEqual(entries(), cached, "nothing new written");
    });

    it("an edited file is compiled again, and what runs is the new code", () => {
        write("lib/math.ts", MATH.replace("n * 2", "n * 2 + 1"));
        try {
            const r = run();
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.json(), { value: 43, compiler: true });
        } finally {
            write("lib/math.ts", MATH);
        }
        assert.deepEqual(run().json(), { value: 42, compiler: false }, "the old content's entry serves again");
    });

    it("a type error anywhere in the program stops the run before the program does anything, with the compiler's message, and caches nothing", () => {
        // main.ts is unchanged (cached); the error is in what it imports, which changed.
        write("lib/math.ts", MATH.replace("return n * 2;", 'return n * "2";'));
        const before = entries();
        try {
            const r = run();
            assert.notEqual(r.status, 0, "the run fails");
            assert.match(r.stderr, /the program does not type-check \(`npm run typecheck` shows the same\)/);
            assert.match(r.stderr, /lib\/math\.ts\(3,16\): error TS2363:/, "file, line, column and code as tsc prints them");
            assert.doesNotMatch(r.stdout, /value/, "the program did not run");
            assert.deepEqual(entries(), before, "no entry written for a program that does not check");
        } finally {
            write("lib/math.ts", MATH);
        }
    });

    it("stack traces point at the TypeScript source's lines", () => {
        const r = run("throws.ts");
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /Error: from line 5/);
        assert.match(r.stderr, /throws\.ts:5:\d+/, `the frame maps to throws.ts line 5: ${r.stderr}`);
    });
});
