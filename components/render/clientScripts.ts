/**
 * Shell scripts run on client hosts over SSH. Pure: every value reaches a script through `shQuote`,
 * and secrets never reach a script at all (they travel on stdin). Each script is POSIX `sh`,
 * idempotent, and paired with one that undoes it.
 */
import { CONFLICTING_FLAGS } from "./daemonJson";

/** Quotes a value for POSIX sh: single quotes, with embedded single quotes closed and escaped. */
export function shQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `certs.d` folder name for a registry address: `<host>:<port>`, just `<host>` on 443, and
 * IPv6 literals in brackets (the form image references use).
 */
export function certsDirName(host: string, port: number): string {
    const h = host.includes(":") ? `[${host}]` : host;
    return port === 443 ? h : `${h}:${port}`;
}

/**
 * Wraps a script so it runs under POSIX `sh` whatever the user's login shell is (the command
 * provider hands the string to the login shell), through `sudo -n` when asked: there is no TTY
 * for a password prompt.
 */
export function runScript(script: string, sudo: boolean): string {
    return `${sudo ? "sudo -n " : ""}sh -c ${shQuote(script)}`;
}

/** A step that fails with `message` on stderr: how a problem found on the host stops `up` at that step. */
export function renderFailure(message: string): string {
    return lines(`printf '%s\\n' ${shQuote(message)} >&2`, "exit 1");
}

/** Where the host-side steps keep what they need to undo themselves. */
export interface HostPaths {
    /** Defaults to `/etc/docker/certs.d`. */
    certsRoot?: string;
    /** Defaults to `/etc/docker/daemon.json`. */
    daemonJson?: string;
    /** Our bookkeeping folder on the host, e.g. `/var/lib/private-registry/<registry>`. */
    stateDir: string;
}

const lines = (...parts: (string | false | undefined)[]) => `${parts.filter((p): p is string => typeof p === "string").join("\n")}\n`;

/**
 * Installs the CA certificate read from stdin as `<certsRoot>/<dir>/ca.crt` for every dir. Records
 * the folders it creates and backs up any `ca.crt` it overwrites (once), so `renderTrustRemove`
 * restores the host exactly.
 */
export function renderTrustInstall(dirs: string[], paths: HostPaths): string {
    const root = paths.certsRoot ?? "/etc/docker/certs.d";
    return lines(
        "set -eu",
        "umask 022",
        `state=${shQuote(paths.stateDir)}`,
        `root=${shQuote(root)}`,
        'mkdir -p "$state/trust-backup"',
        'cat > "$state/ca.crt.new"',
        'if ! grep -q "BEGIN CERTIFICATE" "$state/ca.crt.new"; then echo "private-registry: stdin is not a PEM certificate" >&2; exit 1; fi',
        'first=1; [ -e "$state/trust-installed" ] && first=0',
        'touch "$state/trust-created"',
        'created() { grep -qxF -- "$1" "$state/trust-created" || printf "%s\\n" "$1" >> "$state/trust-created"; }',
        'if [ ! -d "$root" ]; then mkdir -p "$root"; created "$root"; fi',
        "i=0",
        `for d in ${dirs.map(shQuote).join(" ")}; do`,
        "  i=$((i+1))",
        '  dir="$root/$d"',
        '  if [ ! -d "$dir" ]; then mkdir "$dir"; created "$dir"; fi',
        '  if [ "$first" = 1 ] && [ -e "$dir/ca.crt" ]; then cp -p "$dir/ca.crt" "$state/trust-backup/$i.crt"; fi',
        '  cp "$state/ca.crt.new" "$dir/ca.crt.tmp"',
        '  chmod 0644 "$dir/ca.crt.tmp"',
        '  mv -f "$dir/ca.crt.tmp" "$dir/ca.crt"',
        '  echo "installed $dir/ca.crt"',
        "done",
        'rm -f "$state/ca.crt.new"',
        'touch "$state/trust-installed"',
    );
}

