/** Each component on its own, under layer-2 mocks: children, inputs, options and secrets. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { isSecret, promiseOf, resetRecords, settle, setupMocks, type MockRun } from "../support/mocks";
import { FAKE_SSH_KEY } from "../support/settingsFixtures";
import { registryConfigDraft } from "../../components/registry/registryModel";

let run: MockRun;
let C: {
    CertificateAuthority: typeof import("../../components/pki/certificateAuthority").CertificateAuthority;
    RegistryCertificate: typeof import("../../components/pki/registryCertificate").RegistryCertificate;
    RegistryUsers: typeof import("../../components/users/registryUsers").RegistryUsers;
    Registry: typeof import("../../components/registry/registry").Registry;
    ClientHost: typeof import("../../components/clients/clientHost").ClientHost;
    bucketProvider: typeof import("../../components/storage/storageBucket").bucketProvider;
};

before(async () => {
    run = setupMocks({ commandStdout: (n) => (n.endsWith("-daemon-read") ? "" : "ok") });
    C = {
        ...(await import("../../components/pki/certificateAuthority")),
        ...(await import("../../components/pki/registryCertificate")),
        ...(await import("../../components/users/registryUsers")),
        ...(await import("../../components/registry/registry")),
        ...(await import("../../components/clients/clientHost")),
        ...(await import("../../components/storage/storageBucket")),
    };
});

async function done(...outs: pulumi.Output<unknown>[]) {
    await promiseOf(pulumi.all(outs));
    await settle();
}

function childrenOf(component: string) {
    return run.registrations().filter((r) => r.parent.includes(`::${component}`) && r.name !== component);
}

describe("CertificateAuthority", () => {
    it("generates a key and a self-signed CA certificate as its children; the key output is secret", async () => {
        resetRecords(run);
        const ca = new C.CertificateAuthority("ca", { generate: { algorithm: "RSA", commonName: "CN", organization: "O" } });
        await done(ca.certPem, ca.privateKeyPem);
        assert.deepEqual(
            childrenOf("ca")
                .map((r) => r.name)
                .sort(),
            ["ca-cert", "ca-key"],
        );
        assert.equal(run.get("tls:index/privateKey:PrivateKey", "ca-key").inputs.rsaBits, 4096);
        assert.equal(run.get("tls:index/selfSignedCert:SelfSignedCert", "ca-cert").inputs.validityPeriodHours, 87600);
        assert.equal(await isSecret(ca.privateKeyPem), true);
        assert.equal(await isSecret(ca.certPem), false);
    });

    it("adopts an existing CA without children and makes its key secret", async () => {
        resetRecords(run);
        const ca = new C.CertificateAuthority("ca2", { existing: { certPem: "CERT", keyPem: "KEY" } });
        await done(ca.certPem, ca.privateKeyPem);
        assert.equal(childrenOf("ca2").length, 0);
        assert.equal(await isSecret(ca.privateKeyPem), true);
        assert.equal(await promiseOf(ca.privateKeyPem), "KEY");
    });

    it("needs exactly one of generate or existing", () => {
        assert.throws(() => new C.CertificateAuthority("ca3", {}), /exactly one/);
    });
});

describe("RegistryCertificate", () => {
    it("refuses a certificate without SANs and an early renewal window as long as the validity", () => {
        const ca = { certPem: "C", privateKeyPem: "K" };
        assert.throws(() => new C.RegistryCertificate("c1", { dnsNames: [], ipAddresses: [], ca }), /at least one DNS name or IP/);
        assert.throws(
            () => new C.RegistryCertificate("c2", { dnsNames: ["r"], ipAddresses: [], ca, validityHours: 10, earlyRenewalHours: 10 }),
            /earlyRenewalHours/,
        );
    });

    it("puts every name into the CSR, the CN from the first name, and signs with the CA key as a secret", async () => {
        resetRecords(run);
        const c = new C.RegistryCertificate("c3", {
            dnsNames: ["a.example", "b.example"],
            ipAddresses: ["10.0.0.1"],
            ca: { certPem: "CA", privateKeyPem: "CAKEY" },
        });
        await done(c.certPem, c.privateKeyPem);
        const csr = run.get("tls:index/certRequest:CertRequest", "c3-csr").inputs;
        assert.deepEqual([csr.subject.commonName, csr.dnsNames, csr.ipAddresses], ["a.example", ["a.example", "b.example"], ["10.0.0.1"]]);
        assert.ok(run.get("tls:index/locallySignedCert:LocallySignedCert", "c3-cert").secretInputs.includes("caPrivateKeyPem"));
        assert.equal(await isSecret(c.privateKeyPem), true);
    });
});

describe("RegistryUsers", () => {
    it("makes one RandomPassword per generated user and one salt key, and keeps passwords and htpasswd secret", async () => {
        resetRecords(run);
        const u = new C.RegistryUsers("users", { users: [{ name: "a" }, { name: "b", passwordLength: 20 }, { name: "c", password: "given" }] });
        await done(u.htpasswd, u.passwords);
        assert.deepEqual(
            run.ofType("random:index/randomPassword:RandomPassword").map((r) => [r.name, r.inputs.length]),
            [
                ["users-salt-key", 43],
                ["users-password-a", 32],
                ["users-password-b", 20],
            ],
        );
        const costs = (await promiseOf(u.htpasswd))
            .split("\n")
            .filter(Boolean)
            .map((l) => l.split("$")[2]);
        assert.deepEqual(costs, ["04", "04", "10"], "generated passwords at cost 4, the supplied one at 10");
        assert.equal(await isSecret(u.passwords), true);
        assert.equal(await isSecret(u.htpasswd), true);
        assert.deepEqual(
            (await promiseOf(u.htpasswd))
                .split("\n")
                .filter(Boolean)
                .map((l) => l.split(":")[0]),
            ["a", "b", "c"],
        );
        assert.throws(() => new C.RegistryUsers("none", { users: [] }), /at least one user/);
        assert.throws(() => new C.RegistryUsers("long", { users: [{ name: "x", passwordLength: 80 }] }), /16-72/);
    });
});

/** A registry config draft for a v2 registry on inmemory storage, without TLS or auth. */
function draft(o: { port: number; debugPort?: number; prometheus?: boolean }) {
    return registryConfigDraft({
        registryVersion: 2,
        port: o.port,
        storage: { driver: "inmemory" },
        htpasswd: false,
        containerName: "private-registry",
        replicas: 1,
        replicaHosts: [],
        registry: {
            logLevel: "info",
            realm: "private-registry",
            storageHealthCheck: true,
            debugPort: o.debugPort,
            prometheus: o.prometheus ?? false,
            headers: {},
            notifications: [],
        },
    });
}

