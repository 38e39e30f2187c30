/**
 * The operator's scripts, run as child processes the way `npm run` runs them: `scripts/engine.sh`
 * (which CLI), `scripts/pulumi.ts` (which CLI, backend, passphrase and stack every command gets),
 * `scripts/render.ts` (its errors, key paths and file modes), `scripts/gc.ts` (which never edits the
 * stack file, even killed), and a bad config through the program.
 * Fake CLIs are shell scripts that log how they were called; the one real-engine test runs only
 * when a Pulumi CLI not older than the SDK is already on this machine (it never downloads or
 * builds one). Every state backend and PULUMI_HOME is a temporary folder.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "../../settings";
import { pulumiHome } from "../../scripts/plugins";
import { cliArgs, DEFAULT_BACKEND, languageHostProblem, opOptions } from "../../scripts/pulumi";
import { readStackConfig } from "../../scripts/stackFile";

const root = path.resolve(__dirname, "..", "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pr-scripts-"));
const stackFiles: string[] = [];
after(() => {
    for (const f of stackFiles) fs.rmSync(f, { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
});

const versionOf = (pkg: string) => JSON.parse(fs.readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")).version as string;
const SDK = versionOf("@pulumi/pulumi");
const NPM_CLI = versionOf("pulumi");
/** The CLI version engine/go.mod builds. */
const CLI_VERSION = /github\.com\/pulumi\/pulumi\/pkg\/v3 v([\d.]+)/.exec(fs.readFileSync(path.join(root, "engine", "go.mod"), "utf8"))?.[1] ?? "";
/** What `npm run` puts first on PATH: among others the npm `pulumi` package's wrapper, which downloads. */
const NPM_BIN = path.join(root, "node_modules", ".bin");
const SYSTEM_PATH = [path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);
const LOG = path.join(scratch, "calls.log");

let n = 0;
/** A fresh folder under the scratch folder. */
const tmp = (name: string) => fs.mkdtempSync(path.join(scratch, `${name}-${++n}-`));

/**
 * A fake `pulumi` that logs `name|args|backend|passphrase|PULUMI_HOME` (`name` may expand a
 * variable) and answers `version` with `version`; `more` are shell lines it runs before it exits 0.
 */
function fakeCli(dir: string, name: string, version: string, more: string[] = []): string {
    fs.mkdirSync(dir, { recursive: true });
    const script = [
        "#!/bin/sh",
        `printf '%s|%s|%s|%s|%s\\n' ${name} "$*" "\${PULUMI_BACKEND_URL-}" "\${PULUMI_CONFIG_PASSPHRASE-}" "\${PULUMI_HOME-}" >> ${LOG}`,
        `[ "$1" = version ] && echo v${version}`,
        // The stack's config, as \`pulumi config --json\` prints it (PR_FAKE_CONFIG, or none).
        `[ "$1" = config ] && [ "$2" = --show-secrets ] && printf '%s\\n' "\${PR_FAKE_CONFIG:-{\\}}"`,
        ...more,
        "exit 0",
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "pulumi"), script, { mode: 0o755 });
    return dir;
}

/** A PULUMI_HOME whose npm-package cache holds a fake, so the npm wrapper never downloads. */
function fakePulumiHome(): string {
    const home = tmp("home");
    fakeCli(path.join(home, "versions", NPM_CLI, "bin"), "npm-cache", NPM_CLI);
    return home;
}

/** The environment of a child: none of the caller's PULUMI_* or STACK, a temporary backend and home. */
function env(pathDirs: string[], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(e)) if (k.startsWith("PULUMI_") || k === "STACK") delete e[k];
    const state = tmp("state");
    return {
        ...e,
        PATH: [...pathDirs, SYSTEM_PATH].join(path.delimiter),
        PULUMI_HOME: fakePulumiHome(),
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_ENGINE_CACHE: tmp("engine-cache"),
        PULUMI_ENGINE_NO_DOWNLOAD: "1",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        ...extra,
    };
}

function run(cmd: string, args: string[], childEnv: NodeJS.ProcessEnv) {
    fs.writeFileSync(LOG, "");
    const r = spawnSync(cmd, args, { cwd: root, env: childEnv, encoding: "utf8", timeout: 300_000 });
    const calls = fs
        .readFileSync(LOG, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
            const [name, argv, backend, passphrase, home] = l.split("|");
            return { name, argv, backend, passphrase, home };
        });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, calls };
}
const engineSh = (childEnv: NodeJS.ProcessEnv) => run("bash", [path.join(root, "scripts", "engine.sh")], childEnv);
const script = (name: string, args: string[], childEnv: NodeJS.ProcessEnv) =>
    run(process.execPath, ["--import", "tsx", path.join(root, "scripts", name), ...args], childEnv);

/** The line(s) a script printed on stderr, the engine: progress lines aside. */
const errorLines = (stderr: string) =>
    stderr
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("engine:"))
        .join("\n");
const assertOneLine = (stderr: string, re: RegExp) => {
    const text = errorLines(stderr);
    assert.equal(text.split("\n").length, 1, `one line, got:\n${text}`);
    assert.doesNotMatch(text, /^\s+at /m);
    assert.match(text, re);
};