/** Undoes `renderTrustInstall`: restores overwritten `ca.crt` files and removes what it created. */
export function renderTrustRemove(dirs: string[], paths: HostPaths): string {
    const root = paths.certsRoot ?? "/etc/docker/certs.d";
    return lines(
        "set -eu",
        `state=${shQuote(paths.stateDir)}`,
        `root=${shQuote(root)}`,
        "i=0",
        `for d in ${dirs.map(shQuote).join(" ")}; do`,
        "  i=$((i+1))",
        '  dir="$root/$d"',
        '  if [ -e "$state/trust-backup/$i.crt" ]; then mv -f "$state/trust-backup/$i.crt" "$dir/ca.crt"; echo "restored $dir/ca.crt";',
        '  else rm -f "$dir/ca.crt"; echo "removed $dir/ca.crt"; fi',
        "done",
        'if [ -e "$state/trust-created" ]; then',
        // Newest first, so inner folders go before their parents; a folder someone else has
        // since put files into is left alone.
        '  sed -n "1!G;h;\\$p" "$state/trust-created" | while IFS= read -r p; do rmdir "$p" 2>/dev/null || true; done',
        "fi",
        'rm -rf "$state/trust-backup" "$state/trust-created" "$state/trust-installed" "$state/ca.crt.new"',
        'rmdir "$state" 2>/dev/null || true',
    );
}

/**
 * Prints the daemon.json to merge into: the original saved by an earlier apply when there is one
 * (so a second run merges into the same base), else the current file, else nothing.
 */
export function renderDaemonRead(paths: HostPaths): string {
    const file = paths.daemonJson ?? "/etc/docker/daemon.json";
    return lines(
        "set -eu",
        `state=${shQuote(paths.stateDir)}`,
        `f=${shQuote(file)}`,
        'if [ -e "$state/daemon-saved" ]; then',
        '  if [ -e "$state/daemon.json.orig" ]; then cat "$state/daemon.json.orig"; fi',
        'elif [ -e "$f" ]; then cat "$f"; fi',
    );
}

/** What the daemon.json apply and restore scripts need. */
export interface DaemonScriptParams extends HostPaths {
    /** Docker keys we set: the script refuses to go on when dockerd has the same setting as a flag. */
    managedKeys: string[];
    /** Restart dockerd instead of SIGHUP (a changed key is not reloadable). */
    restart: boolean;
    /** Signal or restart dockerd at all. Defaults to true; false only for tests on a scratch tree. */
    controlDaemon?: boolean;
    /**
     * What `docker info` must show once the new file is in force. A reload that dockerd rejects
     * is silent (the old config stays), so this is how the script knows it took.
     */
    expect?: { debug?: boolean; liveRestore?: boolean; mirrors?: string[] };
}

function reloadCheck(p: DaemonScriptParams): string[] {
    const checks: string[] = [];
    if (p.expect?.debug !== undefined) checks.push(`[ "$(docker info --format '{{.Debug}}')" = ${shQuote(String(p.expect.debug))} ]`);
    if (p.expect?.liveRestore !== undefined) {
        checks.push(`[ "$(docker info --format '{{.LiveRestoreEnabled}}')" = ${shQuote(String(p.expect.liveRestore))} ]`);
    }
    for (const m of p.expect?.mirrors ?? []) {
        checks.push(`docker info --format '{{range .RegistryConfig.Mirrors}}{{.}} {{end}}' | grep -qF -- ${shQuote(m)}`);
    }
    if (checks.length === 0) return [];
    return [
        'if [ -n "$pid" ]; then',
        "  n=0",
        `  until { ${checks.join(" && ")}; } 2>/dev/null; do`,
        "    n=$((n+1))",
        '    if [ "$n" -ge 20 ]; then echo "private-registry: dockerd did not apply the new daemon.json (it rejects a bad file silently and keeps the old one): see its log, e.g. journalctl -u docker" >&2; exit 1; fi',
        "    sleep 0.5",
        "  done",
        '  echo "private-registry: dockerd applied daemon.json"',
        "fi",
    ];
}

