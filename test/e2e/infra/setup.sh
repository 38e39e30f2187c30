#!/usr/bin/env bash
# Prepares the real infrastructure the tests use, idempotently (fast when everything is there):
#   - Debian packages: docker.io, docker-registry (the real distribution 2.8), openssh, debootstrap,
#     ceph-mon/ceph-osd/radosgw/ceph-common (a throw-away Ceph RGW: test/e2e/infra/ceph.ts)…
#   - a Docker engine (dockerd --storage-driver=vfs) when none answers;
#   - private-registry-test/registry:2.8 — Debian's registry binary + libc + a static busybox (for
#     the healthcheck's wget), imported with `docker import`: no hub is reachable here;
#   - private-registry-test/registry:3.x.y, also tagged registry:3.x.y (the dev stack's default image)
#     — distribution v3 built from Go modules (test/e2e/infra/registry3/go.mod pins the version; the
#     binary is cached under ~/.cache/private-registry/) + the same busybox, laid out like the
#     official v3 image (config at /etc/distribution/config.yml);
#   - private-registry-test/haproxy:2.6 — Debian's HAProxy with its libraries, run like the official
#     image (the load balancer in front of several replicas);
#   - private-registry-test/redis:7.0 — Debian's redis-server with its libraries (the replicas'
#     blob-descriptor cache when the program runs it);
#   - private-registry-test/client-host:bookworm — a debootstrap of Debian with sshd, dockerd and the
#     docker CLI, for client-host containers.
# Needs root when something is missing. Nothing is pulled from any registry.
set -euo pipefail

REGISTRY_IMAGE=private-registry-test/registry:2.8
REGISTRY3_MODULE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/registry3
REGISTRY3_MODULE=github.com/distribution/distribution/v3
# The version go.mod requires (v3.1.2), without the v as the official images tag it (3.1.2).
REGISTRY3_VERSION=$(awk -v m="$REGISTRY3_MODULE" '$1 == m { sub(/^v/, "", $2); print $2 }' "$REGISTRY3_MODULE_DIR/go.mod")
REGISTRY3_IMAGE=private-registry-test/registry:$REGISTRY3_VERSION
REGISTRY3_BINARY=${XDG_CACHE_HOME:-$HOME/.cache}/private-registry/registry-$REGISTRY3_VERSION/registry
CLIENT_IMAGE=private-registry-test/client-host:bookworm
HAPROXY_IMAGE=private-registry-test/haproxy:2.6
REDIS_IMAGE=private-registry-test/redis:7.0
PACKAGES=(docker.io docker-registry openssh-server openssh-client debootstrap iproute2 openssl curl
  apache2-utils busybox-static ca-certificates util-linux ceph-mon ceph-osd radosgw ceph-common haproxy redis-server skopeo procps containerd)

step() { printf '   %-52s' "$1"; }
t() { local s=$SECONDS; "$@"; echo "$((SECONDS - s)) s"; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup: $1 needs root (run the tests as root, as CI does)" >&2
    exit 1
  fi
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  need_root "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/var/log/private-registry-test-apt.log 2>&1 ||
    { tail -n 30 /var/log/private-registry-test-apt.log >&2; exit 1; }
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then return 0; fi
  need_root "starting dockerd"
  # Started with all three standard streams detached, so that the caller's pipes close.
  # setsid: its own session, so that the end of the calling shell (its process group) does not end it.
  setsid -f dockerd --storage-driver=vfs </dev/null >/var/log/private-registry-test-dockerd.log 2>&1
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "setup: dockerd did not start; see /var/log/private-registry-test-dockerd.log" >&2
  tail -n 20 /var/log/private-registry-test-dockerd.log >&2 || true
  exit 1
}

# What both registry images hold besides the registry: a static busybox (sh, and wget for the
# healthcheck) and a root user. $1: the image's root directory, with bin/, usr/bin/ and etc/.
image_base() {
  cp /bin/busybox "$1"/bin/busybox
  for applet in sh wget nc cat ls; do ln -s busybox "$1/bin/$applet"; done
  ln -s ../../bin/busybox "$1"/usr/bin/wget
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1"/etc/passwd
  printf 'root:x:0:\n' >"$1"/etc/group
}

# A new image root holding one Debian binary at $2 (inside the image) with the libraries ldd lists
# and the loader, image_base, and a world-writable /tmp; prints the root's path. $1: the binary.
binary_root() {
  local root
  root=$(mktemp -d)
  chmod 0755 "$root"
  mkdir -p "$root"/bin "$root"/etc "$root"/usr/bin "$root"/tmp "$root$(dirname "$2")"
  chmod 1777 "$root"/tmp
  cp "$1" "$root$2"
  ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  image_base "$root"
  echo "$root"
}

