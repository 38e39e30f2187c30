#!/bin/sh
# A stand-in for systemctl in client-host containers (no systemd), so that scripts written for
# systemd hosts run unchanged: reload = SIGHUP to dockerd, restart = stop and start it again.
set -eu
action=${1:-}
unit=${2:-docker}
case "$unit" in docker|docker.service) ;; *) echo "systemctl stand-in: only the docker unit is known" >&2; exit 1 ;; esac
pid=$(pidof dockerd 2>/dev/null | cut -d' ' -f1 || true)
case "$action" in
  reload) [ -n "$pid" ] && kill -HUP "$pid" ;;
  restart)
    if [ -n "$pid" ]; then
      kill "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    # shellcheck disable=SC2046
    dockerd $(cat /etc/dockerd.flags) </dev/null >>/var/log/dockerd.log 2>&1 &
    i=0
    until docker info >/dev/null 2>&1; do i=$((i + 1)); [ "$i" -gt 60 ] && exit 1; sleep 0.5; done
    ;;
  is-active) [ -n "$pid" ] && echo active || { echo inactive; exit 3; } ;;
  *) echo "systemctl stand-in: $action is not supported" >&2; exit 1 ;;
esac
