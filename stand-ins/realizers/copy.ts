/**
 * `command.remote.CopyToRemote` (pulumi-command 1.2.1) over SFTP:
 * only StringAsset, FileAsset and FileArchive (Check's error texts otherwise); the provider's path
 * table and error texts; parents created; files opened like pkg/sftp's `Create` (O_RDWR|O_CREAT|O_TRUNC,
 * no attributes: the server's umask decides the mode, never the local file); nothing is ever deleted,
 * neither stale remote files nor the copy itself on destroy. A missing sftp subsystem fails with
 * `ssh: subsystem request failed`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { SFTPWrapper, Stats } from "ssh2";
import { dial, type Connection } from "./ssh";

/** The `source` input as v1.2.1 accepts it. */
export type Source = { kind: "text"; text: string } | { kind: "path"; path: string };

/**
 * Classifies the `source` input as Check does: an Asset or Archive instance (as mocks receive it),
 * or the plain descriptor the Realizer records (`{__asset: "StringAsset", text}`, …).
 */
export async function sourceOf(source: unknown): Promise<Source> {
    const d = source as { __asset?: string; __archive?: string; text?: string; path?: string } | undefined;
    if (d?.__asset === "StringAsset") return { kind: "text", text: String(d.text) };
    if (d?.__asset === "FileAsset" || d?.__archive === "FileArchive") return { kind: "path", path: String(d.path) };
    if (d?.__asset) throw new Error("asset must be a path-based file asset or a text asset");
    if (d?.__archive) throw new Error("archive must be a path to a file or directory");
    if (source instanceof pulumi.asset.StringAsset) return { kind: "text", text: await (source as unknown as { text: Promise<string> }).text };
    if (source instanceof pulumi.asset.FileAsset) return { kind: "path", path: await (source as unknown as { path: Promise<string> }).path };
    if (source instanceof pulumi.asset.FileArchive) return { kind: "path", path: await (source as unknown as { path: Promise<string> }).path };
    if (source instanceof pulumi.asset.Asset) throw new Error("asset must be a path-based file asset or a text asset");
    throw new Error("archive must be a path to a file or directory");
}

const FX = [
    "SSH_FX_OK",
    "SSH_FX_EOF",
    "SSH_FX_NO_SUCH_FILE",
    "SSH_FX_PERMISSION_DENIED",
    "SSH_FX_FAILURE",
    "SSH_FX_BAD_MESSAGE",
    "SSH_FX_NO_CONNECTION",
    "SSH_FX_CONNECTION_LOST",
    "SSH_FX_OP_UNSUPPORTED",
];

/** pkg/sftp's `StatusError` wording for an ssh2 SFTP error. */
function sftpError(e: Error & { code?: number }): Error {
    return typeof e.code === "number" ? new Error(`sftp: ${JSON.stringify(e.message)} (${FX[e.code] ?? e.code})`) : e;
}

