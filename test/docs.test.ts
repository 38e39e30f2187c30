/**
 * The configuration reference documents exactly the keys the settings parser takes: every key of
 * every section's key table has its row in docs/configuration.md, and every row names a key the
 * parser knows, so a reader finds any key in one hop.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CLIENT_KEYS, DAEMON_JSON_KEYS } from "../settings/clients";
import { CONTAINER_KEYS } from "../settings/container";
import { DATA_KEYS } from "../settings/data";
import { TOP_KEYS as TOP } from "../settings/index";
import { REGISTRY_KEYS } from "../settings/registry";
import { CA_KEYS, CERT_KEYS, TLS_KEYS } from "../settings/tls";
import { USER_KEYS } from "../settings/users";

const TOP_KEYS: readonly string[] = TOP;
const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "configuration.md"), "utf8");

/** The keys named in the first column of the reference's tables (a cell may name several). */
const documented = new Set(
    doc
        .split("\n")
        .filter((l) => l.startsWith("| `"))
        .flatMap((l) => [...l.split("|")[1].matchAll(/`([^`]+)`/g)].map((m) => m[1])),
);

/** Every config key the parser takes, spelt as the reference spells it. */
const parsed = [
    ...TOP_KEYS,
    ...TLS_KEYS.filter((k) => k !== "ca" && k !== "certificate").map((k) => `tls.${k}`),
    ...CA_KEYS.map((k) => `tls.ca.${k}`),
    ...CERT_KEYS.map((k) => `tls.certificate.${k}`),
    ...USER_KEYS.map((k) => `users[].${k}`),
    ...DATA_KEYS.map((k) => `data.${k}`),
    ...CONTAINER_KEYS.map((k) => `container.${k}`),
    ...CLIENT_KEYS.map((k) => `clients[].${k}`),
    ...REGISTRY_KEYS,
    ...DAEMON_JSON_KEYS,
];

describe("docs/configuration.md", () => {
    it("has a row for every key the settings parser takes", () => {
        // A section documented through its sub-keys (`tls.enabled`, `data.volumeName`) counts.
        const has = (k: string) => documented.has(k) || [...documented].some((d) => d.startsWith(`${k}.`) || d.startsWith(`${k}[]`));
        const missing = parsed.filter((k) => !has(k));
        assert.deepEqual(missing, []);
    });

    it("names no top-level key the parser does not take", () => {
        const topLevel = [...documented].filter(
            (k) => /^[a-z][A-Za-z]*$/.test(k) && !REGISTRY_KEYS.includes(k) && !DAEMON_JSON_KEYS.includes(k) && !isDriverOrValue(k),
        );
        assert.deepEqual(
            topLevel.filter((k) => !TOP_KEYS.includes(k)),
            [],
        );
    });
});

/** Storage driver names and value spellings that also appear in first columns. */
function isDriverOrValue(k: string): boolean {
    return ["filesystem", "s3", "swift", "azure", "gcs", "inmemory"].includes(k);
}