describe("Registry", () => {
    it("publishes the debug port on 127.0.0.1 only, opens a port below 1024 to its non-root user, and installs no TLS files without TLS", async () => {
        resetRecords(run);
        const r = new C.Registry("reg", {
            config: draft({ port: 443, debugPort: 5001, prometheus: true }),
            image: "registry:2.8.3",
            containerName: "r",
            publishDebugPort: true,
        });
        await done(r.configYaml, r.containerId);
        const c = run.get("docker:index/container:Container", "reg-container").inputs;
        assert.deepEqual(c.ports, [
            { internal: 443, external: 443, ip: "0.0.0.0" },
            { internal: 5001, external: 5001, ip: "127.0.0.1" },
        ]);
        assert.deepEqual(
            run.ofType("docker:index/network:Network").map((n) => [n.name, n.inputs.name]),
            [["reg-private-network", "r-private"]],
            "the published debug server's container is on a network of its own, not the default bridge",
        );
        assert.deepEqual(c.networksAdvanced, [{ name: "r-private" }]);
        assert.deepEqual(c.capabilities, { drops: ["ALL"] });
        assert.deepEqual(c.sysctls, { "net.ipv4.ip_unprivileged_port_start": "443" });
        assert.equal(c.user, "10000:10000");
        assert.equal(c.readOnly, true);
        assert.deepEqual(Object.keys(c.tmpfs), ["/tmp"]);
        assert.equal(c.envs[0], "GOMEMLIMIT=1024MiB", "the registry's own memory, by default");
        assert.deepEqual([c.memory, c.memorySwap], [4096, 4096], "the hard limit, four times it by default");
        assert.deepEqual(c.ulimits, [{ name: "nproc", soft: 1024, hard: 1024 }]);
        assert.deepEqual(c.command, ["serve", "/etc/private-registry/config.yml"]);
        assert.equal(c.uploads, undefined, "nothing is uploaded into a read-only root");
        const installer = run.get("docker:index/container:Container", "reg-files-installer").inputs;
        assert.deepEqual(
            installer.uploads.map((u: { file: string; permissions: string }) => [u.file, u.permissions]),
            [["/staging/config.yml", "0600"]],
        );
        assert.equal(installer.user, "0:0");
        assert.equal(installer.networkMode, "none");
        assert.deepEqual(installer.capabilities, { drops: ["ALL"], adds: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"] });
        assert.deepEqual(c.volumes, [{ volumeName: "r-files", containerPath: "/etc/private-registry", readOnly: true }], "no data volume for inmemory storage");
        assert.equal(c.destroyGraceSeconds, 10);
        const config = parseYaml(await promiseOf(r.configYaml));
        assert.equal(config.http.tls, undefined);
        assert.equal(config.auth, undefined);
        assert.deepEqual(config.http.debug, { addr: ":5001", prometheus: { enabled: true, path: "/metrics" } });
        assert.deepEqual(
            run.ofType("docker:index/volume:Volume").map((v) => v.name),
            ["reg-files-volume"],
        );
        assert.throws(
            () => new C.Registry("same-port", { config: draft({ port: 5001, debugPort: 5001 }), image: "i", containerName: "z" }),
            /config\.http\.debugAddr must use another port than the registry itself \(5001\)/,
        );
        resetRecords(run);
        const on5001 = new C.Registry("r5001", { config: draft({ port: 5001 }), image: "i", containerName: "y" });
        await done(on5001.configYaml);
        assert.equal(
            parseYaml(await promiseOf(on5001.configYaml)).http.debug.addr,
            "127.0.0.1:5002",
            "the unpublished debug server moves off the registry's port and listens on loopback only",
        );
        assert.deepEqual(run.ofType("docker:index/network:Network"), [], "an unpublished debug server needs no network of its own");
    });
});

describe("ClientHost", () => {
    const DYNAMIC = "pulumi-nodejs:dynamic/private-registry:HostConfiguration";
    it("is one host-side resource owned by registry and client, its credentials secret, after what it depends on", async () => {
        resetRecords(run);
        const h = new C.ClientHost("h1", {
            owner: "0123abcd/h1@10.0.0.9:22",
            connection: { host: "10.0.0.9", port: 22, user: "root", sudo: false, privateKey: FAKE_SSH_KEY, hostKey: "ssh-ed25519 AAAA" },
            addresses: ["r:5000"],
            caCertPem: "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
            daemonJson: { "log-opts": { "max-size": "10m" } },
            insecureRegistries: [],
            login: { username: "u", password: "pw-secret" },
        });
        await done(h.status);
        const [config] = run.ofType(DYNAMIC);
        assert.ok(config, `types: ${run.records.map((r) => r.type).join(", ")}`);
        assert.equal(config.name, "h1-config");
        assert.equal(config.inputs.owner, "0123abcd/h1@10.0.0.9:22");
        assert.equal(config.inputs.wants.login.password, "pw-secret");
        assert.deepEqual(config.inputs.wants.daemonJson, { "log-opts": { "max-size": "10m" } });
        assert.ok(config.secretInputs.includes("connection") && config.secretInputs.includes("wants"), `secret inputs: ${config.secretInputs.join(", ")}`);
        const provider = String(config.inputs.__provider);
        assert.ok(
            provider.length > 0 && !provider.includes("pw-secret") && !provider.includes("BEGIN OPENSSH"),
            "the serialized provider carries code, no credential",
        );
        assert.equal(run.engine(DYNAMIC, "h1-config").parent, run.engine("private-registry:host:ClientHost", "h1").urn);
    });
});

describe("StorageBucket's provider", () => {
    it("never replaces the bucket: a new region, endpoint spelling or name is an update, so no up ever runs the old bucket's delete", async () => {
        const target = { bucket: "images", region: "us-east-1", endpoint: "http://rgw.internal:7480", forcePathStyle: true };
        const olds = { target, deleteOnDestroy: true, created: true };
        for (const [what, changed] of Object.entries({
            region: { ...target, region: "default" },
            "endpoint spelling": { ...target, endpoint: "http://RGW.internal:7480/" },
            "bucket name": { ...target, bucket: "images-2" },
            "root directory": { ...target, rootDirectory: "/registry" },
        })) {
            const d = await C.bucketProvider.diff?.("id", olds, { target: changed, deleteOnDestroy: true });
            assert.deepEqual([d?.changes, d?.replaces], [true, []], what);
        }
        const same = await C.bucketProvider.diff?.("id", olds, { target, deleteOnDestroy: true });
        assert.equal(same?.changes, false);
    });
});
