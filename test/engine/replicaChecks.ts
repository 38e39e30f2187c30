/**
 * What the replica engine tests (one Docker host, several hosts) check the same way: a pull loop
 * on a client host through the endpoint, HAProxy's own word on a replica, waiting for a condition,
 * and a chunked upload whose requests land on two different replicas.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import { sshExec, type TestHost, type TestInfra } from "../e2e/infra/hosts";
import { type ApiResponse, api, type RegistryTarget } from "../e2e/support";

/** Waits until `ok()` holds, polling each 200 ms; returns how long it took. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, limitMs = 120_000): Promise<number> {
    const t0 = Date.now();
    while (!(await ok())) {
        assert.ok(Date.now() - t0 < limitMs, `${what}: not after ${limitMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 200));
    }
    return Date.now() - t0;
}

/** HAProxy's own word on a backend server (from the balancer container's log): the last UP/DOWN line. */
export function lbSays(lb: string, server: string): "UP" | "DOWN" | undefined {
    const lines = execFileSync("sh", ["-c", `docker logs ${lb} 2>&1`], { encoding: "utf8", maxBuffer: 64 << 20 })
        .split("\n")
        .filter((l) => l.includes(`replicas/${server} is `));
    return /is (UP|DOWN)/.exec(lines.at(-1) ?? "")?.[1] as "UP" | "DOWN" | undefined;
}

/**
 * A pull loop on a client host through the endpoint until `stop()`: how many pulls succeeded, each
 * failure with the time its pull started (ms), and the longest pull (a stalled one shows there).
 */
export async function pullLoop(
    infra: TestInfra,
    host: TestHost,
    image: string,
): Promise<{ stop: () => Promise<{ ok: number; failures: string[]; failedAt: number[]; longestMs: number }> }> {
    const flag = `/tmp/pull-loop-${crypto.randomBytes(4).toString("hex")}.stop`;
    const run = sshExec(
        infra,
        host,
        `ok=0; longest=0; while [ ! -e ${flag} ]; do docker rmi -f ${image} >/dev/null 2>&1; s=$(date +%s%3N); ` +
            `if docker pull -q ${image} >/dev/null 2>/tmp/pull.err; then ok=$((ok+1)); else echo "failed started $s ended $(date +%s%3N): $(cat /tmp/pull.err)"; fi; ` +
            `e=$(date +%s%3N); if [ $((e - s)) -gt $longest ]; then longest=$((e - s)); fi; done; echo "ok=$ok longest=$longest"`,
    );
    await new Promise((r) => setTimeout(r, 2000));
    return {
        stop: async () => {
            await sshExec(infra, host, `touch ${flag}`);
            const r = await run;
            const failures = r.stdout.split("\n").filter((l) => l.startsWith("failed started"));
            return {
                ok: Number(/ok=(\d+)/.exec(r.stdout)?.[1] ?? 0),
                failures,
                failedAt: failures.map((l) => Number(/failed started (\d+)/.exec(l)?.[1])),
                longestMs: Number(/longest=(\d+)/.exec(r.stdout)?.[1] ?? 0),
            };
        },
    };
}

/** Host `host` imports a 3 MB image of random bytes as `image` and pushes it through the endpoint; its manifest digest. */
export async function pushRandomFrom(infra: TestInfra, host: TestHost, image: string): Promise<string> {
    const r = await sshExec(
        infra,
        host,
        `set -e; d=$(mktemp -d); head -c 3000000 /dev/urandom > $d/blob; tar -C $d -c . | docker import - ${image} >/dev/null; docker push ${image}`,
    );
    assert.equal(r.code, 0, r.stdout);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
    assert.ok(digest, r.stdout);
    return digest;
}

/**
 * One replica asked directly for the manifest `digest` of `repository` (which must answer 200) and
 * then each of its layers: every layer's answer, a 307 to the object store by default.
 */
export async function layersFrom(target: RegistryTarget, repository: string, digest: string, auth: { user: string; password: string }): Promise<ApiResponse[]> {
    const m = await api(target, "GET", `/v2/${repository}/manifests/${digest}`, {
        ...auth,
        headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    assert.equal(m.status, 200, `${target.host}: ${m.body}`);
    const layers = JSON.parse(m.body).layers as { digest: string }[];
    assert.ok(layers.length > 0);
    return Promise.all(layers.map((l) => api(target, "GET", `/v2/${repository}/blobs/${l.digest}`, auth)));
}

/**
 * A blob uploaded in two chunks: started on `one`, the first chunk on `two`, the second on `one`,
 * finished on `two`. Returns its digest, which the caller fetches back.
 */
export async function chunkedUploadAcross(
    one: RegistryTarget,
    two: RegistryTarget,
    auth: { user: string; password: string },
    repository: string,
): Promise<string> {
    const parts = [crypto.randomBytes(1_500_000), crypto.randomBytes(900_000)];
    const digest = `sha256:${crypto.createHash("sha256").update(Buffer.concat(parts)).digest("hex")}`;
    const start = await api(one, "POST", `/v2/${repository}/blobs/uploads/`, auth);
    assert.equal(start.status, 202, start.body);
    let location = new URL(String(start.headers.location), "https://x");
    let offset = 0;
    for (const [i, part] of parts.entries()) {
        const target = i === 0 ? two : one;
        const patch = await api(target, "PATCH", `${location.pathname}${location.search}`, {
            ...auth,
            body: part,
            headers: {
                "content-type": "application/octet-stream",
                "content-length": String(part.length),
                "content-range": `${offset}-${offset + part.length - 1}`,
            },
        });
        assert.equal(patch.status, 202, `PATCH ${i} on replica ${i === 0 ? 2 : 1}: ${patch.body}`);
        offset += part.length;
        location = new URL(String(patch.headers.location), "https://x");
    }
    location.searchParams.set("digest", digest);
    const put = await api(two, "PUT", `${location.pathname}${location.search}`, { ...auth, headers: { "content-length": "0" } });
    assert.equal(put.status, 201, put.body);
    return digest;
}

/** The sha256 digest of a body fetched from `url` (a pre-signed store URL the registry redirected to). */
export async function digestAt(url: string): Promise<string> {
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    return `sha256:${crypto.createHash("sha256").update(body).digest("hex")}`;
}
