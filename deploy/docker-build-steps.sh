#!/usr/bin/env bash
# The container image's build steps, in one script, so that they can be run
# and checked where there is no Docker engine (CI here has none).
#
#   deploy/docker-build-steps.sh build OUT   what the Dockerfile's build stage
#                                            runs: release binary, stripped,
#                                            into OUT/newsmirror
#   deploy/docker-build-steps.sh check       what .ci/run runs: the same build
#                                            from a copy of the build context
#                                            (.dockerignore applied) in a temp
#                                            dir, then the runtime stage's
#                                            checks: the configuration the
#                                            image ships passes `check`, the
#                                            binary serves as uid 65532 (the
#                                            distroless `nonroot` user) with
#                                            its secrets from the environment,
#                                            and the HEALTHCHECK command
#                                            (`newsmirror healthcheck`) passes
#
# `check` reuses ./target (CARGO_TARGET_DIR) for compiled dependencies.
set -euo pipefail

log() { printf '[docker-build-steps] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

repo=$(cd "$(dirname "$0")/.." && pwd)
# The runtime image's user (gcr.io/distroless/cc-debian12:nonroot).
RUN_UID=65532

build() {
  local out=$1
  cargo build --release --locked --bin newsmirror
  local target=${CARGO_TARGET_DIR:-target}
  mkdir -p "$out"
  install -m 0755 "$target/release/newsmirror" "$out/newsmirror"
  if command -v strip >/dev/null 2>&1; then strip "$out/newsmirror"; fi
  "$out/newsmirror" --version
}

# The Dockerfile must still run these steps the way `check` checks them.
check_dockerfile() {
  local f=$repo/Dockerfile
  grep -q 'deploy/docker-build-steps.sh build /out' "$f" || die "Dockerfile does not build with this script"
  grep -q '^FROM gcr.io/distroless/cc-debian12:nonroot' "$f" || die "Dockerfile: runtime base changed"
  grep -q "^USER $RUN_UID:$RUN_UID" "$f" || die "Dockerfile does not run as $RUN_UID"
  grep -q '^HEALTHCHECK' "$f" && grep -q 'CMD \["/usr/local/bin/newsmirror", "healthcheck"\]' "$f" \
    || die "Dockerfile: HEALTHCHECK is not newsmirror healthcheck"
  grep -q '^EXPOSE 8080 9091' "$f" || die "Dockerfile: EXPOSE changed"
  grep -q 'NEWSMIRROR_CONFIG=/etc/newsmirror/newsmirror.toml' "$f" || die "Dockerfile: config path changed"
}

# A port nothing listens on now (nothing answers a connect).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

check() {
  check_dockerfile
  local tmp
  tmp=$(mktemp -d /tmp/newsmirror-image.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  chmod 0755 "$tmp"

  # The build context, as `docker build .` would send it.
  log "copying the build context to $tmp/src"
  mkdir -p "$tmp/src"
  local excludes=()
  while IFS= read -r pattern; do
    pattern=${pattern%%#*}; pattern=${pattern//[[:space:]]/}
    [[ -n $pattern ]] && excludes+=("--exclude=./$pattern")
  done < "$repo/.dockerignore"
  tar -C "$repo" "${excludes[@]}" -cf - . | tar -C "$tmp/src" -xf -

  # Build stage.
  log "build stage: cargo build --release (target dir $repo/target)"
  (cd "$tmp/src" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target} \
     bash deploy/docker-build-steps.sh build "$tmp/rootfs/usr/local/bin")

  # Runtime stage: the files the image holds.
  install -D -m 0644 "$tmp/src/config/newsmirror.toml" "$tmp/rootfs/etc/newsmirror/newsmirror.toml"
  chmod -R a+rX "$tmp/rootfs"
  local bin=$tmp/rootfs/usr/local/bin/newsmirror
  local port admin
  port=$(free_port); admin=$(free_port)
  export NEWSMIRROR_CONFIG=$tmp/rootfs/etc/newsmirror/newsmirror.toml
  export NEWSMIRROR_LISTEN=127.0.0.1:$port
  export NEWSMIRROR_ADMIN_LISTEN=127.0.0.1:$admin
  NEWSMIRROR_SIGNING_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  NEWSMIRROR_PURGE_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export NEWSMIRROR_SIGNING_KEY NEWSMIRROR_PURGE_TOKEN

  local as_user=()
  if [[ $(id -u) == 0 ]]; then
    command -v setpriv >/dev/null 2>&1 || die "setpriv (util-linux) is needed to run as $RUN_UID"
    as_user=(setpriv "--reuid=$RUN_UID" "--regid=$RUN_UID" --clear-groups)
  else
    RUN_UID=$(id -u)
    log "not root: checking as the current user ($RUN_UID) instead of $RUN_UID"
  fi

  "${as_user[@]}" "$bin" check || die "the shipped configuration does not pass check"
  log "runtime stage: newsmirror serve as uid $RUN_UID on $NEWSMIRROR_LISTEN (admin $NEWSMIRROR_ADMIN_LISTEN)"
  "${as_user[@]}" "$bin" serve >"$tmp/serve.log" 2>&1 &
  local pid=$!
  local healthy=
  for _ in $(seq 1 300); do
    if "${as_user[@]}" "$bin" healthcheck >/dev/null 2>&1; then healthy=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $healthy ]]; then
    cat "$tmp/serve.log" >&2
    kill "$pid" 2>/dev/null || true
    die "HEALTHCHECK (newsmirror healthcheck) never passed"
  fi
  "${as_user[@]}" "$bin" healthcheck
  local uid
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [[ $uid == "$RUN_UID" ]] || die "serve runs as uid $uid, not $RUN_UID"
  "$bin" healthcheck --url "http://127.0.0.1:$admin/readyz" || die "admin /readyz"
  kill -TERM "$pid"
  wait "$pid" || die "serve did not stop cleanly on SIGTERM"
  log "ok: image steps build, the binary serves as uid $RUN_UID and passes its HEALTHCHECK"
}

case ${1:-} in
  build) [[ $# == 2 ]] || die "usage: $0 build OUT_DIR"; build "$2" ;;
  check) check ;;
  *) echo "usage: $0 build OUT_DIR | check" >&2; exit 2 ;;
esac
