/**
 * Layer-2 mocks: fake but well-formed provider outputs, and a record of everything that reaches
 * the engine. Provider outputs the real providers mark secret are returned secret here too
 * (the SDK's mock monitor ignores `additionalSecretOutputs`).
 */
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import bcrypt from "bcryptjs";
import { containsSecret, unwrapSecrets as unwrap } from "../../stand-ins/offline/rpcSecrets";
import { installMonitorTap, resetMonitorTap, tappedRegistrations, type Registration } from "../../stand-ins/offline/monitorTap";

/** One `newResource` call, with secret wrappers removed from the inputs. */
export interface Recorded {
    type: string;
    name: string;
    custom: boolean;
    provider: string;
    /** Inputs with secrets unwrapped. */
    inputs: Record<string, any>;
    /** Input names that arrived wrapped as secrets. */
    secretInputs: string[];
}

const fakePem = (label: string, name: string) =>
    `-----BEGIN ${label}-----\n${Buffer.from(`fake ${label} for ${name}`).toString("base64")}\n-----END ${label}-----\n`;

/** Fake outputs per type; `stdout` of commands can be scripted per resource name. */
function fakeState(type: string, name: string, inputs: Record<string, any>, commandStdout: (name: string) => string) {
    const s = pulumi.secret;
    switch (type) {
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: s(fakePem(inputs.algorithm === "ECDSA" ? "EC PRIVATE KEY" : "RSA PRIVATE KEY", name)),
                publicKeyPem: fakePem("PUBLIC KEY", name),
                publicKeyOpenssh: `ssh-rsa FAKE${name}\n`,
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: fakePem("CERTIFICATE", name), validityEndTime: "2036-01-01T00:00:00Z", readyForRenewal: false };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: fakePem("CERTIFICATE REQUEST", name) };
        case "random:index/randomPassword:RandomPassword": {
            const result = `pw-${crypto
                .createHash("sha256")
                .update(name)
                .digest("hex")
                .slice(0, Number(inputs.length) - 3)}`;
            return { result: s(result), bcryptHash: s(bcrypt.hashSync(result, 4).replace(/^\$2b\$/, "$2a$")) };
        }
        case "docker:index/remoteImage:RemoteImage":
            return { imageId: `sha256:${crypto.createHash("sha256").update(String(inputs.name)).digest("hex")}`, repoDigest: "" };
        case "docker:index/container:Container":
            return { name: inputs.name ?? `${name}-abcdef0` };
        case "docker:index/volume:Volume":
            return { name: inputs.name ?? `${name}-abcdef0`, mountpoint: `/var/lib/docker/volumes/${inputs.name}/_data` };
        case "command:remote:Command":
            return { stdout: commandStdout(name), stderr: "" };
        case "random:index/randomId:RandomId":
            return {
                hex: crypto
                    .createHash("sha256")
                    .update(name)
                    .digest("hex")
                    .slice(0, Number(inputs.byteLength) * 2),
            };
        case "pulumi-nodejs:dynamic/private-registry:S3Bucket":
            return { created: true };
        case "pulumi-nodejs:dynamic/private-registry:HostConfiguration":
            // What the provider reports for a Docker host it configured.
            return { runtimes: inputs.wants?.runtimes ?? ["docker"], report: ["wrote /etc/docker/certs.d/…/ca.crt"] };
        default:
            return {};
    }
}

/** A mocked program run: what was registered, with engine-side options. */
export interface MockRun {
    records: Recorded[];
    /** Finds one record by type and name (throws when absent). */
    get(type: string, name: string): Recorded;
    /** All records of a type. */
    ofType(type: string): Recorded[];
    /** The engine-side view of `type::name`: parent, dependencies, options. */
    engine(type: string, name: string): Registration;
    registrations(): readonly Registration[];
}

/** Sets mocks that record every registration. Call once per test file (mocks are global). */
export function setupMocks(opts: { stack?: string; commandStdout?: (name: string) => string } = {}): MockRun {
    installMonitorTap();
    const records: Recorded[] = [];
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                const secretInputs = Object.entries(args.inputs)
                    .filter(([, v]) => containsSecret(v))
                    .map(([k]) => k);
                const inputs = unwrap(args.inputs);
                records.push({ type: args.type, name: args.name, custom: args.custom ?? true, provider: args.provider ?? "", inputs, secretInputs });
                const state = { ...args.inputs, ...fakeState(args.type, args.name, inputs, opts.commandStdout ?? (() => "")) };
                return { id: args.custom === false ? "" : `${args.name}-id`, state };
            },
            call(args) {
                return args.inputs;
            },
        },
        "private-registry",
        opts.stack ?? "test",
        false,
    );
    return {
        records,
        get(type, name) {
            const r = records.find((x) => x.type === type && x.name === name);
            if (!r) throw new Error(`no ${type} named ${name}; have: ${records.map((x) => `${x.type}::${x.name}`).join(", ")}`);
            return r;
        },
        ofType(type) {
            return records.filter((x) => x.type === type);
        },
        engine(type, name) {
            const r = tappedRegistrations().find((x) => x.type === type && x.name === name);
            if (!r) throw new Error(`no registration ${type}::${name}`);
            return r;
        },
        registrations: tappedRegistrations,
    };
}

/** Clears the records between program runs in one test file. */
export function resetRecords(run: MockRun): void {
    run.records.length = 0;
    resetMonitorTap();
}

/** The value of an Output (waits for it). */
export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Whether an Output is secret. */
export function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

/** Waits until every registration started so far has been answered. */
export async function settle(ms = 50): Promise<void> {
    let last = -1;
    while (tappedRegistrations().length !== last) {
        last = tappedRegistrations().length;
        await new Promise((r) => setTimeout(r, ms));
    }
}
