#!/usr/bin/env bash
# Builds the real provider plugins (command, random, tls, docker) and the nodejs language host from
# local git copies of their public source repositories, at the commits below, into a cache outside
# the repository:
#   npm run providers -- <folder> [<folder> ...]
# Each folder is a git repository (a checkout or a bare copy) of one of: pulumi/pulumi-command,
# pulumi/pulumi-random, pulumi/pulumi-tls with hashicorp/terraform-provider-tls, pulumi/pulumi-docker
# with kreuzwerker/terraform-provider-docker, pulumi/pulumi (the language host). A folder is
# recognised by the pinned commit it holds; a plugin whose sources are not all given is skipped and
# said so. Go modules come from the Go module proxy. Nothing from those repositories is written into
# this repository.
#
# Output: ${PRIVATE_REGISTRY_PROVIDERS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/private-registry/providers}/
#   <name>-<version>-<commit>/pulumi-resource-<name> (language-nodejs-<version>-<commit>/
#   pulumi-language-nodejs) and provenance.json (sources, commits, substitutions, Go version). The
#   engine tests use these wherever they are (test/engine/plugins.ts); scripts/engine.sh puts the
#   language host beside the CLI it built. The plugins' versions are the ones the SDKs in
#   node_modules ask for, the language host's the CLI's (engine/go.mod); each binary is stamped with it.
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
PULUMI_COMMIT=dc7edd58bc13179f81b80983aab4eb7f74a01b41       # pulumi/pulumi tag pkg/v3.248.0: the CLI's (engine/go.mod)
PULUMI_VERSION=3.248.0

[ "$#" -gt 0 ] || die "give the source folders: npm run providers -- <folder> [<folder> ...] (see docs/engine.md)"
command -v go >/dev/null || die "no Go toolchain (go) on PATH"
command -v git >/dev/null || die "no git on PATH"

sdk_version() { node -p 'require(process.argv[1]).version' "$root/node_modules/@pulumi/$1/package.json"; }
cli_version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { sub(/^v/, "", $2); print $2; exit }' "$root/engine/go.mod")
[ "$cli_version" = "$PULUMI_VERSION" ] ||
  die "engine/go.mod builds the CLI v$cli_version, but the language host is pinned to v$PULUMI_VERSION: update PULUMI_COMMIT and PULUMI_VERSION here"

# has <folder> <commit>: the folder's repository holds that commit.
has() { git -C "$1" cat-file -e "$2^{commit}" 2>/dev/null; }
declare -A src=() # role -> folder
declare -A rev=() # role -> full commit
for f in "$@"; do
  [ -d "$f" ] || die "$f: not a folder"
  git -C "$f" rev-parse --git-dir >/dev/null 2>&1 || die "$f: not a git repository (a checkout or a bare copy)"
  f=$(cd "$f" && pwd)
  matched=""
  for pair in "command:$COMMAND_COMMIT" "random:$RANDOM_COMMIT" "tls:$TLS_COMMIT" "docker:$DOCKER_COMMIT" "tf-docker:$TF_DOCKER_COMMIT" "pulumi:$PULUMI_COMMIT"; do
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

# export <role> <dir> [<pathspec> ...]: the role's source at its commit (or those paths of it), as plain files in <dir>.
export_src() {
  local role=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  # git archive names an excluded blob the copy lacks ("invalid object"), then leaves it out as asked.
  git -C "${src[$role]}" archive --format=tar "${rev[$role]}" -- "$@" 2> >(grep -v "^error: invalid object [0-7]* [0-9a-f]* for '.*'$" >&2) |
    tar -x -C "$dir"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/pr-providers-XXXXXX")
trap 'rm -rf "$work"' EXIT

# built_before <name> <version> <commits for the key> <binary>: the build is in the cache already (said so).
built_before() {
  local out="$cache/$1-$2-$3"
  [ -x "$out/$4" ] && [ -f "$out/provenance.json" ] || return 1
  say "$1 $2: already built in $out"
}

# build <name> <version> <commits for the key> <binary> <module dir> <package> <-X assignment> <provenance json> [go build flags...]
build() {
  local name=$1 version=$2 commits=$3 bin=$4 dir=$5 pkg=$6 stamp=$7 sources=$8
  shift 8
  local out="$cache/$name-$version-$commits" t0=$SECONDS
  say "$name $version: go build ($pkg)"
  mkdir -p "$out"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath "$@" -ldflags "-s -w -X $stamp" \
    -o "$out/$bin.partial" "$pkg") >&2 || { rm -rf "$out"; die "$name: go build failed (above)"; }
  mv "$out/$bin.partial" "$out/$bin"
  printf '{"name":"%s","version":"%s","go":"%s","built":"%s","sources":%s}\n' \
    "$name" "$version" "$(go env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$sources" >"$out/provenance.json"
  say "$name $version: built in $((SECONDS - t0)) s into $out"
}

