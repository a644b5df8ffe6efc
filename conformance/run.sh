#!/usr/bin/env bash
# HTTP cache conformance run: http-cache-tests 0.4.5 (cache-tests.fyi)
# against newsmirror and, for comparison, Debian's nginx with proxy_cache,
# both measured here in the same run.
#
#   conformance/run.sh [TARGET...]        TARGET: newsmirror | nginx
#                                         (default: newsmirror nginx)
#   conformance/run.sh --id TEST-ID TARGET
#                                         one test, with the suite's request/
#                                         response dump (debugging a failure)
#
# Environment:
#   NEWSMIRROR_BIN      binary to test (default: target/release/newsmirror,
#                       built with `cargo build --release --locked` if missing)
#   MIN_REQUIRED_RATE   e.g. "80": exit 3 if newsmirror's required pass rate
#                       is lower (for CI, once the cache exists)
#   KEEP_WORK=1         keep the temporary folder (configs, logs, cache)
#   CONFORMANCE_RESULTS folder for the results (default: conformance/results)
#   CONFORMANCE_NO_INSTALL=1
#                       never install (fail instead): how tests/conformance.rs
#                       runs it, with no network beyond loopback
#
# Output: conformance/results/<target>.json (the suite's raw results),
# <target>.summary.json (scores and run metadata), <target>.failures.txt
# (every required/optimal test not passed, with the suite's message), and
# one summary line per target, also printed at the end.
#
# Network: only loopback during the run. Setup may use the npm registry
# (`npm ci`) and, if nginx is missing and we are root, Debian's archive.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
SUITE_VERSION="0.4.5"
SUITE_DIR="${HERE}/node_modules/http-cache-tests"
RESULTS="${CONFORMANCE_RESULTS:-${HERE}/results}"

log() { printf '[conformance] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- arguments
TEST_ID=""
TARGETS=()
while (($#)); do
  case "$1" in
    --id) TEST_ID="${2:?--id needs a test id}"; shift 2 ;;
    -h | --help) sed -n '2,25p' "${BASH_SOURCE[0]}"; exit 0 ;;
    newsmirror | nginx) TARGETS+=("$1"); shift ;;
    *) die "unknown argument '$1' (targets: newsmirror nginx)" ;;
  esac