build_registry_image() {
  # Revision 2: a world-readable root, as the official image has (the registry runs as non-root).
  if [ "$(docker image inspect -f '{{index .Config.Labels "private-registry-test.rev"}}' "$REGISTRY_IMAGE" 2>/dev/null)" = 2 ]; then return 0; fi
  local root
  # The registry binary needs only libc and the loader.
  root=$(binary_root /usr/bin/docker-registry /bin/registry)
  mkdir -p "$root"/etc/docker/registry "$root"/var/lib/registry
  tar -C "$root" -c . | docker import \
    -c 'LABEL private-registry-test.rev=2' \
    -c 'ENTRYPOINT ["/bin/registry"]' \
    -c 'CMD ["serve", "/etc/docker/registry/config.yml"]' \
    -c 'VOLUME ["/var/lib/registry"]' \
    -c 'EXPOSE 5000' \
    - "$REGISTRY_IMAGE" >/dev/null
  docker tag "$REGISTRY_IMAGE" private-registry-test/registry:2.8.2
  rm -rf "$root"
}

# Debian's HAProxy with the libraries ldd lists (and the loader), config where the official image
# has it (/usr/local/etc/haproxy/haproxy.cfg), run in the foreground in master-worker mode.
build_haproxy_image() {
  if docker image inspect "$HAPROXY_IMAGE" >/dev/null 2>&1; then return 0; fi
  local root
  root=$(binary_root /usr/sbin/haproxy /usr/sbin/haproxy)
  mkdir -p "$root"/usr/local/etc/haproxy "$root"/run "$root"/var/lib/haproxy
  tar -C "$root" -c . | docker import \
    -c 'LABEL private-registry-test.rev=1' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]' \
    - "$HAPROXY_IMAGE" >/dev/null
  rm -rf "$root"
}

# Debian's redis-server with the libraries ldd lists, run as the official image runs it.
build_redis_image() {
  if docker image inspect "$REDIS_IMAGE" >/dev/null 2>&1; then return 0; fi
  local root
  root=$(binary_root /usr/bin/redis-server /usr/bin/redis-server)
  mkdir -p "$root"/usr/local/etc/redis "$root"/data
  tar -C "$root" -c . | docker import \
    -c 'LABEL private-registry-test.rev=1' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'WORKDIR /data' \
    -c 'CMD ["redis-server"]' \
    - "$REDIS_IMAGE" >/dev/null
  rm -rf "$root"
}

# The registry binary of distribution v$REGISTRY3_VERSION, built once per version from the Go module
# proxy as upstream's Dockerfile builds it (static, -trimpath, -s -w, the version stamped).
build_registry3_binary() {
  if [ -x "$REGISTRY3_BINARY" ]; then return 0; fi
  if ! command -v go >/dev/null; then
    echo "setup: building distribution v$REGISTRY3_VERSION needs Go (go.mod asks for $(awk '$1 == "go" { print $2 }' "$REGISTRY3_MODULE_DIR/go.mod"))" >&2
    exit 1
  fi
  local dir log tmp
  dir=$(dirname "$REGISTRY3_BINARY")
  log="$dir/build.log"
  tmp="$dir/registry.tmp.$$"
  mkdir -p "$dir"
  (cd "$REGISTRY3_MODULE_DIR" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath \
    -ldflags "-s -w -X $REGISTRY3_MODULE/version.version=$REGISTRY3_VERSION -X $REGISTRY3_MODULE/version.mainpkg=$REGISTRY3_MODULE" \
    -o "$tmp" "$REGISTRY3_MODULE/cmd/registry") >"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; rm -f "$tmp"; exit 1; }
  # `registry --version` prints "<argv0> github.com/distribution/distribution/v3 3.1.2".
  if ! "$tmp" --version | grep -qF " $REGISTRY3_MODULE $REGISTRY3_VERSION"; then
    echo "setup: the built registry reports $("$tmp" --version), not $REGISTRY3_VERSION" >&2
    rm -f "$tmp"
    exit 1
  fi
  mv "$tmp" "$REGISTRY3_BINARY"
}