# plugin <name> <commits for the key> <module dir> <package> <version variable> <provenance json> [go build flags...]:
# a resource plugin at the version its SDK asks for, unless built before.
plugin() {
  local name=$1 commits=$2 dir=$3 pkg=$4 var=$5 sources=$6 version
  shift 6
  version=$(sdk_version "$name")
  built_before "$name" "$version" "$commits" "pulumi-resource-$name" ||
    build "$name" "$version" "$commits" "pulumi-resource-$name" "$dir" "$pkg" "$var=$version" "$sources" "$@"
}

# schema <cmd dir> <version>: the embedded schema the bridged providers' main.go needs (git-ignored upstream).
schema() { (cd "$1" && VERSION="$2" go run ./generate.go) >&2; }

built=() skipped=()

if [ -n "${src[command]:-}" ]; then
  export_src command "$work/command"
  plugin command "${rev[command]:0:12}" "$work/command/provider" ./cmd/pulumi-resource-command \
    github.com/pulumi/pulumi-command/provider/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-command\",\"commit\":\"${rev[command]}\",\"substitutions\":[]}]"
  built+=(command)
else skipped+=("command (no pulumi-command copy)"); fi

if [ -n "${src[random]:-}" ]; then
  export_src random "$work/random"
  schema "$work/random/provider/cmd/pulumi-resource-random" "$(sdk_version random)"
  plugin random "${rev[random]:0:12}" "$work/random/provider" ./cmd/pulumi-resource-random \
    github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-random\",\"commit\":\"${rev[random]}\",\"substitutions\":[\"schema-embed.json generated from schema.json (version $(sdk_version random))\"]}]"
  built+=(random)
else skipped+=("random (no pulumi-random copy)"); fi

if [ -n "${src[tls]:-}" ] && [ -n "${src[tf-tls]:-}" ]; then
  export_src tls "$work/tls"
  export_src tf-tls "$work/terraform-provider-tls"
  (cd "$work/tls/provider" && go mod edit -replace "github.com/hashicorp/terraform-provider-tls=$work/terraform-provider-tls")
  schema "$work/tls/provider/cmd/pulumi-resource-tls" "$(sdk_version tls)"
  plugin tls "${rev[tls]:0:12}+${rev[tf-tls]:0:8}" "$work/tls/provider" ./cmd/pulumi-resource-tls \
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
  plugin docker "${rev[docker]:0:12}+${rev[tf-docker]:0:8}" "$work/docker/provider" ./cmd/pulumi-resource-docker \
    github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version \
    "[{\"repository\":\"pulumi/pulumi-docker\",\"commit\":\"${rev[docker]}\",\"substitutions\":[\"upstream/ filled from the checkout below, then git apply --3way of $patches\",\"schema-embed.json generated from schema.json (version $(sdk_version docker))\"]},{\"repository\":\"kreuzwerker/terraform-provider-docker\",\"commit\":\"${rev[tf-docker]}\",\"substitutions\":[]}]" \
    -tags no_compose
  built+=(docker)
else skipped+=("docker (needs pulumi-docker and terraform-provider-docker copies)"); fi

if [ -n "${src[pulumi]:-}" ]; then
  # sdk/ and pkg/ are all the language host's module needs (its go.mod replaces pkg/v3 and sdk/v3
  # with them); two large test-data files a copy may lack are left out.
  if ! built_before language-nodejs "$cli_version" "${rev[pulumi]:0:12}" pulumi-language-nodejs; then
    export_src pulumi "$work/pulumi" sdk pkg ':(exclude)pkg/backend/httpstate/testdata/two-large-checkpoints.json' \
      ':(exclude)sdk/nodejs/vendor/typescript@3.8.3'
    build language-nodejs "$cli_version" "${rev[pulumi]:0:12}" pulumi-language-nodejs "$work/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs" . \
      "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$cli_version" \
      "[{\"repository\":\"pulumi/pulumi\",\"commit\":\"${rev[pulumi]}\",\"substitutions\":[\"only sdk/ and pkg/, without pkg/backend/httpstate/testdata/two-large-checkpoints.json and sdk/nodejs/vendor/typescript@3.8.3\"]}]"
  fi
  built+=(language-nodejs)
else skipped+=("language-nodejs (no pulumi/pulumi copy; bare \`pulumi up\` needs it, npm run up does not)"); fi

say "built or found: ${built[*]:-none}; cache: $cache"
for s in "${skipped[@]}"; do say "skipped: $s"; done
