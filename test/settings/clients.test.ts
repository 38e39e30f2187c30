/** `parseSettings`: clients and daemon.json, client SSH: host keys, logins, bastion. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { parseSettings, SettingsError } from "../../settings";
import { hostKeyProblem } from "../../settings/ssh";
import { Secret } from "../../components/args";
import { SSH_KEY, SSH_KEY_2, HOST_KEY, ok } from "./support";

describe("clients and daemon.json", () => {
    it("defaults: port 22, root, no sudo, login as the first user, the top-level daemon.json", () => {
        const s = ok(
            {
                sshPrivateKey: SSH_KEY,
                users: [{ name: "first" }, { name: "second" }],
                daemonJson: { debug: true, registryMirrors: ["https://mirror.example:5000"] },
                clients: [{ name: "a", host: "a.example" }],
            },
            ["sshPrivateKey"],
        );
        assert.deepStrictEqual(
            { ...s.clients[0], privateKey: s.clients[0].privateKey?.reveal() },
            {
                name: "a",
                host: "a.example",
                port: 22,
                user: "root",
                privateKey: SSH_KEY,
                hostKey: HOST_KEY,
                insecureSkipHostKeyCheck: false,
                sudo: false,
                loginAs: "first",
                daemonJson: { debug: true, registryMirrors: ["https://mirror.example:5000"] },
            },
        );
    });

    it("a non-root user gets sudo unless told otherwise; login by name, true, false; own keys; per-client daemon.json", () => {
        const s = ok(
            {
                users: [{ name: "pusher" }, { name: "puller" }],
                daemonJson: { maxConcurrentDownloads: 3, logOpts: { "max-size": "10m" } },
                clients: [
                    { name: "a", host: "10.0.0.1", user: "deploy", privateKey: SSH_KEY, login: "puller" },
                    { name: "b", host: "10.0.0.1", port: 2222, user: "ops", sudo: false, privateKey: SSH_KEY_2, login: "true" },
                    {
                        name: "c",
                        host: "fd00::3",
                        privateKey: SSH_KEY,
                        login: false,
                        daemonJson: { maxConcurrentDownloads: 9, liveRestore: false, maxConcurrentUploads: 2 },
                    },
                ],
            },
            ["clients"],
        );
        assert.deepStrictEqual(
            s.clients.map((c) => [c.name, c.port, c.user, c.sudo, c.loginAs, c.privateKey?.reveal() === SSH_KEY_2]),
            [
                ["a", 22, "deploy", true, "puller", false],
                ["b", 2222, "ops", false, "pusher", true],
                ["c", 22, "root", false, undefined, false],
            ],
        );
        assert.deepStrictEqual(s.clients[2].daemonJson, {
            maxConcurrentDownloads: 9,
            logOpts: { "max-size": "10m" },
            liveRestore: false,
            maxConcurrentUploads: 2,
        });
        assert.deepStrictEqual(s.clients[0].daemonJson, { maxConcurrentDownloads: 3, logOpts: { "max-size": "10m" } });
    });

    it("accepts PEM (PKCS#1, SEC1, PKCS#8) and OpenSSH private keys", () => {
        const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }).toString();
        for (const key of [rsa, ec, SSH_KEY, SSH_KEY_2]) assert.equal(ok({ sshPrivateKey: key }, ["sshPrivateKey"]).clients.length, 0);
    });
});

describe("client SSH: host keys, logins, bastion", () => {
    /** The SSH wire encoding of a public key blob. */
    const wire = (...parts: Buffer[]) => Buffer.concat(parts.flatMap((p) => [Buffer.from([0, 0, 0, p.length]), p]));
    const ecdsa = (curve: "P-256" | "P-384" | "P-521", name: string) => {
        const jwk = crypto.generateKeyPairSync("ec", { namedCurve: curve }).publicKey.export({ format: "jwk" });
        const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
        return `ecdsa-sha2-${name} ${wire(Buffer.from(`ecdsa-sha2-${name}`), Buffer.from(name), point).toString("base64")}`;
    };
    const ed25519 = () => {
        const der = crypto.generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" });
        return `ssh-ed25519 ${wire(Buffer.from("ssh-ed25519"), der.subarray(-32)).toString("base64")}`;
    };
    /** Exactly these clients: nothing pinned for them. */
    const parse = (clients: unknown[], extra: Record<string, unknown> = { sshPrivateKey: SSH_KEY }, secret = ["sshPrivateKey"]) =>
        parseSettings({
            values: Object.fromEntries(Object.entries({ ...extra, clients }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
            secretKeys: new Set(secret),
        });
    const refused = (clients: unknown[], key: string, re: RegExp, extra?: Record<string, unknown>, secret?: string[]) => {
        try {
            parse(clients, extra, secret);
        } catch (e) {
            assert.ok(e instanceof SettingsError, String(e));
            const p = e.problems.find((x) => x.key === `private-registry:${key}`);
            assert.ok(p, `no problem at ${key}: ${e.message}`);
            assert.match(p.message, re);
            return;
        }
        assert.fail(`accepted: ${JSON.stringify(clients)}`);
    };
    const encrypted = `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.concat([Buffer.from("openssh-key-v1\0"), wire(Buffer.from("aes256-ctr"), Buffer.from("bcrypt"))]).toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`;

    it("takes ed25519 and ECDSA host keys in authorized_keys form, with or without a comment, not as a secret", () => {
        for (const key of [
            ed25519(),
            `${ed25519()} root@build-01`,
            ecdsa("P-256", "nistp256"),
            ecdsa("P-384", "nistp384"),
            ecdsa("P-521", "nistp521"),
            `  ${HOST_KEY}  `,
        ]) {
            const c = parse([{ name: "a", host: "10.0.0.5", hostKey: key }]).clients[0];
            assert.equal(c.hostKey, key.trim());
            assert.equal(c.insecureSkipHostKeyCheck, false);
        }
    });

    it("requires a host key and refuses anything but one public key, naming the key", () => {
        refused([{ name: "a", host: "10.0.0.5" }], "clients[0].hostKey", /is required .*ssh-keyscan -t ed25519.*insecureSkipHostKeyCheck: true/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: `10.0.0.5 ${HOST_KEY}` }], "clients[0].hostKey", /starts with a host name/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-rsa AAAAB3NzaC1yc2E" }], "clients[0].hostKey", /not a valid ssh-rsa public key/);
        const small = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "pkcs1", format: "der" });
        const rsaLine = (der: Buffer) => {
            // e and n from the PKCS#1 DER, then the SSH wire form: string "ssh-rsa", mpint e, mpint n.
            const jwk = crypto.createPublicKey({ key: der, format: "der", type: "pkcs1" }).export({ format: "jwk" }) as { e: string; n: string };
            const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b]);
            const mpint = (b64: string) => {
                const b = Buffer.from(b64, "base64url");
                return str(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
            };
            return `ssh-rsa ${Buffer.concat([str(Buffer.from("ssh-rsa")), mpint(jwk.e), mpint(jwk.n)]).toString("base64")}`;
        };
        refused([{ name: "a", host: "10.0.0.5", hostKey: rsaLine(small) }], "clients[0].hostKey", /RSA key of 1024 bits; a host key needs at least 2048/);
        const big = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "pkcs1", format: "der" });
        assert.equal(hostKeyProblem(rsaLine(big)), undefined, "a 2048-bit RSA host key is accepted (checked with rsa-sha2 signatures)");
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-dss AAAAB3NzaC1kc3M=" }], "clients[0].hostKey", /must be a public host key/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-ed25519" }], "clients[0].hostKey", /has no key/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA" }], "clients[0].hostKey", /not a valid ssh-ed25519/);
        const ec = ecdsa("P-256", "nistp256").split(" ")[1];
        refused([{ name: "a", host: "10.0.0.5", hostKey: `ssh-ed25519 ${ec}` }], "clients[0].hostKey", /encoded type differs/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: `${HOST_KEY}\n${HOST_KEY}` }], "clients[0].hostKey", /one line/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: 5 }], "clients[0].hostKey", /must be a string/);
    });

    it("insecureSkipHostKeyCheck: true connects unchecked and warns naming the host and its bastion; it contradicts a pinned key", () => {
        const s = parse([{ name: "a", host: "10.0.0.5", port: 2222, insecureSkipHostKeyCheck: true, proxy: { host: "10.0.0.1" } }], {
            sshPrivateKey: SSH_KEY,
            hostnames: ["registry.example"],
        });
        assert.equal(s.clients[0].hostKey, undefined);
        assert.equal(s.clients[0].insecureSkipHostKeyCheck, true);
        assert.deepStrictEqual(s.warnings, [
            "private-registry:clients[0].insecureSkipHostKeyCheck is true: the SSH host key of a (10.0.0.5:2222) is not checked, nor that of its bastion 10.0.0.1:22, so whoever answers at that address gets the steps' commands and the registry password (docker login's stdin); set clients[0].hostKey instead (ssh-keyscan -t ed25519 <host>, without the leading host name)",
        ]);
        assert.equal(parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, insecureSkipHostKeyCheck: false }]).warnings.length, 1, "only the loopback one");
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, insecureSkipHostKeyCheck: true }], "clients[0].hostKey", /contradicts/);
        refused(
            [{ name: "a", host: "10.0.0.5", insecureSkipHostKeyCheck: true, proxy: { host: "b", hostKey: HOST_KEY } }],
            "clients[0].proxy.hostKey",
            /contradicts/,
        );
        refused([{ name: "a", host: "10.0.0.5", insecureSkipHostKeyCheck: "maybe" }], "clients[0].insecureSkipHostKeyCheck", /must be true or false/);
    });

    it("a bastion: host, port 22 and root by default, its own host key required", () => {
        const c = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "bastion.example", hostKey: HOST_KEY } }]).clients[0];
        assert.deepStrictEqual(c.proxy, { host: "bastion.example", port: 22, user: "root", hostKey: HOST_KEY });
        const d = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "fd00::1", port: 2200, user: "jump", hostKey: HOST_KEY } }])
            .clients[0];
        assert.deepStrictEqual(d.proxy, { host: "fd00::1", port: 2200, user: "jump", hostKey: HOST_KEY });
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "b" } }], "clients[0].proxy.hostKey", /is required .*bastion's public key/);
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { hostKey: HOST_KEY } }], "clients[0].proxy.host", /is required/);
        refused(
            [{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: { host: "b", hostKey: HOST_KEY, hostkey: 1 } }],
            "clients[0].proxy.hostkey",
            /not a known key/,
        );
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, proxy: "b" }], "clients[0].proxy", /must be an object/);
    });

    it("logins: a key (own or sshPrivateKey), ssh-agent by $SSH_AUTH_SOCK or a path; one of them is required", () => {
        const agentOnly = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: true }], {}).clients[0];
        assert.equal(agentOnly.privateKey, undefined);
        assert.equal(agentOnly.sshAgent, true);
        const path = parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: "/run/user/1000/agent.sock" }]).clients[0];
        assert.equal(path.sshAgent, "/run/user/1000/agent.sock");
        assert.equal(path.privateKey?.reveal(), SSH_KEY, "the key is still offered first");
        assert.equal(parse([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: false }]).clients[0].sshAgent, undefined);
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY }], "clients[0].privateKey", /sshPrivateKey or clients\[0\]\.sshAgent/, {});
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: false }], "clients[0].privateKey", /is required/, {});
        refused([{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, sshAgent: "agent.sock" }], "clients[0].sshAgent", /absolute path/);
    });

    it("privateKeyPassword: a secret, for the client's own passphrase-protected key only", () => {
        const own = (extra: Record<string, unknown>) => [{ name: "a", host: "10.0.0.5", hostKey: HOST_KEY, ...extra }];
        const c = parse(own({ privateKey: encrypted, privateKeyPassword: "correct horse" }), {}, ["clients"]).clients[0];
        assert.ok(c.privateKeyPassword instanceof Secret);
        assert.equal(c.privateKeyPassword.reveal(), "correct horse");
        assert.equal(c.privateKey?.reveal(), encrypted);
        const pem = crypto
            .generateKeyPairSync("rsa", {
                modulusLength: 2048,
                publicKeyEncoding: { type: "spki", format: "pem" },
                privateKeyEncoding: { type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" },
            })
            .privateKey.toString();
        assert.equal(parse(own({ privateKey: pem, privateKeyPassword: "pw" }), {}, ["clients"]).clients[0].privateKey?.reveal(), pem);
        refused(own({ privateKey: encrypted, privateKeyPassword: "correct horse" }), "clients[0].privateKeyPassword", /must be set as a secret/, {});
        refused(own({ privateKeyPassword: "correct horse" }), "clients[0].privateKeyPassword", /own privateKey/, { sshPrivateKey: SSH_KEY }, [
            "sshPrivateKey",
            "clients",
        ]);
        refused(own({ privateKey: SSH_KEY, privateKeyPassword: "x" }), "clients[0].privateKey", /not passphrase-protected/, {}, ["clients"]);
        refused(own({ privateKey: encrypted }), "clients[0].privateKey", /set clients\[0\]\.privateKeyPassword/, {}, ["clients"]);
        const pkcs8 = crypto
            .generateKeyPairSync("ed25519", {
                privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" },
                publicKeyEncoding: { type: "spki", format: "pem" },
            })
            .privateKey.toString();
        refused(own({ privateKey: pkcs8, privateKeyPassword: "pw" }), "clients[0].privateKey", /PKCS#8/, {}, ["clients"]);
    });
});
