/** `parseSettings`: users, users[].rotate. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../../components/args";
import { ok, problems } from "./support";

describe("users", () => {
    it("generated and supplied passwords; names may hold dots, @ and unicode", () => {
        const s = ok({ users: [{ name: "ci.bot@example" }, { name: "ops", password: "pw-ops-1-long" }, { name: "zoë", passwordLength: 72 }] }, ["users"]);
        assert.deepStrictEqual(
            s.users.map((u) => [u.name, u.passwordLength, u.password instanceof Secret]),
            [
                ["ci.bot@example", 32, false],
                ["ops", 32, true],
                ["zoë", 72, false],
            ],
        );
        assert.equal(s.users[1].password?.reveal(), "pw-ops-1-long");
    });

    it("a password of exactly 72 bytes is fine", () => {
        assert.equal(ok({ users: [{ name: "a", password: "p".repeat(72) }] }, ["users"]).users[0].password?.reveal().length, 72);
    });
});

describe("users[].rotate", () => {
    it("is a counter for generated passwords only", () => {
        assert.deepEqual(
            ok({ users: [{ name: "a" }, { name: "b", rotate: 3 }] }).users.map((u) => [u.name, u.rotate]),
            [
                ["a", 0],
                ["b", 3],
            ],
        );
        assert.deepEqual(problems({ users: [{ name: "a", password: "a-long-supplied-password", rotate: 1 }] }, ["users"]), [
            "private-registry:users[0].rotate applies only to a generated password; to rotate a supplied one, supply the new one",
        ]);
        assert.match(problems({ users: [{ name: "a", rotate: -1 }] })[0], /users\[0\]\.rotate must be an integer/);
    });
});
