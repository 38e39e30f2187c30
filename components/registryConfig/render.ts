/**
 * The registry's `config.yml`, rendered from the typed model for distribution v2.8 or v3. Pure:
 * plain values in, YAML text out, no Pulumi types.
 *
 * Every key here is spelled the way distribution's own docs spell it: the registry ignores keys it
 * does not know (a camelCase `rootDirectory` is dropped). What one major version cannot do is
 * refused first, by `validate.ts`.
 *
 * Sources: distribution v2.8 `docs/configuration.md` and `configuration/configuration.go`;
 * v3 `docs/content/about/configuration.md` and the go-redis `UniversalOptions` fields inlined under `redis`.
 */
import { BEHAVIOUR_DEFAULTS } from "../defaults";
import { Document, parse, Scalar, visit } from "yaml";
import type { RegistryConfigModel, RegistryMajorVersion, StorageDriver } from "./model";
import { s3UsesPathStyle } from "./rules";
import { validateRegistryConfigModel } from "./validate";

type Plain = string | number | boolean | Plain[] | { [key: string]: Plain };
type Draft = { [key: string]: Plain | Draft | undefined };

/** An intentionally empty map (`inmemory: {}`), kept where {@link compact} drops empty sections. */
const EMPTY_MAP: { [key: string]: Plain } = Object.freeze({}) as { [key: string]: Plain };

/** Drops undefined entries and empty sections (keeping insertion order); undefined when nothing is left. */
function compact(draft: Draft): { [key: string]: Plain } | undefined {
    const out: { [key: string]: Plain } = {};
    for (const [k, val] of Object.entries(draft)) {
        if (val === undefined) {
            continue;
        }
        if (val === EMPTY_MAP) {
            out[k] = {};
        } else if (typeof val === "object" && !Array.isArray(val)) {
            const inner = compact(val as Draft);
            if (inner !== undefined) {
                out[k] = inner;
            }
        } else {
            out[k] = val as Plain;
        }
    }
    return Object.keys(out).length === 0 ? undefined : out;
}

