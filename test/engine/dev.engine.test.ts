/**
 * The default stack (Pulumi.dev.yaml) on the real engine and this machine's Docker engine, with
 * the distribution 3.x test image as `registry:3.1.2` (test/e2e/infra/setup.sh builds it from the
 * Go module proxy): preview, up, the registry answering over TLS, a no-change up, destroy. The
 * program runs as a user's bare `pulumi up` runs it (the project folder through the language host)
 * wherever the language host is beside the CLI, inline elsewhere; the output says which.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { api, pushRandomImage, timed, type RegistryTarget } from "../e2e/support";
import { createStack, StepLog, type TestStack } from "./engine";

let ts: TestStack;
let volumeExisted = false;
const VOLUME = "private-registry-data";

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

before(async () => {
    volumeExisted = (() => {
        try {
            docker("volume", "inspect", VOLUME);
            return true;
        } catch {
            return false;
        }
    })();
    ts = await timed("engine and stack", () => createStack({ from: "dev", name: "dev", viaLanguageHost: true }));
});

after(async () => {
    if (!ts) return;
    await ts.stack.destroy({ color: "never" }).catch((e) => console.error(`destroy: ${(e as Error).message}`));
    if (!volumeExisted) docker("volume", "rm", "-f", VOLUME);
});

describe("the dev stack on the real engine", () => {
    it("preview --diff from nothing plans every resource and reports no error", async () => {
        const steps = new StepLog();
        const p = await timed("preview", () => ts.stack.preview({ diff: true, onEvent: steps.onEvent, color: "never" }));
        assert.deepEqual(
            steps.diagnostics.filter((d) => d.startsWith("error")),
            [],
        );
        assert.deepEqual(Object.keys(p.changeSummary), ["create"]);
        const types = new Set(steps.steps.map((s) => s.type));
        for (const t of [
            "tls:index/privateKey:PrivateKey",
            "tls:index/locallySignedCert:LocallySignedCert",
            "random:index/randomPassword:RandomPassword",
            "docker:index/container:Container",
            "docker:index/volume:Volume",
        ]) {
            assert.ok(types.has(t), `${t} is in the plan`);
        }
    });

    it("up: /v2/ answers 401 anonymously and 200 with the stack's password, over TLS verified against caCertPem; the image runs distribution 3", async () => {
        const res = await timed("up", () => ts.stack.up({ color: "never" }));
        const target: RegistryTarget = { host: "127.0.0.1", port: 5000, servername: "localhost", ca: String(res.outputs.caCertPem.value) };
        const pw = res.outputs.passwords.value as Record<string, string>;
        assert.equal(res.outputs.passwords.secret, true, "passwords is a secret output");
        assert.equal((await api(target, "GET", "/v2/")).status, 401);
        const ok = await api(target, "GET", "/v2/", { user: "admin", password: pw.admin });
        assert.equal(ok.status, 200);
        const version = docker("exec", String(res.outputs.containerName.value), "/bin/registry", "--version");
        assert.match(version, /distribution\/v3 v?3\.\d+\.\d+/);
    });

    it("a second up changes nothing, checks the registry as a client again, and a preview after it expects no change", async () => {
        const steps = new StepLog();
        const res = await timed("no-change up", () => ts.stack.up({ onEvent: steps.onEvent, color: "never" }));
        assert.deepEqual(steps.changes(), []);
        assert.deepEqual(Object.keys(res.summary.resourceChanges ?? {}), ["same"]);
        assert.ok(
            steps.info.includes("registry checked as a client: the endpoint localhost:5000 ok as admin"),
            `the end-of-up check ran: ${steps.info.join(" | ")}`,
        );
        await timed("preview --expect-no-changes", () => ts.stack.preview({ expectNoChanges: true, color: "never" }));
    });

    it("garbage collection with --delete-untagged (distribution 3): a tag pushed over frees the old image's space; the tag still pulls", async () => {
        const res = await ts.stack.outputs();
        const target: RegistryTarget = { host: "127.0.0.1", port: 5000, servername: "localhost", ca: String(res.caCertPem.value) };
        const auth = { user: "admin", password: (res.passwords.value as Record<string, string>).admin };
        const old = await pushRandomImage(target, auth, "gc/app", "1", 6_000_000);
        const current = await pushRandomImage(target, auth, "gc/app", "1", 100_000);
        const { garbageCollect } = await import("../../scripts/operations/gc");
        const stackFile = path.join(ts.dir, "Pulumi.dev.yaml");
        const text = fs.readFileSync(stackFile, "utf8");
        let uploadWhileReadOnly: number | undefined;
        const r = await timed("gc --delete-untagged", () =>
            garbageCollect(ts.stack, {
                deleteUntagged: true,
                whileReadOnly: async () => {
                    uploadWhileReadOnly = (await api(target, "POST", "/v2/gc/app/blobs/uploads/", auth)).status;
                },
            }),
        );
        assert.equal(uploadWhileReadOnly, 405, "read-only during the collection: the override reached the inline program");
        assert.equal(fs.readFileSync(stackFile, "utf8"), text, "the stack file is as it was, byte for byte");
        const freed = (r.beforeKiB ?? 0) - (r.afterKiB ?? 0);
        console.log(`  [e2e] gc freed ${freed} KiB (${r.beforeKiB} → ${r.afterKiB}): ${r.report.join(" | ")}`);
        assert.ok(freed >= 5500, `the untagged 6 MB image is collected, ${freed} KiB freed`);
        const accept = { accept: "application/vnd.oci.image.manifest.v1+json" };
        assert.equal((await api(target, "GET", `/v2/gc/app/manifests/${old}`, { ...auth, headers: accept })).status, 404, "the untagged manifest is gone");
        const tagged = await api(target, "HEAD", "/v2/gc/app/manifests/1", { ...auth, headers: accept });
        assert.equal(tagged.status, 200);
        assert.equal(tagged.headers["docker-content-digest"], current, "the tag still serves its image");
    });

    it("destroy removes the container and keeps the data volume (keepOnDestroy)", async () => {
        const res = await timed("destroy", () => ts.stack.destroy({ color: "never" }));
        assert.ok((res.summary.resourceChanges?.delete ?? 0) > 0);
        assert.throws(() => docker("inspect", "private-registry"));
        docker("volume", "inspect", VOLUME);
    });
});
