/** The image import section: `imports` (images copied into the registry at `up`, for air-gapped sites). */
import type { ImportSettings } from "../components/args";
import type { Settings } from "./types";
import { localFile, REPOSITORY_REF, repositoryOf } from "./image";
import { BAD, type Reader, show } from "./reader";
import { importConnectHost } from "../components/hosts";

export const IMPORT_KEYS = ["archive", "image", "to"];
const SHAPE = "{archive | image, to?}";

export function parseImports(r: Reader): ImportSettings[] {
    if (!r.has("imports")) return [];
    const raw = r.json("imports", `a list of ${SHAPE}`);
    if (raw === BAD) return [];
    const seen: string[] = [];
    return (
        r.list("imports", raw, SHAPE, (key, v) => {
            const o = r.obj(key, v, IMPORT_KEYS, `an object ${SHAPE}`);
            if (!o) return undefined;
            if ((o.archive === undefined) === (o.image === undefined)) {
                return r.fail(key, "needs exactly one of archive (an image archive on this machine) and image (an image on the registry's Docker host)");
            }
            let source: ImportSettings["source"] | undefined;
            let fromImage: { repository: string; tag?: string } | undefined;
            if (o.archive !== undefined) {
                const archive = localFile(r, `${key}.archive`, o.archive, "a docker save or OCI archive");
                if (archive !== undefined) source = { archive };
            } else {
                const image = r.str(`${key}.image`, o.image);
                fromImage = image === undefined ? undefined : repositoryOf(image);
                if (image !== undefined && !fromImage) {
                    r.fail(`${key}.image`, `must be an image reference [registry/]name[:tag][@sha256:<64 hex>] with a lower-case name, got ${show(image)}`);
                } else if (image !== undefined) source = { image };
            }
            let to: { repository: string; tag?: string } | undefined;
            if (o.to !== undefined) {
                const s = r.str(`${key}.to`, o.to);
                const m = s === undefined ? undefined : REPOSITORY_REF.exec(s);
                if (s !== undefined && !m) {
                    r.fail(
                        `${key}.to`,
                        `must be repository[:tag] in this registry, with a lower-case repository and no registry name, such as team/app:1.4, got ${show(s)}`,
                    );
                } else if (m) to = { repository: m[1], tag: m[2] };
            } else if (o.archive !== undefined) {
                r.fail(`${key}.to`, "is required for an archive: the repository[:tag] the image gets in this registry, such as team/app:1.4");
            } else to = fromImage;
            if (!source || !to) return undefined;
            const tag = to.tag ?? "latest";
            const where = `${to.repository}:${tag}`;
            if (seen.includes(where)) return r.fail(`${key}.to`, `repeats ${show(where)}: two imports would overwrite each other's tag`);
            seen.push(where);
            return { source, repository: to.repository, tag };
        }) ?? []
    );
}

/** The checks between `imports` and the rest of the stack. */
export function checkImports(r: Reader, s: Pick<Settings, "docker" | "bindAddress"> & { proxy: boolean; imports: ImportSettings[] }): void {
    if (s.imports.length === 0) return;
    if (s.proxy) r.fail("imports", "cannot be used with registry.proxy: a pull-through cache refuses pushes");
    if (importConnectHost(s) === undefined) {
        r.fail(
            "imports",
            `needs the registry reachable from the machine that runs up, but it listens on ${show(s.bindAddress)} of the remote Docker host ${show(s.docker.host)}: set bindAddress to an address of that host`,
        );
    }
}
