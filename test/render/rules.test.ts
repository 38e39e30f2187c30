/**
 * The Go duration rule, written once in components/render/registryConfig/rules.ts: what Go's
 * `time.ParseDuration` accepts, and the stack-config parser and the renderer's validator agreeing
 * on every string.
 *
 * Run: node --import tsx --test test/render/rules.test.ts
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isDurationSetting, isGoDuration, RegistryConfigError, validateRegistryConfigModel } from "../../components/render/registryConfig";
import type { RegistryConfigModel } from "../../components/render/registryConfigModel";
import { parseSettings, SettingsError } from "../../settings";

/** Strings Go's time.ParseDuration accepts (checked against go1.x `time.ParseDuration`). */
const ACCEPTED = [
    "0",
    "+0",
    "0s",
    "168h",
    "1h30m",
    "2h45m",
    "1.5h",
    "+5s",
    "1.5s",
    ".5s",
    "1.s",
    "300ms",
    "10ns",
    "10us",
    "10\u00b5s", // µ MICRO SIGN
    "10\u03bcs", // μ GREEK SMALL LETTER MU
    "1h1h",
    "0.0000000000000000000000000001h",
    "2562047h47m16.854775807s", // the largest int64 of nanoseconds
    "9223372036854775807ns",
];

/** Strings Go's time.ParseDuration refuses. */
const REFUSED = [
    "",
    "1",
    "5",
    "00",
    "0.0",
    "-",
    ".",
    ".s",
    "-.s",
    "s",
    "1d",
    "1w",
    "7 days",
    " 1s",
    "1s ",
    "1H",
    "1sec",
    "1e3s",
    "--1s",
    "1h-1m",
    "1.5.5s",
    "1,5s",
    "10\u00b5", // no unit after the micro sign
    "2562047h47m16.854775808s", // one nanosecond past the int64 range
    "-2562047h47m16.854775809s",
    "9223372037s",
    "99999999999999999999ns",
];

function settingsAccept(d: string): boolean {
    try {
        const s = parseSettings({ values: { registry: JSON.stringify({ uploadPurging: { enabled: true, age: d } }) }, secretKeys: new Set() });
        assert.equal(s.registry.storageOptions.uploadPurging?.age, d);
        return true;
    } catch (e) {
        if (!(e instanceof SettingsError)) throw e;
        assert.deepEqual(
            e.problems.map((p) => p.key),
            ["private-registry:registry.uploadPurging.age"],
        );
        assert.match(e.problems[0].message, /must be a Go duration/);
        return false;
    }
}

function validatorAccepts(d: string): boolean {
    const model: RegistryConfigModel = {
        version: 3,
        storage: { driver: "filesystem" },
        storageOptions: { uploadPurging: { enabled: true, age: d } },
        http: { addr: ":5000" },
    };
    try {
        validateRegistryConfigModel(model);
        return true;
    } catch (e) {
        if (!(e instanceof RegistryConfigError)) throw e;
        assert.equal(e.field, "storageOptions.uploadPurging.age");
        assert.match(e.message, /not a Go duration/);
        return false;
    }
}

describe("Go durations: one rule for the settings parser and the validator", () => {
    for (const d of ACCEPTED) {
        it(`accepts ${JSON.stringify(d)}`, () => {
            assert.equal(isGoDuration(d), true);
            assert.equal(settingsAccept(d), true, "settings");
            assert.equal(validatorAccepts(d), true, "validator");
        });
    }
    for (const d of REFUSED) {
        it(`refuses ${JSON.stringify(d)}`, () => {
            assert.equal(isGoDuration(d), false);
            assert.equal(settingsAccept(d), false, "settings");
            assert.equal(validatorAccepts(d), false, "validator");
        });
    }
    it("refuses a negative duration, which Go parses but which means nothing here", () => {
        for (const d of ["-1.5h", "-0s", "-5m", "-0", "-2562047h47m16.854775808s"]) {
            assert.equal(isGoDuration(d), true, d);
            assert.equal(settingsAccept(d), false, `settings on ${d}`);
            assert.equal(validatorAccepts(d), false, `validator on ${d}`);
        }
    });
    it("settings and validator agree on every string of duration characters up to three long", () => {
        const chars = ["0", "1", ".", "-", "+", "s", "m", "h", "n", "u", "\u00b5", "\u03bc", "d"];
        let strings = [""];
        const all: string[] = [];
        for (let n = 0; n < 3; n++) {
            strings = strings.flatMap((s) => chars.map((c) => s + c));
            all.push(...strings);
        }
        for (const d of all) {
            const expected = isDurationSetting(d);
            assert.equal(validatorAccepts(d), expected, `validator on ${JSON.stringify(d)}`);
            assert.equal(settingsAccept(d), expected, `settings on ${JSON.stringify(d)}`);
        }
    });
});
