import assert from "node:assert/strict";
import { describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { renderHtpasswd } from "../../../components/users/htpasswd";
import { GENERATED_PASSWORD_COST, SUPPLIED_PASSWORD_COST, stableBcrypt } from "../../../components/users/registryUsers";

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