describe("scripts/engine.sh: which Pulumi CLI", () => {
    it("takes a pulumi on PATH not older than the SDK, also where npm puts its own wrapper first, and says nothing", () => {
        const mine = fakeCli(path.join(scratch, "opt", "pulumi"), "mine", "3.999.0");
        // As a release ships it: the dynamic provider host beside the CLI (without it, a warning).
        fs.writeFileSync(path.join(mine, "pulumi-resource-pulumi-nodejs"), "#!/bin/sh\n", { mode: 0o755 });
        const r = engineSh(env([NPM_BIN, mine]));
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), mine);
        assert.equal(r.stderr, "", "a CLI found at once: no progress lines (they would mix with `npm run -s pulumi -- stack output` in a pipe)");
        const verbose = engineSh({ ...env([NPM_BIN, mine]), PULUMI_ENGINE_VERBOSE: "1" });
        assert.match(verbose.stderr, /^engine: 1\. pulumi on PATH$/m, "npm run engine shows each step");
        assert.match(verbose.stderr, new RegExp(`^engine: using ${mine}/pulumi`, "m"));
    });

    it("passes over a pulumi older than the SDK for the next one on PATH", () => {
        const old = fakeCli(path.join(tmp("old"), "bin"), "old", "3.100.0");
        const newer = fakeCli(path.join(tmp("newer"), "bin"), "newer", SDK);
        const r = engineSh(env([old, newer]));
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), newer);
        assert.match(r.stderr, /pulumi is v3\.100\.0: older than the SDK/);
    });

    it("after a failed download (no Go either) says what was tried and what to do", () => {
        const bin = tmp("npx");
        fs.writeFileSync(path.join(bin, "npx"), '#!/bin/sh\necho "pulumi: fetch failed" >&2\nexit 1\n', { mode: 0o755 });
        const e: NodeJS.ProcessEnv = { ...env([bin]), PULUMI_HOME: tmp("empty-home") };
        delete e.PULUMI_ENGINE_NO_DOWNLOAD;
        const r = engineSh(e);
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /download of v[\d.]+ from get\.pulumi\.com failed: pulumi: fetch failed/);
        assert.match(r.stderr, /Tried:/);
        assert.match(r.stderr, /no `pulumi` on PATH/);
        assert.match(r.stderr, /no Go toolchain/);
        assert.match(r.stderr, /put the folder holding `pulumi` on PATH/);
        assert.match(r.stderr, /`npm run engine`/);
    });

    it("puts the language host npm run providers built for the CLI's version beside a CLI it built; says so when there is none", () => {
        // A `go` that fails: engine.sh builds nothing, and names its cache folder at step 3.
        const noGo = tmp("no-go");
        fs.writeFileSync(path.join(noGo, "go"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        const providers = tmp("providers");
        const e = env([noGo], { PULUMI_ENGINE: "build", PULUMI_ENGINE_VERBOSE: "1", PRIVATE_REGISTRY_PROVIDERS_CACHE: providers });
        const cache = /^engine: 3\. a CLI built here before: (\S+)$/m.exec(engineSh(e).stderr)?.[1] ?? "";
        assert.ok(cache.startsWith(e.PULUMI_ENGINE_CACHE ?? "-"), cache);
        const bin = fakeCli(path.join(cache, "bin"), "built", CLI_VERSION);
        // A fresh machine: no providers cache folder at all (npm run providers never ran).
        const fresh = engineSh({ ...e, PRIVATE_REGISTRY_PROVIDERS_CACHE: path.join(providers, "never-made") });
        assert.equal(fresh.status, 0, fresh.stderr);
        assert.equal(fresh.stdout.trim(), bin, fresh.stderr);
        assert.match(fresh.stderr, /no pulumi-language-nodejs beside it/);
        const none = engineSh(e);
        assert.equal(none.stdout.trim(), bin, none.stderr);
        assert.match(none.stderr, /no pulumi-language-nodejs beside it: bare `pulumi up` cannot run the program, npm run up can/);
        assert.equal(fs.existsSync(path.join(bin, "pulumi-language-nodejs")), false);

        const build = path.join(providers, `language-nodejs-${CLI_VERSION}-dc7edd58bc13`);
        fs.mkdirSync(build);
        fs.writeFileSync(path.join(build, "pulumi-language-nodejs"), "#!/bin/sh\necho language host\n", { mode: 0o755 });
        // Another version's build is not taken.
        fs.mkdirSync(path.join(providers, "language-nodejs-3.1.0-abc"));
        fs.writeFileSync(path.join(providers, "language-nodejs-3.1.0-abc", "pulumi-language-nodejs"), "#!/bin/sh\necho old\n", { mode: 0o755 });
        const r = engineSh(e);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), bin);
        assert.match(r.stderr, new RegExp(`added pulumi-language-nodejs beside it \\(from ${build}\\)`));
        assert.equal(fs.readFileSync(path.join(bin, "pulumi-language-nodejs"), "utf8"), "#!/bin/sh\necho language host\n");
        assert.equal(fs.statSync(path.join(bin, "pulumi-language-nodejs")).mode & 0o777, 0o755);
    });

    it("looks for the npm package's CLIs in the CLI's PULUMI_HOME: PULUMI_HOME, else ~/.pulumi of the passwd entry, not of $HOME", () => {
        const e: NodeJS.ProcessEnv = { ...env([]), HOME: tmp("elsewhere"), PULUMI_ENGINE_VERBOSE: "1" };
        delete e.PULUMI_HOME;
        const r = engineSh(e);
        assert.match(r.stderr, new RegExp(`^engine: 2\\. the npm package's cache \\(${path.join(os.userInfo().homedir, ".pulumi")}/versions\\)$`, "m"));
    });
});

