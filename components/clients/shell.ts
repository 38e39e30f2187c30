/**
 * The scripts a client host runs. Each is POSIX `sh` sent on stdin to `sh -s`, so nothing we send
 * (file contents, credentials) appears in a command line. Pure: values in, script text out.
 *
 * `$R` prefixes every host path; it is empty on a real host and a scratch folder in tests.
 */
import { shQuote } from "../sh";
import { type Ledger, ledgerError, type PathState, type Write } from "./ledger";

export { shQuote };

/** Where our bookkeeping lives on a host. */
export const STATE_DIR = "/var/lib/private-registry";
export const LEDGER = `${STATE_DIR}/ledger.json`;
const LOCK = `${STATE_DIR}/.lock`;
const TMP = ".private-registry.tmp";

/** `$R`: the host's root, empty on a real host (set -u safe). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template.
const ROOT = 'R="${R:-}"';
const lines = (...parts: (string | false | undefined)[]) => `${parts.filter((p): p is string => typeof p === "string").join("\n")}\n`;
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** The probe's findings. */
export interface Probe {
    home: string;
    uid: number;
    /** Commands present: docker, dockerd, containerd, podman, crio, skopeo, buildah, k3s, rke2. */
    commands: string[];
    /** dockerd's pid, when it runs. */
    dockerdPid?: number;
    /** dockerd's command line flags (to find flags that collide with daemon.json keys). */
    dockerdArgs: string[];
    /** True when this dockerd has `--validate` (Docker 23+). */
    dockerdValidates: boolean;
    /** Whether k3s / rke2 services are known to systemd. */
    services: string[];
    /** containerd's major version, when it is installed. */
    containerdMajor?: number;
}

const PROBED = ["docker", "dockerd", "containerd", "podman", "crio", "skopeo", "buildah", "k3s", "rke2", "buildkitd"];

/** Reports who runs, which runtimes are installed and how dockerd runs; changes nothing. */
export function renderProbe(): string {
    return lines(
        "set -eu",
        // The home of the user the steps run as (root under sudo, whatever HOME sudo kept).
        'home=$(getent passwd "$(id -u)" 2>/dev/null | cut -d: -f6 || true); [ -n "$home" ] || home=$HOME',
        'printf "home\\t%s\\n" "$home"',
        'printf "uid\\t%s\\n" "$(id -u)"',
        `for c in ${PROBED.join(" ")}; do if command -v "$c" >/dev/null 2>&1; then printf "command\\t%s\\n" "$c"; fi; done`,
        'pid=$(pidof dockerd 2>/dev/null | cut -d" " -f1 || true)',
        'if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then printf "dockerd\\t%s\\t%s\\n" "$pid" "$(tr "\\000" "\\n" < "/proc/$pid/cmdline" | tail -n +2 | base64 | tr -d "\\n")"; fi',
        'if command -v dockerd >/dev/null 2>&1 && dockerd --help 2>/dev/null | grep -q -- "--validate"; then printf "validate\\n"; fi',
        // "containerd github.com/containerd/containerd/v2 v2.0.2 …", "containerd containerd.io 1.7.25 …"
        `if command -v containerd >/dev/null 2>&1; then printf "containerd\\t%s\\n" "$(containerd --version 2>/dev/null | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^v?[0-9]+[.]/) { sub(/^v/, "", $i); split($i, a, "."); print a[1]; exit }}')"; fi`,
        'for s in k3s k3s-agent rke2-server rke2-agent; do if command -v systemctl >/dev/null 2>&1 && systemctl cat "$s" >/dev/null 2>&1; then printf "service\\t%s\\n" "$s"; fi; done',
    );
}