function daemonControl(p: DaemonScriptParams): string[] {
    if (p.controlDaemon === false) {
        return ['echo "private-registry: daemon control skipped"'];
    }
    const restart = ["  if command -v systemctl >/dev/null 2>&1; then systemctl restart docker;", "  else service docker restart; fi"];
    return [
        'pid=$(pidof dockerd 2>/dev/null | cut -d" " -f1 || true)',
        'if [ -z "$pid" ]; then echo "private-registry: dockerd is not running; daemon.json takes effect when it starts" >&2;',
        ...(p.restart
            ? ["else", '  echo "private-registry: restarting dockerd (log-opts change)"', ...restart]
            : ["else", '  kill -HUP "$pid"', '  echo "private-registry: reloaded dockerd (SIGHUP)"']),
        "fi",
        // A reload that fails (bad JSON, a key set twice) is silent, so prove the daemon answers.
        'if [ -n "$pid" ]; then n=0; until docker info >/dev/null 2>&1; do n=$((n+1)); if [ "$n" -ge 30 ]; then echo "private-registry: dockerd did not answer after the reload" >&2; exit 1; fi; sleep 1; done; fi',
    ];
}

function flagConflictCheck(p: DaemonScriptParams): string[] {
    const checks: string[] = [];
    for (const key of p.managedKeys) {
        for (const flag of CONFLICTING_FLAGS[key] ?? []) {
            checks.push(
                `if [ -n "$pid" ] && tr "\\000" "\\n" < "/proc/$pid/cmdline" | grep -Eq -- ${shQuote(`^${flag}(=|$)`)}; then echo ${shQuote(
                    `private-registry: dockerd runs with ${flag}, which collides with daemon.json key "${key}" (dockerd would refuse the file); remove the flag or the key`,
                )} >&2; exit 1; fi`,
            );
        }
    }
    return checks;
}

/**
 * Writes the merged daemon.json read from stdin, saving the original once (or that there was
 * none), then reloads dockerd (SIGHUP) or restarts it when a key needs that.
 */
export function renderDaemonApply(p: DaemonScriptParams): string {
    const file = p.daemonJson ?? "/etc/docker/daemon.json";
    return lines(
        "set -eu",
        "umask 022",
        `state=${shQuote(p.stateDir)}`,
        `f=${shQuote(file)}`,
        'mkdir -p "$state"',
        'pid=$(pidof dockerd 2>/dev/null | cut -d" " -f1 || true)',
        ...(p.controlDaemon === false ? [] : flagConflictCheck(p)),
        'if [ ! -e "$state/daemon-saved" ]; then',
        '  if [ -e "$f" ]; then cp -p "$f" "$state/daemon.json.orig"; fi',
        '  touch "$state/daemon-saved"',
        "fi",
        'mkdir -p "$(dirname "$f")"',
        'cat > "$f.private-registry.tmp"',
        'if [ -e "$f" ]; then chmod --reference="$f" "$f.private-registry.tmp" 2>/dev/null || true; fi',
        'mv -f "$f.private-registry.tmp" "$f"',
        'echo "private-registry: wrote $f"',
        ...daemonControl(p),
        ...reloadCheck(p),
    );
}

/** Restores the daemon.json saved by `renderDaemonApply` (or removes the file if there was none). */
export function renderDaemonRestore(p: DaemonScriptParams): string {
    const file = p.daemonJson ?? "/etc/docker/daemon.json";
    return lines(
        "set -eu",
        `state=${shQuote(p.stateDir)}`,
        `f=${shQuote(file)}`,
        'if [ ! -e "$state/daemon-saved" ]; then echo "private-registry: nothing to restore"; exit 0; fi',
        'if [ -e "$state/daemon.json.orig" ]; then mv -f "$state/daemon.json.orig" "$f"; echo "private-registry: restored $f";',
        'else rm -f "$f"; echo "private-registry: removed $f"; fi',
        'rm -f "$state/daemon-saved"',
        'pid=$(pidof dockerd 2>/dev/null | cut -d" " -f1 || true)',
        ...daemonControl(p),
        'rmdir "$state" 2>/dev/null || true',
    );
}

/** `docker login` with the password on stdin: the password never appears in the command line. */
export function renderLogin(endpoint: string, username: string): string {
    return lines("set -eu", `docker login --username ${shQuote(username)} --password-stdin ${shQuote(endpoint)}`);
}

/** Undoes `renderLogin`. */
export function renderLogout(endpoint: string): string {
    return lines("set -eu", `docker logout ${shQuote(endpoint)}`);
}