describe("scripts/setup.ts (npm run setup): what a bare pulumi up needs", () => {
    /** A CLI as a release ships it: the language host and the dynamic provider host beside it. */
    function release(languageHost: boolean): string {
        const dir = fakeCli(path.join(tmp("release"), "bin"), "release", "3.999.0");
        const beside = ["pulumi-resource-pulumi-nodejs", ...(languageHost ? ["pulumi-language-nodejs"] : [])];
        for (const f of beside) fs.writeFileSync(path.join(dir, f), "#!/bin/sh\n", { mode: 0o755 });
        return dir;
    }
    const setupEnv = (dir: string, extra: Record<string, string> = {}) => env([NPM_BIN, dir], { PRIVATE_REGISTRY_PROVIDERS_CACHE: tmp("no-builds"), ...extra });

    it("prints the line that puts the CLI on PATH; selects the dev stack with its passphrase, on the same backend and PULUMI_HOME", () => {
        const dir = release(true);
        const e = setupEnv(dir);
        const r = script("setup.ts", [], e);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `export PATH="${dir}:$PATH"\n`);
        assert.match(r.stderr, new RegExp(`^setup: language host: ${dir}/pulumi-language-nodejs \\(bare pulumi up runs the program through it\\)$`, "m"));
        assert.match(r.stderr, /^setup: plugin docker v[\d.]+: not installed and not built here/m);
        assert.match(r.stderr, /^setup: {3}export PULUMI_CONFIG_PASSPHRASE=private-registry-dev; pulumi up$/m);
        assert.deepEqual(
            r.calls.filter((c) => !c.argv.startsWith("version")),
            [{ name: "release", argv: "stack select --create dev", backend: e.PULUMI_BACKEND_URL, passphrase: "private-registry-dev", home: e.PULUMI_HOME }],
        );
    });

    it("without a language host beside the CLI: says a bare pulumi up cannot run the program, and what can", () => {
        const r = script("setup.ts", [], setupEnv(release(false)));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /^setup: language host: none beside the CLI, so a bare pulumi up cannot run the program here: npm run up does/m);
        assert.match(r.stderr, /^setup: {3}npm run up$/m, "the next command is the wrapper's");
        assert.doesNotMatch(r.stderr, /pulumi up$/m);
    });

    it("another stack without a passphrase is not created; setup says what to set", () => {
        const r = script("setup.ts", [], setupEnv(release(true), { STACK: "prod" }));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /^setup: stack prod: not selected; set PULUMI_CONFIG_PASSPHRASE/m);
        assert.deepEqual(
            r.calls.filter((c) => c.argv.startsWith("stack")),
            [],
        );
    });
});