/** Parses the probe's output. */
export function parseProbe(out: string): Probe {
    const p: Probe = { home: "/root", uid: 0, commands: [], dockerdArgs: [], dockerdValidates: false, services: [] };
    for (const line of out.split("\n")) {
        const [k, a, b] = line.split("\t");
        if (k === "home") p.home = a;
        else if (k === "uid") p.uid = Number(a);
        else if (k === "command") p.commands.push(a);
        else if (k === "dockerd") {
            p.dockerdPid = Number(a);
            p.dockerdArgs = Buffer.from(b ?? "", "base64")
                .toString("utf8")
                .split("\n")
                .filter(Boolean);
        } else if (k === "validate") p.dockerdValidates = true;
        else if (k === "service") p.services.push(a);
        else if (k === "containerd" && /^[0-9]+$/.test(a ?? "")) p.containerdMajor = Number(a);
    }
    return p;
}

/** A path to read: structured files are read through symlinks (we edit the target, keeping the link). */
export interface ReadPath {
    path: string;
    follow: boolean;
}

/**
 * Who holds a host's lock: the owner (one client of one registry) and this run's own token, so
 * that a run releases only a lock it still holds.
 */
export interface LockHolder {
    owner: string;
    token: string;
}

/**
 * Takes the host's lock (a folder: one up at a time per host, across stacks), then prints the
 * ledger and each path's state. A lock older than 15 minutes is from a run that died; it is broken.
 */
export function renderSnapshot(lockAs: LockHolder | undefined, paths: ReadPath[]): string {
    return lines(
        "set -eu",
        ROOT,
        `L="$R"${shQuote(STATE_DIR)}`,
        ...(lockAs === undefined ? [] : lockLines(lockAs)),
        "st() {",
        '  p="$R$1"',
        '  if [ "$2" = 1 ] && [ -L "$p" ]; then p=$(readlink -f "$p" 2>/dev/null || printf "%s" "$p"); fi',
        '  k=$(printf "%s" "$1" | base64 | tr -d "\\n")',
        '  if [ -L "$p" ]; then printf "%s\\tlink\\t\\t\\t\\t%s\\n" "$k" "$(readlink "$p" | base64 | tr -d "\\n")"',
        '  elif [ -d "$p" ]; then printf "%s\\tdir\\t%s\\n" "$k" "$(stat -c "%a %u %g" "$p" | tr " " "\\t")"',
        '  elif [ -f "$p" ]; then printf "%s\\tfile\\t%s\\t%s\\n" "$k" "$(stat -c "%a %u %g" "$p" | tr " " "\\t")" "$(base64 < "$p" | tr -d "\\n")"',
        '  else printf "%s\\tabsent\\n" "$k"; fi',
        "}",
        `if [ -f "$R"${shQuote(LEDGER)} ]; then printf "ledger\\t%s\\n" "$(base64 < "$R"${shQuote(LEDGER)} | tr -d "\\n")"; fi`,
        ...paths.map((p) => `st ${shQuote(p.path)} ${p.follow ? 1 : 0}`),
    );
}

const LOCK_OWNER = `"$R"${shQuote(`${LOCK}/owner`)}`;
/** True (exit 0) while the lock holds `token` (the owner file's second line). */
const lockIsOurs = (token: string) => `[ "$(awk "NR == 2" ${LOCK_OWNER} 2>/dev/null || true)" = ${shQuote(token)} ]`;

function lockLines(l: LockHolder): string[] {
    return [
        'mkdir -p "$L"; chmod 0700 "$L"',
        "n=0",
        `until mkdir "$R"${shQuote(LOCK)} 2>/dev/null; do`,
        // Ours from a run that was killed, or older than 15 minutes: that run is gone.
        `  if [ "$(awk "NR == 1" ${LOCK_OWNER} 2>/dev/null || true)" = ${shQuote(l.owner)} ] || [ -n "$(find "$R"${shQuote(LOCK)} -maxdepth 0 -mmin +15 2>/dev/null)" ]; then rm -rf "$R"${shQuote(LOCK)}; continue; fi`,
        "  n=$((n+1))",
        `  if [ "$n" -ge 240 ]; then echo "private-registry: $L/.lock is held by $(awk "NR == 1" ${LOCK_OWNER} 2>/dev/null || echo another run) for 2 minutes; if no up runs against this host, remove that folder" >&2; exit 1; fi`,
        "  sleep 0.5",
        "done",
        `printf '%s\\n%s\\n' ${shQuote(l.owner)} ${shQuote(l.token)} > ${LOCK_OWNER}`,
    ];
}

