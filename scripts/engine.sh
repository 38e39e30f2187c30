#!/usr/bin/env bash
# Makes the Pulumi CLI available and prints the directory that holds it (stdout, one line); what it
# does goes to stderr, step by step with times. In order:
#   1. a `pulumi` on PATH whose version fits (3.x, not older than the @pulumi/pulumi SDK here), the
#      npm package's wrapper aside (`npm run` puts it first on PATH; it is step 4);
#   2. one in the npm package's cache ($PULUMI_HOME/versions/<v>/bin, default ~/.pulumi);
#   3. one this script built before (cache keyed by the CLI version and engine/go.sum);
#   4. the npm `pulumi` package's normal download (skipped with PULUMI_ENGINE_NO_DOWNLOAD=1);
#   5. a build from the Go module proxy (engine/go.mod pins it), into that cache.
# PULUMI_ENGINE_CACHE moves the cache (default ${XDG_CACHE_HOME:-~/.cache}/private-registry/engine).
# PULUMI_ENGINE=build skips 1, 2 and 4 (the tests use it to run the engine built here).
# When nothing works it says what each step found and what to do, and exits 1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
t0=$SECONDS
# Progress is held back while a CLI is found at once (steps 1-3), so that `npm run -s pulumi -- …`
# prints only what the CLI prints; it is shown from the first slow step on (download, build), when
# nothing works, or always with PULUMI_ENGINE_VERBOSE=1 (`npm run engine`). Findings (a CLI passed
# over, a missing file) are shown at once.
live=${PULUMI_ENGINE_VERBOSE:-}
held=()
say() { if [ -n "$live" ]; then printf 'engine: %s\n' "$*" >&2; else held+=("$*"); fi; }
warn() { printf 'engine: %s\n' "$*" >&2; }
go_live() {
  [ -n "$live" ] && return 0
  live=1
  local l
  for l in "${held[@]}"; do say "$l"; done
}
tried=()
note() { tried+=("$*"); }
elapsed() { printf '%s s' "$((SECONDS - t0))"; }

# The CLI version the Go module builds (engine/go.mod), and the SDK version that is the floor.
cli_version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { sub(/^v/, "", $2); print $2; exit }' "$root/engine/go.mod")
sdk_version=$(node -p 'require(process.argv[1]).version' "$root/node_modules/@pulumi/pulumi/package.json" 2>/dev/null ||
  node -p 'require(process.argv[1]).dependencies["@pulumi/pulumi"]' "$root/package.json")

# fits <pulumi binary>: its version is 3.x and not older than the SDK.
fits() {
  local v
  v=$(PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null | head -n 1 | sed 's/^v//; s/[-+].*//') || true
  [ -n "$v" ] || { note "$1 does not answer \`version\`"; warn "  $1 does not answer \`version\`"; return 1; }
  node -e '
    const [a, b] = process.argv.slice(1).map((s) => s.split(".").map(Number));
    const ok = a[0] === 3 && (a[1] > b[1] || (a[1] === b[1] && a[2] >= b[2]));
    process.exit(ok ? 0 : 1);' "$v" "$sdk_version" || {
    note "$1 is v$v: older than the SDK v$sdk_version or not 3.x"
    warn "  $1 is v$v: older than the SDK v$sdk_version or not 3.x"
    return 1
  }
  say "  $1 is v$v"
}

found() {
  # The client hosts are a dynamic provider: the engine runs it through this script, which a
  # release ships beside the CLI and @pulumi/pulumi carries; a CLI built here gets a copy.
  local dyn=pulumi-resource-pulumi-nodejs
  if [ ! -e "$1/$dyn" ]; then
    if [ "$1" = "$cache/bin" ] && [ -f "$root/node_modules/@pulumi/pulumi/$dyn" ]; then
      install -m 0755 "$root/node_modules/@pulumi/pulumi/$dyn" "$1/$dyn"
      say "  added $dyn beside it (from @pulumi/pulumi)"
    else
      warn "  warning: no $dyn beside $1/pulumi: client hosts (a dynamic provider) will fail; put that file (in node_modules/@pulumi/pulumi) there"
    fi
  fi
  # Bare `pulumi up` runs the program through the nodejs language host, which a release ships beside
  # the CLI; a CLI built here gets the one `npm run providers` built for its version, if any.
  local lang=pulumi-language-nodejs built
  if [ ! -e "$1/$lang" ] && [ "$1" = "$cache/bin" ]; then
    # No providers cache at all (a fresh machine) is no build: find fails there, and pipefail with it.
    built=$(find "$providers" -maxdepth 2 -path "$providers/language-nodejs-$cli_version-*/$lang" -type f -perm -u+x -printf '%T@ %p\n' 2>/dev/null |
      sort -rn | head -n 1 | cut -d' ' -f2- || true)
    if [ -n "$built" ]; then
      install -m 0755 "$built" "$1/$lang"
      say "  added $lang beside it (from $(dirname "$built"))"
    else
      say "  no $lang beside it: bare \`pulumi up\` cannot run the program, npm run up can; \`npm run providers -- <a pulumi/pulumi copy>\` builds it (docs/engine.md)"
    fi
  fi
  say "using $1/pulumi ($(elapsed))"
  echo "$1"
  exit 0
}

