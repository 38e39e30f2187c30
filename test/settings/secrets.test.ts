/** `parseSettings`: secrets, the error. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { renderRegistryConfig } from "../../components/registryConfig";
import { parseSettings, SettingsError } from "../../settings";
import { revealSecrets } from "../../components/secret";
import { Secret } from "../../components/args";
import { validDir, SSH_KEY, raw, ok, problems, stackFile } from "./support";

describe("secrets", () => {
    const SECRETS = ["OPS-PASSWORD-correct-horse", "RGW-ACCESS-KEY-PROD", "RGW-SECRET-KEY-PROD-0123456789", "REFQTE9ZLUtFWS1QUk9E", "QVBQMDEtS0VZ"];

    it("secret values become Secret instances", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        assert.ok(s.users[1].password instanceof Secret);
        for (const c of s.clients) assert.ok(c.privateKey instanceof Secret);
        assert.equal(String(s.users[1].password), "[secret]");
        assert.ok(s.storage.driver === "s3" && s.storage.accessKey instanceof Secret && s.storage.secretKey instanceof Secret);
        const r = ok(
            {
                registry: {
                    notifications: [{ name: "n", url: "https://n.example", headers: { Authorization: ["Bearer t"] } }],
                    proxy: { remoteUrl: "https://r.example", username: "u", password: "p" },
                    redis: { addrs: ["r:6379"], password: "p" },
                },
            },
            ["registry"],
        ).registry;
        assert.ok(r.notifications[0].headers?.Authorization[0] instanceof Secret);
        assert.ok(r.proxy?.password instanceof Secret && r.redis?.password instanceof Secret);
    });

    it("JSON.stringify and util.inspect of the settings print no secret value", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        const extra = ok(
            {
                storage: { driver: "azure", accountName: "acct", accountKey: "AZURE-KEY-SECRET", container: "c" },
                registry: {
                    notifications: [{ name: "n", url: "https://n.example", headers: { Authorization: ["Bearer NOTIFY-TOKEN-SECRET"] } }],
                    proxy: { remoteUrl: "https://r.example", username: "u", password: "PROXY-PW-SECRET" },
                    redis: { addrs: ["r:6379"], password: "REDIS-PW-SECRET" },
                },
            },
            ["storage", "registry"],
        );
        const spread = { ...s, storage: { ...s.storage }, registry: { ...extra.registry, proxy: { ...extra.registry.proxy } } };
        for (const text of [
            JSON.stringify(s),
            inspect(s, { depth: null }),
            JSON.stringify(extra),
            inspect(extra, { depth: null }),
            JSON.stringify(spread),
            inspect(spread, { depth: null }),
        ]) {
            for (const secret of [...SECRETS, "AZURE-KEY-SECRET", "NOTIFY-TOKEN-SECRET", "PROXY-PW-SECRET", "REDIS-PW-SECRET"]) {
                assert.ok(!text.includes(secret), `${secret} printed`);
            }
        }
        assert.match(JSON.stringify(s.storage), /"secretKey":"\[secret\]"/);
    });

    it("the renderer receives the credentials once they are revealed", () => {
        const s = parseSettings(stackFile(path.join(validDir, "prod-like.yaml")));
        const yaml = renderRegistryConfig({ version: s.registryVersion, storage: revealSecrets(s.storage), http: { addr: ":5000" } });
        assert.match(yaml, /secretkey: RGW-SECRET-KEY-PROD-0123456789/);
        assert.match(yaml, /accesskey: RGW-ACCESS-KEY-PROD/);
    });

    it("refuses private keys set as plain config, naming the command", () => {
        const p = problems({
            sshPrivateKey: SSH_KEY,
            caCertificate: "x",
            caPrivateKey: SSH_KEY,
            serverCertificate: "x",
            serverPrivateKey: SSH_KEY,
            serverCaCertificate: "x",
        }).join("\n");
        for (const k of ["sshPrivateKey", "caPrivateKey", "serverPrivateKey"]) {
            assert.match(
                p,
                new RegExp(`private-registry:${k} holds an? [a-zA-Z ]*private key and must be set as a secret: pulumi config set --secret ${k} <value>`),
            );
        }
    });

    it("never quotes a secret value in an error, even when the whole value is unreadable", () => {
        const secretKeys = ["users", "storage", "clients", "registry", "sshPrivateKey"];
        let message = "";
        try {
            parseSettings({
                values: {
                    users: '[{name: "a", password: "USERS-NOT-JSON-SECRET"',
                    storage: JSON.stringify({
                        driver: "s3",
                        region: "r",
                        bucket: "b",
                        accessKey: "AK-SECRET-1",
                        secretKey: 7,
                        chunkSize: "S3-SECRET-AS-CHUNK",
                    }),
                    clients: JSON.stringify([{ name: "a", host: "bad host CLIENT-SECRET", privateKey: "CLIENT-KEY-SECRET" }]),
                    registry: JSON.stringify({ proxy: { remoteUrl: "PROXY-URL-SECRET", password: 12345678 } }),
                    sshPrivateKey: "SSH-KEY-SECRET",
                },
                secretKeys: new Set(secretKeys),
            });
        } catch (e) {
            message = (e as Error).message;
        }
        assert.match(message, /got a value/);
        for (const s of [
            "USERS-NOT-JSON-SECRET",
            "AK-SECRET-1",
            "S3-SECRET-AS-CHUNK",
            "CLIENT-SECRET",
            "CLIENT-KEY-SECRET",
            "PROXY-URL-SECRET",
            "12345678",
            "SSH-KEY-SECRET",
        ]) {
            assert.ok(!message.includes(s), `${s} in:\n${message}`);
        }
    });
});

describe("the error", () => {
    it("lists every problem as `<full key> <what is wrong>, got <value>`", () => {
        try {
            parseSettings(raw({ port: "88a", users: [{ name: "a:b" }], prot: "1" }));
            assert.fail("accepted");
        } catch (e) {
            assert.ok(e instanceof SettingsError);
            assert.deepStrictEqual(
                e.problems.map((p) => p.key),
                ["private-registry:prot", "private-registry:port", "private-registry:users[0].name"],
            );
            assert.match(e.message, /^invalid stack configuration \(3 problems\):\n/);
            assert.match(e.message, /\n {2}private-registry:port must be an integer 1-65535, got "88a"\n/);
            assert.match(e.message, /private-registry:prot is not a known key \(did you mean "port"\?\); allowed: dockerHost, /);
        }
    });
});
