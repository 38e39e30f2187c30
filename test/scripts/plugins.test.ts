/**
 * scripts/plugins.ts: the wrapper installs the provider plugins built here (npm run providers'
 * cache) into the engine's PULUMI_HOME with the CLI's own `plugin install --file`, and after an
 * operation fails on a missing plugin it says the one command that fixes it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { installBuiltPlugins, missingPluginHint, pulumiHome, requiredPlugins } from "../../scripts/plugins";

describe("provider plugins for the wrapper", () => {
    it("installs each missing plugin that a build of ours has, with the CLI's plugin install --file; leaves installed ones alone", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-plugins-"));
        try {
            const cache = path.join(dir, "cache");
            const home = path.join(dir, "home");
            const plugins = requiredPlugins();
            assert.deepEqual(
                plugins.map((p) => p.name),
                ["docker", "tls", "random", "command"],
            );
            const docker = plugins[0];
            const tls = plugins[1];
            // A build of docker and of tls; tls is installed already.
            for (const p of [docker, tls]) {
                fs.mkdirSync(path.join(cache, `${p.name}-${p.version}-abc`), { recursive: true });
                fs.writeFileSync(path.join(cache, `${p.name}-${p.version}-abc`, `pulumi-resource-${p.name}`), "#!/bin/sh\n", { mode: 0o755 });
            }
            fs.mkdirSync(path.join(home, "plugins", `resource-tls-v${tls.version}`), { recursive: true });
            fs.writeFileSync(path.join(home, "plugins", `resource-tls-v${tls.version}`, "pulumi-resource-tls"), "", { mode: 0o755 });
            const calls = path.join(dir, "calls");
            const cli = path.join(dir, "pulumi");
            fs.writeFileSync(cli, `#!/bin/sh\necho "$PULUMI_HOME $*" >> ${JSON.stringify(calls)}\n`, { mode: 0o755 });
            const saved = process.env.PRIVATE_REGISTRY_PROVIDERS_CACHE;
            process.env.PRIVATE_REGISTRY_PROVIDERS_CACHE = cache;
            try {
                const lines = installBuiltPlugins(cli, { ...process.env, PULUMI_HOME: home });
                assert.deepEqual(lines, [
                    `installed the docker plugin v${docker.version} from ${path.join(cache, `docker-${docker.version}-abc`)} (built from its public source by npm run providers)`,
                ]);
                assert.equal(
                    fs.readFileSync(calls, "utf8"),
                    `${home} plugin install resource docker ${docker.version} --file ${path.join(cache, `docker-${docker.version}-abc`, "pulumi-resource-docker")}\n`,
                );
            } finally {
                if (saved === undefined) delete process.env.PRIVATE_REGISTRY_PROVIDERS_CACHE;
                else process.env.PRIVATE_REGISTRY_PROVIDERS_CACHE = saved;
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("after the engine's missing-plugin errors: the one command that fixes it; after any other error: nothing", () => {
        const hint = missingPluginHint("error: no resource plugin 'pulumi-resource-docker' found in the workspace at version v5.2.0 or on your $PATH");
        assert.match(hint ?? "", /^the engine has no docker plugin v5\.2\.0 and could not download it/);
        assert.match(hint ?? "", /npm run pulumi -- plugin install resource docker 5\.2\.0/);
        assert.match(hint ?? "", /npm run providers -- <folders>/);
        assert.match(
            missingPluginHint("Could not automatically download and install resource plugin 'pulumi-resource-tls' at version v5.6.1") ?? "",
            /no tls plugin v5\.6\.1/,
        );
        assert.equal(missingPluginHint("update failed"), undefined);
    });

    it("PULUMI_HOME is the CLI's: PULUMI_HOME when set and not empty, else ~/.pulumi of the passwd entry whatever $HOME says", () => {
        const own = path.join(os.userInfo().homedir, ".pulumi");
        assert.equal(pulumiHome({ PULUMI_HOME: "/srv/pulumi", HOME: "/elsewhere" }), "/srv/pulumi");
        assert.equal(pulumiHome({ PULUMI_HOME: "", HOME: "/elsewhere" }), own);
        assert.equal(pulumiHome({ HOME: "/elsewhere" }), own);
    });
});
