/** Which registry major version an image reference implies. */
import type { RegistryMajorVersion } from "./model";

/**
 * The registry major version an image reference implies, from its tag: `registry:2.8.3` → 2,
 * `registry:3`, `registry:latest` and an untagged `registry` → 3 (`latest` is v3). A leading `v`
 * is allowed (`v2.8.2`). Returns undefined for a digest-only reference (`registry@sha256:…`), a
 * tag that does not start with a version, and majors other than 2 and 3. With both a tag and a
 * digest the tag decides. A registry port (`localhost:5000/registry`) is not a tag.
 */
export function registryVersionFromImage(image: string): RegistryMajorVersion | undefined {
    let ref = image.trim();
    const at = ref.indexOf("@");
    const hasDigest = at >= 0;
    if (hasDigest) {
        ref = ref.slice(0, at);
    }
    const lastSlash = ref.lastIndexOf("/");
    const lastColon = ref.lastIndexOf(":");
    const name = lastColon > lastSlash ? ref.slice(0, lastColon) : ref;
    if (name === "" || name.endsWith("/")) {
        return undefined;
    }
    if (lastColon <= lastSlash) {
        // No tag: implicitly `latest`, unless only a digest pins it (we cannot tell what it is).
        return hasDigest ? undefined : 3;
    }
    const tag = ref.slice(lastColon + 1);
    if (tag === "latest") {
        return 3;
    }
    const m = /^v?(\d+)(?:[.\-_]|$)/.exec(tag);
    if (!m) {
        return undefined;
    }
    const major = Number(m[1]);
    return major === 2 ? 2 : major === 3 ? 3 : undefined;
}
