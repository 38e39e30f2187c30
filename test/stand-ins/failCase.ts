/**
 * Runs failing registrations in a process of their own (a failed resource rejects every one of its
 * outputs with nobody listening, which node's test runner would count against the calling test) and
 * prints, per case, one JSON line: how `settled()` reported it, how fast, and what was recorded.
 * Usage: node --import tsx failCase.ts <context.json> <case>...
 */
import * as fs from "node:fs";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { Realizer } from "../../stand-ins/realizers/realizer";

/** What the calling test hands over. */
export interface FailContext {
    image: string;
    prefix: string;
    connection: { host: string; port: number; privateKey: string };
}

/** One case's report. */
export interface FailReport {
    case: string;
    error: string | null;
    ms: number;
    records: string[];
    destroyError: string | null;
}

const CASES: Record<string, (c: FailContext) => void> = {
    "wait-without-healthcheck": (c) => {
        new docker.Container("nohc", { name: `${c.prefix}-nohc`, image: c.image, entrypoints: ["/bin/sleep", "60"], wait: true });
    },
    "wait-timeout": (c) => {
        new docker.Container("unhealthy", {
            name: `${c.prefix}-unhealthy`,
            image: c.image,
            entrypoints: ["/bin/sleep", "60"],
            healthcheck: { tests: ["CMD", "/bin/false"], interval: "1s", retries: 1 },
            wait: true,
            waitTimeout: 3,
        });
    },
    "missing-image": () => {
        new docker.RemoteImage("img", { name: "private-registry-test/does-not-exist:1" });
    },
    "exited-immediately": (c) => {
        new docker.Container("exits", { name: `${c.prefix}-exits`, image: c.image, entrypoints: ["/bin/true"] });
    },
    "ca-without-subject": () => {
        const k = new tls.PrivateKey("k", { algorithm: "ECDSA", ecdsaCurve: "P256" });
        new tls.SelfSignedCert("ca", { privateKeyPem: k.privateKeyPem, isCaCertificate: true, validityPeriodHours: 1, allowedUses: ["cert_signing"] });
    },
    "password-min-rules": () => {
        new random.RandomPassword("pw", { length: 3, minUpper: 2, minLower: 2 });
    },
    "nonzero-exit": (c) => {
        new command.remote.Command("fails", { connection: c.connection, create: "echo out; echo err >&2; exit 3" });
    },
    "env-refused": (c) => {
        new command.remote.Command("env", { connection: c.connection, create: "echo never", environment: { LANG: "C", FOO: "bar" } });
    },
};

async function main(): Promise<void> {
    const ctx = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as FailContext;
    for (const name of process.argv.slice(3)) {
        const build = CASES[name];
        if (!build) throw new Error(`unknown case ${name}`);
        const realizer = new Realizer({ commandTimeoutMs: 30_000 });
        await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
        build(ctx);
        const t0 = Date.now();
        let error: string | null = null;
        try {
            await realizer.settled(60_000);
        } catch (e) {
            error = (e as Error).message;
        }
        const ms = Date.now() - t0;
        let destroyError: string | null = null;
        await realizer.destroy(60_000).catch((e) => (destroyError = (e as Error).message));
        const report: FailReport = { case: name, error, ms, records: realizer.records.map((r) => r.name), destroyError };
        console.log(JSON.stringify(report));
    }
    process.exit(0);
}

void main().catch((e) => {
    console.error(e);
    process.exit(1);
});
