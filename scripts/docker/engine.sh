#!/usr/bin/env bash
# A Docker engine of our own for the end-to-end test (pnpm test:docker), on
# a machine where nothing runs one (CI, a dev container). Debian's engine,
# without iptables: containers reach the outside only with host networking,
# and published ports are served by docker-proxy.
#
#   scripts/docker/engine.sh install    apt packages + the `docker compose` shim (root)
#   scripts/docker/engine.sh start      start dockerd, print the environment to use it
#   scripts/docker/engine.sh stop       stop the dockerd this script started (by pid)
#   scripts/docker/engine.sh clean      stop, then delete its state: images, containers,
#                                       build cache (2.8 GB after two pnpm test:docker)
#                                       and the stand-in's cache (~/.cache/netlab, ~300 MB)
#   scripts/docker/engine.sh uninstall  remove what install added (the list it kept)
#   scripts/docker/engine.sh env        print the environment to use it
#
# What install changes on the machine: the Debian packages it lacked among
# docker.io containerd runc docker-compose debootstrap iptables (apt-get
# install; the ones added are listed in /var/lib/netlab-engine/installed),
# and, when `docker compose` does not work, a CLI plugin
# /usr/local/lib/docker/cli-plugins/docker-compose that hands over to
# docker-compose. Nothing starts at boot: Debian's docker.io enables a
# service, which is why start runs a dockerd of its own (with no iptables
# rules, on its own socket and data root).
#
# State lives in NETLAB_DOCKER_DIR (default /tmp/netlab-docker): the socket,
# images, containers and dockerd.pid. Use: eval "$(scripts/docker/engine.sh start)"
#
# The environment: DOCKER_HOST, BuildKit on (the Dockerfile's cache mount
# needs it; Compose v1 then builds with the docker CLI), and the engine's own
# client first on PATH: Debian's 20.10 client builds with BuildKit by itself,
# where a newer client without the buildx plugin refuses to.
set -euo pipefail

dir=${NETLAB_DOCKER_DIR:-/tmp/netlab-docker}
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
export DOCKER_HOST="unix://$sock"

record_dir=/var/lib/netlab-engine
cache=${XDG_CACHE_HOME:-$HOME/.cache}/netlab

say() { printf '%s\n' "$*" >&2; }

install() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io containerd runc)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v iptables >/dev/null || need+=(iptables)
  if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    mkdir -p "$record_dir"
    printf '%s\n' "${need[@]}" >>"$record_dir/installed"
    say "installed: ${need[*]} (scripts/docker/engine.sh uninstall removes them)"
  fi
  # Debian ships Compose v1 (docker-compose) only; users type v2's
  # `docker compose`. A CLI plugin that hands over to v1 makes both work.
  if ! docker compose version >/dev/null 2>&1; then
    local plugins=/usr/local/lib/docker/cli-plugins
    mkdir -p "$plugins"
    cat >"$plugins/docker-compose" <<'SHIM'
#!/bin/sh
# `docker compose …` → Debian's docker-compose (v1), installed by netlab's scripts/docker/engine.sh.
if [ "$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"netlab","Version":"v1-shim","ShortDescription":"docker-compose v1 as docker compose"}'
  exit 0
fi
shift
exec docker-compose "$@"
SHIM
    chmod 755 "$plugins/docker-compose"
    mkdir -p "$record_dir"
    echo "$plugins/docker-compose" >>"$record_dir/installed-files"
    say "added $plugins/docker-compose (docker compose → docker-compose)"
  fi
}

uninstall() {
  if [ -f "$record_dir/installed-files" ]; then
    xargs -r rm -f <"$record_dir/installed-files"
  fi
  if [ -s "$record_dir/installed" ]; then
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2046
    apt-get remove -y -qq $(sort -u "$record_dir/installed") >/dev/null
    say "removed: $(sort -u "$record_dir/installed" | tr '\n' ' ')"
  fi
  rm -rf "$record_dir"
}

clean() {
  case $dir in /|/tmp|"$HOME"|'') say "refusing to delete NETLAB_DOCKER_DIR=$dir"; exit 64 ;; esac
  stop
  # Anything dockerd left mounted under its folders, then the folders.
  awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount || true
  local size
  size=$(du -sh "$dir" 2>/dev/null | cut -f1 || true)
  rm -rf "$dir" "$cache"
  say "removed $dir${size:+ ($size)} and $cache"
}

running() { docker version >/dev/null 2>&1; }

env_lines() {
  mkdir -p "$dir/bin"
  [ -x /usr/bin/docker ] && ln -sf /usr/bin/docker "$dir/bin/docker"
  echo "export DOCKER_HOST=$DOCKER_HOST DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1"
  echo "export PATH=$dir/bin:\$PATH"
}

start() {
  mkdir -p "$dir"
  if running; then
    env_lines
    return
  fi
  # --iptables=false: the engine must not rewrite the host's firewall, and
  # may not be allowed to; overlay2 on a data root of our own.
  setsid dockerd --iptables=false --ip6tables=false --storage-driver=overlay2 \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.own.pid" \
    -H "$DOCKER_HOST" >"$dir/dockerd.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + 60))
  until running; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "dockerd exited; its log:"
      tail -20 "$dir/dockerd.log" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "dockerd not answering on $sock after 60 s; see $dir/dockerd.log"
      exit 1
    fi
    sleep 0.2
  done
  say "dockerd ready (pid $(cat "$pidfile"), socket $sock)"
  env_lines
}

stop() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  # dockerd can leave its default network namespace mounted under exec/.
  awk -v d="$dir/exec/" 'index($2, d) == 1 {print $2}' /proc/mounts | xargs -r -n1 umount || true
  rm -f "$pidfile"
  say "dockerd stopped"
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  clean) clean ;;
  uninstall) uninstall ;;
  env) env_lines ;;
  *) say "usage: $0 install|start|stop|clean|uninstall|env"; exit 64 ;;
esac