describe("scripts/pulumi.ts: every command on one CLI, backend, passphrase and stack", () => {
    const mine = fakeCli(path.join(scratch, "tarball", "pulumi"), "mine", "3.999.0");

    it("npm run preview runs the CLI engine.sh chose, also when its folder is not called bin; --replace reaches it", () => {
        const e = env([NPM_BIN, mine]);
        const r = script("pulumi.ts", ["preview", "--replace", "urn:pulumi:dev::x"], e);
        const used = r.calls.filter((c) => !c.argv.startsWith("version"));
        assert.ok(used.length > 0, `the CLI on PATH ran no command: ${JSON.stringify(r.calls)}\n${r.stderr}`);
        assert.ok(
            used.every((c) => c.name === "mine" && c.backend === e.PULUMI_BACKEND_URL && c.passphrase === "private-registry-dev"),
            JSON.stringify(used),
        );
        assert.ok(
            used.some((c) => /^preview .*--replace urn:pulumi:dev::x /.test(c.argv)),
            JSON.stringify(used),
        );
    });

    it("npm run pulumi -- stack output passwords --show-secrets: same CLI, backend, passphrase, and the stack", () => {
        const e = env([NPM_BIN, mine]);
        const r = script("pulumi.ts", ["cli", "stack", "output", "passwords", "--show-secrets"], e);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls.at(-1), {
            name: "mine",
            argv: "stack output passwords --show-secrets --stack dev",
            backend: e.PULUMI_BACKEND_URL,
            passphrase: "private-registry-dev",
            home: e.PULUMI_HOME,
        });
        const prod = script("pulumi.ts", ["cli", "config", "get", "port"], { ...e, STACK: "prod", PULUMI_CONFIG_PASSPHRASE: "p" });
        assert.equal(prod.calls.at(-1)?.argv, "config get port --stack prod");
        assert.equal(prod.calls.at(-1)?.passphrase, "p");
    });

    it("every command gets the CLI's own PULUMI_HOME when none is set (~/.pulumi of the passwd entry, not of $HOME)", () => {
        const e: NodeJS.ProcessEnv = { ...env([NPM_BIN, mine]), HOME: tmp("elsewhere") };
        delete e.PULUMI_HOME;
        const r = script("pulumi.ts", ["cli", "stack", "ls"], e);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.calls.at(-1)?.home, path.join(os.userInfo().homedir, ".pulumi"));
    });

    it("npm run up takes pulumi up's flags and passes them on; without a terminal it needs --yes, as pulumi up does", () => {
        const e = env([NPM_BIN, mine]);
        const refused = script("pulumi.ts", ["up"], e);
        assert.equal(refused.status, 1);
        assertOneLine(refused.stderr, /^up: up changes the stack: without a terminal to ask on, add --yes \(npm run up -- --yes\), as pulumi up needs$/);
        assert.equal(refused.calls.filter((c) => !c.argv.startsWith("version")).length, 0, "nothing ran");
        const r = script("pulumi.ts", ["up", "--yes", "--target", "urn:a", "-t", "urn:b", "--message", "rotate", "--parallel", "4", "--refresh", "--diff"], e);
        const up = r.calls.find((c) => c.argv.startsWith("up "));
        assert.ok(up, `${JSON.stringify(r.calls)}\n${r.stderr}`);
        for (const f of ["--yes", "--target urn:a", "--target urn:b", "--message rotate", "--parallel 4", "--refresh", "--diff"])
            assert.ok(up.argv.includes(f), `${f} in: ${up.argv}`);
    });

    it("a bad config is one error naming the key, printed once, with nothing run by the engine", () => {
        const e = env([NPM_BIN, mine], { PR_FAKE_CONFIG: JSON.stringify({ "private-registry:port": { value: "70000", secret: false } }) });
        const r = script("pulumi.ts", ["preview"], e);
        assert.equal(r.status, 1);
        assert.equal(
            errorLines(r.stderr),
            'preview: invalid stack configuration (1 problem):\n  private-registry:port must be an integer 1-65535, got "70000"',
        );
        assert.deepEqual(
            r.calls.map((c) => c.argv.split(" ")[0]).filter((c) => c !== "version" && c !== "config" && c !== "stack"),
            [],
            "no preview ran",
        );
    });

    it("a flag the wrapper does not pass on, or one the operation does not take, is refused naming it", () => {
        assert.throws(
            () => opOptions("up", ["--frobnicate"]),
            /^Error: --frobnicate is not a flag the wrapper passes on to pulumi up \(it takes --yes, --skip-preview, --diff, /,
        );
        assert.throws(() => opOptions("preview", ["--yes"]), /--yes does not apply to preview/);
        assert.throws(() => opOptions("destroy", ["--replace", "urn:x"]), /--replace does not apply to destroy/);
        assert.throws(() => opOptions("up", ["--parallel", "0"]), /--parallel must be a positive integer, got 0/);
        assert.deepEqual(opOptions("preview", ["--expect-no-changes", "--diff"]), {
            yes: false,
            skipPreview: false,
            api: { expectNoChanges: true, diff: true },
        });
        assert.deepEqual(opOptions("destroy", ["-y", "-f"]), { yes: true, skipPreview: true, api: {} });
    });

    it("adds --stack only where the CLI takes it: stack init <name>, version", () => {
        assert.deepEqual(cliArgs(["stack", "init", "staging"], "dev"), ["stack", "init", "staging"]);
        assert.deepEqual(cliArgs(["stack", "init"], "staging"), ["stack", "init", "--stack", "staging"]);
        assert.deepEqual(cliArgs(["stack", "init", "--secrets-provider", "passphrase"], "qa"), [
            "stack",
            "init",
            "--secrets-provider",
            "passphrase",
            "--stack",
            "qa",
        ]);
        assert.deepEqual(cliArgs(["version"], "dev"), ["version"]);
        assert.deepEqual(cliArgs(["plugin", "ls"], "dev"), ["plugin", "ls"]);
        assert.deepEqual(cliArgs(["config", "set", "--secret", "--path", "storage.secretKey", "x"], "dev").slice(-2), ["--stack", "dev"]);
        assert.deepEqual(cliArgs(["stack", "export", "-s", "prod"], "dev"), ["stack", "export", "-s", "prod"]);
    });

    it("npm run destroy names a data volume the engine kept (deleted [retain]) and the command that removes it, on its Docker host", () => {
        const destroy = (volume: { name: string; retainOnDelete: boolean }, dockerHost: string) => {
            const bin = tmp("destroy-bin");
            const provider = "urn:pulumi:dev::private-registry::pulumi:providers:docker::registry-docker";
            const before = {
                version: 3,
                deployment: {
                    resources: [
                        { urn: provider, type: "pulumi:providers:docker", id: "p1", inputs: { host: dockerHost } },
                        {
                            urn: "urn:pulumi:dev::private-registry::docker:index/volume:Volume::registry-registry-data",
                            type: "docker:index/volume:Volume",
                            provider: `${provider}::p1`,
                            retainOnDelete: volume.retainOnDelete,
                            outputs: { name: volume.name },
                        },
                        {
                            urn: "urn:pulumi:dev::private-registry::docker:index/volume:Volume::registry-files-volume",
                            type: "docker:index/volume:Volume",
                            outputs: { name: "files" },
                        },
                    ],
                },
            };
            const destroyed = path.join(bin, "destroyed");
            fakeCli(bin, "fake", "3.999.0", [
                'case "$1 $2" in',
                `  "destroy "*) touch ${destroyed} ;;`,
                `  "stack export") if [ -e ${destroyed} ]; then echo '{"version":3,"deployment":{"resources":[]}}'; else echo '${JSON.stringify(before)}'; fi ;;`,
                `  "stack history") echo '[]' ;;`,
                "esac",
            ]);
            const r = script("pulumi.ts", ["destroy", "--yes"], env([bin]));
            assert.equal(r.status, 0, r.stderr);
            assert.ok(fs.existsSync(destroyed), "the destroy ran");
            return errorLines(r.stderr)
                .split("\n")
                .filter((l) => l.startsWith("destroy:"));
        };
        assert.deepEqual(destroy({ name: "private-registry-data", retainOnDelete: true }, "unix:///var/run/docker.sock"), [
            "destroy: the data volume private-registry-data is kept, with the images in it (data.keepOnDestroy); to remove it: docker volume rm private-registry-data",
        ]);
        assert.deepEqual(destroy({ name: "reg data", retainOnDelete: true }, "ssh://deploy@registry-01"), [
            "destroy: the data volume reg data is kept, with the images in it (data.keepOnDestroy); to remove it: DOCKER_HOST=ssh://deploy@registry-01 docker volume rm 'reg data'",
        ]);
        assert.deepEqual(destroy({ name: "private-registry-data", retainOnDelete: false }, "unix:///var/run/docker.sock"), [], "nothing kept, nothing said");
    });

    it("a stack other than dev without a passphrase ends with one line, no stack trace", () => {
        const r = script("pulumi.ts", ["cli", "stack", "output"], env([mine], { STACK: "prod" }));
        assert.equal(r.status, 1);
        assertOneLine(r.stderr, /set PULUMI_CONFIG_PASSPHRASE .* for stack 'prod'/);
    });
});