function byCodePoint(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

function sortedRecord<T>(rec: Record<string, T> | undefined): Record<string, T> | undefined {
    if (rec === undefined || Object.keys(rec).length === 0) {
        return undefined;
    }
    const out: Record<string, T> = {};
    for (const k of Object.keys(rec).sort(byCodePoint)) {
        out[k] = rec[k];
    }
    return out;
}

/** User headers plus `X-Content-Type-Options: nosniff` (merged case-insensitively), sorted by name. */
function responseHeaders(user: Record<string, string[]> | undefined): Record<string, string[]> {
    const merged: Record<string, string[]> = {};
    for (const [k, vals] of Object.entries(user ?? {})) {
        merged[k] = [...vals];
    }
    const key = Object.keys(merged).find((k) => k.toLowerCase() === "x-content-type-options") ?? "X-Content-Type-Options";
    const values = merged[key] ?? [];
    if (!values.some((x) => x.toLowerCase() === "nosniff")) {
        values.push("nosniff");
    }
    merged[key] = values;
    return sortedRecord(merged) ?? {};
}

function storageDriverSection(v: RegistryMajorVersion, s: StorageDriver): Draft {
    switch (s.driver) {
        case "filesystem":
            return {
                filesystem: {
                    rootdirectory: s.rootDirectory ?? "/var/lib/registry",
                    maxthreads: s.maxThreads,
                },
            };
        case "s3":
            return {
                s3: {
                    accesskey: s.accessKey,
                    secretkey: s.secretKey,
                    region: s.region,
                    regionendpoint: s.regionEndpoint,
                    // v3 made path style an explicit key that defaults to false, which breaks Ceph RGW and
                    // MinIO behind a regionendpoint (distribution#4528); v2 has no such key at all.
                    forcepathstyle: v === 3 && (s.forcePathStyle !== undefined || s.regionEndpoint !== undefined) ? s3UsesPathStyle(s) : undefined,
                    bucket: s.bucket,
                    encrypt: s.encrypt,
                    keyid: s.keyId,
                    secure: s.secure,
                    skipverify: s.skipVerify,
                    v4auth: s.v4Auth,
                    chunksize: s.chunkSize,
                    multipartcopychunksize: s.multipartCopyChunkSize,
                    multipartcopymaxconcurrency: s.multipartCopyMaxConcurrency,
                    multipartcopythresholdsize: s.multipartCopyThresholdSize,
                    rootdirectory: s.rootDirectory,
                    storageclass: s.storageClass,
                },
            };
        case "swift":
            return {
                swift: {
                    authurl: s.authUrl,
                    username: s.username,
                    password: s.password,
                    authversion: s.authVersion,
                    tenant: s.tenant,
                    tenantid: s.tenantId,
                    domain: s.domain,
                    domainid: s.domainId,
                    region: s.region,
                    container: s.container,
                    insecureskipverify: s.insecureSkipVerify,
                    chunksize: s.chunkSize,
                    prefix: s.prefix,
                },
            };
        case "azure":
            return {
                azure: {
                    accountname: s.accountName,
                    accountkey: s.accountKey,
                    container: s.container,
                    realm: s.realm,
                    rootdirectory: s.rootDirectory,
                },
            };
        case "gcs":
            return {
                gcs: {
                    bucket: s.bucket,
                    keyfile: s.keyfile,
                    rootdirectory: s.rootDirectory,
                    chunksize: s.chunkSize,
                },
            };
        case "inmemory":
            // The driver takes no parameters; an empty map reads back as that.
            return { inmemory: EMPTY_MAP };
    }
}

function toPlainTree(model: RegistryConfigModel): { [key: string]: Plain } {
    const v = model.version;
    const so = model.storageOptions ?? {};
    const http = model.http;
    const purge = so.uploadPurging;

    const storage: Draft = {
        ...storageDriverSection(v, model.storage),
        ...compact({
            delete: { enabled: so.deleteEnabled ?? BEHAVIOUR_DEFAULTS.deleteEnabled },
            redirect: { disable: so.redirectDisable },
            cache: { blobdescriptor: so.blobDescriptorCache },
            maintenance: {
                // When uploadpurging is present and enabled the registry insists on all four keys
                // (it panics on "age missing" / "dryrun missing"), so the defaults are written out.
                uploadpurging:
                    purge === undefined
                        ? undefined
                        : purge.enabled
                          ? {
                                enabled: true,
                                age: purge.age ?? "168h",
                                interval: purge.interval ?? "24h",
                                dryrun: purge.dryRun ?? false,
                            }
                          : { enabled: false },
                readonly: { enabled: so.readOnly },
            },
        }),
    };

    const tls = http.tls;
    const redis = model.redis;

    const tree = compact({
        version: 0.1,
        log: model.log && {
            accesslog: { disabled: model.log.accessLogDisabled },
            level: model.log.level,
            formatter: model.log.formatter,
            fields: sortedRecord(model.log.fields),
        },
        storage,
        auth: model.auth?.htpasswd && {
            htpasswd: { realm: model.auth.htpasswd.realm, path: model.auth.htpasswd.path },
        },
        http: {
            addr: http.addr,
            prefix: http.prefix,
            host: http.host,
            secret: http.secret,
            relativeurls: http.relativeUrls,
            draintimeout: http.drainTimeout,
            tls: tls && {
                certificate: tls.certificatePath,
                key: tls.keyPath,
                clientcas: tls.clientCaPaths && tls.clientCaPaths.length > 0 ? [...tls.clientCaPaths] : undefined,
                minimumtls: tls.minimumTls,
                ciphersuites: tls.cipherSuites && tls.cipherSuites.length > 0 ? [...tls.cipherSuites] : undefined,
            },
            debug:
                http.debugAddr === undefined
                    ? undefined
                    : {
                          addr: http.debugAddr,
                          prometheus: http.prometheusPath === undefined ? undefined : { enabled: true, path: http.prometheusPath },
                      },
            headers: responseHeaders(http.headers),
        },
        notifications:
            model.notifications && model.notifications.endpoints.length > 0
                ? {
                      endpoints: model.notifications.endpoints.map(
                          (e) =>
                              compact({
                                  name: e.name,
                                  disabled: e.disabled,
                                  url: e.url,
                                  headers: sortedRecord(e.headers),
                                  timeout: e.timeout,
                                  threshold: e.threshold,
                                  backoff: e.backoff,
                                  ignoredmediatypes: e.ignoredMediaTypes && e.ignoredMediaTypes.length > 0 ? [...e.ignoredMediaTypes] : undefined,
                              }) ?? {},
                      ),
                  }
                : undefined,
        redis:
            redis === undefined
                ? undefined
                : v === 2
                  ? {
                        addr: redis.addrs[0],
                        password: redis.password,
                        db: redis.db,
                        dialtimeout: redis.dialTimeout,
                        readtimeout: redis.readTimeout,
                        writetimeout: redis.writeTimeout,
                        pool: { maxidle: redis.maxIdle, maxactive: redis.maxActive, idletimeout: redis.idleTimeout },
                    }
                  : {
                        // go-redis UniversalOptions, inlined: field names lower-cased by the YAML decoder.
                        addrs: [...redis.addrs],
                        username: redis.username,
                        password: redis.password,
                        db: redis.db,
                        dialtimeout: redis.dialTimeout,
                        readtimeout: redis.readTimeout,
                        writetimeout: redis.writeTimeout,
                        maxidleconns: redis.maxIdle,
                        poolsize: redis.maxActive,
                        connmaxidletime: redis.idleTimeout,
                    },
        health: model.health?.storageDriver && {
            storagedriver: {
                enabled: model.health.storageDriver.enabled,
                interval: model.health.storageDriver.interval,
                threshold: model.health.storageDriver.threshold,
            },
        },
        proxy: model.proxy && {
            remoteurl: model.proxy.remoteUrl,
            username: model.proxy.username,
            password: model.proxy.password,
            ttl: v === 3 ? model.proxy.ttl : undefined,
        },
    });
    return tree ?? {};
}

/** True when a plain scalar with this text would not read back as this same string (YAML 1.1 or 1.2). */
function plainIsAmbiguous(text: string): boolean {
    for (const version of ["1.1", "1.2"] as const) {
        try {
            if (parse(text, { version, logLevel: "silent" }) !== text) {
                return true;
            }
        } catch {
            return true;
        }
    }
    return false;
}

/**
 * Renders the registry's `config.yml` for `model.version` (validating it first). Keys follow
 * distribution's docs order (version, log, storage, auth, http, notifications, redis, health,
 * proxy); maps whose order does not matter (headers, log fields) are sorted; the text ends with a
 * newline. Strings a YAML 1.1 reader (the registry's go-yaml) would take for a bool, number, null
 * or timestamp (`on`, `yes`, `0.1`, `2024-01-01`) are quoted; `version: 0.1` stays plain, as in
 * every distribution example (the registry reads its raw text as the string "0.1").
 */
export function renderRegistryConfig(model: RegistryConfigModel): string {
    validateRegistryConfigModel(model);
    // The 1.1 schema quotes YAML 1.1 booleans such as `on`/`yes`; no %YAML directive is written.
    const doc = new Document(toPlainTree(model), { version: "1.1" });
    visit(doc, {
        Scalar(_key, node: Scalar) {
            if (typeof node.value === "string" && plainIsAmbiguous(node.value)) {
                node.type = Scalar.QUOTE_DOUBLE;
            }
        },
    });
    const text = doc.toString({ lineWidth: 0, indent: 2, indentSeq: true });
    return text.endsWith("\n") ? text : `${text}\n`;
}
