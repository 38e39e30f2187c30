import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { isSecret, promiseOf, resetRecords, settle, setupMocks, type MockRun } from "../support/mocks";
import { devSettings, FAKE_HOST_KEY, FAKE_SSH_KEY, prodSettings } from "../support/settingsFixtures";
import { Secret } from "../../components/args";

const T = {
    container: "docker:index/container:Container",
    image: "docker:index/remoteImage:RemoteImage",
    volume: "docker:index/volume:Volume",
    dockerProvider: "pulumi:providers:docker",
    key: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    csr: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
    password: "random:index/randomPassword:RandomPassword",
    host: "pulumi-nodejs:dynamic/private-registry:HostConfiguration",
    bucket: "pulumi-nodejs:dynamic/private-registry:S3Bucket",
    imageCopy: "pulumi-nodejs:dynamic/private-registry:ImageCopy",
    id: "random:index/randomId:RandomId",
};

let run: MockRun;
// Imported after setMocks so that resource modules see the mocked runtime.
let PrivateRegistry: typeof import("../../components/privateRegistry").PrivateRegistry;

before(async () => {
    run = setupMocks({
        commandStdout: (name) => (name.endsWith("-daemon-read") ? '{"data-root":"/srv/docker"}' : name.endsWith("-poll") ? "20.10.24" : ""),
    });
    ({ PrivateRegistry } = await import("../../components/privateRegistry"));
});

