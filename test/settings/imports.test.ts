/** `parseSettings`: imports. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ok, problems } from "./support";

describe("imports", () => {
    const file = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "pr-imports-")), "app.tar");
    fs.writeFileSync(file, "an archive");

    it("an archive with its destination, an image on the Docker host named like itself (its registry dropped)", () => {
        assert.deepEqual(
            ok({
                imports: [
                    { archive: file, to: "team/app:1.4" },
                    { image: "docker.io/library/nginx:1.27" },
                    { image: "localhost:5001/tools/jq" },
                    { image: "bitnami/redis:7", to: "cache/redis" },
                ],
            }).imports,
            [
                { source: { archive: file }, repository: "team/app", tag: "1.4" },
                { source: { image: "docker.io/library/nginx:1.27" }, repository: "library/nginx", tag: "1.27" },
                { source: { image: "localhost:5001/tools/jq" }, repository: "tools/jq", tag: "latest" },
                { source: { image: "bitnami/redis:7" }, repository: "cache/redis", tag: "latest" },
            ],
        );
        assert.deepEqual(ok({}).imports, []);
    });

    it("refuses, naming the key: no source or two, a missing archive, no destination for an archive, a bad or repeated destination, a proxy, an unreachable registry", () => {
        assert.match(problems({ imports: [{ to: "a/b" }] })[0], /imports\[0\] needs exactly one of archive .* and image/);
        assert.match(problems({ imports: [{ archive: file, image: "a", to: "a" }] })[0], /imports\[0\] needs exactly one of/);
        assert.match(
            problems({ imports: [{ archive: "app.tar", to: "a" }] })[0],
            /imports\[0\]\.archive must be the absolute path of a docker save or OCI archive/,
        );
        assert.match(problems({ imports: [{ archive: file }] })[0], /imports\[0\]\.to is required for an archive/);
        assert.match(problems({ imports: [{ archive: file, to: "Team/App" }] })[0], /imports\[0\]\.to must be repository\[:tag\] .* got "Team\/App"/);
        assert.match(problems({ imports: [{ archive: file, to: "reg.example:5000/a/b" }] })[0], /imports\[0\]\.to must be repository\[:tag\] in this registry/);
        assert.match(problems({ imports: [{ image: "UPPER/case" }] })[0], /imports\[0\]\.image must be an image reference/);
        assert.match(
            problems({ imports: [{ image: "a/b:1" }, { archive: file, to: "a/b:1" }] })[0],
            /imports\[1\]\.to repeats "a\/b:1": two imports would overwrite each other's tag/,
        );
        assert.match(problems({ imports: [{ image: "a/b", extra: 1 }] })[0], /imports\[0\]\.extra/);
        assert.match(
            problems({ imports: [{ image: "a/b" }], registry: { proxy: { remoteUrl: "https://registry-1.docker.io" } } }, ["registry"]).join("\n"),
            /imports cannot be used with registry.proxy: a pull-through cache refuses pushes/,
        );
        assert.match(
            problems({ imports: [{ image: "a/b" }], dockerHost: "ssh://deploy@build.example", bindAddress: "127.0.0.1" })[0],
            /imports needs the registry reachable from the machine that runs up, but it listens on "127.0.0.1" of the remote Docker host/,
        );
    });
});
