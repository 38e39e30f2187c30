/** The image section: `image`, `imageArchive`, `registryVersion`, `keepImage` and `containerName`. */
import * as fs from "node:fs";
import { registryVersionFromImage } from "../components/render/registryConfig";
import type { RegistryMajorVersion } from "../components/render/registryConfigModel";
import { type Reader, show } from "./reader";
import { DOCKER_NAME } from "./rules";
import { REGISTRY_DEFAULTS } from "../components/defaults";

/** An image reference as `docker/reference` parses it: `[domain[:port]/]path[:tag][@sha256:<64 hex>]`. */
const IMAGE_REF = (() => {
    const component = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
    const domain = `(?:${component}(?:\\.${component})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`;
    const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    return new RegExp(`^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
})();

export function parseImage(r: Reader) {
    const image = r.has("image") ? r.str("image", r.text("image")) : "registry:3.1.2";
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
    let imageArchive: string | undefined;
    if (r.has("imageArchive")) {
        const p = r.str("imageArchive", r.text("imageArchive"));
        if (p !== undefined) {
            let isFile = false;
            try {
                isFile = p.startsWith("/") && fs.statSync(p).isFile();
            } catch {
                // reported below
            }
            if (!isFile) r.fail("imageArchive", `must be the absolute path of a docker save archive on the machine that runs up, got ${show(p)}`);
            else imageArchive = p;
        }
    }
    return { image, registryVersion, keepImage, containerName, imageArchive };
}
