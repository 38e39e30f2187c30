#!/bin/sh
# A stand-in for systemctl in client-host containers (no systemd), so that scripts written for
# systemd hosts run unchanged: reload = SIGHUP to the daemon, restart = stop and start it again.
# The unit is the host's one runtime daemon (/etc/client-runtime): docker, or containerd on a
# containerd-only host; dockerd's own containerd child is not a unit.
set -eu
action=${1:-}
[ "$action" = is-active ] && [ "${2:-}" = --quiet ] && shift
unit=${2:-docker}
unit=${unit%.service}
runtime=$(cat /etc/client-runtime 2>/dev/null || echo docker)
if [ "$unit" != "$runtime" ]; then
  [ "$action" = is-active ] && exit 3
  echo "systemctl stand-in: only the $runtime unit is known" >&2
  exit 1
fi
if [ "$unit" = containerd ]; then
  daemon=containerd
  start() { containerd </dev/null >>/var/log/containerd.log 2>&1 & }
  ready() { ctr version >/dev/null 2>&1; }
else
  daemon=dockerd
  # shellcheck disable=SC2046
  start() { dockerd $(cat /etc/dockerd.flags) </dev/null >>/var/log/dockerd.log 2>&1 & }
  ready() { docker info >/dev/null 2>&1; }
fi
pid=$(pidof "$daemon" 2>/dev/null | cut -d' ' -f1 || true)
case "$action" in
  reload) [ -n "$pid" ] && kill -HUP "$pid" ;;
  restart)
    if [ -n "$pid" ]; then
      kill "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    start
    i=0
    until ready; do i=$((i + 1)); [ "$i" -gt 60 ] && exit 1; sleep 0.5; done
    ;;
  is-active) [ -n "$pid" ] && echo active || { echo inactive; exit 3; } ;;
  *) echo "systemctl stand-in: $action is not supported" >&2; exit 1 ;;
esac
