#!/usr/bin/env bash
# A throwaway Docker engine for evalrig's tests and CI, started by hand (no systemd).
#
#   bash .ci/docker-engine.sh start    # install docker.io if needed, start dockerd (or reuse a running one)
#   export DOCKER_HOST=unix:///tmp/evalrig-ci-docker/docker.sock
#   ...                                # tests
#   bash .ci/docker-engine.sh stop     # remove evalrig containers, stop dockerd, unmount leftovers
#   bash .ci/docker-engine.sh status   # exit 0 when the engine answers
#
# Settings (tried with Debian 12's docker.io 20.10; flags as in the dockerd reference,
# https://docs.docker.com/reference/cli/dockerd/): vfs storage (robust on any disk), no iptables/masquerade
# rules on the host, cgroupfs. NOT --bridge=none: it silently turns the default network into "none" and then
# published ports (-p) are unreachable.
# The data root survives `stop` so a later `start` reuses built images; `purge` removes it as well.
set -euo pipefail

ENGINE_DIR="${EVALRIG_DOCKER_DIR:-/tmp/evalrig-ci-docker}"
SOCKET="$ENGINE_DIR/docker.sock"
PID_FILE="$ENGINE_DIR/dockerd.pid"
LOG_FILE="$ENGINE_DIR/dockerd.log"
STORAGE_DRIVER="${EVALRIG_DOCKER_STORAGE_DRIVER:-vfs}"
export DOCKER_HOST="unix://$SOCKET"

log() { printf '[docker-engine] %s\n' "$*" >&2; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

daemon_pid() {
  [[ -s "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

install_if_missing() {
  local packages=()
  { command -v dockerd && command -v docker; } >/dev/null || packages+=(docker.io)
  # The test image needs a static /bin/sh (scripts/build-sim-image.mjs copies it into the image).
  [[ -x /bin/busybox ]] || packages+=(busybox-static)
  ((${#packages[@]} == 0)) && return 0
  if [[ "$(id -u)" != 0 ]]; then
    log "missing: ${packages[*]}; run this as root or install them (apt-get install docker.io busybox-static)"
    exit 1
  fi
  log "installing ${packages[*]} from the Debian mirror"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The postinst prints "policy-rc.d denied execution of start": expected, dockerd is started below by hand.
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}

start() {
  mkdir -p "$ENGINE_DIR"
  if engine_answers; then
    log "reusing the engine already answering on $SOCKET"
  else
    install_if_missing
    if daemon_pid >/dev/null; then
      log "dockerd (pid $(daemon_pid)) is running but does not answer yet; waiting for it"
    else
      rm -f "$SOCKET" "$PID_FILE"
      log "starting dockerd (log: $LOG_FILE)"
      # setsid: the daemon must not die with the shell that started it, nor receive its Ctrl-C.
      setsid dockerd \
        --data-root="$ENGINE_DIR/data" \
        --exec-root="$ENGINE_DIR/exec" \
        --pidfile="$PID_FILE" \
        -H "unix://$SOCKET" \
        --storage-driver="$STORAGE_DRIVER" \
        --iptables=false --ip-masq=false \
        --exec-opt native.cgroupdriver=cgroupfs \
        >>"$LOG_FILE" 2>&1 </dev/null &
    fi
    local waited=0
    until engine_answers; do
      if ((waited >= 300)); then
        log "dockerd did not answer within 60 s; the end of its log:"
        tail -n 50 "$LOG_FILE" >&2 || true
        exit 1
      fi
      sleep 0.2
      waited=$((waited + 1))
    done
  fi
  log "engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') is ready"
  echo "export DOCKER_HOST=unix://$SOCKET"
}

remove_evalrig_containers() {
  engine_answers || return 0
  local ids
  ids="$(docker ps -aq --filter label=evalrig.managed=true)"
  if [[ -n "$ids" ]]; then
    log "removing evalrig containers: $(echo "$ids" | tr '\n' ' ')"
    # shellcheck disable=SC2086 # one id per word
    docker rm -f -v $ids >/dev/null
  fi
}

unmount_leftovers() {
  # Mounts under the engine folder outlive a daemon that died hard; unmount deepest first.
  awk -v root="$ENGINE_DIR/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mountpoint; do
    umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint" 2>/dev/null || log "could not unmount $mountpoint"
  done
}

stop() {
  remove_evalrig_containers || log "could not list containers; stopping the daemon anyway"
  local pid
  if pid="$(daemon_pid)"; then
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if ((waited >= 150)); then
        log "dockerd ignored SIGTERM for 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
      waited=$((waited + 1))
    done
  else
    log "no dockerd of ours is running"
  fi
  unmount_leftovers
  rm -f "$SOCKET" "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  purge)
    stop
    rm -rf "$ENGINE_DIR"
    ;;
  status)
    if engine_answers; then
      echo "engine answering on $SOCKET"
    else
      echo "no engine on $SOCKET"
      exit 1
    fi
    ;;
  *)
    echo "usage: bash $0 start|stop|purge|status" >&2
    exit 2
    ;;
esac
