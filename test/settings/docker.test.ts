/** `parseSettings`: docker host and image, imageArchive. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ok, problems } from "./support";

describe("docker host and image", () => {
    it("accepts unix sockets and ssh:// with user, port, IPv6", () => {
        for (const host of ["unix:///run/user/1000/docker.sock", "ssh://docker.example", "ssh://deploy@10.0.0.5:2222", "ssh://deploy@[fd00::5]:22"]) {
            assert.equal(ok({ dockerHost: host }).docker.host, host);
        }
        assert.deepStrictEqual(ok({ dockerHost: "ssh://d@h.example", dockerSshOpts: ["-i", "/k"] }).docker.sshOpts, ["-i", "/k"]);
    });

    it("reads the major version from the tag, or takes registryVersion", () => {
        const cases: [Record<string, unknown>, 2 | 3][] = [
            [{ image: "registry:2.8.3" }, 2],
            [{ image: "registry:3" }, 3],
            [{ image: "registry" }, 3],
            [{ image: "registry:latest" }, 3],
            [{ image: "ghcr.io/distribution/distribution:v2.8.2" }, 2],
            [{ image: "localhost:5000/mirror/registry:2.8" }, 2],
            [{ image: `registry:3.0.0@sha256:${"a".repeat(64)}` }, 3],
            [{ image: `registry@sha256:${"b".repeat(64)}`, registryVersion: 2 }, 2],
            [{ image: "my-org/registry:stable", registryVersion: "3" }, 3],
            [{ image: "registry:3.1.2", registryVersion: 3 }, 3],
        ];
        for (const [values, v] of cases) assert.equal(ok(values).registryVersion, v, JSON.stringify(values));
    });

    it("keepImage and containerName", () => {
        const s = ok({ keepImage: false, containerName: "Registry_1.prod-a" });
        assert.equal(s.keepImage, false);
        assert.equal(s.containerName, "Registry_1.prod-a");
        assert.equal(ok({ keepImage: "true" }).keepImage, true);
    });
});

describe("imageArchive", () => {
    it("must be an existing file given by its absolute path", () => {
        const file = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "pr-archive-")), "registry.tar");
        fs.writeFileSync(file, "not really a tar");
        assert.equal(ok({ imageArchive: file }).imageArchive, file);
        assert.match(problems({ imageArchive: "registry.tar" })[0], /imageArchive must be the absolute path of a docker save archive/);
        assert.match(problems({ imageArchive: `${file}.missing` })[0], /imageArchive must be the absolute path/);
        assert.equal(ok({}).imageArchive, undefined);
    });
});
