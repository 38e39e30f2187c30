/** The image section: `image`, `imageArchive`, `registryVersion`, `keepImage` and `containerName`. */
import * as fs from "node:fs";
import { registryVersionFromImage } from "../components/registryConfig";
import type { RegistryMajorVersion } from "../components/registryConfig/model";
import { type Reader, show } from "./reader";
import { DOCKER_NAME } from "./rules";
import { REGISTRY_DEFAULTS } from "../components/defaults";

const DOMAIN_COMPONENT = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`;
/** A repository path as distribution accepts it: lower-case components joined by `/`. */
const REPOSITORY = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*";
const TAG = "[\\w][\\w.-]{0,127}";

/** An image reference as `docker/reference` parses it: `[domain[:port]/]path[:tag][@sha256:<64 hex>]`, in groups domain, path, tag, digest. */
export const IMAGE_REF = new RegExp(`^(?:(${DOMAIN})/)?(${REPOSITORY})(?::(${TAG}))?(?:@(sha256:[a-f0-9]{64}))?$`);

/** A place in this registry: `repository[:tag]`, in groups path, tag. */
export const REPOSITORY_REF = new RegExp(`^(${REPOSITORY})(?::(${TAG}))?$`);

/**
 * The repository and tag an image reference names, without its registry: `docker/reference`'s
 * rule that a first component with a `.` or `:`, or `localhost`, is a registry, not a path.
 */
export function repositoryOf(ref: string): { repository: string; tag?: string } | undefined {
    const m = IMAGE_REF.exec(ref);
    if (!m) return undefined;
    let repository = m[2];
    const first = m[1];
    // The regex takes a dot-less first component as a domain when a path follows; docker does not.
    if (first !== undefined && !/[.:]/.test(first) && first !== "localhost") repository = `${first}/${repository}`;
    if (!new RegExp(`^${REPOSITORY}$`).test(repository)) return undefined;
    return { repository, tag: m[3] };
}

/** An image reference for a container the program runs beside the registry, or a problem recorded under `key`. */
export function imageRef(r: Reader, key: string, v: unknown, example: string): string | undefined {
    const image = r.str(key, v);
    if (image === undefined || IMAGE_REF.test(image)) return image;
    return r.fail(key, `must be an image reference [registry/]name[:tag][@sha256:<64 hex>], such as ${example}, got ${show(image)}`);
}

/** An absolute path of a file on the machine that runs `up`, or a problem recorded under `key`. */
export function localFile(r: Reader, key: string, v: unknown, what: string): string | undefined {
    const p = r.str(key, v);
    if (p === undefined) return undefined;
    let isFile = false;
    try {
        isFile = p.startsWith("/") && fs.statSync(p).isFile();
    } catch {
        // reported below
    }
    if (!isFile) return r.fail(key, `must be the absolute path of ${what} on the machine that runs up, got ${show(p)}`);
    return p;
}

export function parseImage(r: Reader) {
    const image = r.has("image") ? r.str("image", r.text("image")) : REGISTRY_DEFAULTS.image;
    if (image !== undefined && !IMAGE_REF.test(image)) {
        r.fail(
            "image",
            `must be an image reference [registry/]name[:tag][@sha256:<64 hex>] with a lower-case name, such as registry:3.1.2, got ${show(image)}`,
        );
    }
    let registryVersion: RegistryMajorVersion | undefined;
    if (r.has("registryVersion")) {
        registryVersion = r.oneOf("registryVersion", r.text("registryVersion"), [2, 3] as const, " (the distribution major version)");
    } else if (image !== undefined && IMAGE_REF.test(image)) {
        registryVersion = registryVersionFromImage(image);
        if (registryVersion === undefined) {
            r.fail("registryVersion", `is required: the distribution major version (2 or 3) cannot be read from the image tag, got image ${show(image)}`);
        }
    }
    const keepImage = r.has("keepImage") ? r.bool("keepImage", r.text("keepImage")) : REGISTRY_DEFAULTS.keepImage;
    const containerName = r.has("containerName") ? r.str("containerName", r.text("containerName")) : REGISTRY_DEFAULTS.containerName;
    if (containerName !== undefined && !DOCKER_NAME.test(containerName)) {
        r.fail("containerName", `must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's rule, two characters at least), got ${show(containerName)}`);
    }
    // Air-gapped sites: the image comes from a `docker save` archive on this machine.
    const imageArchive = r.has("imageArchive") ? localFile(r, "imageArchive", r.text("imageArchive"), "a docker save archive") : undefined;
    return { image, registryVersion, keepImage, containerName, imageArchive };
}
