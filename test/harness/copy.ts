/**
 * `command.remote.CopyToRemote` (pulumi-command 1.2.1, provider-fidelity.md §1.3) over SFTP:
 * only StringAsset, FileAsset and FileArchive; the provider's path table; parents created;
 * files created without attributes (so the server's default mode, never the local one); nothing
 * deleted, neither stale remote files nor the copy itself on destroy.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { SFTPWrapper, Stats } from "ssh2";
import { dial, type Connection } from "./ssh";

type Source = { kind: "text"; text: string } | { kind: "file"; path: string } | { kind: "dir"; path: string; trailingSlash: boolean } | { kind: "archiveFile"; path: string };

/** Classifies the `source` input as v1.2.1 does, with its error texts. */
export async function sourceOf(source: unknown): Promise<Source> {
    if (source instanceof pulumi.asset.StringAsset) return { kind: "text", text: await (source as any).text };
    if (source instanceof pulumi.asset.FileAsset) return { kind: "file", path: await (source as any).path };
    if (source instanceof pulumi.asset.FileArchive) {
        const p: string = await (source as any).path;
        const st = fs.statSync(p);
        return st.isDirectory() ? { kind: "dir", path: p.replace(/\/+$/, ""), trailingSlash: p.endsWith("/") } : { kind: "archiveFile", path: p };
    }
    if (source instanceof pulumi.asset.Asset) throw new Error("asset must be a path-based file asset or a text asset");
    throw new Error("archive must be a path to a file or directory");
}

const p = <T>(f: (cb: (err: Error | null | undefined, v?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

async function statOrUndefined(sftp: SFTPWrapper, remote: string): Promise<Stats | undefined> {
    try {
        return await p<Stats>((cb) => sftp.stat(remote, cb));
    } catch {
        return undefined;
    }
}

async function mkdirAll(sftp: SFTPWrapper, dir: string): Promise<void> {
    const parts = dir.split("/").filter(Boolean);
    let cur = dir.startsWith("/") ? "" : ".";
    for (const part of parts) {
        cur = `${cur}/${part}`;
        if (!(await statOrUndefined(sftp, cur))) await p<void>((cb) => sftp.mkdir(cur, cb));
    }
}

/** Open with no attributes, as the provider's `sftp.Create` does: the server's umask decides the mode. */
async function writeFile(sftp: SFTPWrapper, remote: string, data: Buffer): Promise<void> {
    const handle = await p<Buffer>((cb) => sftp.open(remote, "w", {}, cb));
    try {
        for (let off = 0; off < data.length; off += 32768) {
            const len = Math.min(32768, data.length - off);
            await p<void>((cb) => sftp.write(handle, data, off, len, off, cb));
        }
    } finally {
        await p<void>((cb) => sftp.close(handle, cb));
    }
}

async function copyDir(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
    await mkdirAll(sftp, remote);
    for (const e of fs.readdirSync(local, { withFileTypes: true })) {
        const l = path.join(local, e.name);
        const r = `${remote}/${e.name}`;
        if (e.isDirectory()) await copyDir(sftp, l, r);
        else await writeFile(sftp, r, fs.readFileSync(l));
    }
}

/** Copies `source` to `remotePath` on the host, per the provider's path table. */
export async function copyToRemote(connection: Connection, sourceInput: unknown, remotePath: string, log: (m: string) => void): Promise<void> {
    const source = await sourceOf(sourceInput);
    const client = await dial(connection, log);
    try {
        const sftp = await p<SFTPWrapper>((cb) => client.sftp(cb));
        const dest = await statOrUndefined(sftp, remotePath);
        switch (source.kind) {
            case "text":
                if (dest?.isDirectory()) throw new Error(`remotePath ${remotePath} is a directory: a text asset needs a file path`);
                await mkdirAll(sftp, path.posix.dirname(remotePath));
                return await writeFile(sftp, remotePath, Buffer.from(source.text));
            case "file":
            case "archiveFile": {
                // A .tgz archive is copied as the file it is, not unpacked.
                const target = dest?.isDirectory() ? `${remotePath}/${path.basename(source.path)}` : remotePath;
                if (!dest) await mkdirAll(sftp, path.posix.dirname(remotePath));
                return await writeFile(sftp, target, fs.readFileSync(source.path));
            }
            case "dir": {
                if (dest && !dest.isDirectory()) throw new Error(`remotePath ${remotePath} is a file: cannot copy a directory onto it`);
                if (!dest) await mkdirAll(sftp, remotePath);
                return await copyDir(sftp, source.path, source.trailingSlash ? remotePath : `${remotePath}/${path.basename(source.path)}`);
            }
        }
    } finally {
        client.end();
    }
}
