/**
 * The end-of-up check (components/registry/registryCheck.ts): what a client's answers mean, and real
 * requests against local servers that answer as distribution does (plain HTTP and TLS).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { type Answer, type CheckTarget, checkTargets, classify, classifyError, describeProblem, probe } from "../../../components/registry/registryCheck";
import { makePki, type Pki } from "../../support/pki";

const a = (status: number, body = ""): Answer => ({ status, body });

describe("classify: a client's three answers as a cause", () => {
    it("401 anonymous, 200 as the user, 200 catalog: ok", () => {
        assert.deepEqual(classify(a(401), a(200), a(200, '{"repositories":[]}'), "admin"), { kind: "ok" });
    });
    it("a 503 anywhere is the storage health check", () => {
        const r = classify(
            a(503, '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable","detail":"health check failed"}]}'),
            undefined,
            undefined,
            "admin",
        );
        assert.equal(r.kind, "storage");
        assert.match((r as { detail: string }).detail, /503 from its storage health check: .*health check failed/);
    });
    it("401 to the user: auth, naming the user", () => {
        const r = classify(a(401), a(401, "unauthorized"), undefined, "admin");
        assert.deepEqual(r, { kind: "auth", detail: "/v2/ answers 401 to admin: unauthorized" });
    });
    it("a 500 catalog: storage, with the registry's error", () => {
        const r = classify(a(401), a(200), a(500, '{"errors":[{"detail":"dial tcp 10.0.0.9:7480: connect: connection refused"}]}'), "admin");
        assert.equal(r.kind, "storage");
        assert.match((r as { detail: string }).detail, /catalog answers 500: .*connection refused/);
    });
    it("200 anonymously with users configured: unexpected (auth off?)", () => {
        assert.equal(classify(a(200), a(200), a(200), "admin").kind, "unexpected");
    });
    it("a catalog refused below 500 (a pull-through cache, a restricted catalog) still reached the registry: ok", () => {
        assert.deepEqual(classify(a(401), a(200), a(404), "admin"), { kind: "ok" });
    });
    it("no user (auth off): 200 is ok", () => {
        assert.deepEqual(classify(a(200), undefined, undefined, undefined), { kind: "ok" });
    });
    it("a TLS verification error is a certificate problem, a refused connection is not", () => {
        assert.equal(
            classifyError(Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" })).kind,
            "certificate",
        );
        assert.equal(classifyError(Object.assign(new Error("Hostname/IP does not match"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" })).kind, "certificate");
        assert.equal(classifyError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5000"), { code: "ECONNREFUSED" })).kind, "connection");
    });
    it("describeProblem names the target, where it connected, and the cause", () => {
        const t: CheckTarget = { label: "the endpoint registry.test:5000", connect: "127.0.0.1", port: 5000, servername: "registry.test" };
        assert.equal(
            describeProblem(t, { kind: "certificate", detail: "ERR_TLS_CERT_ALTNAME_INVALID: x" }),
            "the endpoint registry.test:5000 (127.0.0.1:5000) serves a certificate the stack's CA does not verify for registry.test: ERR_TLS_CERT_ALTNAME_INVALID: x",
        );
        assert.match(describeProblem(t, { kind: "storage", detail: "d" }), /cannot reach its storage: d$/);
    });
});

/** A server that answers as distribution with htpasswd does, with `catalog` for the catalog. */
function registryLike(catalog: { status: number; body: string }) {
    return (req: http.IncomingMessage, res: http.ServerResponse): void => {
        const authed = req.headers.authorization === `Basic ${Buffer.from("admin:pw").toString("base64")}`;
        if (!authed) res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        else if (req.url === "/v2/") res.writeHead(200).end("{}");
        else if (req.url?.startsWith("/v2/_catalog")) res.writeHead(catalog.status).end(catalog.body);
        else res.writeHead(404).end();
    };
}

async function listen(server: http.Server | https.Server): Promise<number> {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as AddressInfo).port;
}

describe("probe and checkTargets: real requests", () => {
    let dir: string;
    let pki: Pki;
    let other: Pki;
    const servers: (http.Server | https.Server)[] = [];
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-check-"));
        fs.mkdirSync(path.join(dir, "a"));
        fs.mkdirSync(path.join(dir, "b"));
        pki = makePki(path.join(dir, "a"));
        other = makePki(path.join(dir, "b"));
    });
    after(() => {
        for (const s of servers) s.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });
    const tlsServer = (handler: http.RequestListener) => {
        const s = https.createServer({ cert: fs.readFileSync(pki.certPath), key: fs.readFileSync(pki.keyPath) }, handler);
        servers.push(s);
        return s;
    };
    const target = (port: number): CheckTarget => ({ label: "the endpoint localhost", connect: "127.0.0.1", port, servername: "localhost" });

    it("TLS verified against the right CA, the user accepted, the catalog answered: ok", async () => {
        const port = await listen(tlsServer(registryLike({ status: 200, body: '{"repositories":[]}' })));
        assert.deepEqual(await probe(target(port), { ca: pki.caPem, user: { name: "admin", password: "pw" } }), { kind: "ok" });
    });
    it("another CA: certificate", async () => {
        const port = await listen(tlsServer(registryLike({ status: 200, body: "{}" })));
        const r = await probe(target(port), { ca: other.caPem, user: { name: "admin", password: "pw" } });
        assert.equal(r.kind, "certificate", JSON.stringify(r));
    });
    it("a wrong password: auth", async () => {
        const port = await listen(tlsServer(registryLike({ status: 200, body: "{}" })));
        assert.equal((await probe(target(port), { ca: pki.caPem, user: { name: "admin", password: "nope" } })).kind, "auth");
    });
    it("the storage failing behind the catalog: storage, with the registry's words", async () => {
        const port = await listen(tlsServer(registryLike({ status: 500, body: '{"errors":[{"detail":"s3: connection refused"}]}' })));
        const r = await probe(target(port), { ca: pki.caPem, user: { name: "admin", password: "pw" } });
        assert.equal(r.kind, "storage");
        assert.match((r as { detail: string }).detail, /s3: connection refused/);
    });
    it("plain HTTP (TLS off) with no user: 200 is ok", async () => {
        const s = http.createServer((_req, res) => res.writeHead(200).end("{}"));
        servers.push(s);
        assert.deepEqual(await probe(target(await listen(s)), {}), { kind: "ok" });
    });
    it("checkTargets: a closed port is reported once the deadline passes, a healthy target is not", async () => {
        const good = await listen(tlsServer(registryLike({ status: 200, body: "{}" })));
        const closed = http.createServer();
        const closedPort = await listen(closed);
        await new Promise((r) => closed.close(r));
        const problems = await checkTargets([target(good), { ...target(closedPort), label: "the replica on ssh://c" }], {
            ca: pki.caPem,
            user: { name: "admin", password: "pw" },
            deadlineSeconds: 0,
        });
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], new RegExp(`^the replica on ssh://c \\(127\\.0\\.0\\.1:${closedPort}\\) cannot be reached: ECONNREFUSED`));
    });
});