/** The files the installer container puts where the registry reads them: final path → upload. */
function installed(): Record<string, { file: string; content: string; permissions: string }> {
    const uploads = run.get(T.container, "registry-registry-files-installer").inputs.uploads as { file: string; content: string; permissions: string }[];
    return Object.fromEntries(uploads.map((u) => [u.file.replace(/^\/staging\//, "/etc/private-registry/"), u]));
}

async function deploy(settings = devSettings()) {
    resetRecords(run);
    const r = new PrivateRegistry("registry", settings);
    await promiseOf(pulumi.all([r.endpoint, r.configYaml, r.htpasswd, r.passwords, r.clientStatus, r.containerName]));
    await settle();
    return r;
}

describe("PrivateRegistry on the dev settings", () => {
    it("names every child after the component and parents it under the component tree", async () => {
        await deploy();
        const regs = run.registrations();
        assert.ok(regs.length > 10);
        for (const r of regs) {
            assert.ok(r.name.startsWith("registry"), `${r.type}::${r.name} is not prefixed`);
            if (r.type !== "private-registry:index:PrivateRegistry") {
                let parent = regs.find((p) => p.urn === r.parent);
                while (parent && parent.type !== "private-registry:index:PrivateRegistry") parent = regs.find((p) => p.urn === parent?.parent);
                assert.ok(parent, `${r.name} is not under PrivateRegistry: ${r.parent}`);
            }
        }
        assert.deepEqual(
            regs
                .filter((r) => !r.custom)
                .map((r) => `${r.type}::${r.name}`)
                .sort(),
            [
                "private-registry:auth:RegistryUsers::registry-users",
                "private-registry:index:PrivateRegistry::registry",
                "private-registry:pki:CertificateAuthority::registry-ca",
                "private-registry:pki:RegistryCertificate::registry-cert",
                "private-registry:registry:Registry::registry-registry",
                "private-registry:registry:RegistryFiles::registry-registry-files",
            ],
        );
    });

    it("generates an RSA CA with a subject and a CA-signed server certificate whose SANs hold every name", async () => {
        await deploy();
        assert.deepEqual(run.get(T.key, "registry-ca-key").inputs, { algorithm: "RSA", rsaBits: 4096 });
        const ca = run.get(T.selfSigned, "registry-ca-cert").inputs;
        assert.equal(ca.isCaCertificate, true);
        assert.equal(ca.subject.commonName, "private-registry CA");
        assert.deepEqual(ca.allowedUses, ["cert_signing", "crl_signing", "digital_signature"]);
        const csr = run.get(T.csr, "registry-cert-csr").inputs;
        assert.deepEqual(csr.dnsNames, ["localhost"]);
        assert.deepEqual(csr.ipAddresses, ["127.0.0.1"]);
        const leaf = run.get(T.signed, "registry-cert-cert");
        assert.deepEqual(leaf.inputs.allowedUses, ["digital_signature", "key_encipherment", "server_auth"]);
        assert.equal(leaf.inputs.validityPeriodHours, 8760);
        assert.equal(leaf.inputs.earlyRenewalHours, 720);
        assert.ok(leaf.inputs.caCertPem.includes(Buffer.from("fake CERTIFICATE for registry-ca-cert").toString("base64")), "signed by the CA");
        assert.ok(leaf.secretInputs.includes("caPrivateKeyPem"), "the CA key reaches the engine as a secret");
    });

    it("runs the container on the rendered config, certificate, key and htpasswd, installed on their own volume", async () => {
        const r = await deploy();
        const c = run.get(T.container, "registry-registry-container");
        assert.equal(c.inputs.name, "private-registry");
        assert.equal(c.inputs.restart, "always");
        assert.deepEqual(c.inputs.ports, [{ internal: 5000, external: 5000, ip: "127.0.0.1" }]);
        assert.deepEqual(c.inputs.volumes, [
            { volumeName: "private-registry-data", containerPath: "/var/lib/registry" },
            { volumeName: "private-registry-files", containerPath: "/etc/private-registry", readOnly: true },
        ]);
        assert.equal(c.inputs.privileged, undefined);
        assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
        assert.equal(c.inputs.sysctls, undefined);
        assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
        assert.equal(c.inputs.wait, true);
        assert.ok(c.inputs.healthcheck.tests.join(" ").includes("/debug/health"));
        assert.deepEqual(c.inputs.envs, ["GOMEMLIMIT=1024MiB", "OTEL_TRACES_EXPORTER=none"]);

        const files = installed();
        assert.deepEqual(Object.keys(files).sort(), [
            "/etc/private-registry/auth/htpasswd",
            "/etc/private-registry/config.yml",
            "/etc/private-registry/tls/registry.crt",
            "/etc/private-registry/tls/registry.key",
        ]);
        const config = parseYaml(files["/etc/private-registry/config.yml"].content);
        assert.equal(config.http.addr, ":5000");
        assert.equal(config.http.tls.certificate, "/etc/private-registry/tls/registry.crt");
        assert.equal(config.http.tls.key, "/etc/private-registry/tls/registry.key");
        assert.equal(config.auth.htpasswd.path, "/etc/private-registry/auth/htpasswd");
        assert.equal(config.storage.filesystem.rootdirectory, "/var/lib/registry");
        assert.equal(config.storage.delete.enabled, true);
        assert.equal(config.http.secret.length, 48);
        assert.equal(files["/etc/private-registry/tls/registry.crt"].content, await promiseOf(r.serverCertPem));
        assert.match(files["/etc/private-registry/auth/htpasswd"].content, /^admin:\$2b\$04\$/);
        for (const f of Object.values(files)) assert.equal(f.permissions, "0600", `${f.file} is staged 0600`);
        const installer = run.get(T.container, "registry-registry-files-installer");
        assert.ok(installer.secretInputs.includes("uploads"), "uploads hold the key, htpasswd and http secret: secret");
        assert.match(installer.inputs.entrypoints[2], /chmod 0600 '\/etc\/private-registry\/config\.yml\.tmp'/);
        assert.ok(c.secretInputs.includes("labels"), "the files digest is derived from secrets");
        assert.equal(await promiseOf(r.configYaml), files["/etc/private-registry/config.yml"].content);
    });

    /** What `docker` gets from a login command run in sh: its arguments, then its stdin. */
    const runLogin = (cmd: string, env: Record<string, string>, cwd = os.tmpdir()) =>
        execFileSync("sh", ["-c", `docker() { printf '<%s>' "$@"; printf ' stdin=%s' "$(cat)"; }; cd ${cwd} && { ${cmd}; } 2>&1`], {
            env: { ...process.env, ...env },
        }).toString();

    it("quotes the endpoint in loginCommands: an IPv6 literal's brackets would be a glob to the shell", async () => {
        const r = await deploy(devSettings({ hostnames: [], ipAddresses: ["fd00::5"] }));
        const cmd = (await promiseOf(r.loginCommands)).admin;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "login-"));
        fs.writeFileSync(path.join(dir, "f:5000"), "");
        assert.equal(runLogin(cmd, { REGISTRY_PASSWORD_ADMIN: "pw" }, dir), "<login><--username><admin><--password-stdin><[fd00::5]:5000> stdin=pw");
    });

    it("gives each user's login command a variable of its own: REGISTRY_PASSWORD_<NAME>, uppercased, other characters _", async () => {
        const r = await deploy(
            devSettings({
                users: [
                    { name: "admin", passwordLength: 32, rotate: 0 },
                    { name: "ci-bot.eu", passwordLength: 32, rotate: 0 },
                ],
            }),
        );
        const cmds = await promiseOf(r.loginCommands);
        const env = { REGISTRY_PASSWORD_ADMIN: "admin-pw", REGISTRY_PASSWORD_CI_BOT_EU: "bot-pw" };
        assert.equal(runLogin(cmds.admin, env), "<login><--username><admin><--password-stdin><localhost:5000> stdin=admin-pw");
        assert.equal(runLogin(cmds["ci-bot.eu"], env), "<login><--username><ci-bot.eu><--password-stdin><localhost:5000> stdin=bot-pw");
        assert.doesNotMatch(JSON.stringify(cmds), /pw-|-pw/, "no password in a command");
        assert.match(runLogin(cmds["ci-bot.eu"], {}), /REGISTRY_PASSWORD_CI_BOT_EU/, "an unset variable is named");
    });

    it("uses an explicit Docker provider, keeps the data volume on destroy, and the image locally", async () => {
        await deploy();
        const p = run.get(T.dockerProvider, "registry-docker");
        assert.equal(p.inputs.host, "unix:///var/run/docker.sock");
        assert.match(run.get(T.container, "registry-registry-container").provider, /pulumi:providers:docker::registry-docker::/);
        assert.match(run.get(T.image, "registry-registry-image").provider, /pulumi:providers:docker::registry-docker::/);
        assert.equal(run.get(T.image, "registry-registry-image").inputs.keepLocally, true);
        assert.equal(run.engine(T.volume, "registry-registry-data").retainOnDelete, true);
        assert.equal(run.engine(T.container, "registry-registry-container").deleteBeforeReplace, false);
        assert.deepEqual(run.engine(T.container, "registry-registry-container").ignoreChanges, ["logOpts"], "a host's own log-opts never replace the registry");
    });

    it("generates passwords safe in shells and URLs, and keeps every secret secret", async () => {
        const r = await deploy();
        const pw = run.get(T.password, "registry-users-password-admin").inputs;
        assert.equal(pw.length, 32);
        assert.equal(pw.overrideSpecial, "-_");
        const httpSecret = run.get(T.password, "registry-registry-http-secret").inputs;
        assert.equal(httpSecret.special, false);
        assert.equal(await isSecret(r.passwords), true);
        assert.equal(await isSecret(r.htpasswd), true);
        assert.equal(await isSecret(r.configYaml), true);
        assert.equal(await isSecret(r.serverKeyPem), true);
        assert.equal(await isSecret(r.caCertPem), false);
        assert.equal(await isSecret(r.endpoint), false);
        assert.deepEqual(await promiseOf(r.usernames), ["admin"]);
        assert.equal(await promiseOf(r.endpoint), "localhost:5000");
        assert.match((await promiseOf(r.loginCommands)).admin, /--password-stdin 'localhost:5000'$/);
        assert.doesNotMatch((await promiseOf(r.loginCommands)).admin, /pw-/);
    });

    it("creates no client steps without clients", async () => {
        const r = await deploy();
        assert.equal(run.ofType(T.host).length, 0);
        assert.equal(run.ofType(T.id).length, 0, "no registry id without clients");
        assert.deepEqual(await promiseOf(r.clientStatus), {});
    });
});

describe("PrivateRegistry on prod-like settings", () => {
    it("renders S3 credentials only into the secret config and never into plain inputs", async () => {
        const r = await deploy(prodSettings());
        const config = parseYaml(installed()["/etc/private-registry/config.yml"].content);
        assert.equal(config.storage.s3.secretkey, "s3-secret-key-value");
        assert.equal(config.storage.s3.forcepathstyle, true);
        assert.equal(await isSecret(r.configYaml), true);
        for (const rec of run.records) {
            const plain = JSON.stringify(Object.fromEntries(Object.entries(rec.inputs).filter(([k]) => !rec.secretInputs.includes(k))));
            assert.ok(!plain.includes("s3-secret-key-value"), `${rec.name} leaks the S3 secret key in a plain input`);
            assert.ok(!plain.includes("supplied-ops-password"), `${rec.name} leaks a supplied password`);
            assert.ok(!plain.includes("OPENSSH PRIVATE KEY"), `${rec.name} leaks the SSH key`);
        }
        assert.deepEqual(
            run.ofType(T.volume).map((v) => v.name),
            ["registry-registry-files-volume"],
            "no data volume for object storage",
        );
        assert.equal(run.get(T.dockerProvider, "registry-docker").inputs.host, "ssh://deploy@registry-host.example:22");
    });

    it("makes sure the S3 bucket exists before the registry starts, its credentials secret, and keeps it on destroy unless asked", async () => {
        const s = prodSettings();
        const ca = "-----BEGIN CERTIFICATE-----\nRGW-CA\n-----END CERTIFICATE-----\n";
        s.objectStore = { ensureBucket: true, deleteBucketOnDestroy: true, caCertPem: ca };
        await deploy(s);
        const bucket = run.get(T.bucket, "registry-storage-bucket");
        assert.deepEqual(bucket.inputs.target, {
            bucket: "registry",
            region: "us-east-1",
            endpoint: "http://rgw.example.internal:7480",
            forcePathStyle: true,
            accessKey: "AKIAFAKE",
            secretKey: "s3-secret-key-value",
            caCertPem: ca,
        });
        assert.equal(bucket.inputs.deleteOnDestroy, true);
        assert.ok(bucket.secretInputs.includes("target"), "the credentials are secret");
        assert.ok(!String(bucket.inputs.__provider).includes("s3-secret-key-value"));
        const deps = run.engine(T.container, "registry-registry-container").dependencies;
        assert.ok(deps.includes(run.engine(T.bucket, "registry-storage-bucket").urn), "the registry waits for the bucket");
        // The store's CA beside the system bundle, read through SSL_CERT_DIR (AWS_CA_BUNDLE panics the 2.8 S3 driver).
        assert.equal(installed()["/etc/private-registry/storage-ca/ca.crt"].content, ca);
        const envs = run.get(T.container, "registry-registry-container").inputs.envs as string[];
        assert.ok(envs.includes("SSL_CERT_DIR=/etc/private-registry/storage-ca"), envs.join(" "));
        assert.ok(!envs.some((e) => e.startsWith("AWS_CA_BUNDLE")));

        s.objectStore = { ensureBucket: false, deleteBucketOnDestroy: false };
        await deploy(s);
        assert.equal(run.ofType(T.bucket).length, 0, "ensureBucket: false leaves the bucket to the operator");
    });

    it("imports each listed image into the running registry as its first user, over TLS checked against the stack's CA; the password secret", async () => {
        const s = devSettings({
            imports: [
                { source: { archive: "/srv/airgap/app.tar" }, repository: "team/app", tag: "1.4" },
                { source: { image: "nginx:1.27" }, repository: "nginx", tag: "1.27" },
            ],
        });
        const r = await deploy(s);
        const copies = run.ofType(T.imageCopy);
        assert.deepEqual(
            copies.map((c) => c.name),
            ["registry-import-team/app:1.4-copy", "registry-import-nginx:1.27-copy"],
        );
        const archive = run.get(T.imageCopy, "registry-import-team/app:1.4-copy");
        assert.deepEqual(archive.inputs.source, { archive: "/srv/airgap/app.tar" });
        assert.deepEqual(archive.inputs.to, { repository: "team/app", tag: "1.4" });
        const target = archive.inputs.target as Record<string, unknown>;
        const ca = await promiseOf(r.caCertPem);
        assert.match(ca, /BEGIN CERTIFICATE/);
        assert.deepEqual(
            { ...target, password: typeof target.password },
            { host: "127.0.0.1", port: 5000, tls: true, servername: "localhost", caCertPem: ca, username: "admin", password: "string" },
        );
        assert.ok(archive.secretInputs.includes("target"), "the password is secret");
        assert.deepEqual(run.get(T.imageCopy, "registry-import-nginx:1.27-copy").inputs.source, {
            image: "nginx:1.27",
            dockerHost: "unix:///var/run/docker.sock",
        });
        const deps = run.engine(T.imageCopy, "registry-import-team/app:1.4-copy").dependencies;
        assert.ok(deps.includes(run.engine(T.container, "registry-registry-container").urn), "after the registry is up");
        assert.deepEqual(await promiseOf(r.imported), Object.fromEntries(copies.map((c) => [`${c.inputs.to.repository}:${c.inputs.to.tag}`, undefined])));
    });

    it("two replicas: one after the other on their own network, publishing nothing; the balancer on the endpoint's port and networks checks each one's health", async () => {
        const s = devSettings({
            replicas: 2,
            loadBalancer: { image: "haproxy:3.0", checkIntervalMs: 700 },
            networks: [{ name: "edge", ipv4Address: "10.1.2.3", aliases: ["registry.example"] }],
        });
        const r = await deploy(s);
        const containers = run.ofType(T.container).filter((c) => c.name.startsWith("registry-registry-container"));
        assert.deepEqual(
            containers.map((c) => [c.name, c.inputs.name]),
            [
                ["registry-registry-container", "private-registry"],
                ["registry-registry-container-2", "private-registry-2"],
            ],
        );
        for (const c of containers) {
            assert.deepEqual(c.inputs.ports ?? [], [], `${c.inputs.name} publishes nothing`);
            assert.deepEqual(
                (c.inputs.networksAdvanced as { name: string }[]).map((n) => n.name),
                ["private-registry-replicas"],
            );
        }
        assert.equal(run.get("docker:index/network:Network", "registry-registry-network").inputs.name, "private-registry-replicas");
        const second = run.engine(T.container, "registry-registry-container-2").dependencies;
        assert.ok(second.includes(run.engine(T.container, "registry-registry-container").urn), "the second replica waits for the first");
        const config = parseYaml(await promiseOf(r.configYaml));
        assert.equal(config.http.debug.addr, ":5001", "the balancer checks health on the replica network");
        assert.equal(config.http.draintimeout, "10s");

        const lb = run.get(T.container, "registry-registry-lb-container");
        assert.equal(lb.inputs.name, "private-registry-lb");
        assert.deepEqual(lb.inputs.ports, [{ internal: 5000, external: 5000, ip: "127.0.0.1" }]);
        assert.deepEqual(lb.inputs.networksAdvanced, [
            { name: "private-registry-replicas" },
            { name: "edge", ipv4Address: "10.1.2.3", aliases: ["registry.example"] },
        ]);
        const cfg = (lb.inputs.uploads as { file: string; content: string }[])[0];
        assert.equal(cfg.file, "/usr/local/etc/haproxy/haproxy.cfg");
        assert.match(cfg.content, /^ {2}server private-registry private-registry:5000 port 5001$/m);
        assert.match(cfg.content, /^ {2}server private-registry-2 private-registry-2:5000 port 5001$/m);
        assert.match(cfg.content, /check inter 700 fall 2 rise 1/);
        const lbDeps = run.engine(T.container, "registry-registry-lb-container").dependencies;
        for (const c of ["registry-registry-container", "registry-registry-container-2"])
            assert.ok(lbDeps.includes(run.engine(T.container, c).urn), `after ${c}`);
        assert.deepEqual(lb.inputs.labels, [{ label: "private-registry.role", value: "balancer" }], "the balancer is marked as the program's");
        assert.equal(run.ofType("command:local:Command").filter((c) => c.name.endsWith("-balancer-retired")).length, 0, "nothing to retire with replicas");
    });

    it("one replica: a balancer left from several replicas is removed (by name and label) before the registry takes its port", async () => {
        await deploy(devSettings({ networks: [{ name: "edge", ipv4Address: "10.1.2.3", aliases: ["registry.example"] }] }));
        const retire = run.get("command:local:Command", "registry-registry-balancer-retired");
        assert.equal(retire.inputs.environment.BALANCER, "private-registry-lb");
        assert.equal(retire.inputs.environment.DOCKER_HOST, "unix:///var/run/docker.sock");
        assert.match(retire.inputs.create, /docker ps -aq --filter "name=\^\/\$BALANCER\$" --filter "label=private-registry\.role=balancer"/);
        const deps = run.engine(T.container, "registry-registry-container").dependencies;
        assert.ok(deps.includes(run.engine("command:local:Command", "registry-registry-balancer-retired").urn), "the registry container waits for it");
    });

    it("replicaHosts: one replica on each Docker host with its own provider, image and files, published there; the balancer on the stack's host checks each at its address over TLS", async () => {
        const s = {
            ...prodSettings(),
            replicas: 2,
            replicaHosts: [
                { docker: { host: "ssh://root@10.20.0.31", sshOpts: [] }, address: "10.20.0.31", port: 5000, bindAddress: "0.0.0.0" },
                { docker: { host: "ssh://root@10.20.0.32", sshOpts: ["-p", "2222"] }, address: "10.20.0.32", port: 5443, bindAddress: "10.20.0.32" },
            ],
            loadBalancer: { image: "haproxy:3.0", checkIntervalMs: 1000 },
        };
        const r = await deploy(s);
        const providers = run.ofType(T.dockerProvider);
        // A provider's inputs reach the engine as strings (sshOpts as JSON).
        assert.deepEqual(providers.map((p) => [p.name, p.inputs.host, p.inputs.sshOpts]).sort(), [
            ["registry-docker", "ssh://deploy@registry-host.example:22", '["-o","StrictHostKeyChecking=accept-new"]'],
            ["registry-docker-ssh://root@10.20.0.31", "ssh://root@10.20.0.31", undefined],
            ["registry-docker-ssh://root@10.20.0.32", "ssh://root@10.20.0.32", '["-p","2222"]'],
        ]);
        const onHost = (host: string, rec: { provider: string }) => rec.provider.startsWith(run.engine(T.dockerProvider, `registry-docker-${host}`).urn);
        for (const [i, host] of ["ssh://root@10.20.0.31", "ssh://root@10.20.0.32"].entries()) {
            const prefix = `registry-registry-replica-${host}`;
            const c = run.get(T.container, `${prefix}-container`);
            assert.equal(c.inputs.name, "private-registry", "the same container name as a stack of one, on its own host");
            assert.ok(onHost(host, c), `${c.name} runs on ${host}`);
            assert.ok(onHost(host, run.get(T.image, `${prefix}-image`)), "its image is pulled there");
            assert.ok(onHost(host, run.get(T.container, `${prefix}-files-installer`)), "its files are installed there");
            assert.ok(onHost(host, run.get(T.volume, `${prefix}-files-volume`)));
            assert.deepEqual(c.inputs.ports, [
                i === 0 ? { internal: 5000, external: 5000, ip: "0.0.0.0" } : { internal: 5000, external: 5443, ip: "10.20.0.32" },
            ]);
            assert.deepEqual(c.inputs.networksAdvanced ?? [], []);
        }
        const second = run.engine(T.container, "registry-registry-replica-ssh://root@10.20.0.32-container").dependencies;
        assert.ok(second.includes(run.engine(T.container, "registry-registry-replica-ssh://root@10.20.0.31-container").urn), "one host after the other");
        assert.equal(run.ofType("docker:index/network:Network").length, 0, "no replica network: the hosts are reached at their addresses");
        assert.ok(!run.records.some((x) => x.name === "registry-registry-container"), "nothing of the registry on the balancer's host");

        const config = parseYaml(await promiseOf(r.configYaml));
        assert.equal(config.http.debug.addr, "127.0.0.1:5001", "the debug server stays private: the balancer checks the registry's own port");
        assert.equal(config.http.draintimeout, "10s");
        const lb = run.get(T.container, "registry-registry-lb-container");
        assert.equal(lb.provider.startsWith(run.engine(T.dockerProvider, "registry-docker").urn), true, "the balancer on the stack's Docker host");
        assert.deepEqual(lb.inputs.ports, [{ internal: 5000, external: 5000, ip: "0.0.0.0" }]);
        assert.deepEqual(lb.inputs.networksAdvanced, []);
        const cfg = (lb.inputs.uploads as { content: string }[])[0].content;
        assert.match(cfg, /^ {2}server replica-1 10\.20\.0\.31:5000$/m);
        assert.match(cfg, /^ {2}server replica-2 10\.20\.0\.32:5443$/m);
        assert.match(cfg, /^ {2}option httpchk GET \/$/m);
        assert.match(cfg, /check-ssl verify none/);
        const lbDeps = run.engine(T.container, "registry-registry-lb-container").dependencies;
        assert.ok(lbDeps.includes(run.engine(T.container, "registry-registry-replica-ssh://root@10.20.0.32-container").urn), "after the replicas");
        assert.deepEqual(await promiseOf(r.replicaAddresses), { "ssh://root@10.20.0.31": "10.20.0.31:5000", "ssh://root@10.20.0.32": "10.20.0.32:5443" });
    });

    it("redisCache: the program's Redis on the registry's network with a generated password in its config file, the registry's cache pointed at it", async () => {
        const r = await deploy(devSettings({ redisCache: { image: "redis:7.4", memoryMb: 200 } }));
        const redis = run.get(T.container, "registry-registry-redis-container");
        assert.equal(redis.inputs.name, "private-registry-redis");
        assert.deepEqual(redis.inputs.networksAdvanced, [{ name: "private-registry-replicas" }]);
        assert.equal(redis.inputs.ports, undefined, "no published port");
        assert.deepEqual(redis.inputs.command, ["redis-server", "/usr/local/etc/redis/redis.conf"], "no password on the command line");
        const conf = (redis.inputs.uploads as { content: string }[])[0].content;
        assert.ok(redis.secretInputs.includes("uploads"), "its config (the password) is secret");
        const password = /^requirepass (\S+)$/m.exec(conf)?.[1] ?? "";
        assert.equal(password.length, 32);
        assert.match(conf, /^maxmemory 160mb$/m);
        const config = parseYaml(await promiseOf(r.configYaml));
        assert.equal(config.redis.addrs?.[0] ?? config.redis.addr, "private-registry-redis:6379");
        assert.equal(config.redis.password, password);
        assert.equal(config.storage.cache.blobdescriptor, "redis");
        const registry = run.get(T.container, "registry-registry-container");
        assert.deepEqual(
            (registry.inputs.networksAdvanced as { name: string }[]).map((n) => n.name),
            ["private-registry-replicas"],
        );
        assert.ok(
            run.engine(T.container, "registry-registry-container").dependencies.includes(run.engine(T.container, "registry-registry-redis-container").urn),
            "the registry starts after its cache",
        );
    });

    it("gcSchedule: a scheduler with the Docker socket and the files volume, a read-only config beside the registry's own, no restart of the registry for it", async () => {
        await deploy(devSettings());
        const plainDigest = run.get(T.container, "registry-registry-container").inputs.labels;
        await deploy(devSettings({ gcSchedule: { intervalHours: 24, deleteUntagged: false, image: "docker:27-cli" } }));
        const gc = run.get(T.container, "registry-registry-gc-container");
        assert.equal(gc.inputs.name, "private-registry-gc");
        assert.deepEqual(gc.inputs.entrypoints, ["/bin/sh", "-c"]);
        assert.equal(gc.inputs.networkMode, "none");
        assert.deepEqual(gc.inputs.volumes, [
            { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" },
            { volumeName: "private-registry-files", containerPath: "/files" },
        ]);
        const script = String(gc.inputs.command[0]);
        assert.match(script, /^REPLICAS='private-registry'$/m);
        assert.match(script, /sleep 86400/);
        assert.match(script, /-v 'private-registry-data:\/var\/lib\/registry'/);
        // garbage-collect runs as the registry does: its environment (own memory, OpenTelemetry off) and hard limit.
        const registry = run.get(T.container, "registry-registry-container").inputs;
        assert.ok(script.includes((registry.envs as string[]).map((e) => `-e ${e}`).join(" ")), script);
        assert.ok(script.includes(`--memory ${registry.memory}m --memory-swap ${registry.memorySwap}m`), script);
        const uploads = run.get(T.container, "registry-registry-files-installer").inputs.uploads as { file: string; content: string }[];
        const readOnly = uploads.find((u) => u.file.endsWith("config.readonly.yml"));
        assert.ok(readOnly, uploads.map((u) => u.file).join(" "));
        const conf = parseYaml(readOnly.content);
        assert.equal(conf.storage.maintenance.readonly.enabled, true);
        assert.deepEqual(run.get(T.container, "registry-registry-container").inputs.labels, plainDigest, "the registry is not replaced for it");
        assert.ok(run.engine(T.container, "registry-registry-gc-container").dependencies.includes(run.engine(T.container, "registry-registry-container").urn));
    });

    it("rotates a generated password through its RandomPassword's keeper, and leaves a counter of 0 out (stacks from before keep their passwords)", async () => {
        const s = prodSettings();
        s.users = [
            { name: "ci", passwordLength: 40, rotate: 2 },
            { name: "ro", passwordLength: 32, rotate: 0 },
        ];
        await deploy(s);
        assert.deepEqual(run.get(T.password, "registry-users-password-ci").inputs.keepers, { rotate: "2" });
        assert.equal(run.get(T.password, "registry-users-password-ro").inputs.keepers, undefined);
    });

    it("air-gapped: loads the image from its archive with the docker CLI on the stack's Docker host before the image resource", async () => {
        const s = prodSettings();
        const archive = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pr-archive-")), "registry.tar");
        fs.writeFileSync(archive, "archive");
        s.imageArchive = archive;
        await deploy(s);
        const load = run.get("command:local:Command", "registry-registry-image-load");
        // The host's sshOpts travel with it, quoted for the script's ssh wrapper (test/components/containers/dockerCli.test.ts runs it).
        assert.deepEqual(load.inputs.environment, {
            DOCKER_HOST: "ssh://deploy@registry-host.example:22",
            PRIVATE_REGISTRY_SSH_ARGS: "'-o' 'StrictHostKeyChecking=accept-new'",
            IMAGE: s.image,
            ARCHIVE: archive,
        });
        assert.match(load.inputs.create, /docker image inspect "\$IMAGE".*\n.*docker load -i "\$ARCHIVE"/s);
        assert.ok(!load.inputs.create.includes(archive), "values reach the script in its environment only");
        assert.ok(
            run.engine(T.image, "registry-registry-image").dependencies.includes(run.engine("command:local:Command", "registry-registry-image-load").urn),
        );
        // The script itself, run against a stand-in docker CLI: loads only when the image is missing.
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "pr-docker-"));
        fs.writeFileSync(
            path.join(bin, "docker"),
            '#!/bin/sh\necho "$*" >> "$LOG"\ncase "$1 $2" in "image inspect") [ -e "$HAVE" ] ;; "load -i") touch "$HAVE" ;; esac\n',
            { mode: 0o755 },
        );
        const env = { PATH: `${bin}:/usr/bin:/bin`, IMAGE: "r:1", ARCHIVE: archive, LOG: path.join(bin, "log"), HAVE: path.join(bin, "have") };
        const sh = () => execFileSync("/bin/sh", ["-c", load.inputs.create], { env, encoding: "utf8" });
        assert.match(sh(), /loaded r:1/);
        assert.match(sh(), /r:1 is on the Docker host already/);
        assert.equal(
            fs
                .readFileSync(env.LOG, "utf8")
                .split("\n")
                .filter((l) => l.startsWith("load")).length,
            1,
            "loaded once",
        );
    });

    it("imports an image of the ssh:// Docker host with that host's sshOpts (without them the source stays the input it was)", async () => {
        const s = { ...prodSettings(), imports: [{ source: { image: "nginx:1.27" }, repository: "nginx", tag: "1.27" }] };
        await deploy(s);
        assert.deepEqual(run.get(T.imageCopy, "registry-import-nginx:1.27-copy").inputs.source, {
            image: "nginx:1.27",
            dockerHost: "ssh://deploy@registry-host.example:22",
            sshOpts: ["-o", "StrictHostKeyChecking=accept-new"],
        });
    });

    it("air-gapped with replicaHosts: the archive is loaded onto each replica host, with that host's sshOpts", async () => {
        const archive = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pr-archive-")), "registry.tar");
        fs.writeFileSync(archive, "archive");
        const s = {
            ...prodSettings(),
            imageArchive: archive,
            replicas: 2,
            replicaHosts: [
                { docker: { host: "ssh://root@10.20.0.31", sshOpts: [] }, address: "10.20.0.31", port: 5000, bindAddress: "0.0.0.0" },
                { docker: { host: "ssh://root@10.20.0.32", sshOpts: ["-i", "/keys/replica 2"] }, address: "10.20.0.32", port: 5000, bindAddress: "0.0.0.0" },
            ],
            loadBalancer: { image: "haproxy:3.0", checkIntervalMs: 1000 },
        };
        await deploy(s);
        const env = (host: string) => run.get("command:local:Command", `registry-registry-replica-${host}-image-load`).inputs.environment;
        assert.deepEqual(env("ssh://root@10.20.0.31"), { DOCKER_HOST: "ssh://root@10.20.0.31", IMAGE: s.image, ARCHIVE: archive });
        assert.deepEqual(env("ssh://root@10.20.0.32"), {
            DOCKER_HOST: "ssh://root@10.20.0.32",
            PRIVATE_REGISTRY_SSH_ARGS: "'-i' '/keys/replica 2'",
            IMAGE: s.image,
            ARCHIVE: archive,
        });
        assert.ok(!run.records.some((x) => x.name === "registry-registry-image-load"), "nothing loaded on the balancer's host");
    });

    it("hashes a supplied password without a RandomPassword and generates the other", async () => {
        const r = await deploy(prodSettings());
        assert.deepEqual(
            run
                .ofType(T.password)
                .map((p) => p.name)
                .sort(),
            ["registry-registry-http-secret", "registry-users-password-ci", "registry-users-salt-key"],
        );
        const pws = await promiseOf(r.passwords);
        assert.equal(pws.ops, "supplied-ops-password");
        assert.equal(pws.ci.length, 40);
        assert.match(await promiseOf(r.htpasswd), /^ci:\$2b\$04\$.*\nops:\$2b\$10\$/s);
    });

    it("configures each client through one host resource owned by the registry's stable id and the client, its credentials secret", async () => {
        const r = await deploy(prodSettings());
        const hosts = run.ofType(T.host);
        assert.deepEqual(hosts.map((h) => h.name).sort(), ["registry-client-node-a-config", "registry-client-node-b-config"]);
        const id = run.get(T.id, "registry-id");
        assert.equal(id.inputs.byteLength, 8);
        const a = run.get(T.host, "registry-client-node-a-config");
        assert.match(a.inputs.owner, /^.+\/node-a@10\.20\.0\.21:22$/, "owner: registry id / client @ host:port");
        assert.ok(a.secretInputs.includes("connection") && a.secretInputs.includes("wants"));
        assert.deepEqual(a.inputs.wants.addresses, ["registry.example.internal:5000", "10.20.0.10:5000"]);
        assert.match(a.inputs.wants.caCertPem, /BEGIN CERTIFICATE/);
        assert.deepEqual(a.inputs.wants.daemonJson, { "max-concurrent-downloads": 6, "live-restore": true });
        assert.deepEqual(a.inputs.wants.insecureRegistries, []);
        assert.deepEqual(a.inputs.wants.login, { username: "ci", password: (await promiseOf(r.passwords)).ci });
        const b = run.get(T.host, "registry-client-node-b-config");
        assert.deepEqual(
            { host: b.inputs.connection.host, port: b.inputs.connection.port, user: b.inputs.connection.user, sudo: b.inputs.connection.sudo },
            { host: "node-b.example.internal", port: 2222, user: "deploy", sudo: true },
        );
        assert.equal(b.inputs.wants.login, undefined);
        // Every client waits for the registry container.
        const registryUrn = run.registrations().find((x) => x.type === "private-registry:registry:Registry")!.urn;
        const containerUrn = run.engine("docker:index/container:Container", "registry-registry-container").urn;
        const deps = run.engine(T.host, "registry-client-node-a-config").dependencies;
        assert.ok(deps.includes(registryUrn) || deps.includes(containerUrn), deps.join("\n"));
        assert.ok(run.engine(T.host, "registry-client-node-a-config").additionalSecretOutputs.includes("connection"));
        const status = await promiseOf(r.clientStatus);
        assert.match(String(status["node-a"]), /^runtimes: docker\nwrote /, JSON.stringify(status));
    });

    it("hands the host resource every login SSH offers: host keys, passphrase, agent, bastion", async () => {
        const s = prodSettings();
        const bastion = FAKE_HOST_KEY.replace("AAAAAAAA fake", "AAAAAAAB bastion");
        s.clients[0] = {
            ...s.clients[0],
            privateKeyPassword: new Secret("key-passphrase-value"),
            sshAgent: "/run/agent.sock",
            proxy: { host: "bastion.example.internal", port: 2200, user: "jump", hostKey: bastion },
        };
        s.clients[1] = { ...s.clients[1], privateKey: undefined, hostKey: undefined, insecureSkipHostKeyCheck: true, sshAgent: true };
        const sock = process.env.SSH_AUTH_SOCK;
        process.env.SSH_AUTH_SOCK = "/tmp/agent-of-pulumi-up";
        try {
            await deploy(s);
        } finally {
            if (sock === undefined) delete process.env.SSH_AUTH_SOCK;
            else process.env.SSH_AUTH_SOCK = sock;
        }
        const a = run.get(T.host, "registry-client-node-a-config");
        assert.deepEqual(a.inputs.connection, {
            host: "10.20.0.21",
            port: 22,
            user: "root",
            sudo: false,
            hostKey: FAKE_HOST_KEY,
            privateKey: FAKE_SSH_KEY,
            privateKeyPassword: "key-passphrase-value",
            agent: "/run/agent.sock",
            proxy: { host: "bastion.example.internal", port: 2200, user: "jump", hostKey: bastion },
        });
        const b = run.get(T.host, "registry-client-node-b-config");
        // sshAgent: true is the agent of the process that runs each step: no login's socket path in the state.
        assert.deepEqual(b.inputs.connection, { host: "node-b.example.internal", port: 2222, user: "deploy", sudo: true, agent: true });
        assert.ok(!JSON.stringify(b.inputs).includes("/tmp/agent-of-pulumi-up"));
        for (const c of run.ofType(T.host)) {
            const plain = JSON.stringify(Object.fromEntries(Object.entries(c.inputs).filter(([k]) => !c.secretInputs.includes(k))));
            assert.ok(!plain.includes("key-passphrase-value"), `${c.name} leaks the key passphrase in a plain input`);
        }
    });

    it("adds the registry to insecure-registries only when TLS is off, and then installs no CA", async () => {
        const s = prodSettings();
        s.tls = { ...s.tls, enabled: false };
        s.clients = s.clients.map((c) => ({ ...c, loginAs: undefined }));
        await deploy(s);
        assert.equal(run.ofType(T.key).length, 0);
        const b = run.get(T.host, "registry-client-node-b-config");
        assert.equal(b.inputs.wants.caCertPem, undefined);
        assert.deepEqual(b.inputs.wants.insecureRegistries, ["registry.example.internal:5000", "10.20.0.10:5000"]);
        const config = parseYaml(installed()["/etc/private-registry/config.yml"].content);
        assert.equal(config.http.tls, undefined);
        assert.deepEqual(Object.keys(installed()).sort(), ["/etc/private-registry/auth/htpasswd", "/etc/private-registry/config.yml"]);
    });
});

describe("PrivateRegistry PKI choices", () => {
    it("adopts an existing CA: no CA key or certificate is generated, the server certificate is signed by it", async () => {
        const s = devSettings();
        s.tls = { ...s.tls, ca: { mode: "existing", certPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n", keyPem: new Secret("CA-KEY") } };
        const r = await deploy(s);
        assert.equal(run.ofType(T.selfSigned).length, 0);
        assert.deepEqual(
            run.ofType(T.key).map((k) => k.name),
            ["registry-cert-key"],
        );
        const leaf = run.get(T.signed, "registry-cert-cert");
        assert.match(leaf.inputs.caCertPem, /\nCA\n/);
        assert.equal(leaf.inputs.caPrivateKeyPem, "CA-KEY");
        assert.ok(leaf.secretInputs.includes("caPrivateKeyPem"));
        assert.match(await promiseOf(r.caCertPem), /\nCA\n/);
    });

    it("uses a bring-your-own certificate as is, with its CA for clients", async () => {
        const s = devSettings();
        s.tls = {
            ...s.tls,
            certificate: { mode: "existing", certPem: "LEAF-PEM", keyPem: new Secret("LEAF-KEY"), caPem: "ISSUER-PEM" },
        };
        const r = await deploy(s);
        assert.equal(run.ofType(T.key).length + run.ofType(T.signed).length + run.ofType(T.selfSigned).length, 0);
        const files = installed();
        assert.equal(files["/etc/private-registry/tls/registry.crt"].content, "LEAF-PEM");
        assert.equal(files["/etc/private-registry/tls/registry.key"].content, "LEAF-KEY");
        assert.equal(await promiseOf(r.caCertPem), "ISSUER-PEM");
        assert.equal(await isSecret(r.serverKeyPem), true);
    });

    it("a CA rollover: trust adds generation 2 beside 1 for clients, serve issues the certificate from 2, then 1 is gone", async () => {
        const caPem = (n: string) => Buffer.from(`fake CERTIFICATE for ${n}`).toString("base64");
        const stage = async (generation: number, rollover?: "trust" | "serve") => {
            const s = devSettings();
            if (s.tls.ca.mode !== "generate") throw new Error("a generated CA");
            // The new CA may differ in every choice; the old one stays as it was.
            s.tls.ca = { ...s.tls.ca, generation, rollover, ...(generation === 2 ? { algorithm: "ECDSA" as const } : {}) };
            const r = await deploy(s);
            return { trusted: await promiseOf(r.caCertPem), issuer: String(run.get(T.signed, "registry-cert-cert").inputs.caCertPem) };
        };
        const trust = await stage(2, "trust");
        assert.deepEqual(
            run
                .ofType(T.selfSigned)
                .map((c) => c.name)
                .sort(),
            ["registry-ca-cert", "registry-ca-g2-cert"],
        );
        assert.ok(trust.issuer.includes(caPem("registry-ca-cert")), "the server certificate still comes from generation 1");
        assert.ok(trust.trusted.includes(caPem("registry-ca-cert")) && trust.trusted.includes(caPem("registry-ca-g2-cert")), "clients trust both");
        assert.equal((trust.trusted.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
        assert.deepEqual(run.get(T.key, "registry-ca-g2-key").inputs, { algorithm: "ECDSA", ecdsaCurve: "P256" });
        assert.deepEqual(run.engine(T.key, "registry-ca-key").ignoreChanges, ["algorithm", "rsaBits", "ecdsaCurve"], "the old CA's key is kept as it is");

        const serve = await stage(2, "serve");
        assert.ok(serve.issuer.includes(caPem("registry-ca-g2-cert")), "the server certificate comes from generation 2");
        assert.equal((serve.trusted.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, "clients still trust both");

        const done = await stage(2);
        assert.deepEqual(
            run.ofType(T.selfSigned).map((c) => c.name),
            ["registry-ca-g2-cert"],
            "generation 1 leaves the state",
        );
        assert.ok(done.issuer.includes(caPem("registry-ca-g2-cert")));
        assert.equal((done.trusted.match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
    });

    it("generates ECDSA keys on the configured curve, never the provider's P224 default", async () => {
        const s = devSettings();
        s.tls = {
            ...s.tls,
            ca: {
                mode: "generate",
                algorithm: "ECDSA",
                rsaBits: 4096,
                ecdsaCurve: "P384",
                commonName: "CA",
                organization: "O",
                validityHours: 100,
                generation: 1,
            },
            certificate: { mode: "generate", algorithm: "ECDSA", rsaBits: 2048, ecdsaCurve: "P256", validityHours: 50, earlyRenewalHours: 5 },
        };
        await deploy(s);
        assert.deepEqual(run.get(T.key, "registry-ca-key").inputs, { algorithm: "ECDSA", ecdsaCurve: "P384" });
        assert.deepEqual(run.get(T.key, "registry-cert-key").inputs, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    });

    it("serves the same config path on a 2.x image and drops the v3-only environment", async () => {
        await deploy(devSettings({ image: "registry:2.8.3", registryVersion: 2 }));
        const c = run.get(T.container, "registry-registry-container");
        assert.deepEqual(c.inputs.command, ["serve", "/etc/private-registry/config.yml"]);
        assert.equal(parseYaml(installed()["/etc/private-registry/config.yml"].content).version, 0.1);
        assert.deepEqual(c.inputs.envs, ["GOMEMLIMIT=1024MiB"]);
    });

    it("runs the container as the configured user with the configured limits, and hands its files to that user", async () => {
        await deploy(devSettings({ container: { runAs: { uid: 20000, gid: 20001 }, memoryMb: 512, memoryLimitMb: 3000, pidsLimit: 256 } }));
        const c = run.get(T.container, "registry-registry-container").inputs;
        assert.equal(c.user, "20000:20001");
        assert.equal(c.envs[0], "GOMEMLIMIT=512MiB");
        assert.deepEqual([c.memory, c.memorySwap], [3000, 3000]);
        assert.deepEqual(c.ulimits, [{ name: "nproc", soft: 256, hard: 256 }]);
        const script = run.get(T.container, "registry-registry-files-installer").inputs.entrypoints[2];
        assert.match(script, /chown 20000:20001 '\/etc\/private-registry\/config\.yml\.tmp'/);
        assert.match(script, /chown -R 20000:20001 '\/var\/lib\/registry'/);
    });

    it("binds a host path instead of a volume when asked", async () => {
        await deploy(devSettings({ data: { kind: "hostPath", hostPath: "/srv/registry", shared: false } }));
        assert.deepEqual(
            run.ofType(T.volume).map((v) => v.name),
            ["registry-registry-files-volume"],
        );
        assert.deepEqual(run.get(T.container, "registry-registry-container").inputs.volumes, [
            { hostPath: "/srv/registry", containerPath: "/var/lib/registry" },
            { volumeName: "private-registry-files", containerPath: "/etc/private-registry", readOnly: true },
        ]);
        const installer = run.get(T.container, "registry-registry-files-installer").inputs;
        assert.deepEqual(
            installer.volumes[1],
            { hostPath: "/srv/registry", containerPath: "/var/lib/registry" },
            "the installer hands the folder to the registry's user",
        );
    });
});

describe("PrivateRegistry from another program (the front door)", () => {
    it("takes its hostnames, a client host, its key and a user's password from other resources' outputs", async () => {
        resetRecords(run);
        // What another program would pass: outputs of its own resources (a VM's address and key, a DNS record).
        const r = new PrivateRegistry("registry", {
            hostnames: [pulumi.output("registry.lab")],
            ipAddresses: [],
            verify: false,
            users: [{ name: "ci", password: pulumi.output("from-a-vault-resource-0123456789") }],
            clients: [{ name: "vm", host: pulumi.output("10.9.9.9"), hostKey: pulumi.output(FAKE_HOST_KEY), privateKey: pulumi.output(FAKE_SSH_KEY) }],
        });
        const [endpoint, login, passwords] = await promiseOf(pulumi.all([r.endpoint, r.loginCommands, r.passwords]));
        await settle();
        assert.equal(endpoint, "registry.lab:5000");
        assert.match(login.ci, /--password-stdin 'registry\.lab:5000'$/);
        assert.equal(passwords.ci, "from-a-vault-resource-0123456789");
        assert.ok(await isSecret(r.passwords));
        assert.deepEqual(run.get(T.csr, "registry-cert-csr").inputs.dnsNames, ["registry.lab"]);
        const host = run.get(T.host, "registry-client-vm-config");
        assert.equal(host.inputs.connection.host, "10.9.9.9");
        assert.equal(host.inputs.connection.privateKey, FAKE_SSH_KEY);
        assert.equal(host.inputs.where, "registry-client-vm (10.9.9.9)");
        assert.match(host.inputs.owner, /\/vm@10\.9\.9\.9:22$/);
        assert.deepEqual(host.inputs.wants.addresses, ["registry.lab:5000"]);
        assert.deepEqual(host.inputs.wants.login, { username: "ci", password: "from-a-vault-resource-0123456789" });
        assert.ok(host.secretInputs.includes("connection"));
    });

    it("bounds the registry's own memory by GOMEMLIMIT, under a hard limit of four times it with no swap beyond", async () => {
        resetRecords(run);
        const r = new PrivateRegistry("registry", { verify: false, container: { memoryMb: 300 } });
        await promiseOf(r.endpoint);
        await settle();
        const c = run.get(T.container, "registry-registry-container").inputs;
        assert.equal(c.envs.filter((e: string) => e.startsWith("GOMEMLIMIT=")).join(), "GOMEMLIMIT=300MiB");
        assert.deepEqual([c.memory, c.memorySwap], [1200, 1200]);
    });

    it("fails the component, naming the argument, on one it cannot resolve", () => {
        assert.throws(() => new PrivateRegistry("bad", { users: [] }), /users: at least one user/);
        assert.throws(
            () => new PrivateRegistry("bad", { container: { memoryMb: 2048, memoryLimitMb: 1024 } }),
            /container\.memoryLimitMb must be at least container\.memoryMb \(2048\), got 1024/,
        );
    });
});
