/**
 * Provider plugin processes as the engine runs them: a Node.js entry under tsx, started with its
 * arguments, printing its port on its first line; and a gRPC `ResourceProvider` client to one.
 */
import * as grpc from "@grpc/grpc-js";
import { type ChildProcess, spawn } from "node:child_process";
import * as readline from "node:readline";

/* eslint-disable @typescript-eslint/no-require-imports */
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

/** Message limits for both ends: a Diff or Create of a container with its uploads is large. */
export const GRPC_LIMITS = { "grpc.max_receive_message_length": 400 * 1024 * 1024, "grpc.max_send_message_length": 400 * 1024 * 1024 };

/** The command line that runs the TypeScript `entry` with this Node.js and the project's tsx. */
export function tsxCommand(entry: string, ...args: string[]): string[] {
    const loader = require.resolve("tsx").replace(/[^/]*$/, "loader.mjs");
    return [process.execPath, "--import", `file://${loader}`, entry, ...args];
}

/** Starts a plugin (`command`, `args`), waits for the port it prints, and returns a client to it. */
export async function startPlugin(command: string, args: string[]): Promise<{ child: ChildProcess; client: any }> {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: child.stdout! }).once("line", (l) => resolve(l.trim()));
        child.once("exit", (c) => reject(new Error(`${command} ${args.join(" ")} exited with ${c} before printing its port`)));
    });
    const Client = grpc.makeGenericClientConstructor(provrpc.ResourceProviderService, "ResourceProvider");
    return { child, client: new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), GRPC_LIMITS) };
}