# Nothing worked: what each step found, and the ways out.
give_up() {
  go_live
  say "no Pulumi CLI >= v$sdk_version found or made ($(elapsed)). Tried:"
  local t
  for t in "${tried[@]}"; do say "  - $t"; done
  say "What to do, any one of:"
  say "  - install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put the folder holding \`pulumi\` on PATH;"
  say "    with no internet here, copy a \`pulumi\` >= v$sdk_version from another machine into $PULUMI_HOME/versions/<version>/bin/"
  say "  - build one from the Go module proxy: install Go >= 1.25, then \`npm run engine\` (about 10 minutes once, then cached)"
  exit 1
}

# One PULUMI_HOME for every step and for the npm package's download: the CLI's (PULUMI_HOME, else
# ~/.pulumi of the user's passwd entry, which the CLI reads instead of $HOME; scripts/plugins.ts
# resolves it the same way).
passwd_home=$(getent passwd "$(id -u)" | cut -d: -f6 || true)
export PULUMI_HOME="${PULUMI_HOME:-${passwd_home:-$HOME}/.pulumi}"
providers="${PRIVATE_REGISTRY_PROVIDERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/private-registry/providers}"
mode="${PULUMI_ENGINE:-auto}"
key="v${cli_version}-$( (cat "$root/engine/go.mod" "$root/engine/go.sum"; go env GOOS GOARCH 2>/dev/null || true) | sha256sum | cut -c1-12)"
cache="${PULUMI_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/private-registry/engine}/$key"

if [ "$mode" != build ]; then
  say "1. pulumi on PATH"
  # Every one in PATH order, except the npm package's wrapper, which npm puts first on PATH during
  # `npm run` and which downloads a CLI (that is step 4): it would hide the operator's own CLI.
  n=0
  while read -r p; do
    case "$(readlink -f "$p")" in */node_modules/pulumi/run.js) continue ;; esac
    n=$((n + 1))
    fits "$p" && found "$(dirname "$p")"
  done < <(type -ap pulumi || true)
  [ "$n" -gt 0 ] || note "no \`pulumi\` on PATH (the npm package's wrapper aside)"
  say "2. the npm package's cache ($PULUMI_HOME/versions)"
  for d in "$PULUMI_HOME"/versions/*/bin; do
    [ -x "$d/pulumi" ] && fits "$d/pulumi" && found "$d"
  done
  [ -x "$d/pulumi" ] || note "no CLI in $PULUMI_HOME/versions/<version>/bin"
fi

say "3. a CLI built here before: $cache"
if [ -x "$cache/bin/pulumi" ]; then
  fits "$cache/bin/pulumi" && found "$cache/bin"
else
  note "no CLI built before in $cache/bin"
fi

if [ "$mode" != build ] && [ -z "${PULUMI_ENGINE_NO_DOWNLOAD:-}" ]; then
  npm_version=$(node -p 'require(process.argv[1]).version' "$root/node_modules/pulumi/package.json" 2>/dev/null || true)
  go_live
  say "4. the npm package's download of v${npm_version:-?} (from get.pulumi.com into $PULUMI_HOME/versions)"
  if [ -n "$npm_version" ] && out=$(cd "$root" && timeout 120 npx --no-install pulumi version 2>&1); then
    d="$PULUMI_HOME/versions/$npm_version/bin"
    [ -x "$d/pulumi" ] && fits "$d/pulumi" && found "$d"
  else
    why=$(printf '%s' "${out:-no npm pulumi package in node_modules (npm ci)}" | tail -n 3 | tr '\n' ' ')
    note "the npm package's download of v${npm_version:-?} from get.pulumi.com failed: $why"
    say "  the download failed: $why"
    say "  (next time: put a Pulumi CLI >= v$sdk_version on PATH, or set PULUMI_ENGINE_NO_DOWNLOAD=1 to go straight to the build)"
  fi
fi

go_live
say "5. building v$cli_version from the Go module proxy ($(go env GOPROXY 2>/dev/null || echo 'go not found'))"
if ! command -v go >/dev/null; then
  note "the build from the Go module proxy: no Go toolchain (\`go\`) on PATH"
  give_up
fi
mkdir -p "$cache/bin"
t1=$SECONDS
say "  go mod download (module cache: $(go env GOMODCACHE))"
(cd "$root/engine" && go mod download) >&2 || { note "the build: \`go mod download\` in engine/ failed (see above)"; give_up; }
say "  downloaded in $((SECONDS - t1)) s; go build (about 10-15 minutes on 2 cores when cold)"
t1=$SECONDS
(cd "$root/engine" && CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$cli_version" \
  -o "$cache/bin/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2 ||
  { note "the build: \`go build\` in engine/ failed (see above)"; give_up; }
mv "$cache/bin/pulumi.partial" "$cache/bin/pulumi"
say "  built in $((SECONDS - t1)) s"
fits "$cache/bin/pulumi" || give_up
found "$cache/bin"