/** Removes the lock only while it holds `token`: a run whose lock was broken and taken by another leaves that one alone. */
const releaseLock = (token: string) => `if ${lockIsOurs(token)}; then rm -rf "$R"${shQuote(LOCK)}; fi`;

/** Parses the snapshot: the ledger (absent on a host we never touched) and each path's state. */
export function parseSnapshot(out: string): { ledger?: Ledger; paths: Record<string, PathState> } {
    const paths: Record<string, PathState> = {};
    let ledger: Ledger | undefined;
    const un = (s: string) => Buffer.from(s, "base64").toString("utf8");
    for (const line of out.split("\n")) {
        const f = line.split("\t");
        if (f[0] === "ledger") {
            ledger = ledgerOf(un(f[1]));
            continue;
        }
        if (f.length < 2) continue;
        const path = un(f[0]);
        const mode = (f[2] ?? "").padStart(4, "0");
        if (f[1] === "absent") paths[path] = { kind: "absent" };
        else if (f[1] === "link") paths[path] = { kind: "link", target: un(f[5] ?? "") };
        else if (f[1] === "dir") paths[path] = { kind: "dir", mode, uid: Number(f[3]), gid: Number(f[4]) };
        else if (f[1] === "file") paths[path] = { kind: "file", mode, uid: Number(f[3]), gid: Number(f[4]), b64: f[5] ?? "" };
    }
    return { ledger, paths };
}

/**
 * The ledger file's text, checked for the shape this program writes: a corrupt or hand-edited one
 * is a LedgerError naming the file, never a TypeError halfway through a plan.
 */
function ledgerOf(text: string): Ledger {
    let v: unknown;
    try {
        v = JSON.parse(text);
    } catch (e) {
        throw ledgerError(`${LEDGER} is not valid JSON (${(e as Error).message})${LEDGER_ADVICE}`);
    }
    const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
    const entryOk = (e: unknown) =>
        isObject(e) &&
        isObject(e.item) &&
        typeof e.item.kind === "string" &&
        Array.isArray(e.layers) &&
        e.layers.every((l) => isObject(l) && typeof l.owner === "string");
    const problem = !isObject(v)
        ? "is not a JSON object"
        : v.version !== 1
          ? `has version ${JSON.stringify(v.version)}, not 1`
          : !isObject(v.entries) || !Object.values(v.entries).every(entryOk)
            ? "has malformed entries"
            : !isObject(v.files) || !isObject(v.dirs) || !Object.values(v.dirs).every((o) => Array.isArray(o))
              ? "has malformed files or dirs"
              : undefined;
    if (problem) throw ledgerError(`${LEDGER} ${problem}${LEDGER_ADVICE}`);
    return v as unknown as Ledger;
}
const LEDGER_ADVICE =
    "; it records what to put back on this host. Restore it (a backup, or the version your configuration management keeps), or move it away to start a new one: the changes it recorded then stay on the host, and the next up takes the files as they are now";

/** What to do with a daemon after the files are written. */
export interface DaemonAction {
    /** The daemon.json path. */
    file: string;
    /** The new daemon.json, for `dockerd --validate` before anything is written. */
    next: PathState;
    validate: boolean;
    action: "reload" | "restart";
    /** Shell conditions that hold once the new file is in force (`docker info` checks). */
    checks: string[];
    /** The host's name in messages. */
    where: string;
}

