/**
 * Throwaway infrastructure for the harness's own tests, independent of test/e2e: an sshd on
 * 127.0.0.1 with its own host key, authorized key and Debian's `AcceptEnv LANG LC_*`, and a tiny
 * image imported from the static busybox (nothing is pulled). Everything the tests create is named
 * with one unique prefix and removed by `cleanupDocker`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../support/net";

/** A unique prefix for this test run's containers, networks, volumes and image tags. */
export const PREFIX = `prh-${crypto.randomBytes(3).toString("hex")}`;

/** A running throwaway sshd. */
export interface Sshd {
    port: number;
    /** The client key (OpenSSH format) authorized for root, and its file. */
    privateKey: string;
    keyFile: string;
    /** The host key, authorized_keys form (for `hostKey` pinning). */
    hostKey: string;
    /** Authorizes one more public key (authorized_keys form). */
    authorize(publicKeyOpenssh: string): void;
    stop(): void;
}

/** Starts `sshd -D` on 127.0.0.1 as root, with its own keys and config in `dir`. */
export async function startSshd(dir: string): Promise<Sshd> {
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync("/run/sshd", { recursive: true });
    const hostKey = path.join(dir, "host_ed25519");
    const keyFile = path.join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", keyFile]);
    const authorized = path.join(dir, "authorized_keys");
    fs.writeFileSync(authorized, fs.readFileSync(`${keyFile}.pub`));
    const port = await freePort();
    const config = path.join(dir, "sshd_config");
    fs.writeFileSync(
        config,
        [
            `Port ${port}`,
            "ListenAddress 127.0.0.1",
            `HostKey ${hostKey}`,
            `PidFile ${path.join(dir, "sshd.pid")}`,
            `AuthorizedKeysFile ${authorized}`,
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "AcceptEnv LANG LC_*",
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
            "",
        ].join("\n"),
    );
    const child: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
        const up = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1", () => {
                s.end();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (up) break;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return {
        port,
        privateKey: fs.readFileSync(keyFile, "utf8"),
        keyFile,
        hostKey: fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" "),
        authorize: (pub) => fs.appendFileSync(authorized, `${pub.trim()}\n`),
        stop: () => {
            if (child.exitCode === null) child.kill();
        },
    };
}

/** Imports a busybox-static image as `tag` (CMD /bin/sh); `apt-get install busybox-static` if needed. */
export function importBusybox(tag: string): string {
    const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p));
    const ldd = busybox ? spawnSync("ldd", [busybox], { encoding: "utf8" }) : undefined;
    if (!busybox || !/not a dynamic executable|statically linked/.test(`${ldd?.stdout}${ldd?.stderr}`)) {
        throw new Error("a static busybox is needed: apt-get install -y busybox-static");
    }
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "prh-rootfs-"));
    try {
        for (const d of ["bin", "tmp", "etc", "www", "root"]) fs.mkdirSync(path.join(root, d));
        fs.chmodSync(path.join(root, "tmp"), 0o1777);
        fs.copyFileSync(busybox, path.join(root, "bin", "busybox"));
        fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
        for (const applet of execFileSync(busybox, ["--list"]).toString().split("\n").filter(Boolean)) {
            if (applet !== "busybox") fs.symlinkSync("busybox", path.join(root, "bin", applet));
        }
        fs.writeFileSync(path.join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
        fs.writeFileSync(path.join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
        const tar = execFileSync("tar", ["-C", root, "-c", "."], { maxBuffer: 64 << 20 });
        return execFileSync("docker", ["import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", "-", tag], { input: tar }).toString().trim();
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

/** Removes every container, network, volume and image tag whose name starts with `prefix`. */
export function cleanupDocker(prefix: string): void {
    const list = (args: string[]) =>
        execFileSync("docker", args)
            .toString()
            .split("\n")
            .map((s) => s.trim())
            .filter((s) => s.startsWith(prefix));
    const quiet = (args: string[]) => {
        try {
            execFileSync("docker", args, { stdio: "ignore" });
        } catch {
            /* already gone */
        }
    };
    for (const c of list(["ps", "-a", "--format", "{{.Names}}"])) quiet(["rm", "-f", "-v", c]);
    for (const n of list(["network", "ls", "--format", "{{.Name}}"])) quiet(["network", "rm", n]);
    for (const v of list(["volume", "ls", "--format", "{{.Name}}"])) quiet(["volume", "rm", "-f", v]);
    for (const i of list(["images", "--format", "{{.Repository}}:{{.Tag}}"])) quiet(["rmi", "-f", i]);
}