done
((${#TARGETS[@]})) || TARGETS=(newsmirror nginx)
if [[ -n "${TEST_ID}" && ${#TARGETS[@]} -ne 1 ]]; then
  die "--id takes exactly one target"
fi

# ------------------------------------------------------------ process care
WORK="$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")"
PIDS=()
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}" 2>/dev/null || true
    fi
  done
  for pid in "${PIDS[@]}"; do
    # give each a moment, then insist
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
  done
  if [[ "${KEEP_WORK:-0}" == 1 ]]; then
    log "work folder kept: ${WORK}"
  else
    rm -rf "${WORK}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_pid() {
  local pid=$1
  kill -TERM "${pid}" 2>/dev/null || true
  for _ in $(seq 1 25); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}

# A free loopback TCP port (the kernel picks it; we release it just before use).
free_port() {
  node -e 'const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# Wait until something answers HTTP on 127.0.0.1:$1 (any status), or fail.
wait_http() {
  local port=$1 what=$2 pid=$3
  for _ in $(seq 1 100); do
    if ! kill -0 "${pid}" 2>/dev/null; then
      die "${what} exited at start (see its log above)"
    fi
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:${port}/"; then
      return 0
    fi
    sleep 0.1
  done
  die "${what} did not answer on 127.0.0.1:${port} within 10 s"
}

# -------------------------------------------------------------------- setup
command -v node >/dev/null || die "node is required (Node 20)"
command -v npm >/dev/null || die "npm is required"
command -v curl >/dev/null || die "curl is required"

installed_version() {
  node -p 'require(process.argv[1]).version' "${SUITE_DIR}/package.json" 2>/dev/null || true
}
if [[ "$(installed_version)" != "${SUITE_VERSION}" ]]; then
  if [[ "${CONFORMANCE_NO_INSTALL:-0}" == 1 ]]; then
    die "http-cache-tests@${SUITE_VERSION} is not installed: run .ci/run (or npm ci in conformance/)"
  fi
  log "installing http-cache-tests@${SUITE_VERSION} (npm ci, from package-lock.json)"
  (cd "${HERE}" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  [[ "$(installed_version)" == "${SUITE_VERSION}" ]] ||
    die "node_modules/http-cache-tests is not ${SUITE_VERSION} after npm ci"
fi

for target in "${TARGETS[@]}"; do
  case "${target}" in
    nginx)
      if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
          log "installing Debian's nginx"
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2 ||
            { apt-get update -qq >&2 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2; }
        else
          die "nginx is not installed (apt-get install nginx)"
        fi
      fi
      ;;
    newsmirror)
      NEWSMIRROR_BIN="${NEWSMIRROR_BIN:-${ROOT}/target/release/newsmirror}"
      if [[ ! -x "${NEWSMIRROR_BIN}" ]]; then
        log "building newsmirror (cargo build --release --locked)"
        (cd "${ROOT}" && cargo build --release --locked >&2)
      fi
      [[ -x "${NEWSMIRROR_BIN}" ]] || die "no newsmirror binary at ${NEWSMIRROR_BIN}"
      if [[ -n "$(find "${ROOT}/src" "${ROOT}/Cargo.toml" "${ROOT}/Cargo.lock" \
        -newer "${NEWSMIRROR_BIN}" -print -quit 2>/dev/null)" ]]; then
        log "warning: sources are newer than ${NEWSMIRROR_BIN} (cargo build --release?)"
      fi
      ;;
  esac
done
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"

mkdir -p "${RESULTS}"

# ------------------------------------------------------------------ targets
# Each start_* starts the cache under test on 127.0.0.1:$1 in front of the
# origin on 127.0.0.1:$2, appends its pid to PIDS and sets TARGET_PID and
# TARGET_VERSION.

start_nginx() {
  local port=$1 origin=$2 dir="${WORK}/nginx" user_line=""
  mkdir -p "${dir}/cache" "${dir}/tmp"
  if [[ "$(id -u)" == 0 ]]; then
    # The master runs as root; workers as nobody must write cache and temp.
    user_line="user nobody $(id -gn nobody);"
    chmod 755 "${WORK}" "${dir}"
    chown -R nobody "${dir}/cache" "${dir}/tmp"
  fi
  # The suite's own nginx setup (docker/nginx/nginx.conf in the package, as
  # used for cache-tests.fyi): proxy_cache + proxy_cache_revalidate, nothing
  # else; here on loopback ports and a private cache folder.
  cat >"${dir}/nginx.conf" <<EOF
${user_line}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/tmp/client;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    proxy_cache_path ${dir}/cache levels=1:2 keys_zone=my-cache:8m max_size=64m inactive=600m;
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://127.0.0.1:${origin};
            proxy_cache my-cache;
            proxy_cache_revalidate on;
        }
    }
}
EOF
  "${NGINX_BIN}" -t -q -c "${dir}/nginx.conf" -p "${dir}" >&2
  "${NGINX_BIN}" -c "${dir}/nginx.conf" -p "${dir}" >"${dir}/stdout.log" 2>&1 &
  TARGET_PID=$!
  PIDS+=("${TARGET_PID}")
  TARGET_VERSION="$("${NGINX_BIN}" -v 2>&1 | sed 's/^nginx version: //') (Debian $(dpkg-query -W -f='${Version}' nginx 2>/dev/null || echo '?'))"
  TARGET_LOG="${dir}/error.log"
}

