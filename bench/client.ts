/**
 * The transfer bench's registry client, in Go: the registry HTTP API v2 spoken the way Docker's Go
 * client speaks it, with Go's net/http, crypto/tls and sha256, so that the client side costs what
 * Docker's does. (A client in Node spent about seven times curl's CPU on a 512 MiB pull, which on
 * two cores drowned the registry's own cost.) The source is here, built once per run into a
 * temporary folder with the local toolchain and the standard library only: no module download.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SOURCE = `// The transfer bench's registry client (bench/transfer.ts): the registry HTTP API v2
// the way Docker's Go client speaks it, so that the client's own cost is Docker's (Go net/http,
// crypto/tls, sha256), not the bench's. One keep-alive connection per push or pull, to 127.0.0.1
// only. The Authorization header value, if any, comes on stdin. Prints one JSON line.
package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const manifestType = "application/vnd.oci.image.manifest.v1+json"

var (
	port       = flag.Int("port", 0, "the registry's port on 127.0.0.1")
	servername = flag.String("servername", "", "TLS: the name verified and sent as SNI (plain HTTP when empty)")
	caFile     = flag.String("ca", "", "TLS: the only CA trusted")
	repo       = flag.String("repo", "bench/random", "repository")
	tag        = flag.String("tag", "latest", "tag")
	size       = flag.Int("size", 512<<20, "push: bytes of random data in the layer's one file")
	count      = flag.Int("n", 1, "pull: concurrent pulls")
	wantDigest = flag.String("manifest", "", "pull: the manifest digest the tag must resolve to")
	auth       string
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench-client: "+format+"\\n", a...)
	os.Exit(1)
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

type client struct {
	http     *http.Client
	base     *url.URL
	requests int
}

func newClient() *client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(*port))
		},
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", *port)
	if *servername != "" {
		pem, err := os.ReadFile(*caFile)
		check(err)
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificate in %s", *caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: *servername, MinVersion: tls.VersionTLS12}
		base = fmt.Sprintf("https://%s:%d", *servername, *port)
	}
	u, err := url.Parse(base)
	check(err)
	return &client{http: &http.Client{Transport: tr}, base: u}
}

type reply struct {
	status int
	header http.Header
	body   []byte
	bytes  int64
	digest string
}

type opts struct {
	anonymous bool
	header    map[string]string
	body      []byte
	keep      bool
	hash      bool
	expect    []int
}

func (c *client) do(method, ref string, o opts) reply {
	c.requests++
	u, err := c.base.Parse(ref)
	check(err)
	var body io.Reader
	if o.body != nil {
		body = bytes.NewReader(o.body)
	}
	req, err := http.NewRequest(method, u.String(), body)
	check(err)
	for k, v := range o.header {
		req.Header.Set(k, v)
	}
	if !o.anonymous && auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := c.http.Do(req)
	check(err)
	defer res.Body.Close()
	r := reply{status: res.StatusCode, header: res.Header}
	var h hash.Hash
	w := io.Discard
	var kept bytes.Buffer
	if o.hash {
		h = sha256.New()
		w = h
	}
	if o.keep {
		w = io.MultiWriter(w, &kept)
	}
	r.bytes, err = io.Copy(w, res.Body)
	check(err)
	r.body = kept.Bytes()
	if h != nil {
		r.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	for _, s := range o.expect {
		if s == r.status {
			return r
		}
	}
	fail("%s %s: %d %s", method, u.Path, r.status, string(r.body))
	return r
}

// Docker's first request: anonymous, to learn the challenge (401 with auth, 200 without).
func (c *client) ping() {
	c.do("GET", "/v2/", opts{anonymous: true, keep: true, expect: []int{200, 401}})
}

// One blob the way Docker pushes it: exists? start, one streamed PATCH, commit, stat.
func (c *client) pushBlob(data []byte, digest string) {
	blob := "/v2/" + *repo + "/blobs/" + digest
	c.do("HEAD", blob, opts{expect: []int{404}})
	started := c.do("POST", "/v2/"+*repo+"/blobs/uploads/", opts{keep: true, expect: []int{202}})
	patched := c.do("PATCH", started.header.Get("Location"), opts{
		header: map[string]string{"Content-Type": "application/octet-stream"}, body: data, keep: true, expect: []int{202},
	})
	put, err := c.base.Parse(patched.header.Get("Location"))
	check(err)
	q := put.Query()
	q.Set("digest", digest)
	put.RawQuery = q.Encode()
	c.do("PUT", put.String(), opts{keep: true, expect: []int{201}})
	stat := c.do("HEAD", blob, opts{expect: []int{200}})
	if stat.header.Get("Content-Length") != strconv.Itoa(len(data)) {
		fail("%s: stored size %s, pushed %d", digest, stat.header.Get("Content-Length"), len(data))
	}
}

// A tar of one file of random bytes (the layer), its config and an OCI manifest.
func makeImage() (layer, config, manifest []byte) {
	layer = make([]byte, 512+*size+1024)
	h := layer[:512]
	copy(h, "random.bin")
	copy(h[100:], "0000644\\x00")
	copy(h[108:], "0000000\\x00")
	copy(h[116:], "0000000\\x00")
	copy(h[124:], fmt.Sprintf("%011o\\x00", *size))
	copy(h[136:], "00000000000\\x00")
	copy(h[148:], "        ")
	h[156] = '0'
	copy(h[257:], "ustar\\x0000")
	sum := 0
	for _, b := range h {
		sum += int(b)
	}
	copy(h[148:], fmt.Sprintf("%06o\\x00 ", sum))
	var seed [32]byte
	_, err := crand.Read(seed[:])
	check(err)
	_, err = rand.NewChaCha8(seed).Read(layer[512 : 512+*size])
	check(err)
	config, err = json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digestOf(layer)}},
	})
	check(err)
	desc := func(mediaType string, b []byte) map[string]any {
		return map[string]any{"mediaType": mediaType, "digest": digestOf(b), "size": len(b)}
	}
	manifest, err = json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     manifestType,
		"config":        desc("application/vnd.oci.image.config.v1+json", config),
		"layers":        []any{desc("application/vnd.oci.image.layer.v1.tar", layer)},
	})
	check(err)
	return
}

func push() map[string]any {
	layer, config, manifest := makeImage()
	layerDigest, configDigest, manifestDigest := digestOf(layer), digestOf(config), digestOf(manifest)
	c := newClient()
	cpu0, t0 := cpuSeconds(), time.Now()
	c.ping()
	c.pushBlob(layer, layerDigest)
	c.pushBlob(config, configDigest)
	m := c.do("PUT", "/v2/"+*repo+"/manifests/"+*tag, opts{
		header: map[string]string{"Content-Type": manifestType}, body: manifest, keep: true, expect: []int{201},
	})
	if m.header.Get("Docker-Content-Digest") != manifestDigest {
		fail("manifest stored as %s, pushed %s", m.header.Get("Docker-Content-Digest"), manifestDigest)
	}
	return map[string]any{
		"seconds": time.Since(t0).Seconds(), "cpu": cpuSeconds() - cpu0, "requests": c.requests,
		"bytes": len(layer), "manifest": manifestDigest,
	}
}

// One pull as Docker does it: ping, manifest HEAD (tag to digest) and GET, config, layer; the
// layer's digest is checked when verify (the manifest's and the config's always).
func pullOnce(verify bool) (requests int, bytes int64) {
	c := newClient()
	c.ping()
	accept := map[string]string{"Accept": manifestType}
	head := c.do("HEAD", "/v2/"+*repo+"/manifests/"+*tag, opts{header: accept, expect: []int{200}})
	digest := head.header.Get("Docker-Content-Digest")
	if *wantDigest != "" && digest != *wantDigest {
		fail("%s resolves to %s, expected %s", *tag, digest, *wantDigest)
	}
	m := c.do("GET", "/v2/"+*repo+"/manifests/"+digest, opts{header: accept, keep: true, hash: true, expect: []int{200}})
	if m.digest != digest {
		fail("manifest %s has digest %s", digest, m.digest)
	}
	var man struct {
		Config struct{ Digest string }
		Layers []struct {
			Digest string
			Size   int64
		}
	}
	check(json.Unmarshal(m.body, &man))
	cfg := c.do("GET", "/v2/"+*repo+"/blobs/"+man.Config.Digest, opts{hash: true, expect: []int{200}})
	if cfg.digest != man.Config.Digest {
		fail("config %s has digest %s", man.Config.Digest, cfg.digest)
	}
	l := man.Layers[0]
	got := c.do("GET", "/v2/"+*repo+"/blobs/"+l.Digest, opts{hash: verify, expect: []int{200}})
	if got.bytes != l.Size || (verify && got.digest != l.Digest) {
		fail("layer %s: %d bytes with digest %q, manifest says %d", l.Digest, got.bytes, got.digest, l.Size)
	}
	return c.requests, got.bytes
}

func pull() map[string]any {
	cpu0, t0 := cpuSeconds(), time.Now()
	var wg sync.WaitGroup
	requests, total := make([]int, *count), make([]int64, *count)
	for i := range *count {
		wg.Add(1)
		go func() {
			defer wg.Done()
			requests[i], total[i] = pullOnce(i == 0)
		}()
	}
	wg.Wait()
	var sum int64
	for _, b := range total {
		sum += b
	}
	return map[string]any{"seconds": time.Since(t0).Seconds(), "cpu": cpuSeconds() - cpu0, "requests": requests[0], "bytes": sum}
}

// The median of ten authenticated GET /v2/ on one open connection: the cost of one request.
func latency() map[string]any {
	c := newClient()
	c.do("GET", "/v2/", opts{expect: []int{200}})
	ms := make([]float64, 10)
	for i := range ms {
		t0 := time.Now()
		c.do("GET", "/v2/", opts{expect: []int{200}})
		ms[i] = float64(time.Since(t0).Microseconds()) / 1000
	}
	sort.Float64s(ms)
	return map[string]any{"ms": (ms[4] + ms[5]) / 2}
}

func main() {
	flag.Parse()
	in, err := io.ReadAll(os.Stdin)
	check(err)
	auth = strings.TrimSpace(string(in))
	var out map[string]any
	switch flag.Arg(0) {
	case "ping":
		newClient().ping()
		out = map[string]any{}
	case "push":
		out = push()
	case "pull":
		out = pull()
	case "latency":
		out = latency()
	default:
		fail("usage: bench-client ping|push|pull|latency [flags]")
	}
	check(json.NewEncoder(os.Stdout).Encode(out))
}
`;

/** Builds the client into a new temporary folder; returns the folder (remove it when done) and the binary. */
export function buildClient(): { dir: string; bin: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-client-"));
    fs.writeFileSync(path.join(dir, "go.mod"), "module benchclient\n\ngo 1.23\n");
    fs.writeFileSync(path.join(dir, "main.go"), SOURCE);
    const bin = path.join(dir, "bench-client");
    try {
        execFileSync("go", ["build", "-o", bin, "."], {
            cwd: dir,
            stdio: ["ignore", "ignore", "pipe"],
            env: { ...process.env, GOTOOLCHAIN: "local", GOPROXY: "off", GOFLAGS: "-mod=mod", CGO_ENABLED: "0" },
        });
    } catch (e) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new Error(`building the bench's Go client (Go >= 1.23 on PATH, as \`npm test\` needs): ${(e as Error).message}`);
    }
    return { dir, bin };
}

