#!/bin/sh
# Entry point of a client-host container: its own sshd and Docker daemon (or, with
# CLIENT_RUNTIME=containerd, containerd alone), no systemd.
# The authorized key comes from $AUTHORIZED_KEY. dockerd starts first, so that "SSH answers"
# means "this host's Docker is ready".
set -eu
ssh-keygen -A >/dev/null
# A container started again is a host booted again: /run starts empty (a killed dockerd leaves its pid files).
rm -rf /run/docker.pid /run/docker /run/containerd
mkdir -p /run/sshd /root/.ssh /home/deploy/.ssh
printf '%s\n' "${AUTHORIZED_KEY:?AUTHORIZED_KEY is required}" > /root/.ssh/authorized_keys
cp /root/.ssh/authorized_keys /home/deploy/.ssh/authorized_keys
chown -R deploy:deploy /home/deploy/.ssh
chmod 600 /root/.ssh/authorized_keys /home/deploy/.ssh/authorized_keys
if [ -n "${SERVE_BIP:-}" ]; then
  # A replica host: its dockerd runs containers, so it makes a bridge ($SERVE_BIP) and NAT rules.
  # The test gave this container NET_ADMIN, which reaches this container's own network namespace
  # only (no default route: nothing leaves the test network). Docker mounts the cgroup hierarchy
  # read-only without --privileged; it is this container's own subtree, made writable for runc.
  for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d"; done
  echo "--storage-driver=vfs --bip=$SERVE_BIP" > /etc/dockerd.flags
else
  # --bridge=none and --iptables=false: a client's daemon must never touch a network it did not make.
  echo "--storage-driver=vfs --iptables=false --bridge=none --ip-masq=false" > /etc/dockerd.flags
fi
# The host's runtime daemon, started and waited for before sshd: "SSH answers" means "ready".
# $1: the daemon's name (and log), then the command that answers once it serves.
started() {
  name=$1
  shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then echo "$name did not start" >&2; cat "/var/log/$name.log" >&2; exit 1; fi
    sleep 0.5
  done
}
if [ "${CLIENT_RUNTIME:-docker}" = containerd ]; then
  # A containerd-only host (a Kubernetes node's runtime): containerd as its own service, no dockerd.
  echo containerd > /etc/client-runtime
  containerd </dev/null >>/var/log/containerd.log 2>&1 &
  started containerd ctr version
else
  echo docker > /etc/client-runtime
  # shellcheck disable=SC2046
  dockerd $(cat /etc/dockerd.flags) </dev/null >/var/log/dockerd.log 2>&1 &
  started dockerd docker info
fi
exec /usr/sbin/sshd -D -e
