import assert from "node:assert/strict";
import { describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { DaemonJsonError, daemonJsonIsEmpty, mergeDaemonJson } from "../../components/render/daemonJson";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { GENERATED_PASSWORD_COST, SUPPLIED_PASSWORD_COST, stableBcrypt } from "../../components/registryUsers";

describe("mergeDaemonJson", () => {
    it("adds our keys and keeps every existing key and its order", () => {
        const existing = '{"storage-driver":"overlay2","registry-mirrors":["https://a.example"],"log-opts":{"max-size":"5m"}}';
        const m = mergeDaemonJson(existing, {
            registryMirrors: ["https://b.example", "https://a.example"],
            maxConcurrentDownloads: 6,
            maxConcurrentUploads: 2,
            liveRestore: true,
            logOpts: { "max-file": "3" },
            debug: false,
        });
        const parsed = JSON.parse(m.text);
        assert.deepEqual(Object.keys(parsed).slice(0, 3), ["storage-driver", "registry-mirrors", "log-opts"]);
        assert.equal(parsed["storage-driver"], "overlay2");
        assert.deepEqual(parsed["registry-mirrors"], ["https://a.example", "https://b.example"]);
        assert.deepEqual(parsed["log-opts"], { "max-size": "5m", "max-file": "3" });
        assert.equal(parsed["max-concurrent-downloads"], 6);
        assert.equal(parsed["max-concurrent-uploads"], 2);
        assert.equal(parsed["live-restore"], true);
        assert.equal(parsed.debug, false);
        assert.ok(m.text.endsWith("}\n"));
        assert.equal(m.restartNeeded, true, "log-opts changed");
        assert.deepEqual(m.managedKeys.sort(), ["debug", "live-restore", "log-opts", "max-concurrent-downloads", "max-concurrent-uploads", "registry-mirrors"]);
    });

    it("needs no restart for reloadable keys and reports no change when nothing changes", () => {
        const m = mergeDaemonJson('{"debug": true}', { debug: true });
        assert.equal(m.restartNeeded, false);
        assert.equal(m.unchanged, true);
        const n = mergeDaemonJson("", { maxConcurrentDownloads: 3 });
        assert.equal(n.unchanged, false);
        assert.equal(n.restartNeeded, false);
        assert.deepEqual(JSON.parse(n.text), { "max-concurrent-downloads": 3 });
    });

    it("adds insecure registries to an existing list only when asked", () => {
        const m = mergeDaemonJson('{"insecure-registries":["old:5000"]}', {}, ["r.test:5000", "old:5000"]);
        assert.deepEqual(JSON.parse(m.text)["insecure-registries"], ["old:5000", "r.test:5000"]);
        assert.ok(m.managedKeys.includes("insecure-registries"));
        assert.equal(daemonJsonIsEmpty({}, []), true);
        assert.equal(daemonJsonIsEmpty({}, ["r:1"]), false);
        assert.equal(daemonJsonIsEmpty({ debug: false }, []), false);
    });

    it("refuses a daemon.json that is not a JSON object", () => {
        assert.throws(() => mergeDaemonJson("{not json", {}), DaemonJsonError);
        assert.throws(() => mergeDaemonJson("[1,2]", {}), /not a JSON object/);
        assert.throws(() => mergeDaemonJson("null", {}), /not a JSON object/);
    });

    it("survives hostile strings in values (JSON escaping, not string building)", () => {
        const hostile = 'a"b\\c\n$(x)`y` ü';
        const m = mergeDaemonJson(JSON.stringify({ labels: [hostile] }), { logOpts: { tag: hostile } });
        const parsed = JSON.parse(m.text);
        assert.deepEqual(parsed.labels, [hostile]);
        assert.equal(parsed["log-opts"].tag, hostile);
    });
});

describe("renderHtpasswd", () => {
    const hash = bcrypt.hashSync("pw", 4).replace(/^\$2b\$/, "$2a$");

    it("writes sorted user:hash lines with a trailing newline", () => {
        const text = renderHtpasswd([
            { username: "zed", bcryptHash: hash },
            { username: "alice", bcryptHash: hash },
        ]);
        assert.equal(text, `alice:${hash}\nzed:${hash}\n`);
    });

    it("refuses non-bcrypt hashes (the registry silently ignores them), ':' and duplicates", () => {
        assert.throws(() => renderHtpasswd([{ username: "a", bcryptHash: "{SHA}abc" }]), /not a bcrypt hash/);
        assert.throws(() => renderHtpasswd([{ username: "a:b", bcryptHash: hash }]), /without ':'/);
        assert.throws(() => renderHtpasswd([{ username: "a b", bcryptHash: hash }]), /whitespace/);
        assert.throws(
            () =>
                renderHtpasswd([
                    { username: "a", bcryptHash: hash },
                    { username: "a", bcryptHash: hash },
                ]),
            /twice/,
        );
    });
});

describe("stableBcrypt", () => {
    const KEY = "installation-salt-key-1";
    it("is a $2b$ hash at the given cost that verifies, and stable for the same key, user and password", () => {
        const h = stableBcrypt(KEY, "alice", "correct horse", SUPPLIED_PASSWORD_COST);
        assert.match(h, /^\$2b\$10\$[./A-Za-z0-9]{53}$/);
        assert.ok(bcrypt.compareSync("correct horse", h));
        assert.ok(!bcrypt.compareSync("wrong", h));
        assert.equal(stableBcrypt(KEY, "alice", "correct horse", SUPPLIED_PASSWORD_COST), h);
        assert.notEqual(stableBcrypt(KEY, "bob", "correct horse", SUPPLIED_PASSWORD_COST), h, "salt differs per user");
        assert.notEqual(stableBcrypt(KEY, "alice", "other", SUPPLIED_PASSWORD_COST), h);
    });

    it("hashes the same password differently in another installation (the salt key is per installation)", () => {
        const a = stableBcrypt(KEY, "alice", "correct horse", SUPPLIED_PASSWORD_COST);
        const b = stableBcrypt("installation-salt-key-2", "alice", "correct horse", SUPPLIED_PASSWORD_COST);
        assert.notEqual(a.slice(7, 29), b.slice(7, 29), "different salts");
        assert.ok(bcrypt.compareSync("correct horse", b));
    });

    it("generated passwords use the lowest cost the registry accepts, supplied ones a slow one", () => {
        assert.equal(GENERATED_PASSWORD_COST, 4);
        assert.ok(SUPPLIED_PASSWORD_COST >= 10);
        assert.match(stableBcrypt(KEY, "ci", "x".repeat(32), GENERATED_PASSWORD_COST), /^\$2b\$04\$/);
    });
});