/** How the client reaches one registry: always 127.0.0.1:port; TLS when `servername` is set. */
export interface ClientTarget {
    port: number;
    /** TLS: the name verified and sent as SNI, and a file holding the only CA trusted. */
    tls?: { servername: string; caFile: string };
    /** `Authorization` header value for every request but the ping; passed on stdin. */
    auth?: string;
}

/** What one client run reports: wall and client CPU seconds of the timed part, and more per mode. */
export interface ClientResult {
    seconds: number;
    cpu: number;
    requests: number;
    bytes: number;
    /** push: the manifest digest pushed. */
    manifest?: string;
    /** latency: median milliseconds of an authenticated GET /v2/. */
    ms?: number;
}

/** Runs the client once: `ping`, `push`, `pull` (`-n` concurrent) or `latency`. */
export function runClient(
    bin: string,
    mode: "ping" | "push" | "pull" | "latency",
    target: ClientTarget,
    flags: Record<string, string> = {},
): Promise<ClientResult> {
    const args = ["-port", String(target.port)];
    if (target.tls) args.push("-servername", target.tls.servername, "-ca", target.tls.caFile);
    for (const [k, v] of Object.entries(flags)) args.push(`-${k}`, v);
    return new Promise((resolve, reject) => {
        const p = spawn(bin, [...args, mode], { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        p.stdout.on("data", (c: Buffer) => {
            out += c;
        });
        p.stderr.on("data", (c: Buffer) => {
            err += c;
        });
        p.on("error", reject);
        p.on("close", (code) =>
            code === 0 ? resolve(JSON.parse(out) as ClientResult) : reject(new Error(err.trim() || `bench-client ${mode} exited ${code}`)),
        );
        p.stdin.end(target.auth ?? "");
    });
}
