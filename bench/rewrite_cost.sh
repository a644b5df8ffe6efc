#!/usr/bin/env bash
# The rewrite's cost in instructions (valgrind's callgrind: they do not
# move with the load of this shared machine, as times do) and in time, per
# page, beside lol_html's own floor (no handlers; a do-nothing handler on
# every element), on the benchmark pages of bench/pages.py.
#
#   bench/rewrite_cost.sh [N]     (N passes per page under callgrind; default 20)
#
# Instructions per pass = (total - the program's start, measured with 0
# passes) / N. Needs valgrind (installed if missing and root).
set -euo pipefail
N="${1:-20}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nm-cost.XXXXXX")"
trap 'rm -rf "${WORK}"' EXIT
if ! command -v valgrind >/dev/null; then
  if [[ "$(id -u)" == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
  else
    echo "missing: valgrind" >&2; exit 1
  fi
fi
(cd "${ROOT}" && cargo build --release --locked -q --example profile_rewrite --example lol_html_floor)
python3 "${HERE}/pages.py" "${ROOT}/demo/www.demo-news.test/news/2026/11/river-bridge-opens.html" "${WORK}" "${ROOT}/../shared/corpora/aeb" 2>/dev/null
ex="${ROOT}/target/release/examples"
instr() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/refs/ {gsub(",", "", $NF); print $NF}'; }
printf '| page | bytes | newsmirror rewrite: instructions / pass | us / pass | lol_html, no handlers | lol_html, no-op handler on `*` |\n|---|---:|---:|---:|---:|---:|\n'
for page in small article real-1 real-2 real-3; do
  f="${WORK}/${page}.html"
  [[ -f "${f}" ]] || continue
  # profile_rewrite takes N first; lol_html_floor takes it last.
  nm=$(( ( $(instr "${ex}/profile_rewrite" "${N}" "${f}") - $(instr "${ex}/profile_rewrite" 0 "${f}") ) / N ))
  none=$(( ( $(instr "${ex}/lol_html_floor" none "${f}" "${N}") - $(instr "${ex}/lol_html_floor" none "${f}" 0) ) / N ))
  noop=$(( ( $(instr "${ex}/lol_html_floor" noop "${f}" "${N}") - $(instr "${ex}/lol_html_floor" noop "${f}" 0) ) / N ))
  us=$("${ex}/profile_rewrite" 300 "${f}" | sed 's/.*: \([0-9.]*\) us each.*/\1/')
  printf '| %s | %s | %s | %s | %s | %s |\n' "${page}" "$(wc -c <"${f}")" "${nm}" "${us}" "${none}" "${noop}"
done