# The v3 test image, laid out like the official registry:3 image (upstream's Dockerfile: config at
# /etc/distribution/config.yml, OTEL_TRACES_EXPORTER=none, CA bundle) plus the 2.8 image's static
# busybox for the healthcheck's wget. Also tagged registry:$REGISTRY3_VERSION, the dev stack's default
# image, unless an image of that name that is not ours (e.g. the real one from a hub) is there.
build_registry3_image() {
  if ! docker image inspect "$REGISTRY3_IMAGE" >/dev/null 2>&1; then
    build_registry3_binary
    local root src
    src=$(cd "$REGISTRY3_MODULE_DIR" && go list -mod=readonly -m -f '{{.Dir}}' "$REGISTRY3_MODULE")
    root=$(mktemp -d)
    chmod 0755 "$root"
    mkdir -p "$root"/bin "$root"/etc/distribution "$root"/etc/ssl/certs "$root"/var/lib/registry "$root"/tmp "$root"/usr/bin
    chmod 1777 "$root"/tmp
    install -m 0755 "$REGISTRY3_BINARY" "$root"/bin/registry
    install -m 0644 "$src"/cmd/registry/config-dev.yml "$root"/etc/distribution/config.yml
    cp -L /etc/ssl/certs/ca-certificates.crt "$root"/etc/ssl/certs/ca-certificates.crt
    image_base "$root"
    tar -C "$root" -c . | docker import \
      -c "LABEL org.opencontainers.image.version=\"$REGISTRY3_VERSION\"" \
      -c "LABEL org.opencontainers.image.description=\"local test build of $REGISTRY3_MODULE v$REGISTRY3_VERSION from the Go module proxy (test/e2e/infra/registry3), not the official image\"" \
      -c 'ENV OTEL_TRACES_EXPORTER=none' \
      -c 'ENTRYPOINT ["/bin/registry"]' \
      -c 'CMD ["serve", "/etc/distribution/config.yml"]' \
      -c 'VOLUME ["/var/lib/registry"]' \
      -c 'EXPOSE 5000' \
      - "$REGISTRY3_IMAGE" >/dev/null
    rm -rf "$root"
  fi
  local official="registry:$REGISTRY3_VERSION"
  if ! docker image inspect "$official" >/dev/null 2>&1 ||
    [[ "$(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.description"}}' "$official")" == "local test build of "* ]]; then
    docker tag "$REGISTRY3_IMAGE" "$official"
  fi
}

debian_mirror() {
  # The mirror apt already uses (no host is named here).
  local uri
  uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -v security | grep -oE 'https?://[^ ]+' | grep -i debian | head -n1)
  if [ -z "$uri" ]; then
    echo "setup: no Debian mirror found in apt's sources" >&2
    exit 1
  fi
  echo "$uri"
}

build_client_image() {
  # rev 2: skopeo (the containers/image trust that Podman, CRI-O and Buildah share; its
  # containers-common needs a container-network-stack, which containernetworking-plugins provides).
  # rev 3: "/" 0755, so that a non-root user (deploy) can log in at all.
  # rev 4: SERVE_BIP makes a replica host, whose dockerd runs containers.
  # rev 5: a restarted container starts with an empty /run, as a rebooted host does.
  if [ "$(docker image inspect -f '{{index .Config.Labels "private-registry-test.rev"}}' "$CLIENT_IMAGE" 2>/dev/null)" = 7 ]; then return 0; fi
  need_root "building the client-host image"
  local root here
  here=$(cd "$(dirname "$0")" && pwd)
  root=$(mktemp -d /var/tmp/pr-client-root.XXXXXX)
  # mktemp makes it 0700, and it becomes the image's "/": no other user could reach a file.
  chmod 0755 "$root"
  debootstrap --variant=minbase \
    --include=openssh-server,openssh-sftp-server,docker.io,skopeo,containernetworking-plugins,ca-certificates,iproute2,procps,curl,sudo \
    bookworm "$root" "$(debian_mirror)" >/var/log/private-registry-test-debootstrap.log 2>&1 ||
    { tail -n 30 /var/log/private-registry-test-debootstrap.log >&2; exit 1; }
  # Trim what a test host never reads, and the host keys (each container makes its own).
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/etc/ssh/ssh_host_*
  install -m 0755 "$here/client-entrypoint.sh" "$root"/usr/local/bin/client-host-entrypoint
  install -m 0755 "$here/systemctl.sh" "$root"/usr/local/bin/systemctl
  # Debian's sshd_config keeps `AcceptEnv LANG LC_*`: the tests rely on sshd refusing other
  # variables, as a real host does.
  mkdir -p "$root"/root/.ssh
  chmod 700 "$root"/root/.ssh
  # '*' rather than the default '!': sshd refuses key logins to a locked account.
  chroot "$root" useradd -m -s /bin/bash -G docker -p '*' deploy
  echo 'deploy ALL=(ALL) NOPASSWD: ALL' >"$root"/etc/sudoers.d/deploy
  chmod 0440 "$root"/etc/sudoers.d/deploy
  tar -C "$root" -c . | docker import -c 'LABEL private-registry-test.rev=7' -c 'ENTRYPOINT ["/usr/local/bin/client-host-entrypoint"]' - "$CLIENT_IMAGE" >/dev/null
  rm -rf "$root"
}

echo "   setup of the test infrastructure"
step "Debian packages";            t install_packages
step "dockerd";                    t start_dockerd
step "image $REGISTRY_IMAGE";      t build_registry_image
# The binary on its own too: the real-binary tests run it on the host, and the image can be there
# without it (a cache removed, another XDG_CACHE_HOME or user than the one that built the image).
step "distribution $REGISTRY3_VERSION binary";  t build_registry3_binary
step "image $REGISTRY3_IMAGE";    t build_registry3_image
step "image $HAPROXY_IMAGE";      t build_haproxy_image
step "image $REDIS_IMAGE";        t build_redis_image
step "image $CLIENT_IMAGE";        t build_client_image