describe("scripts/gc.ts: maintenance never edits the stack file", () => {
    /**
     * `npm run gc` on a stack of its own, against a fake CLI that, as the real one, writes the stack
     * file on `config set|rm`, and a fake `docker`; with `kill`, the fake kills gc at its first `up`.
     */
    function gc(opts: { kill?: boolean; neverPushed?: boolean } = {}) {
        const stack = `gc-test-${process.pid}`;
        const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
        const text = "config:\n  private-registry:registry:\n    logLevel: info\n";
        fs.writeFileSync(stackFile, text);
        const bin = tmp("gc-bin");
        const killed = path.join(bin, "killed");
        // The name says whether the override reached the CLI's environment (and so the program's).
        fakeCli(bin, `fake\${PRIVATE_REGISTRY_READ_ONLY:+-read-only}`, "3.999.0", [
            'case "$1 $2" in',
            `  "config set"|"config rm"|"config set-all"|"config rm-all") printf '# %s\\n' "$*" >> ${stackFile} ;;`,
            `  "up "*) ${opts.kill ? `[ -e ${killed} ] || { touch ${killed}; kill -9 $PPID; sleep 5; }` : ":"} ;;`,
            `  "stack output") echo '{}' ;;`,
            `  "stack history") echo '[]' ;;`,
            "esac",
        ]);
        // garbage-collect on storage nothing was pushed to: the registry's own error and exit status.
        const neverPushed =
            'case "$*" in *garbage-collect*) echo "failed to garbage collect: Path not found: /docker/registry/v2/repositories" >&2; exit 1;; esac\n';
        fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\n${opts.neverPushed ? neverPushed : ""}printf '100\\t/var/lib/registry\\n'\n`, { mode: 0o755 });
        try {
            const config = { "private-registry:registry": { value: '{"logLevel":"info"}', secret: false } };
            const r = script("gc.ts", [], env([bin], { STACK: stack, PULUMI_CONFIG_PASSPHRASE: "gc-test", PR_FAKE_CONFIG: JSON.stringify(config) }));
            return { ...r, unchanged: fs.readFileSync(stackFile, "utf8") === text, ups: r.calls.filter((c) => c.argv.startsWith("up ")) };
        } finally {
            fs.rmSync(stackFile, { force: true });
            fs.rmSync(path.join(root, ".pulumi-state", `gc-${stack}.json`), { force: true });
        }
    }

    it("runs its read-only up with the override in the environment the program reads, and its stack file stays byte for byte", () => {
        const r = gc();
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
            r.calls.filter((c) => /^config (set|rm)/.test(c.argv)),
            [],
            "no CLI command that writes the stack file",
        );
        assert.ok(r.unchanged, "Pulumi.<stack>.yaml is as it was");
        assert.deepEqual(
            r.ups.map((c) => c.name),
            ["fake-read-only", "fake"],
            "read-only, then the stack's own setting",
        );
        assert.match(r.stdout, /gc: done in \d+ s/);
    });

    it("on a registry nothing was ever pushed to: nothing to collect, read-write again, exit 0", () => {
        const r = gc({ neverPushed: true });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /nothing to collect: no image was ever pushed to this registry/);
        assert.deepEqual(
            r.ups.map((c) => c.name),
            ["fake-read-only", "fake"],
        );
    });

    it("killed mid-run (at its read-only up), leaves the stack file as it was", () => {
        const r = gc({ kill: true });
        assert.equal(r.signal ?? r.status, "SIGKILL");
        assert.equal(r.ups.length, 1, "killed at the first up");
        assert.ok(r.unchanged, "Pulumi.<stack>.yaml is as it was");
    });

    it("the settings layer reads PRIVATE_REGISTRY_READ_ONLY=true as registry.readOnly, keeps the rest of registry, and says so", async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs }, "private-registry", "t", false);
        const cfg = readStackConfig(path.join(root, "Pulumi.dev.yaml"), { namespace: "private-registry", set: { "registry.logLevel": "warn" } });
        pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
        const { loadSettings, READ_ONLY_ENV } = await import("../../settings/stackConfig");
        assert.equal(loadSettings().registry.readOnly, false);
        process.env[READ_ONLY_ENV] = "true";
        try {
            const s = loadSettings();
            assert.equal(s.registry.readOnly, true);
            assert.equal(s.registry.logLevel, "warn");
            assert.match(s.warnings.join("\n"), /registry\.readOnly is true for this run \(PRIVATE_REGISTRY_READ_ONLY=true/);
        } finally {
            delete process.env[READ_ONLY_ENV];
        }
    });
});

describe("program.ts: a bad config", () => {
    it("is thrown as a RunError (the engine prints its message, no stack trace) that is still a SettingsError", async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs }, "private-registry", "t", false);
        const cfg = readStackConfig(path.join(root, "Pulumi.dev.yaml"), { namespace: "private-registry", set: { port: "88a" } });
        pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
        const { main } = await import("../../program");
        assert.throws(main, (e: unknown) => {
            assert.ok(pulumi.RunError.isInstance(e), "a RunError");
            assert.ok(e instanceof SettingsError);
            assert.match((e as Error).message, /private-registry:port must be an integer 1-65535, got "88a"/);
            return true;
        });
    });
});

describe("scripts/render.ts", () => {
    const render = (args: string[]) => script("render.ts", args, env([]));
    const sshKey = path.join(scratch, "id_ed25519");
    fs.writeFileSync(sshKey, crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString(), { mode: 0o600 });
    const prodSecrets = ["--secret", `sshPrivateKey=@${sshKey}`, "--secret", "storage.accessKey=AKIAEXAMPLE", "--secret", "storage.secretKey=rgw-secret-key"];

    it("--help prints the usage and exits 0", () => {
        const r = render(["--help"]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^usage: npm run render -- --stack <name> --out <dir>/);
        assert.match(r.stdout, /--secret <key>=<value>/);
        assert.equal(r.stderr, "");
    });

    it("without --include-secrets no secret reaches resources.json, derived ones included (a supplied password's bcrypt hash)", () => {
        const out = path.join(tmp("o"), "dev");
        const password = "supplied-password-for-render-1";
        const r = render(["--stack", "dev", "--out", out, "--secret", `users=[{"name":"admin","password":"${password}"}]`]);
        assert.equal(r.status, 0, r.stderr);
        const resources = fs.readFileSync(path.join(out, "resources.json"), "utf8");
        assert.doesNotMatch(resources, /\$2[aby]\$\d\d\$/, "no bcrypt hash");
        assert.ok(!resources.includes(password), "not the password");
        assert.doesNotMatch(resources, /BEGIN (RSA |EC )?PRIVATE KEY/, "no private key");
        assert.match(resources, /<redacted>/);
        assert.match(resources, /"private-registry-data"/, "what is not secret is still shown");
    });

    it("an unknown stack, a missing --out, an unknown option: one line each, exit 2", () => {
        let r = render(["--stack", "nope", "--out", path.join(tmp("o"), "x")]);
        assert.equal(r.status, 2);
        assertOneLine(r.stderr, /^render: no stack nope: .*Pulumi\.nope\.yaml does not exist \(stacks here: dev, e2e, prod\)$/);
        r = render(["--stack", "dev"]);
        assert.equal(r.status, 2);
        assertOneLine(r.stderr, /^render: --out <dir> is required/);
        r = render(["--stack", "dev", "--out", tmp("o"), "--bogus"]);
        assert.equal(r.status, 2);
        assertOneLine(r.stderr, /^render: unknown option --bogus/);
    });

    it("a key twice in the stack file: one line naming it and its line, exit 2", () => {
        const file = path.join(tmp("dup"), "Pulumi.dup.yaml");
        fs.writeFileSync(file, "config:\n  private-registry:port: 5000\n  private-registry:image: registry:3.1.2\n  private-registry:port: 5001\n");
        const r = render(["--config-file", file, "--out", tmp("o")]);
        assert.equal(r.status, 2);
        assertOneLine(r.stderr, /Pulumi\.dup\.yaml:4: the key private-registry:port appears twice/);
    });

    it("an encrypted secret nested inside an object: one line naming its path and the --secret that replaces it, exit 2", () => {
        const file = path.join(tmp("nested"), "Pulumi.nested.yaml");
        const prod = fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8");
        fs.writeFileSync(file, prod.replace(/^( {4})bucket: .*$/m, "$&\n$1secretKey:\n$1  secure: v1:AAAA:BBBB"));
        const r = render(["--config-file", file, "--out", tmp("o"), "--secret", `sshPrivateKey=@${sshKey}`]);
        assert.equal(r.status, 2, r.stderr);
        assertOneLine(r.stderr, /private-registry:storage\.secretKey is encrypted in the stack file.*--secret storage\.secretKey=<value>/);
        // The path form replaces exactly that value; the rest of the object stays the file's.
        const ok = render(["--config-file", file, "--stack", "prod", "--out", tmp("o"), ...prodSecrets]);
        assert.equal(ok.status, 0, ok.stderr);
    });

    it("--secret storage.secretKey=… merges into the stack file's storage object and makes storage secret", () => {
        const cfg = readStackConfig(path.join(root, "Pulumi.prod.yaml"), {
            namespace: "private-registry",
            setSecret: { "storage.accessKey": "AK", "private-registry:storage.secretKey": "SK", 'registry.notifications[0].headers["X-Key"][0]': "h" },
        });
        const storage = JSON.parse(cfg.values["private-registry:storage"]);
        assert.equal(storage.driver, "s3");
        assert.equal(storage.bucket, "registry-prod");
        assert.equal(storage.accessKey, "AK");
        assert.equal(storage.secretKey, "SK");
        assert.deepEqual(JSON.parse(cfg.values["private-registry:registry"]).notifications[0].headers, { "X-Key": ["h"] });
        assert.ok(cfg.secretKeys.includes("private-registry:storage"));
        assert.ok(cfg.secretKeys.includes("private-registry:registry"));
        assert.ok(!cfg.secretKeys.includes("private-registry:port"));

        const out = path.join(tmp("o"), "prod");
        const r = render(["--stack", "prod", "--out", out, "--include-secrets", ...prodSecrets]);
        assert.equal(r.status, 0, r.stderr);
        const config = fs.readFileSync(path.join(out, "registry", "config.yml"), "utf8");
        assert.match(config, /secretkey: rgw-secret-key/);
        assert.match(config, /bucket: registry-prod/);
    });

    it("with --include-secrets every file is 0600 (scripts 0700) and every folder 0700; a re-render drops what it no longer writes", () => {
        const out = path.join(tmp("o"), "prod");
        const r = render(["--stack", "prod", "--out", out, "--include-secrets", ...prodSecrets]);
        assert.equal(r.status, 0, r.stderr);
        const walk = (p: string): string[] => [p, ...(fs.statSync(p).isDirectory() ? fs.readdirSync(p).flatMap((e) => walk(path.join(p, e))) : [])];
        const all = walk(out);
        for (const f of ["registry/certs/registry.key", "registry/htpasswd", "registry/config.yml", "resources.json", "outputs.json"]) {
            assert.ok(all.includes(path.join(out, f)), f);
        }
        assert.ok(all.some((f) => f.endsWith("connection.json")) && all.some((f) => f.endsWith("changes.json")));
        for (const p of all) {
            const st = fs.statSync(p);
            const want = st.isDirectory() || p.endsWith(".sh") ? 0o700 : 0o600;
            assert.equal((st.mode & 0o777).toString(8), want.toString(8), path.relative(out, p) || "the --out folder");
        }
        const again = render(["--stack", "prod", "--out", out, ...prodSecrets]);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(fs.existsSync(path.join(out, "registry/certs/registry.key")), false, "the key of the earlier run is gone");
        // A folder of someone else's files is neither mixed into nor made private.
        const foreign = tmp("foreign");
        fs.writeFileSync(path.join(foreign, "notes.txt"), "mine");
        fs.chmodSync(foreign, 0o755);
        const refused = render(["--stack", "prod", "--out", foreign, ...prodSecrets]);
        assert.equal(refused.status, 2);
        assertOneLine(refused.stderr, /holds other files/);
        assert.equal(fs.statSync(foreign).mode & 0o777, 0o755);
    });
});

/** A Pulumi CLI not older than the SDK already on this machine (PATH, the npm cache, engine.sh's build cache). */
function realCli(): string | undefined {
    const home = pulumiHome();
    const cache = process.env.PULUMI_ENGINE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "private-registry", "engine");
    const under = (dir: string, rel: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).map((d) => path.join(dir, d, rel)) : []);
    const candidates = [
        ...(process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, "pulumi")),
        ...under(cache, "bin/pulumi"),
        ...under(path.join(home, "versions"), "bin/pulumi"),
    ];
    const [major, minor, patch] = SDK.split(".").map(Number);
    for (const c of candidates) {
        if (!fs.existsSync(c) || fs.realpathSync(c).endsWith(path.join("node_modules", "pulumi", "run.js"))) continue;
        const v = spawnSync(c, ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" }, timeout: 30_000 }).stdout ?? "";
        const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
        if (m && Number(m[1]) === major && (Number(m[2]) > minor || (Number(m[2]) === minor && Number(m[3]) >= patch))) return path.dirname(c);
    }
    return undefined;
}

/** Why the real-engine test does not run: the fast lane runs no engine, and it never fetches a CLI. */
function realCliSkip(): string | false {
    if (process.env.npm_lifecycle_event === "test:unit") return "npm run test:unit runs no engine";
    return realCli() === undefined && "no Pulumi CLI >= the SDK on this machine";
}

describe("the real Pulumi CLI through npm run pulumi and npm run preview", { skip: realCliSkip() }, () => {
    it("a bare pulumi in the project folder keeps its stacks where npm run pulumi does: Pulumi.yaml's backend is .pulumi-state/ there", () => {
        // A copy of the project file: the CLI resolves the relative URL against the folder it runs in.
        const project = tmp("project");
        fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        const e = env([realCli() as string], { PULUMI_CONFIG_PASSPHRASE: "scripts-test" });
        delete e.PULUMI_BACKEND_URL;
        const r = spawnSync("pulumi", ["stack", "init", "bare"], { cwd: project, env: e, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        const wrapperState = path.relative(root, new URL(DEFAULT_BACKEND).pathname);
        assert.ok(fs.existsSync(path.join(project, wrapperState, ".pulumi", "stacks", "private-registry", "bare.json")), fs.readdirSync(project).join(" "));
    });

    it("stack init, config set --secret, config get reach one state with one passphrase; a bad config is its message only, once, before the engine", () => {
        const stack = `scripts-test-${process.pid}`;
        stackFiles.push(path.join(root, `Pulumi.${stack}.yaml`));
        const e = env([NPM_BIN, realCli() as string], { STACK: stack, PULUMI_CONFIG_PASSPHRASE: "scripts-test" });
        const cli = (...args: string[]) => script("pulumi.ts", ["cli", ...args], e);
        let r = cli("stack", "init");
        assert.equal(r.status, 0, r.stderr);
        r = cli("config", "set", "--secret", "--path", "storage.secretKey", "s3cr3t");
        assert.equal(r.status, 0, r.stderr);
        r = cli("config", "get", "storage");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), { secretKey: "s3cr3t" });
        r = script("pulumi.ts", ["cli", "config", "get", "storage"], { ...e, PULUMI_CONFIG_PASSPHRASE: "wrong" });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /incorrect passphrase/);

        // The file the CLI wrote holds the nested encrypted value render cannot read.
        const rendered = script("render.ts", ["--stack", stack, "--out", tmp("o")], e);
        assert.equal(rendered.status, 2);
        assertOneLine(rendered.stderr, /storage\.secretKey is encrypted in the stack file/);

        r = cli("config", "set", "port", "88a");
        assert.equal(r.status, 0, r.stderr);
        r = script("pulumi.ts", ["preview"], e);
        assert.equal(r.status, 1);
        // Once, before the engine runs (through the engine, the SDK printed it twice).
        assert.equal((r.stderr.match(/private-registry:port must be an integer 1-65535, got "88a"/g) ?? []).length, 1, r.stderr);
        assert.doesNotMatch(r.stdout, /Previewing/);
        assert.doesNotMatch(r.stdout + r.stderr, /Unhandled exception|^\s+at /m);
    });
});

describe("npm run pulumi -- up without a language host", () => {
    it("refuses a command that runs the program, naming the wrapper's command with the same flags; other commands and a present host pass", () => {
        const bin = tmp("no-host");
        const problem = languageHostProblem(["up", "--yes", "--skip-preview"], bin, "");
        assert.match(problem ?? "", /no(ne)? .*pulumi-language-nodejs|nodejs language host, and there is none/);
        assert.match(problem ?? "", /npm run up -- --yes --skip-preview/);
        assert.match(languageHostProblem(["pre", "--diff"], bin, "") ?? "", /npm run preview -- --diff/);
        assert.equal(languageHostProblem(["stack", "output", "passwords"], bin, ""), undefined);
        fs.writeFileSync(path.join(bin, "pulumi-language-nodejs"), "", { mode: 0o755 });
        assert.equal(languageHostProblem(["up", "--yes"], bin, ""), undefined);
        const onPath = tmp("host-on-path");
        fs.writeFileSync(path.join(onPath, "pulumi-language-nodejs"), "", { mode: 0o755 });
        assert.equal(languageHostProblem(["destroy"], tmp("no-host-2"), onPath), undefined);
    });
});
