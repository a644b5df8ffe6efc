#!/usr/bin/env bash
# Real-page browser harness: the aeb corpus pages, served at their real host
# names by a local origin, through one mirror per page (a config derived as
# an operator would), loaded in headless Chromium that can reach only the
# mirror, against the same page loaded directly. docs/real-pages.md says
# what it measures and what it found.
#
#   bench/realpages/run.sh [MIRROR_BINARY] [--mode keep|remove|both] [--pages N]
#                          [--jobs J] [--out DIR] [--only ID_PREFIX,...]
#                          [--corpus DIR] [--timeout MS] [--settle MS] [--label TEXT]
#
# Without MIRROR_BINARY it builds the release binary of this tree
# (CARGO_TARGET_DIR is honoured) and copies it to /tmp/realpages-bin/, so
# that a rebuild from another tree cannot change it mid-run. Results:
# DIR/pages/<id>.json, DIR/summary.md, DIR/summary.json (DIR defaults to
# bench/realpages/out/<UTC time>-<label>/). Only 127.0.0.1 is contacted.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
log() { printf '[realpages] %s\n' "$*" >&2; }

BINARY=""
ARGS=()
OUT=""
LABEL=""
CORPUS="${REPO}/../shared/corpora/aeb"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    --corpus) CORPUS="$2"; shift 2 ;;
    --mode|--pages|--jobs|--only|--timeout|--settle) ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) log "unknown option $1"; exit 2 ;;
    *) BINARY="$1"; shift ;;
  esac
done

apt_install() {
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: $* (install it, or run this as root on Debian)"; exit 1
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
}
[[ -x /usr/bin/chromium ]] || apt_install chromium
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
command -v openssl >/dev/null 2>&1 || apt_install openssl
if [[ ! -f "${HERE}/node_modules/playwright-core/package.json" || ! -f "${HERE}/node_modules/htmlparser2/package.json" ]]; then
  log "installing the harness's packages (npm ci in bench/realpages/)"
  (cd "${HERE}" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
[[ -f "${CORPUS}/ground-truth.json" ]] || { log "no corpus at ${CORPUS} (--corpus DIR)"; exit 1; }

if [[ -z "${BINARY}" ]]; then
  commit="$(git -C "${REPO}" rev-parse --short HEAD)"
  git -C "${REPO}" diff --quiet HEAD -- src Cargo.toml Cargo.lock || commit="${commit}-dirty"
  log "building the release binary of ${REPO} (${commit})"
  (cd "${REPO}" && cargo build --release --locked --bin newsmirror)
  mkdir -p /tmp/realpages-bin
  BINARY="/tmp/realpages-bin/newsmirror-${commit}"
  cp "${CARGO_TARGET_DIR:-${REPO}/target}/release/newsmirror" "${BINARY}"
  LABEL="${LABEL:-${commit}}"
fi
[[ -x "${BINARY}" ]] || { log "not an executable: ${BINARY}"; exit 1; }
BINARY="$(cd "$(dirname "${BINARY}")" && pwd)/$(basename "${BINARY}")"
LABEL="${LABEL:-$(basename "${BINARY}")}"
OUT="${OUT:-${HERE}/out/$(date -u +%Y%m%dT%H%M%SZ)-${LABEL//[^A-Za-z0-9._-]/_}}"
mkdir -p "${OUT}"
log "binary ${BINARY}; results in ${OUT}"
node "${HERE}/harness.js" --binary "${BINARY}" --corpus "${CORPUS}" --out "${OUT}" --label "${LABEL}" "${ARGS[@]}"
log "summary: ${OUT}/summary.md"
