#!/usr/bin/env bash
# Builds the real provider plugins (command, random, tls, docker) from local git copies of their
# public source repositories, at the commits below, into a cache outside the repository:
#   npm run providers -- <folder> [<folder> ...]
# Each folder is a git repository (a checkout or a bare copy) of one of: pulumi/pulumi-command,
# pulumi/pulumi-random, pulumi/pulumi-tls with hashicorp/terraform-provider-tls, pulumi/pulumi-docker
# with kreuzwerker/terraform-provider-docker. A folder is recognised by the pinned commit it holds;
# a plugin whose sources are not all given is skipped and said so. Go modules come from the Go
# module proxy. Nothing from those repositories is written into this repository.
#
# Output: ${PRIVATE_REGISTRY_PROVIDERS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/private-registry/providers}/
#   <name>-<version>-<commit>/pulumi-resource-<name> and provenance.json (sources, commits,
#   substitutions, Go version). The engine tests use these wherever they are (test/engine/plugins.ts).
# The versions are the ones the SDKs in node_modules ask for; the binaries are stamped with them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PRIVATE_REGISTRY_PROVIDERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/private-registry/providers}"
say() { printf 'providers: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Source commits (../shared/reference/real-providers.md says why these and not the release tags,
# which pin modules the proxy refuses). Upstream tls: 609226f5 (v4.3.0) when the copy has it.
COMMAND_COMMIT=7f3eb6f3b77cd0fa3895ba437a695dd393f7dd25      # pulumi-command v1.2.1
RANDOM_COMMIT=f64d8726a4f5edf2c675e03a53cdf740fb542f47       # pulumi-random main (v4.21.1 + bridge v3.137)
TLS_COMMIT=f7db93b22b29b3fbd12ddbdac228293fcb30db8b          # pulumi-tls main (v5.5.1 + bridge v3.137)
TF_TLS_COMMITS="609226f5 d72d90e1b47b7cb5ce6863f528af3154963d61b7" # terraform-provider-tls v4.3.0, else its parent
DOCKER_COMMIT=e944612c4c970123d9a16a48c40d37dc84c89a70       # pulumi-docker v5.1.0
TF_DOCKER_COMMIT=5074970c71ce6cc393c74942d5d628943834beb9    # kreuzwerker v4.5.0 (pulumi-docker's upstream gitlink)

[ "$#" -gt 0 ] || die "give the source folders: npm run providers -- <folder> [<folder> ...] (see docs/engine.md)"
command -v go >/dev/null || die "no Go toolchain (go) on PATH"
command -v git >/dev/null || die "no git on PATH"

sdk_version() { node -p 'require(process.argv[1]).version' "$root/node_modules/@pulumi/$1/package.json"; }

# has <folder> <commit>: the folder's repository holds that commit.
has() { git -C "$1" cat-file -e "$2^{commit}" 2>/dev/null; }
declare -A src=() # role -> folder
declare -A rev=() # role -> full commit
for f in "$@"; do
  [ -d "$f" ] || die "$f: not a folder"
  git -C "$f" rev-parse --git-dir >/dev/null 2>&1 || die "$f: not a git repository (a checkout or a bare copy)"
  f=$(cd "$f" && pwd)
  matched=""
  for pair in "command:$COMMAND_COMMIT" "random:$RANDOM_COMMIT" "tls:$TLS_COMMIT" "docker:$DOCKER_COMMIT" "tf-docker:$TF_DOCKER_COMMIT"; do
    if has "$f" "${pair#*:}"; then src[${pair%%:*}]=$f; rev[${pair%%:*}]=$(git -C "$f" rev-parse "${pair#*:}^{commit}"); matched=${pair%%:*}; break; fi
  done
  if [ -z "$matched" ]; then
    for c in $TF_TLS_COMMITS; do
      if has "$f" "$c"; then src[tf-tls]=$f; rev[tf-tls]=$(git -C "$f" rev-parse "$c^{commit}"); matched=tf-tls; break; fi
    done
  fi
  [ -n "$matched" ] || die "$f: holds none of the pinned commits (scripts/providers.sh lists them)"
  say "$f: $matched at ${rev[$matched]}"
done

# export <role> <dir>: the role's source at its commit, as plain files in <dir>.
export_src() {
  mkdir -p "$2"
  git -C "${src[$1]}" archive --format=tar "${rev[$1]}" | tar -x -C "$2"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/pr-providers-XXXXXX")
trap 'rm -rf "$work"' EXIT

# build <name> <commits for the key> <module dir> <package> <version variable> <provenance json> [go build flags...]
build() {
  local name=$1 commits=$2 dir=$3 pkg=$4 var=$5 sources=$6
  shift 6
  local version key out t0=$SECONDS
  version=$(sdk_version "$name")
  key="$name-$version-$commits"
  out="$cache/$key"
  if [ -x "$out/pulumi-resource-$name" ] && [ -f "$out/provenance.json" ]; then
    say "$name $version: already built in $out"
    return 0
  fi
  say "$name $version: go build ($pkg)"
  mkdir -p "$out"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath "$@" -ldflags "-s -w -X $var=$version" \
    -o "$out/pulumi-resource-$name.partial" "$pkg") >&2 || { rm -rf "$out"; die "$name: go build failed (above)"; }
  mv "$out/pulumi-resource-$name.partial" "$out/pulumi-resource-$name"
  printf '{"name":"%s","version":"%s","go":"%s","built":"%s","sources":%s}\n' \
    "$name" "$version" "$(go env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$sources" >"$out/provenance.json"
  say "$name $version: built in $((SECONDS - t0)) s into $out"
}

# schema <cmd dir> <version>: the embedded schema the bridged providers' main.go needs (git-ignored upstream).
schema() { (cd "$1" && VERSION="$2" go run ./generate.go) >&2; }

built=() skipped=()

if [ -n "${src[command]:-}" ]; then
  export_src command "$work/command"
  build command "${rev[command]:0:12}" "$work/command/provider" ./cmd/pulumi-resource-command \
    github.com/pulumi/pulumi-command/provider/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-command\",\"commit\":\"${rev[command]}\",\"substitutions\":[]}]"
  built+=(command)
else skipped+=("command (no pulumi-command copy)"); fi

if [ -n "${src[random]:-}" ]; then
  export_src random "$work/random"
  schema "$work/random/provider/cmd/pulumi-resource-random" "$(sdk_version random)"
  build random "${rev[random]:0:12}" "$work/random/provider" ./cmd/pulumi-resource-random \
    github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-random\",\"commit\":\"${rev[random]}\",\"substitutions\":[\"schema-embed.json generated from schema.json (version $(sdk_version random))\"]}]"
  built+=(random)
else skipped+=("random (no pulumi-random copy)"); fi

if [ -n "${src[tls]:-}" ] && [ -n "${src[tf-tls]:-}" ]; then
  export_src tls "$work/tls"
  export_src tf-tls "$work/terraform-provider-tls"
  (cd "$work/tls/provider" && go mod edit -replace "github.com/hashicorp/terraform-provider-tls=$work/terraform-provider-tls")
  schema "$work/tls/provider/cmd/pulumi-resource-tls" "$(sdk_version tls)"
  build tls "${rev[tls]:0:12}+${rev[tf-tls]:0:8}" "$work/tls/provider" ./cmd/pulumi-resource-tls \
    github.com/pulumi/pulumi-tls/provider/v5/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-tls\",\"commit\":\"${rev[tls]}\",\"substitutions\":[\"go.mod: replace github.com/hashicorp/terraform-provider-tls with the checkout below\",\"schema-embed.json generated from schema.json (version $(sdk_version tls))\"]},{\"repository\":\"hashicorp/terraform-provider-tls\",\"commit\":\"${rev[tf-tls]}\",\"substitutions\":[]}]"
  built+=(tls)
else skipped+=("tls (needs pulumi-tls and terraform-provider-tls copies)"); fi

if [ -n "${src[docker]:-}" ] && [ -n "${src[tf-docker]:-}" ]; then
  export_src docker "$work/docker"
  rm -rf "$work/docker/upstream"
  export_src tf-docker "$work/docker/upstream"
  # Pulumi's patches (the shim; the image-build registry client) apply to the upstream as a repository.
  (cd "$work/docker/upstream" && git init -q && git add -A && git -c user.name=build -c user.email=build@localhost commit -qm upstream &&
    for p in ../patches/*.patch; do git apply --3way "$p" || exit 1; done) >&2 || die "docker: a patch did not apply (above)"
  schema "$work/docker/provider/cmd/pulumi-resource-docker" "$(sdk_version docker)"
  patches=$(cd "$work/docker/patches" && ls ./*.patch | sed 's|^\./||' | paste -sd, - | sed 's/,/, /g')
  build docker "${rev[docker]:0:12}+${rev[tf-docker]:0:8}" "$work/docker/provider" ./cmd/pulumi-resource-docker \
    github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-docker\",\"commit\":\"${rev[docker]}\",\"substitutions\":[\"upstream/ filled from the checkout below, then git apply --3way of $patches\",\"schema-embed.json generated from schema.json (version $(sdk_version docker))\"]},{\"repository\":\"kreuzwerker/terraform-provider-docker\",\"commit\":\"${rev[tf-docker]}\",\"substitutions\":[]}]" \
    -tags no_compose
  built+=(docker)
else skipped+=("docker (needs pulumi-docker and terraform-provider-docker copies)"); fi

say "built or found: ${built[*]:-none}; cache: $cache"
for s in "${skipped[@]}"; do say "skipped: $s"; done
