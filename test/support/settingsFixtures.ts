/** Hand-built `Settings` for component tests, independent of the config parser. */
import { Secret } from "../../components/args";
import type { Settings } from "../../settings/types";
import { importConnectHost } from "../../components/hosts";

/** A well-formed ed25519 host key (32 zero bytes; the layer-2 mocks never dial). */
export const FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA fake";

/** A fake but well-formed SSH key (the layer-2 mocks never dial). */
export const FAKE_SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZQ==\n-----END OPENSSH PRIVATE KEY-----\n";

/** The dev stack's shape: local engine, localhost, filesystem, one generated user, no clients. */
export function devSettings(overrides: Partial<Settings> = {}): Settings {
    const s: Settings = {
        docker: { host: "unix:///var/run/docker.sock", sshOpts: [] },
        image: "registry:3.1.2",
        registryVersion: 3,
        keepImage: true,
        // The layer-2 mocks run no registry to check.
        verify: false,
        containerName: "private-registry",
        replicas: 1,
        replicaHosts: [],
        hostnames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
        port: 5000,
        bindAddress: "127.0.0.1",
        networks: [],
        tls: {
            enabled: true,
            minimumTls: "tls1.2",
            ca: {
                mode: "generate",
                algorithm: "RSA",
                rsaBits: 4096,
                ecdsaCurve: "P256",
                commonName: "private-registry CA",
                organization: "private-registry",
                validityHours: 87600,
                generation: 1,
            },
            certificate: {
                mode: "generate",
                algorithm: "RSA",
                rsaBits: 2048,
                ecdsaCurve: "P256",
                validityHours: 8760,
                earlyRenewalHours: 720,
            },
        },
        users: [{ name: "admin", passwordLength: 32, rotate: 0 }],
        storage: { driver: "filesystem" },
        data: { kind: "volume", volumeName: "private-registry-data", keepOnDestroy: true },
        container: { runAs: { uid: 10000, gid: 10000 }, memoryMb: 1024, memoryLimitMb: 4096, pidsLimit: 1024 },
        registry: {
            logLevel: "info",
            realm: "private-registry",
            deleteEnabled: true,
            storageHealthCheck: true,
            prometheus: false,
            headers: {},
            notifications: [],
        },
        clients: [],
        imports: [],
        warnings: [],
        ...overrides,
    };
    // As parseSettings derives it, unless a test sets it.
    const reach = importConnectHost(s);
    return "reachFromHere" in overrides || reach === undefined ? s : { ...s, reachFromHere: reach };
}

/** A prod-like shape: remote engine, S3 on Ceph RGW, two users, two clients. */
export function prodSettings(): Settings {
    return devSettings({
        docker: { host: "ssh://deploy@registry-host.example:22", sshOpts: ["-o", "StrictHostKeyChecking=accept-new"] },
        hostnames: ["registry.example.internal"],
        ipAddresses: ["10.20.0.10"],
        bindAddress: "0.0.0.0",
        storage: {
            driver: "s3",
            region: "us-east-1",
            bucket: "registry",
            accessKey: new Secret("AKIAFAKE"),
            secretKey: new Secret("s3-secret-key-value"),
            regionEndpoint: "http://rgw.example.internal:7480",
        },
        objectStore: { ensureBucket: true, deleteBucketOnDestroy: false },
        users: [
            { name: "ci", passwordLength: 40, rotate: 0 },
            { name: "ops", password: new Secret("supplied-ops-password"), passwordLength: 32, rotate: 0 },
        ],
        clients: [
            {
                name: "node-a",
                host: "10.20.0.21",
                port: 22,
                user: "root",
                privateKey: new Secret(FAKE_SSH_KEY),
                hostKey: FAKE_HOST_KEY,
                insecureSkipHostKeyCheck: false,
                sudo: false,
                loginAs: "ci",
                daemonJson: { maxConcurrentDownloads: 6, liveRestore: true },
            },
            {
                name: "node-b",
                host: "node-b.example.internal",
                port: 2222,
                user: "deploy",
                privateKey: new Secret(FAKE_SSH_KEY),
                hostKey: FAKE_HOST_KEY,
                insecureSkipHostKeyCheck: false,
                sudo: true,
                loginAs: undefined,
                daemonJson: {},
            },
        ],
    });
}