/** A service to restart after its file changed (k3s, rke2, buildkit), or containerd after config_path; only when it is active. */
export interface ServiceRestart {
    service: string;
    reason: string;
    /** A shell condition that holds once the service serves again with the new file (beyond being active). */
    serving?: string;
}

/** containerd serves CRI: its CRI plugin loaded (it does not when it refuses its registry config). ctr ships with containerd. */
export const CONTAINERD_SERVES_CRI =
    '{ ! command -v ctr >/dev/null 2>&1 || ctr plugins ls 2>/dev/null | awk \'$1 == "io.containerd.grpc.v1" && $2 == "cri" { print $NF }\' | grep -qx ok; }';

/** `$p` := the host path (through a symlink to its target when `follow`): a structured file is edited where it lives. */
const locate = (path: string, follow: boolean) => `p="$R"${shQuote(path)}; ${follow ? 'if [ -L "$p" ]; then p=$(readlink -f "$p"); fi; ' : ""}`;

function putState(path: string, s: PathState, follow: boolean): string[] {
    // One temporary name per file, so a run cut off before its rename leaves a file the next
    // run's cleanup knows.
    const target = `${locate(path, follow)}t="$p${TMP}"`;
    if (s.kind === "absent") return [`${locate(path, follow)}rm -f "$p"`];
    if (s.kind === "link") return [target, `rm -f "$t"; ln -s ${shQuote(s.target)} "$t"; mv -f "$t" "$p"`];
    if (s.kind === "dir") return [`mkdir -p "$R"${shQuote(path)}`];
    return [
        target,
        // Private from its first byte: the mode below may open it up, never the other way round.
        `(umask 077 && printf '%s' ${shQuote(s.b64)} | base64 -d > "$t")`,
        `chmod ${shQuote(s.mode)} "$t"`,
        // New files keep the running user as owner; restored ones get theirs back (root only).
        s.uid === 0 && s.gid === 0 ? "" : `chown ${s.uid}:${s.gid} "$t" 2>/dev/null || true`,
        'mv -f "$t" "$p"',
    ].filter(Boolean);
}

function bringDaemon(action: "reload" | "restart"): string[] {
    return [
        'pid=$(pidof dockerd 2>/dev/null | cut -d" " -f1 || true)',
        'if [ -z "$pid" ]; then echo "private-registry: dockerd is not running; daemon.json takes effect when it starts";',
        action === "restart"
            ? 'else echo "private-registry: restarting dockerd"; if command -v systemctl >/dev/null 2>&1; then systemctl restart docker; else service docker restart; fi'
            : 'else kill -HUP "$pid"; echo "private-registry: reloaded dockerd (SIGHUP)"',
        "fi",
    ];
}

/**
 * Signals or restarts dockerd, then waits until `docker info` shows the new file in force (a
 * reload dockerd refuses is silent). If it does not, every write of this run is undone, the
 * daemon is brought back the same way, and the step fails naming the host.
 */
function daemonControl(d: DaemonAction, undo: string[]): string[] {
    const check = d.checks.length > 0 ? d.checks.join(" && ") : "true";
    return [
        'if [ -n "$(pidof dockerd 2>/dev/null || true)" ]; then was_running=1; else was_running=0; fi',
        ...bringDaemon(d.action),
        'if [ "$was_running" = 1 ]; then',
        "  n=0; ok=1",
        `  until docker info >/dev/null 2>&1 && { ${check}; } >/dev/null 2>&1; do n=$((n+1)); if [ "$n" -ge 40 ]; then ok=0; break; fi; sleep 0.5; done`,
        '  if [ "$ok" = 0 ]; then',
        `    echo ${shQuote(`private-registry: ${d.where}: dockerd did not come back with the new ${d.file} in force; putting every file of this step back as it was`)} >&2`,
        ...undo.map((l) => `    ${l}`),
        ...bringDaemon(d.action).map((l) => `    ${l}`),
        '    n=0; until docker info >/dev/null 2>&1; do n=$((n+1)); [ "$n" -ge 60 ] && break; sleep 0.5; done',
        `    echo ${shQuote(`private-registry: ${d.where}: the host is as it was before this step; see dockerd's log (journalctl -u docker) for why it refused the new ${d.file}`)} >&2`,
        "    exit 1",
        "  fi",
        "fi",
    ];
}

