/** Throw-away PKI for tests that start a real registry binary on 127.0.0.1. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** A CA (PEM) and the paths of a server certificate and key it issued. */
export interface Pki {
    caPem: string;
    certPath: string;
    keyPath: string;
}

/** A throw-away CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI. */
export function makePki(dir: string): Pki {
    const p = (f: string) => path.join(dir, f);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
    /** A new P-256 key, unencrypted, written to `keyFile`. */
    const newKey = (keyFile: string) => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p(keyFile)];
    openssl(
        "req",
        "-x509",
        ...newKey("ca.key"),
        "-out",
        p("ca.crt"),
        "-days",
        "2",
        "-subj",
        "/CN=registry test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    );
    openssl("req", ...newKey("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost");
    fs.writeFileSync(
        p("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n" + "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    openssl(
        "x509",
        "-req",
        "-in",
        p("server.csr"),
        "-CA",
        p("ca.crt"),
        "-CAkey",
        p("ca.key"),
        "-CAcreateserial",
        "-out",
        p("server.crt"),
        "-days",
        "2",
        "-extfile",
        p("server.ext"),
    );
    return { caPem: fs.readFileSync(p("ca.crt"), "utf8"), certPath: p("server.crt"), keyPath: p("server.key") };
}