start_newsmirror() {
  local port=$1 origin=$2 dir="${WORK}/newsmirror"
  mkdir -p "${dir}"
  # conformance/newsmirror.toml with the run's two addresses.
  sed -e "s|^listen = \"127\\.0\\.0\\.1:8080\"|listen = \"127.0.0.1:${port}\"|" \
    -e "s|^upstream = \"http://127\\.0\\.0\\.1:8000\"|upstream = \"http://127.0.0.1:${origin}\"|" \
    "${HERE}/newsmirror.toml" >"${dir}/newsmirror.toml"
  if ! grep -q "^listen = \"127.0.0.1:${port}\"" "${dir}/newsmirror.toml" ||
    ! grep -q "^upstream = \"http://127.0.0.1:${origin}\"" "${dir}/newsmirror.toml"; then
    die "could not set the ports in newsmirror.toml (its listen/upstream lines changed?)"
  fi
  "${NEWSMIRROR_BIN}" check --config "${dir}/newsmirror.toml" >&2
  RUST_LOG="${RUST_LOG:-warn}" "${NEWSMIRROR_BIN}" serve --config "${dir}/newsmirror.toml" \
    >"${dir}/newsmirror.log" 2>&1 &
  TARGET_PID=$!
  PIDS+=("${TARGET_PID}")
  # the sources' last commit (the binary may come from elsewhere: NEWSMIRROR_BIN)
  TARGET_VERSION="src $(git -C "${ROOT}" log -1 --format=%h -- src Cargo.toml Cargo.lock 2>/dev/null || echo '?')"
  if [[ -n "$(git -C "${ROOT}" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
    TARGET_VERSION+=" + uncommitted changes"
  fi
  TARGET_VERSION+=", binary ${NEWSMIRROR_BIN#"${ROOT}/"}"
  TARGET_LOG="${dir}/newsmirror.log"
}

# --------------------------------------------------------------------- runs
# The suite's client (cli.mjs) reads its options from npm's environment
# variables; we call it directly instead of through `npm run`.
# Call it in a subshell or in the background: it changes directory and
# execs node (so that the background job's pid is node's own).
run_suite() {
  local base=$1
  cd "${SUITE_DIR}"
  # cli.mjs reads `npm_config_X || npm_package_config_X`; set both
  exec env npm_config_base="${base}" npm_package_config_base="${base}" \
    npm_config_id="${TEST_ID}" npm_package_config_id="" \
    node --no-warnings cli.mjs
}

SUMMARY_LINES=()
STATUS=0
for target in "${TARGETS[@]}"; do
  origin_port="$(free_port)"
  node "${HERE}/lib/origin.mjs" "${origin_port}" >"${WORK}/origin-${target}.log" 2>&1 &
  origin_pid=$!
  PIDS+=("${origin_pid}")
  wait_http "${origin_port}" "test origin" "${origin_pid}"

  target_port="$(free_port)"
  case "${target}" in
    nginx) start_nginx "${target_port}" "${origin_port}" ;;
    newsmirror) start_newsmirror "${target_port}" "${origin_port}" ;;
  esac
  wait_http "${target_port}" "${target}" "${TARGET_PID}"
  log "${target} ${TARGET_VERSION} on 127.0.0.1:${target_port}, origin on 127.0.0.1:${origin_port}"

  if [[ -n "${TEST_ID}" ]]; then
    (run_suite "http://127.0.0.1:${target_port}")
    stop_pid "${TARGET_PID}"
    stop_pid "${origin_pid}"
    echo "==== What the origin saw and sent (origin log)"
    cat "${WORK}/origin-${target}.log"
    continue
  fi

  started=$(date +%s)
  out="${WORK}/${target}.json"
  # in the background, so that a signal reaches our trap at once
  run_suite "http://127.0.0.1:${target_port}" >"${out}" 2>"${WORK}/${target}.cli.log" &
  cli_pid=$!
  PIDS+=("${cli_pid}")
  wait "${cli_pid}" || true
  elapsed=$(($(date +%s) - started))
  if ! node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      if (Object.keys(r).length === 0) process.exit(1)' "${out}" 2>/dev/null; then
    log "the suite produced no results for ${target}:"
    cat "${WORK}/${target}.cli.log" >&2
    tail -n 20 "${TARGET_LOG}" >&2 || true
    STATUS=1
    stop_pid "${TARGET_PID}"
    stop_pid "${origin_pid}"
    continue
  fi
  cp "${out}" "${RESULTS}/${target}.json"

  stop_pid "${TARGET_PID}"
  stop_pid "${origin_pid}"

  line="$(node "${HERE}/lib/score.mjs" "${RESULTS}/${target}.json" --target "${target}" \
    --summary-out "${RESULTS}/${target}.summary.json" \
    --failures-out "${RESULTS}/${target}.failures.txt" \
    --meta "version=${TARGET_VERSION}" --meta "suite=http-cache-tests@${SUITE_VERSION}" \
    --meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" --meta "seconds=${elapsed}" \
    --meta "machine=$(uname -srm), $(nproc) cores, node $(node --version)")"
  line="${line} [${elapsed}s]"
  printf '%s\n' "${line}" >"${RESULTS}/${target}.summary.txt"
  SUMMARY_LINES+=("${line}")
  log "${line}"

  if [[ "${target}" == newsmirror && -n "${MIN_REQUIRED_RATE:-}" ]]; then
    if ! node -e 'const s = require(process.argv[1]);
        process.exit(s.required.rate >= Number(process.argv[2]) ? 0 : 1)' \
      "${RESULTS}/newsmirror.summary.json" "${MIN_REQUIRED_RATE}"; then
      log "newsmirror's required pass rate is below ${MIN_REQUIRED_RATE}%"
      STATUS=3
    fi
  fi
done

if ((${#SUMMARY_LINES[@]})); then
  echo "== http-cache-tests ${SUITE_VERSION}, shared cache, required tests (this machine, $(date -u +%Y-%m-%d))"
  printf '%s\n' "${SUMMARY_LINES[@]}"
fi
exit "${STATUS}"
