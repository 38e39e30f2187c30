#!/usr/bin/env bash
# Prepares the real infrastructure the tests use, idempotently (fast when everything is there):
#   - Debian packages: docker.io, docker-registry (the real distribution 2.8), openssh, debootstrap…
#   - a Docker engine (dockerd --storage-driver=vfs) when none answers;
#   - private-registry-test/registry:2.8 — Debian's registry binary + libc + a static busybox (for
#     the healthcheck's wget), imported with `docker import`: no hub is reachable here;
#   - private-registry-test/client-host:bookworm — a debootstrap of Debian with sshd, dockerd and the
#     docker CLI, for client-host containers.
# Needs root when something is missing. Nothing is pulled from any registry.
set -euo pipefail

REGISTRY_IMAGE=private-registry-test/registry:2.8
CLIENT_IMAGE=private-registry-test/client-host:bookworm
PACKAGES=(docker.io docker-registry openssh-server openssh-client debootstrap iproute2 openssl curl
  apache2-utils busybox-static ca-certificates util-linux)

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
  nohup dockerd --storage-driver=vfs </dev/null >/var/log/private-registry-test-dockerd.log 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "setup: dockerd did not start; see /var/log/private-registry-test-dockerd.log" >&2
  tail -n 20 /var/log/private-registry-test-dockerd.log >&2 || true
  exit 1
}

build_registry_image() {
  if docker image inspect "$REGISTRY_IMAGE" >/dev/null 2>&1; then return 0; fi
  local root
  root=$(mktemp -d)
  mkdir -p "$root"/bin "$root"/etc/docker/registry "$root"/var/lib/registry "$root"/tmp "$root"/usr/bin
  chmod 1777 "$root"/tmp
  cp /usr/bin/docker-registry "$root"/bin/registry
  # The registry binary needs only libc and the loader (ldd lists them).
  ldd /usr/bin/docker-registry | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  cp /bin/busybox "$root"/bin/busybox
  for applet in sh wget nc cat ls; do ln -s busybox "$root/bin/$applet"; done
  ln -s ../../bin/busybox "$root"/usr/bin/wget
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root"/etc/passwd
  printf 'root:x:0:\n' >"$root"/etc/group
  tar -C "$root" -c . | docker import \
    -c 'ENTRYPOINT ["/bin/registry"]' \
    -c 'CMD ["serve", "/etc/docker/registry/config.yml"]' \
    -c 'VOLUME ["/var/lib/registry"]' \
    -c 'EXPOSE 5000' \
    - "$REGISTRY_IMAGE" >/dev/null
  docker tag "$REGISTRY_IMAGE" private-registry-test/registry:2.8.2
  rm -rf "$root"
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
  if docker image inspect "$CLIENT_IMAGE" >/dev/null 2>&1; then return 0; fi
  need_root "building the client-host image"
  local root here
  here=$(cd "$(dirname "$0")" && pwd)
  root=$(mktemp -d /var/tmp/pr-client-root.XXXXXX)
  debootstrap --variant=minbase \
    --include=openssh-server,openssh-sftp-server,docker.io,ca-certificates,iproute2,procps,curl,sudo \
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
  tar -C "$root" -c . | docker import -c 'ENTRYPOINT ["/usr/local/bin/client-host-entrypoint"]' - "$CLIENT_IMAGE" >/dev/null
  rm -rf "$root"
}

echo "   setup of the test infrastructure"
step "Debian packages";            t install_packages
step "dockerd";                    t start_dockerd
step "image $REGISTRY_IMAGE";      t build_registry_image
step "image $CLIENT_IMAGE";        t build_client_image
