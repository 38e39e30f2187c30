import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../scripts/stackFile";
import { SettingsError } from "../settings";
import { isSecret, promiseOf, resetRecords, settle, setupMocks, type MockRun } from "./support/mocks";

let run: MockRun;
let main: typeof import("../program").main;

const sshKey = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();

before(async () => {
    run = setupMocks({ stack: "dev" });
    ({ main } = await import("../program"));
});

/** A well-formed ed25519 host key (32 zero bytes). */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

function useStack(file: string, setSecret: Record<string, string> = {}, set: Record<string, string> = {}) {
    // The mocks run no registry for the end-of-up check (verify) to reach.
    const cfg = readStackConfig(file, { namespace: "private-registry", setSecret, set: { verify: "false", ...set } });
    pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
}

async function runMain() {
    resetRecords(run);
    const out = main();
    await promiseOf(pulumi.all(Object.values(out) as pulumi.Output<unknown>[]));
    await settle();
    return out;
}

describe("the program on each stack file", () => {
    it("dev: the local engine, localhost:5000 on 127.0.0.1, a kept volume, one generated user, no clients", async () => {
        useStack("Pulumi.dev.yaml");
        const out = await runMain();
        assert.equal(await promiseOf(out.endpoint), "localhost:5000");
        assert.deepEqual(await promiseOf(out.endpoints), ["localhost:5000", "127.0.0.1:5000"]);
        assert.deepEqual(await promiseOf(out.usernames), ["admin"]);
        assert.equal(await isSecret(out.passwords), true);
        assert.match(await promiseOf(out.caCertPem), /BEGIN CERTIFICATE/);
        const c = run.get("docker:index/container:Container", "registry-registry-container");
        assert.deepEqual(c.inputs.ports, [{ internal: 5000, external: 5000, ip: "127.0.0.1" }]);
        assert.equal(run.get("pulumi:providers:docker", "registry-docker").inputs.host, "unix:///var/run/docker.sock");
        assert.equal(run.get("docker:index/remoteImage:RemoteImage", "registry-registry-image").inputs.name, "registry:3.1.2");
        assert.equal(run.get("docker:index/volume:Volume", "registry-registry-data").inputs.name, "private-registry-data");
        assert.equal(run.engine("docker:index/volume:Volume", "registry-registry-data").retainOnDelete, true);
        // The real docker provider reads memory+swap back and cannot change a healthcheck in place.
        assert.equal(c.inputs.memory, 4096);
        assert.equal(c.inputs.memorySwap, 4096);
        assert.deepEqual(run.engine("docker:index/container:Container", "registry-registry-container").replaceOnChanges, ["healthcheck"]);
        assert.equal(run.ofType("command:remote:Command").length, 0);
    });

    it("prod: remote engine over SSH, S3 on Ceph RGW with path style, three clients, two users", async () => {
        useStack("Pulumi.prod.yaml", {
            sshPrivateKey: sshKey,
            storage: JSON.stringify({
                driver: "s3",
                region: "us-east-1",
                bucket: "registry-prod",
                regionEndpoint: "http://rgw.prod.example.internal:7480",
                v4Auth: true,
                secure: false,
                accessKey: "AK",
                secretKey: "SK-very-secret",
            }),
        });
        const out = await runMain();
        assert.equal(await promiseOf(out.endpoint), "registry.prod.example.internal:5000");
        assert.deepEqual(await promiseOf(out.usernames), ["ci", "ops"]);
        assert.equal(run.get("pulumi:providers:docker", "registry-docker").inputs.host, "ssh://deploy@registry-01.prod.example.internal");
        const hosts = run.ofType("pulumi-nodejs:dynamic/private-registry:HostConfiguration");
        assert.deepEqual(hosts.map((c) => c.name).sort(), [
            "registry-client-app-01-config",
            "registry-client-build-01-config",
            "registry-client-build-02-config",
        ]);
        assert.ok(
            hosts.every((h) => h.inputs.wants.login !== undefined),
            "every prod client logs in",
        );
        assert.equal(run.get("pulumi-nodejs:dynamic/private-registry:HostConfiguration", "registry-client-app-01-config").inputs.connection.sudo, true);
        assert.deepEqual(run.get("tls:index/privateKey:PrivateKey", "registry-ca-key").inputs, { algorithm: "ECDSA", ecdsaCurve: "P384" });
        const uploads = run.get("docker:index/container:Container", "registry-registry-files-installer").inputs.uploads as { file: string; content: string }[];
        const config = uploads.find((u) => u.file === "/staging/config.yml")?.content ?? "";
        assert.match(config, /forcepathstyle: true/);
        assert.match(config, /secretkey: SK-very-secret/);
        assert.deepEqual(
            run.ofType("docker:index/volume:Volume").map((v) => v.name),
            ["registry-registry-files-volume"],
            "no data volume for object storage",
        );
    });

    it("e2e: the test network, fixed IP and alias, two clients (one through sudo)", async () => {
        // The suite sets the host keys at run time, as it does here.
        useStack("Pulumi.e2e.yaml", { sshPrivateKey: sshKey }, { "clients[0].hostKey": HOST_KEY, "clients[1].hostKey": HOST_KEY });
        const out = await runMain();
        assert.equal(await promiseOf(out.endpoint), "registry.test:5000");
        const c = run.get("docker:index/container:Container", "registry-registry-container");
        assert.deepEqual(c.inputs.networksAdvanced, [{ name: "pr-e2e-net", ipv4Address: "10.231.77.2", aliases: ["registry.test"] }]);
        assert.deepEqual(c.inputs.command, ["serve", "/etc/private-registry/config.yml"]);
    });
});

describe("a bad config fails before any resource is registered", () => {
    it("names the key and registers nothing", async () => {
        useStack("Pulumi.dev.yaml");
        pulumi.runtime.setAllConfig({ ...readStackConfig("Pulumi.dev.yaml", { namespace: "private-registry" }).values, "private-registry:port": "88a" }, []);
        resetRecords(run);
        assert.throws(
            () => main(),
            (e: unknown) => {
                assert.ok(e instanceof SettingsError);
                assert.match((e as Error).message, /private-registry:port must be an integer 1-65535, got "88a"/);
                return true;
            },
        );
        await settle();
        assert.equal(run.records.length, 0);
        assert.equal(run.registrations().length, 0);
    });

    it("refuses an SSH key given as plain config", async () => {
        const cfg = readStackConfig("Pulumi.e2e.yaml", { namespace: "private-registry", set: {} });
        pulumi.runtime.setAllConfig({ ...cfg.values, "private-registry:sshPrivateKey": sshKey }, []);
        resetRecords(run);
        assert.throws(() => main(), /private-registry:sshPrivateKey holds an SSH private key and must be set as a secret/);
        await settle();
        assert.equal(run.records.length, 0);
    });
});
