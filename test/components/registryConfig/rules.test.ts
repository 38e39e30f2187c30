/**
 * Rules written once in components/registryConfig/rules.ts, with the stack-config parser
 * and the renderer's validator agreeing on every string: Go durations (what `time.ParseDuration`
 * accepts), one-line text (what YAML 1.1 does not break), and the header names the registry can send.
 *
 * Run: node --import tsx --test test/components/registryConfig/rules.test.ts
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import {
    headerNameProblem,
    httpUrlProblem,
    isDurationSetting,
    isGoDuration,
    isSingleLine,
    RegistryConfigError,
    registryConfigProblems,
    renderRegistryConfig,
    validateRegistryConfigModel,
} from "../../../components/registryConfig";
import type { RegistryConfigModel } from "../../../components/registryConfig/model";
import { parseSettings, SettingsError } from "../../../settings";

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
        assert.equal(s.registry.uploadPurging?.age, d);
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

/** Every character YAML 1.1 (the registry's go-yaml) reads as a line break, and other control characters. */
const NOT_ONE_LINE = ["\n", "\r", "\v", "\f", "\u0085", "\u2028", "\u2029", "\u0000", "\u0008", "\u001f", "\u007f", "\u0080", "\u009f"];

const withRealm = (realm: string): RegistryConfigModel => ({
    version: 2,
    storage: { driver: "filesystem" },
    http: { addr: ":5000", secret: "s" },
    auth: { htpasswd: { realm, path: "/auth/htpasswd" } },
});

/** Whether the settings parser takes `realm` (quotes and backslashes aside, which only it refuses: they go into a header). */
function settingsAcceptRealm(realm: string): boolean {
    try {
        parseSettings({ values: { registry: JSON.stringify({ realm }) }, secretKeys: new Set() });
        return true;
    } catch (e) {
        if (!(e instanceof SettingsError)) throw e;
        assert.deepEqual(
            e.problems.map((p) => p.key),
            ["private-registry:registry.realm"],
        );
        return false;
    }
}

describe("one-line text: one rule for the settings parser and the validator", () => {
    it("isSingleLine refuses every YAML 1.1 line break and control character, and keeps tab and other text", () => {
        for (const c of NOT_ONE_LINE) assert.equal(isSingleLine(`a${c}b`), false, JSON.stringify(c));
        for (const s of ["", "a\tb", "café", "a b", "\u00a0", "😀", "a: b # c"]) assert.equal(isSingleLine(s), true, JSON.stringify(s));
    });

    it("the validator refuses such a character in any string of the model, naming the field and quoting nothing", () => {
        const cases: [string, RegistryConfigModel][] = [
            ["auth.htpasswd.realm", withRealm("Lab\u2028Registry")],
            [
                "storage.region",
                { ...withRealm("r"), storage: { driver: "s3", region: "us\u0085east", bucket: "b", secretKey: "SECRET-KEY-1", accessKey: "a" } },
            ],
            ["storage.secretKey", { ...withRealm("r"), storage: { driver: "s3", region: "r", bucket: "b", secretKey: "SECRET\u2029KEY", accessKey: "a" } }],
            ["http.headers.X-A[0]", { ...withRealm("r"), http: { addr: ":5000", headers: { "X-A": ["a\rb"] } } }],
            [
                "notifications.endpoints[0].headers.Authorization[0]",
                { ...withRealm("r"), notifications: { endpoints: [{ name: "n", url: "https://n.example", headers: { Authorization: ["Bearer\u2028x"] } }] } },
            ],
            ["proxy.username", { ...withRealm("r"), proxy: { remoteUrl: "https://r.example", username: "u\vx", password: "p" } }],
        ];
        for (const [field, model] of cases) {
            const problems = registryConfigProblems(model);
            assert.ok(
                problems.some((p) => p.field === field && /one line of text/.test(p.message)),
                `${field}: ${JSON.stringify(problems)}`,
            );
            for (const p of problems) assert.doesNotMatch(p.message, /SECRET|Bearer/);
            assert.throws(() => renderRegistryConfig(model), RegistryConfigError);
        }
        assert.ok(registryConfigProblems({ ...withRealm("r"), log: { fields: { "a\u2028b": "x" } } }).some((p) => p.field === "log.fields"));
    });

    it("settings and validator agree on every realm, and what they take reads back unchanged, with no raw line break in config.yml", () => {
        const unit = fc.constantFrom("a", "Z", " ", "\t", ":", "#", "-", "é", "😀", "\u00a0", ...NOT_ONE_LINE);
        fc.assert(
            fc.property(fc.string({ unit, minLength: 1, maxLength: 12 }), (realm) => {
                const validator = registryConfigProblems(withRealm(realm)).length === 0;
                assert.equal(validator, isSingleLine(realm) && realm.trim() !== "");
                assert.equal(settingsAcceptRealm(realm), validator);
                if (!validator) return;
                const text = renderRegistryConfig(withRealm(realm));
                assert.doesNotMatch(text, /[\u0085\u2028\u2029]/);
                assert.equal(parse(text, { version: "1.1" }).auth.htpasswd.realm, realm);
            }),
            { numRuns: 400 },
        );
    });

    it("a URL that holds a line break, a tab or a space is not one (the URL parser would drop them silently)", () => {
        for (const url of [
            "https://r.example/\nx",
            "https://r.example\r",
            "https://r.exa\tmple",
            " https://r.example",
            "https://r.example ",
            "https://r.example/\u2028",
        ]) {
            assert.equal(httpUrlProblem(url), "syntax", JSON.stringify(url));
        }
        assert.equal(httpUrlProblem("https://r.example/a"), undefined);
    });
});

describe("header names the registry can send", () => {
    it("refuses framing and hop-by-hop headers in any case, and __proto__; takes other tokens", () => {
        for (const name of [
            "Content-Length",
            "content-length",
            "Transfer-Encoding",
            "Connection",
            "Keep-Alive",
            "Upgrade",
            "Host",
            "TE",
            "Trailer",
            "Proxy-Connection",
            "HOST",
        ]) {
            assert.match(headerNameProblem(name) ?? "", /framing or hop-by-hop/, name);
        }
        assert.match(headerNameProblem("__proto__") ?? "", /reserved/);
        assert.match(headerNameProblem("Bad Header") ?? "", /not a valid HTTP header name/);
        for (const name of ["X-Frame-Options", "Strict-Transport-Security", "constructor", "Hosts", "Content-Type"])
            assert.equal(headerNameProblem(name), undefined, name);
    });

    it("the validator refuses them in http.headers and notification headers, naming the header", () => {
        const cases: [string, RegistryConfigModel][] = [
            ["http.headers.Transfer-Encoding", { ...withRealm("r"), http: { addr: ":5000", headers: { "Transfer-Encoding": ["chunked"] } } }],
            [
                "notifications.endpoints[0].headers.Host",
                { ...withRealm("r"), notifications: { endpoints: [{ name: "n", url: "https://n.example", headers: { Host: ["evil"] } }] } },
            ],
        ];
        for (const [field, model] of cases) {
            assert.throws(
                () => validateRegistryConfigModel(model),
                (e: unknown) => e instanceof RegistryConfigError && e.field === field && /framing or hop-by-hop/.test(e.message),
            );
        }
        const proto = JSON.parse('{"__proto__": ["x"]}') as Record<string, string[]>;
        assert.ok(registryConfigProblems({ ...withRealm("r"), http: { addr: ":5000", headers: proto } }).some((p) => p.field === "http.headers.__proto__"));
    });
});
