#!/usr/bin/env bash
# A/B of two newsmirror binaries on cache hits: what one change did to
# throughput and to the server's CPU per request, side by side in one run.
#
#   bench/ab.sh BIN_A BIN_B [DURATION_SECONDS]    (default 6 s per measurement)
#   ROUNDS=3 CONNS=32 bench/ab.sh ...             (the defaults)
#
# e.g. build the commit before a change into another target directory:
#   git worktree add /tmp/before <commit> &&
#   (cd /tmp/before && cargo build --release --target-dir /tmp/before-target)
#   bench/ab.sh /tmp/before-target/release/newsmirror target/release/newsmirror
#
# Each binary serves the benchmark pages (bench/pages.py) from a static
# origin (nginx) with the cache on; after warming, wrk measures hits on the
# article and the small page, identity and gzip. The binaries take turns
# (A, B, A, B, ...) and the table gives the median of the rounds, with peak
# RSS. Needs nginx and wrk (Debian packages; installed if missing and root).
set -euo pipefail

A="${1:?usage: bench/ab.sh BIN_A BIN_B [DURATION_SECONDS]}"
B="${2:?usage: bench/ab.sh BIN_A BIN_B [DURATION_SECONDS]}"
DUR="${3:-6}"
CONNS="${CONNS:-32}"
ROUNDS="${ROUNDS:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nm-ab.XXXXXX")"
TAG=ab
# shellcheck source=bench/lib.sh
source "${HERE}/lib.sh"

mkdir -p "${WORK}/origin"
python3 "${HERE}/pages.py" "${ROOT}/demo/www.demo-news.test/news/2026/11/river-bridge-opens.html" "${WORK}/origin"
P_ORIGIN=$(free_port); P_NM=$(free_port)
cat >"${WORK}/nginx.conf" <<CONF
${NGINX_USER_LINE}
worker_processes 1;
daemon off;
pid ${WORK}/nginx.pid;
error_log ${WORK}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  client_body_temp_path ${WORK}/tmp-client; proxy_temp_path ${WORK}/tmp-proxy;
  fastcgi_temp_path ${WORK}/tmp-fcgi; uwsgi_temp_path ${WORK}/tmp-uwsgi; scgi_temp_path ${WORK}/tmp-scgi;
  server { listen 127.0.0.1:${P_ORIGIN}; root ${WORK}/origin;
           location / { add_header Cache-Control "max-age=3600"; } }
}
CONF
mkdir -p "${WORK}"/tmp-{client,proxy,fcgi,uwsgi,scgi}
"${NGINX}" -c "${WORK}/nginx.conf" -p "${WORK}" &
PIDS+=($!)
wait_port "${P_ORIGIN}"
nm_config "${P_NM}" "256MiB" "${P_ORIGIN}" >"${WORK}/nm.toml"

RESULTS="${WORK}/results.tsv"
: >"${RESULTS}"
for round in $(seq 1 "${ROUNDS}"); do
  for side in A B; do
    bin="${A}"; [[ "${side}" == B ]] && bin="${B}"
    RUST_LOG=warn "${bin}" serve --config "${WORK}/nm.toml" 2>>"${WORK}/nm.log" &
    pid=$!
    wait_port "${P_NM}"
    for page in article small; do
      for enc in identity gzip; do
        curl -s -o /dev/null -H "Accept-Encoding: ${enc}" "http://127.0.0.1:${P_NM}/${page}.html"
      done
    done
    sleep 1 # compressed variants are made in the background after the fill
    for page in article small; do
      for enc in identity gzip; do
        before=$(ticks "${pid}")
        out=$(wrk -t1 -c"${CONNS}" -d"${DUR}s" -H "Accept-Encoding: ${enc}" \
          "http://127.0.0.1:${P_NM}/${page}.html")
        after=$(ticks "${pid}")
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"${out}")
        reqs=$(awk '/requests in/ {print $1}' <<<"${out}")
        cpu=$(per_request_us "$((after - before))" "${reqs:-0}")
        printf '%s\t%s\t%s\t%s\n' "${side}" "${page}" "${enc}" "${rps}" >>"${RESULTS}"
        printf '%s\tcpu-%s\t%s\t%s\n' "${side}" "${page}" "${enc}" "${cpu}" >>"${RESULTS}"
        log "round ${round} ${side} ${page} ${enc} ${rps} req/s ${cpu} us CPU/req"
        sleep 1
      done
    done
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/${pid}/status")
    printf '%s\trss\tkB\t%s\n' "${side}" "${hwm}" >>"${RESULTS}"
    kill "${pid}"; wait "${pid}" 2>/dev/null || true
  done
done

python3 - "${RESULTS}" "${A}" "${B}" "${DUR}" "${CONNS}" "${ROUNDS}" "$(nproc)" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, page, enc, value = line.rstrip("\n").split("\t")
    runs[(side, page, enc)].append(float(value or 0))
print(f"\nA = {sys.argv[2]}\nB = {sys.argv[3]}")
print(f"wrk -t1 -c{sys.argv[5]} -d{sys.argv[4]}s, cache hits, {sys.argv[7]} cores, "
      f"{sys.argv[6]} alternating rounds: medians of req/s and of the server's CPU per request\n")
print("| page | encoding | A req/s | B req/s | B / A | A CPU us/req | B CPU us/req | B / A |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for page in ("article", "small"):
    for enc in ("identity", "gzip"):
        a = statistics.median(runs[("A", page, enc)])
        b = statistics.median(runs[("B", page, enc)])
        ca = statistics.median(runs[("A", "cpu-" + page, enc)])
        cb = statistics.median(runs[("B", "cpu-" + page, enc)])
        print(f"| {page} | {enc} | {a:,.0f} | {b:,.0f} | {b / a:.2f}x | {ca:.1f} | {cb:.1f} | {cb / ca:.2f}x |")
a = max(runs[("A", "rss", "kB")]) / 1024
b = max(runs[("B", "rss", "kB")]) / 1024
print(f"| peak RSS (VmHWM) | | {a:.1f} MiB | {b:.1f} MiB | | | | |")
PY
