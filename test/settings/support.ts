/** What the settings tests share: raw configs, the parse helpers, the defaults of an empty stack, keys and fixtures. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { readStackConfig } from "../../scripts/stackFile";
import { NAMESPACE, parseSettings, SettingsError, type RawConfig } from "../../settings";
import type { Settings } from "../../settings/types";
export const root = path.join(__dirname, "..", "..");
export const validDir = path.join(__dirname, "..", "fixtures", "valid-configs");

export const SSH_KEY = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
export const SSH_KEY_2 = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";

/** A well-formed ed25519 host key (32 zero bytes). */
export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/**
 * Clients that say nothing about host keys get {@link HOST_KEY}, as any real stack must give one:
 * the cases about other keys stay as they are. The host-key cases say what they mean.
 */
export function pinned(clients: unknown): unknown {
    if (!Array.isArray(clients)) return clients;
    const isBare = (c: unknown) => typeof c === "object" && c !== null && !Array.isArray(c) && !("hostKey" in c) && !("insecureSkipHostKeyCheck" in c);
    return clients.map((c) => (isBare(c) ? { ...c, hostKey: HOST_KEY } : c));
}

/** A RawConfig from short keys; objects and lists become JSON, other values their text; clients {@link pinned}. */
export function raw(values: Record<string, unknown>, secretKeys: string[] = []): RawConfig {
    const withKeys = values.clients === undefined ? values : { ...values, clients: pinned(values.clients) };
    return {
        values: Object.fromEntries(Object.entries(withKeys).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        secretKeys: new Set(secretKeys),
    };
}

/** Parses, failing the test with the full problem list if the config is refused. */
export function ok(values: Record<string, unknown>, secretKeys: string[] = [], now?: Date): Settings {
    try {
        return parseSettings(raw(values, secretKeys), { now });
    } catch (e) {
        assert.fail(e instanceof SettingsError ? e.message : String(e));
    }
}

/** The problems of a refused config, as `key message` lines. */
export function problems(values: Record<string, unknown>, secretKeys: string[] = [], now?: Date): string[] {
    try {
        parseSettings(raw(values, secretKeys), { now });
    } catch (e) {
        assert.ok(e instanceof SettingsError, String(e));
        return e.problems.map((p) => `${p.key} ${p.message}`);
    }
    assert.fail("the config was accepted");
}

/** A stack file as the program reads it, with `setSecret` set; its clients {@link pinned}. */
export function stackFile(file: string, setSecret: Record<string, string> = {}): RawConfig {
    const cfg = readStackConfig(file, { namespace: NAMESPACE, secureIsPlaintext: true, setSecret });
    const short = (k: string) => k.slice(NAMESPACE.length + 1);
    const value = (k: string, v: string) => (k === "clients" ? JSON.stringify(pinned(JSON.parse(v))) : v);
    return {
        values: Object.fromEntries(Object.entries(cfg.values).map(([k, v]) => [short(k), value(short(k), v)])),
        secretKeys: new Set(cfg.secretKeys.map(short)),
    };
}

/** What an empty stack deploys. */
export const DEFAULTS: Settings = {
    docker: { host: "unix:///var/run/docker.sock", sshOpts: [] },
    image: "registry:3.1.2",
    registryVersion: 3,
    keepImage: true,
    verify: true,
    containerName: "private-registry",
    replicas: 1,
    replicaHosts: [],
    hostnames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    port: 5000,
    bindAddress: "0.0.0.0",
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
        certificate: { mode: "generate", algorithm: "RSA", rsaBits: 2048, ecdsaCurve: "P256", validityHours: 8760, earlyRenewalHours: 720 },
    },
    users: [{ name: "admin", password: undefined, passwordLength: 32, rotate: 0 }],
    storage: { driver: "filesystem" },
    data: { kind: "volume", volumeName: "private-registry-data", keepOnDestroy: true },
    container: { runAs: { uid: 10000, gid: 10000 }, memoryMb: 1024, memoryLimitMb: 4096, pidsLimit: 1024 },
    registry: {
        logLevel: "info",
        realm: "private-registry",
        deleteEnabled: true,
        blobDescriptorCache: "inmemory",
        readOnly: false,
        redirectDisable: false,
        storageHealthCheck: true,
        debugPort: undefined,
        prometheus: false,
        headers: {},
        notifications: [],
        proxy: undefined,
        redis: undefined,
    },
    clients: [],
    imports: [],
    // This machine reaches the local engine's published port on loopback.
    reachFromHere: "127.0.0.1",
    warnings: [],
};
