/**
 * patches/@pulumi+pulumi+3.248.0.patch (applied by `npm ci`'s postinstall, patch-package): what a
 * run of the program does not use loads on first use, and still works when used. (The run
 * command's own part, no inspector session before the program, is proved by every engine test
 * that runs the project through the language host, the dynamic providers' serialization included.)
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(__dirname, "..");

/** Runs `script` in a fresh node from the project folder and returns what it printed, as JSON. */
function inFreshNode(script: string): Record<string, unknown> {
    return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8", timeout: 120_000 }));
}

/** The modules a program's run loaded that match each pattern. */
const LOADED = `const loaded = (re) => Object.keys(require.cache).some((k) => re.test(k));
const heavy = () => ({
    typescript: loaded(/node_modules\\/typescript\\//),
    arborist: loaded(/node_modules\\/@npmcli\\/arborist\\//),
    automation: loaded(/@pulumi\\/pulumi\\/automation\\//),
    tracing: loaded(/node_modules\\/@opentelemetry\\/(sdk-trace-node|exporter-zipkin|instrumentation-grpc)\\//),
});`;

describe("the @pulumi/pulumi patch", () => {
    it("importing the SDK and its run command's tracing loads none of typescript, @npmcli/arborist, the Automation API or the trace exporter", () => {
        const r = inFreshNode(`${LOADED}
require("@pulumi/pulumi");
require("@pulumi/pulumi/cmd/run/tracing");
console.log(JSON.stringify(heavy()));`);
        assert.deepEqual(r, { typescript: false, arborist: false, automation: false, tracing: false });
    });

    it("each loads when used: the Automation API, function serialization (typescript) and code paths (arborist)", async () => {
        const r = inFreshNode(`${LOADED}
const pulumi = require("@pulumi/pulumi");
const workspace = typeof pulumi.automation.LocalWorkspace.create;
const n = 2;
pulumi.runtime.serializeFunction(() => n * 21).then(async (s) => {
    const paths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: ["yaml"] });
    console.log(JSON.stringify({ workspace, serialized: s.text.includes("n * 21"), codePaths: [...paths.keys()].some((k) => k.includes("node_modules/yaml")), ...heavy() }));
});`);
        assert.equal(r.workspace, "function");
        assert.equal(r.serialized, true, "a closure serialized, with its captured variable's code");
        assert.equal(r.codePaths, true, "code paths computed for a package");
        assert.deepEqual({ typescript: r.typescript, arborist: r.arborist, automation: r.automation }, { typescript: true, arborist: true, automation: true });
    });

    it("the closure serializer's inspector session starts on first use and still maps a function to its file, for a module loaded before it", () => {
        const r = inFreshNode(`const yaml = require("yaml");
const before = Object.keys(require.cache).some((k) => k.endsWith("runtime/closure/v8Hooks.js"));
require("@pulumi/pulumi/runtime/closure/v8").getFunctionLocationAsync(yaml.parse).then((at) => console.log(JSON.stringify({ before, ...at })));`);
        assert.equal(r.before, false, "no session before the first use");
        assert.match(String(r.file), /node_modules\/yaml\/dist\/public-api\.js$/, "yaml's scripts, compiled before the debugger was enabled, are known to it");
        assert.ok(Number(r.line) > 0);
    });
});
