/**
 * Runs one failing registration in its own process (the SDK rejects every output of a failed
 * resource, which node's test runner would count against the calling test) and prints how the
 * Realizer reported it: `{"error": "...", "ms": N}`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { REGISTRY_IMAGE } from "../e2e/infra/hosts";
import { Realizer } from "./realizer";

async function run(which: string): Promise<void> {
    const realizer = new Realizer();
    await pulumi.runtime.setMocks(realizer.mocks(), "private-registry", "harness", false);
    if (which === "wait-without-healthcheck") {
        new docker.Container("c2", { name: "pr-harness-c2", image: REGISTRY_IMAGE, entrypoints: ["/bin/busybox", "sleep", "60"], wait: true });
    } else if (which === "missing-image") {
        new docker.RemoteImage("img", { name: "private-registry-test/does-not-exist:1" });
    } else throw new Error(`unknown case ${which}`);
    const t0 = Date.now();
    try {
        await realizer.settled(60_000);
        console.log(JSON.stringify({ error: null, ms: Date.now() - t0 }));
    } catch (e) {
        console.log(JSON.stringify({ error: (e as Error).message, ms: Date.now() - t0 }));
    }
    await realizer.destroy();
    process.exit(0);
}

void run(process.argv[2]);