const call = <T>(f: (cb: (err: Error | null | undefined, v?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => f((err, v) => (err ? reject(sftpError(err)) : resolve(v as T))));

/** The provider's `remoteStat`: "does not exist" is undefined, any other error fails. */
async function remoteStat(sftp: SFTPWrapper, p: string): Promise<Stats | undefined> {
    try {
        return await call<Stats>((cb) => sftp.stat(p, cb));
    } catch (e) {
        if (/SSH_FX_NO_SUCH_FILE/.test((e as Error).message)) return undefined;
        throw new Error(`failed to stat remote path ${p}: ${(e as Error).message}`);
    }
}

/** pkg/sftp `MkdirAll`. */
async function mkdirAll(sftp: SFTPWrapper, dir: string): Promise<void> {
    const st = await remoteStat(sftp, dir);
    if (st) {
        if (st.isDirectory()) return;
        throw new Error(`mkdir ${dir}: not a directory`);
    }
    const parent = path.posix.dirname(dir);
    if (parent !== dir && parent !== "." && parent !== "/") await mkdirAll(sftp, parent);
    await call<void>((cb) => sftp.mkdir(dir, cb)).catch(async (e) => {
        if (!(await remoteStat(sftp, dir))?.isDirectory()) throw e;
    });
}

async function mkdir(sftp: SFTPWrapper, dir: string): Promise<void> {
    await call<void>((cb) => sftp.mkdir(dir, cb)).catch((e) => {
        throw new Error(`failed to create remote directory ${dir}: ${(e as Error).message}`);
    });
}

/** `sftp.Create` + one write: no attributes sent. */
async function writeFile(sftp: SFTPWrapper, remote: string, data: Buffer, what: string): Promise<void> {
    const handle = await call<Buffer>((cb) => sftp.open(remote, "w+", cb)).catch((e) => {
        throw new Error(`failed to create remote file ${remote}: ${(e as Error).message}`);
    });
    try {
        for (let off = 0; off < data.length; off += 32768) {
            const len = Math.min(32768, data.length - off);
            await call<void>((cb) => sftp.write(handle, data, off, len, off, cb)).catch((e) => {
                throw new Error(`${what}: ${(e as Error).message}`);
            });
        }
    } finally {
        await call<void>((cb) => sftp.close(handle, cb)).catch(() => undefined);
    }
}

/** The provider's `copyDir`: walk the local tree, mkdir what is missing, overwrite files. */
async function copyDir(sftp: SFTPWrapper, src: string, dst: string): Promise<void> {
    const walk = async (rel: string): Promise<void> => {
        const local = rel ? path.join(src, rel) : src;
        const remote = rel ? path.posix.join(dst, rel) : dst;
        if (!fs.statSync(local).isDirectory()) {
            await writeFile(sftp, remote, fs.readFileSync(local), `failed to copy file ${local} to remote path ${remote}`);
            return;
        }
        const st = await remoteStat(sftp, remote);
        if (!st) await mkdir(sftp, remote);
        else if (!st.isDirectory()) throw new Error(`remote path ${remote} exists but is not a directory`);
        for (const entry of fs.readdirSync(local).sort()) await walk(rel ? `${rel}/${entry}` : entry);
    };
    await walk("");
}

async function copyWith(sftp: SFTPWrapper, source: Source, dest: string): Promise<void> {
    const destStat = await remoteStat(sftp, dest);
    if (source.kind === "text") {
        if (destStat?.isDirectory()) throw new Error(`remote path ${dest} is a directory; when using a text asset, remotePath must be a file path`);
        await mkdirAll(sftp, path.posix.dirname(dest));
        return writeFile(sftp, dest, Buffer.from(source.text, "utf8"), `failed to write text content to remote path ${dest}`);
    }
    const src = source.path;
    if (!fs.statSync(src).isDirectory()) {
        // A file (a .tgz archive too: copied as is, never unpacked).
        const target = destStat?.isDirectory() ? path.posix.join(dest, path.basename(src)) : dest;
        if (!destStat) await mkdirAll(sftp, path.posix.dirname(dest));
        return writeFile(sftp, target, fs.readFileSync(src), `failed to copy file ${src} to remote path ${target}`);
    }
    if (!destStat) await mkdirAll(sftp, dest);
    let target = dest;
    // Without a trailing slash the directory itself is copied into dest; with one, its children.
    if (!src.endsWith("/")) {
        target = path.posix.join(dest, path.basename(src));
        const st = await remoteStat(sftp, target);
        if (st && !st.isDirectory()) throw new Error(`remote path ${target} exists but is not a directory`);
        if (!st) await mkdir(sftp, target);
    }
    return copyDir(sftp, src, target);
}

/** CopyToRemote's create (and its update when the source or remotePath changed). */
export async function copyToRemote(
    connection: Connection,
    sourceInput: unknown,
    remotePath: string,
    log: (m: string) => void = () => undefined,
    timeoutMs = 300_000,
): Promise<void> {
    const source = await sourceOf(sourceInput);
    const client = await dial(connection, log);
    let timer: NodeJS.Timeout | undefined;
    try {
        const work = (async () => {
            const sftp = await call<SFTPWrapper>((cb) => client.sftp(cb)).catch((e) => {
                throw /subsystem/i.test((e as Error).message) ? new Error("ssh: subsystem request failed") : e;
            });
            try {
                await copyWith(sftp, source, remotePath);
            } finally {
                sftp.end();
            }
        })();
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`harness: the copy to ${remotePath} did not finish within ${timeoutMs} ms`)), timeoutMs);
        });
        await Promise.race([work, timeout]);
    } finally {
        clearTimeout(timer);
        client.end();
    }
}
