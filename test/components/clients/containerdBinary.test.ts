/**
 * The containerd config.toml that client-host runs leave, loaded by the real containerd (Debian's
 * 1.6, which docker.io brings; setup.sh installs it) on a scratch root, state and sockets: its CRI
 * plugin loads with our config_path beside an operator's settings, and the operator's files that
 * the program refuses are exactly those that make containerd refuse the CRI plugin once
 * config_path is added (issue 20, item 2).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import { reconcile } from "../../../components/clients/reconcile";
import type { ClientWants } from "../../../components/clients/runtimes";
import { type FakeHost, fakeHost } from "../../support/fakeHost";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const WANTS: ClientWants = { addresses: ["registry.test:5000"], caCertPem: CA, daemonJson: {}, insecureRegistries: [], runtimes: ["containerd"] };
const CRI = '[plugins."io.containerd.grpc.v1.cri".registry';

const hosts: FakeHost[] = [];
const dirs: string[] = [];
afterEach(() => {
    for (const h of hosts.splice(0)) h.cleanup();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The status containerd gives its CRI plugin (`ok` or `error`) when started on `toml`, and why, from its log. */
async function criStatus(toml: string): Promise<{ status: string; log: string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-containerd-"));
    dirs.push(dir);
    // Everything of this containerd in the scratch folder: nothing shared with the machine's own.
    const isolated = `root = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\naddress = "${dir}/c.sock"\n[ttrpc]\naddress = "${dir}/t.sock"\n[debug]\naddress = "${dir}/d.sock"\n[metrics]\naddress = ""\n`;
    // TOML tables cannot repeat: our top-level keys go first, the file's own tables after.
    const file = path.join(dir, "config.toml");
    const [head, ...rest] = toml.split(/\n(?=\[)/);
    fs.writeFileSync(file, `${head}\n${isolated}\n${rest.join("\n")}\n`);
    const log = path.join(dir, "log");
    const out = fs.openSync(log, "w");
    const p = spawn("containerd", ["--config", file], { stdio: ["ignore", out, out] });
    try {
        for (let i = 0; i < 100; i++) {
            try {
                const list = execFileSync("ctr", ["--address", `${dir}/c.sock`, "plugins", "ls"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
                const row = list.split("\n").find((l) => /^io\.containerd\.grpc\.v1\s+cri\s/.test(l));
                if (row) return { status: row.trim().split(/\s+/).pop() ?? "", log: fs.readFileSync(log, "utf8") };
            } catch {
                // not serving yet
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`containerd did not answer on ${dir}/c.sock: ${fs.readFileSync(log, "utf8").slice(-2000)}`);
    } finally {
        p.kill("SIGTERM");
        await new Promise((r) => p.once("exit", r));
        fs.closeSync(out);
    }
}

/** A scratch host with the real containerd's version, holding `toml` as its config.toml. */
function hostWith(toml: string | undefined): FakeHost {
    const h = fakeHost(["containerd"]);
    hosts.push(h);
    const version = execFileSync("containerd", ["--version"], { encoding: "utf8" }).trim();
    h.command("containerd", `echo ${JSON.stringify(version)}`);
    if (toml !== undefined) h.write("/etc/containerd/config.toml", toml);
    return h;
}

describe("config.toml in the real containerd", () => {
    it("the files the program writes: containerd's CRI plugin loads with config_path, on no file and beside an operator's keys", async () => {
        for (const toml of [
            undefined,
            'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "registry.k8s.io/pause:3.9"\n',
            `version = 2\n\n${CRI}.configs."other.example".auth]\nusername = "u"\npassword = "p"\n`,
        ]) {
            const h = hostWith(toml);
            await reconcile(h.run, "o", WANTS, "h");
            const written = h.read("/etc/containerd/config.toml");
            assert.match(written, /config_path = "\/etc\/containerd\/certs\.d"/);
            const { status, log } = await criStatus(written);
            assert.equal(status, "ok", `${toml ?? "no file"}:\n${log.slice(-1500)}`);
        }
    });

    it("the files the program refuses: with config_path added, containerd refuses the CRI plugin on each of them, for the reason the refusal names", async () => {
        const refused = [
            [`version = 2\n\n${CRI}.mirrors."docker.io"]\nendpoint = ["https://mirror.example"]\n`, "`mirrors` cannot be set when `config_path` is provided"],
            [`version = 2\n\n${CRI}.configs."other.example".tls]\ninsecure_skip_verify = true\n`, "`configs.tls` cannot be set when `config_path` is provided"],
        ] as const;
        for (const [toml, reason] of refused) {
            const h = hostWith(toml);
            const before = h.tree();
            await assert.rejects(reconcile(h.run, "o", WANTS, "h"), /which containerd refuses beside config_path/);
            assert.deepEqual(h.tree(), before);
            // What the file would have been had the program added its key anyway.
            const { status, log } = await criStatus(`${toml}\n${CRI}]\nconfig_path = "/etc/containerd/certs.d"\n`);
            assert.equal(status, "error", toml);
            assert.ok(log.includes(reason), `containerd's reason: ${log.slice(-1500)}`);
            // And as the operator had it, containerd serves.
            assert.equal((await criStatus(toml)).status, "ok");
        }
    });
});