/**
 * Applies a plan: validates the new daemon.json first (nothing is written if dockerd refuses
 * it), records the ledger before touching anything (so an interrupted run is undone or finished
 * by the next), writes each file through a temporary file and a rename, then records the final
 * ledger, controls the daemons, and releases the lock.
 */
export function renderCommit(p: {
    /** This run's lock token: the commit runs only while the lock still holds it. */
    lock: string;
    /** The host's name in messages. */
    where: string;
    /** Each path this commit writes as the snapshot read it: the commit stops, having written nothing, if one changed since. */
    expect: (Write & { follow: boolean })[];
    intent: Ledger;
    final: Ledger;
    mkdirs: string[];
    writes: (Write & { follow: boolean })[];
    rmdirs: string[];
    /** Every path the ledger knows: their leftover temporary files are removed first. */
    cleanup: string[];
    /** Each written path as it was before this run, and the ledger as it was: for the rollback. */
    undo: { writes: (Write & { follow: boolean })[]; ledger: Ledger | undefined };
    daemon?: DaemonAction;
    restarts: ServiceRestart[];
}): string {
    const ledger = (l: Ledger) => putState(LEDGER, { kind: "file", b64: b64(`${JSON.stringify(l)}\n`), mode: "0600", uid: 0, gid: 0 }, false);
    const d = p.daemon;
    return lines(
        "set -eu",
        ROOT,
        `if ! ${lockIsOurs(p.lock)}; then echo ${shQuote(`private-registry: ${p.where}: another run took this host's lock while this one planned (${LOCK}); nothing was written, run up again`)} >&2; exit 1; fi`,
        `trap ${shQuote(releaseLock(p.lock))} EXIT HUP INT TERM`,
        "umask 022",
        ...unchangedSince(p.expect, p.where),
        ...(d?.validate && d.next.kind === "file"
            ? [
                  // A private file of its own, outside the tree we change: /etc/docker may not exist yet.
                  "v=$(mktemp -t private-registry-validate.XXXXXX)",
                  `printf '%s' ${shQuote(d.next.b64)} | base64 -d > "$v"`,
                  `if ! out=$(dockerd --validate --config-file "$v" 2>&1); then rm -f "$v"; echo "private-registry: ${d.where}: dockerd refuses the new ${d.file}: $out" >&2; exit 1; fi`,
                  'rm -f "$v"',
              ]
            : []),
        // Left by a run that was cut off between writing a temporary file and renaming it.
        ...[...new Set([LEDGER, ...p.cleanup])].map((f) => `${locate(f, true)}rm -f "$p${TMP}"`),
        ...ledger(p.intent),
        ...p.mkdirs.map((m) => `mkdir -p "$R"${shQuote(m)}`),
        ...p.writes.flatMap((w) => [
            ...putState(w.path, w.state, w.follow),
            `echo ${shQuote(`private-registry: ${w.state.kind === "absent" ? "removed" : "wrote"} ${w.path}`)}`,
        ]),
        ...p.rmdirs.map((m) => `rmdir "$R"${shQuote(m)} 2>/dev/null || true`),
        ...ledger(p.final),
        ...(d ? daemonControl(d, undoLines(p)) : []),
        ...p.restarts.flatMap((r) => serviceRestart(r, p.where, undoLines(p))),
        // An empty ledger leaves nothing of ours behind.
        ...(Object.keys(p.final.entries).length === 0 && Object.keys(p.final.dirs).length === 0
            ? [`rm -f "$R"${shQuote(LEDGER)}`, releaseLock(p.lock), `rmdir "$R"${shQuote(STATE_DIR)} 2>/dev/null || true`]
            : []),
    );
}

/**
 * Restarts an active service on its new file, then waits until it is active and serving again;
 * if it does not come back, every write of this run is undone, the service restarted on the old
 * files, and the step fails naming the host.
 */
function serviceRestart(r: ServiceRestart, where: string, undo: string[]): string[] {
    const svc = shQuote(r.service);
    const up = `systemctl is-active --quiet ${svc}${r.serving ? ` && ${r.serving}` : ""}`;
    return [
        `if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ${svc} 2>/dev/null; then`,
        `  echo ${shQuote(`private-registry: restarting ${r.service} (${r.reason})`)}; systemctl restart ${svc} || true`,
        "  n=0; ok=1",
        `  until { ${up}; } >/dev/null 2>&1; do n=$((n+1)); if [ "$n" -ge 40 ]; then ok=0; break; fi; sleep 0.5; done`,
        '  if [ "$ok" = 0 ]; then',
        `    echo ${shQuote(`private-registry: ${where}: ${r.service} did not come back serving after ${r.reason}; putting every file of this step back as it was`)} >&2`,
        ...undo.map((l) => `    ${l}`),
        `    systemctl restart ${svc} || true`,
        `    n=0; until systemctl is-active --quiet ${svc}; do n=$((n+1)); [ "$n" -ge 60 ] && break; sleep 0.5; done`,
        `    echo ${shQuote(`private-registry: ${where}: the host is as it was before this step; see journalctl -u ${r.service} for why it refused the new file`)} >&2`,
        "    exit 1",
        "  fi",
        `else echo ${shQuote(`private-registry: ${r.service} is not an active service: ${r.reason}, in force when it starts`)}; fi`,
    ];
}

function undoLines(p: Parameters<typeof renderCommit>[0]): string[] {
    const ledger: PathState = p.undo.ledger
        ? { kind: "file", b64: b64(`${JSON.stringify(p.undo.ledger)}\n`), mode: "0600", uid: 0, gid: 0 }
        : { kind: "absent" };
    return [
        ...p.undo.writes.flatMap((w) => putState(w.path, w.state, w.follow)),
        ...[...p.mkdirs].reverse().map((m) => `rmdir "$R"${shQuote(m)} 2>/dev/null || true`),
        ...putState(LEDGER, ledger, false),
    ];
}

/** Releases the lock, if this run still holds it, without changing anything (a plan that failed in Node). */
export function renderUnlock(token: string): string {
    return lines(ROOT, releaseLock(token), `rmdir "$R"${shQuote(STATE_DIR)} 2>/dev/null || true`);
}

/** A path's state as one comparable word: `absent`, `dir`, `link:<target>` or `file:<mode>:<base64>`. */
function stateWord(s: PathState): string {
    if (s.kind === "file") return `file:${Number.parseInt(s.mode, 8).toString(8)}:${s.b64}`;
    return s.kind === "link" ? `link:${s.target}` : s.kind;
}

/**
 * Stops the commit, before its first write, when a path it writes is no longer as the snapshot
 * read it (an administrator's edit while we planned): our write would drop theirs.
 */
function unchangedSince(expect: (Write & { follow: boolean })[], where: string): string[] {
    if (expect.length === 0) return [];
    return [
        'word() { if [ -L "$1" ]; then printf "link:%s" "$(readlink "$1")"; elif [ -f "$1" ]; then printf "file:%s:%s" "$(stat -c %a "$1")" "$(base64 < "$1" | tr -d "\\n")"; elif [ -d "$1" ]; then printf dir; else printf absent; fi; }',
        ...expect.map(
            (w) =>
                `${locate(w.path, w.follow)}if [ "$(word "$p")" != ${shQuote(stateWord(w.state))} ]; then echo ${shQuote(`private-registry: ${where}: ${w.path} changed while this run planned; nothing was written, run up again`)} >&2; exit 1; fi`,
        ),
    ];
}
