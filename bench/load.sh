#!/usr/bin/env bash
# Load benchmark: newsmirror against the nginx mirror recipes, side by side
# in one run, on this machine, with wrk.
#
#   bench/load.sh [DURATION_SECONDS]        (default 10 s per measurement)
#   ROUNDS=3 CONNS=32 bench/load.sh         (the defaults)
#   PAGES="article small" bench/load.sh     (default: article small real-1 real-2 real-3)
#   ONLY="rewrite|sub_filter" bench/load.sh (only the cases whose "name encoding" matches)
#
# Every measurement runs ROUNDS times, the rounds interleaved (all targets
# once, then all again), and the table gives the median and the range:
# loopback figures on a small machine move by 10-20% from run to run. Beside
# req/s it reports the server's CPU time per request: utime + stime from
# /proc/<pid>/stat over the run, divided by the requests wrk completed, for
# every process that serves the case (all nginx workers and the master for
# nginx; newsmirror plus its nginx origin when every request is rewritten:
# the same accounting as sub_filter's two nginx tiers). CPU per request is
# stable where req/s is not, and its ratios are the figures that count.
#
# Pages: article (~85 KB, the demo article padded with a news site's menus),
# small (~3 KB), and real-1..3: real news pages from ../shared/corpora/aeb
# (25th, 50th, 75th percentile of size; only when the corpus is there).
#
# Starts on loopback: a static origin (nginx) serving a realistic article
# (the demo article padded with a news site's menus and footer, ~85 KB) and
# a small page (~3 KB); then, in front of it:
#   recipe      nginx proxy_cache + sub_filter (what live mirrors run today;
#               sub_filter runs again on every cache hit)
#   subfilter   nginx sub_filter without a cache (rewrite every request)
#   two-tier    nginx proxy_cache in front of the rewriting tier (hits are
#               not rewritten; gzip, when asked, compresses every time)
#   static      nginx serving newsmirror's rewritten page as a static file
#               (upper bound), with gzip_static for compressed requests
#   bare axum   a bare handler answering the same bytes from memory under
#               plain axum::serve (examples/bare_static.rs: the ceiling)
#   bare loop   the same handler under newsmirror's accept loop
#   bare head   the same handler under axum::serve sending also the ~900
#               bytes of headers a newsmirror hit carries (--mirror-head):
#               what those bytes cost, apart from the code that makes them
#   newsmirror  cache on (hits; also with the access log on, RUST_LOG=info),
#               and cache off (rewrite every request)
# and prints requests/s, CPU per request and p99 latency per case, with ratios.
#
# Needs: nginx, wrk (Debian packages; installed if missing and root), cargo.
# Network: loopback only.
set -euo pipefail

DUR="${1:-10}"
CONNS="${CONNS:-32}"
ROUNDS="${ROUNDS:-3}"
# ONLY: a regular expression over "case encoding" ("rewrite|sub_filter"):
# just those measurements (the full table when empty).
ONLY="${ONLY:-}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nm-bench.XXXXXX")"
TAG=bench
# shellcheck source=bench/lib.sh
source "${HERE}/lib.sh"

log "building newsmirror and the bare handler (release)"
(cd "${ROOT}" && cargo build --release --locked -q && cargo build --release --locked -q --example bare_static)
BIN="${ROOT}/target/release/newsmirror"
BARE="${ROOT}/target/release/examples/bare_static"

# ---- the pages ----
mkdir -p "${WORK}/origin" "${WORK}/static"
python3 "${HERE}/pages.py" "${ROOT}/demo/www.demo-news.test/news/2026/11/river-bridge-opens.html" "${WORK}/origin" "${ROOT}/../shared/corpora/aeb"
PAGES="${PAGES:-article small real-1 real-2 real-3}"
PAGES=$(for p in ${PAGES}; do [[ -f "${WORK}/origin/${p}.html" ]] && printf "%s " "$p"; done)
log "pages: ${PAGES}"

P_ORIGIN=$(free_port); P_RECIPE=$(free_port); P_SUB=$(free_port); P_TIER=$(free_port)
P_STATIC=$(free_port); P_BARE=$(free_port); P_NM=$(free_port); P_NM_OFF=$(free_port)
P_TIER1=$(free_port); P_NM_LOG=$(free_port); P_BARE_LOOP=$(free_port); P_BARE_HEAD=$(free_port)

# ---- nginx: origin, recipe, sub_filter every request, two-tier, static ----
# What the recipe does to a page, as close to newsmirror's work as literal
# substitution gets: the two hosts, the stylesheet, the navigation bar and
# the original-link footer (newsmirror also resolves relative URLs, srcset,
# CSS url(), removes scripts and ads: work sub_filter cannot do).
SUBS='sub_filter "https://www.bench-news.test" "";
      sub_filter "https://img.bench-news.test" "/_/asset/img.bench-news.test";
      sub_filter "</head>" "<link rel=\"stylesheet\" href=\"/_/static/newsmirror.css\"></head>";
      sub_filter "<body>" "<body><nav id=\"newsmirror-nav\"><a href=\"/\">首页</a><a href=\"/news/\">新闻</a></nav>";
      sub_filter "</body>" "<footer id=\"newsmirror-footer\">原文链接：<a href=\"https://www.bench-news.test$request_uri\" rel=\"nofollow noopener\">https://www.bench-news.test$request_uri</a></footer></body>";
      sub_filter_once off; sub_filter_types text/html;'
cat >"${WORK}/nginx.conf" <<EOF
${NGINX_USER_LINE}
worker_processes auto;
daemon off;
pid ${WORK}/nginx.pid;
error_log ${WORK}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  client_body_temp_path ${WORK}/tmp-client; proxy_temp_path ${WORK}/tmp-proxy;
  fastcgi_temp_path ${WORK}/tmp-fcgi; uwsgi_temp_path ${WORK}/tmp-uwsgi; scgi_temp_path ${WORK}/tmp-scgi;
  proxy_cache_path ${WORK}/cache-recipe keys_zone=recipe:8m max_size=256m inactive=1h;
  proxy_cache_path ${WORK}/cache-tier keys_zone=tier:8m max_size=256m inactive=1h;
  keepalive_requests 100000;
  upstream origin { server 127.0.0.1:${P_ORIGIN}; keepalive 64; }
  upstream subtier { server 127.0.0.1:${P_SUB}; keepalive 64; }
  server { listen 127.0.0.1:${P_ORIGIN}; root ${WORK}/origin;
           location / { add_header Cache-Control "max-age=3600"; } }
  server { listen 127.0.0.1:${P_RECIPE};
           location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
                        proxy_set_header Host www.bench-news.test; proxy_set_header Accept-Encoding "";
                        proxy_cache recipe; proxy_cache_valid 200 1h; ${SUBS} } }
  server { listen 127.0.0.1:${P_SUB};
           location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
                        proxy_set_header Host www.bench-news.test; proxy_set_header Accept-Encoding "";
                        ${SUBS} } }
  # Two-tier, gzip at level 6 (the bytes of the static .gz and of
  # newsmirror's stored variant), and at nginx's default level 1.
  server { listen 127.0.0.1:${P_TIER}; gzip on; gzip_comp_level 6; gzip_types text/html; gzip_min_length 256;
           location / { proxy_pass http://subtier; proxy_http_version 1.1; proxy_set_header Connection "";
                        proxy_set_header Accept-Encoding ""; proxy_cache tier; proxy_cache_valid 200 1h; } }
  server { listen 127.0.0.1:${P_TIER1}; gzip on; gzip_comp_level 1; gzip_types text/html; gzip_min_length 256;
           location / { proxy_pass http://subtier; proxy_http_version 1.1; proxy_set_header Connection "";
                        proxy_set_header Accept-Encoding ""; proxy_cache tier; proxy_cache_valid 200 1h; } }
  server { listen 127.0.0.1:${P_STATIC}; root ${WORK}/static; gzip_static on;
           location / { default_type text/html; } }
}
EOF
mkdir -p "${WORK}"/tmp-{client,proxy,fcgi,uwsgi,scgi}
"${NGINX}" -c "${WORK}/nginx.conf" -p "${WORK}" &
NGINX_PID=$!; PIDS+=($!)

# ---- newsmirror, cache on and off ----
nm_config "${P_NM}" "256MiB" "${P_ORIGIN}" >"${WORK}/nm.toml"
nm_config "${P_NM_OFF}" "0" "${P_ORIGIN}" >"${WORK}/nm-off.toml"
RUST_LOG=warn "${BIN}" serve --config "${WORK}/nm.toml" 2>"${WORK}/nm.log" &
NM_PID=$!; PIDS+=($!)
RUST_LOG=warn "${BIN}" serve --config "${WORK}/nm-off.toml" 2>"${WORK}/nm-off.log" &
NM_OFF_PID=$!; PIDS+=($!)
# The access log on (the default level), written to a file.
nm_config "${P_NM_LOG}" "256MiB" "${P_ORIGIN}" >"${WORK}/nm-log.toml"
RUST_LOG=info "${BIN}" serve --config "${WORK}/nm-log.toml" 2>"${WORK}/nm-access.log" &
NM_LOG_PID=$!; PIDS+=($!)

for p in "${P_ORIGIN}" "${P_RECIPE}" "${P_NM}" "${P_NM_OFF}" "${P_NM_LOG}"; do wait_port "$p"; done

# The static and bare targets serve newsmirror's own rewritten page: equal bytes.
for page in ${PAGES}; do
  curl -s -H 'Accept-Encoding: identity' "http://127.0.0.1:${P_NM}/${page}.html" -o "${WORK}/static/${page}.html"
  gzip -6 -k -f "${WORK}/static/${page}.html"
  python3 -c "import brotli" 2>/dev/null && python3 -c "
import brotli,sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[1]+'.br','wb').write(brotli.compress(d, quality=6))" "${WORK}/static/${page}.html" || true
done
"${BARE}" "127.0.0.1:${P_BARE}" "${WORK}/static" &
BARE_PID=$!; PIDS+=($!)
"${BARE}" "127.0.0.1:${P_BARE_LOOP}" "${WORK}/static" --our-loop &
BARE_LOOP_PID=$!; PIDS+=($!)
"${BARE}" "127.0.0.1:${P_BARE_HEAD}" "${WORK}/static" --mirror-head &
BARE_HEAD_PID=$!; PIDS+=($!)
wait_port "${P_BARE}"; wait_port "${P_BARE_LOOP}"; wait_port "${P_BARE_HEAD}"; wait_port "${P_STATIC}"; wait_port "${P_TIER}"; wait_port "${P_TIER1}"

# Warm every cache.
for p in "${P_RECIPE}" "${P_TIER}" "${P_TIER1}" "${P_NM}" "${P_NM_LOG}"; do
  for page in ${PAGES}; do
    for enc in identity gzip br; do
      curl -s -o /dev/null -H "Accept-Encoding: ${enc}" "http://127.0.0.1:${p}/${page}.html"
    done
  done
done
sleep 2

# ---- measure ----
RESULTS="${WORK}/results.tsv"
: >"${RESULTS}"
measure() { # round name page enc port pid...
  local round=$1 name=$2 page=$3 enc=$4 port=$5
  shift 5
  [[ -z "${ONLY}" || "${name} ${enc}" =~ ${ONLY} ]] || return 0
  local url="http://127.0.0.1:${port}/${page}.html"
  local bytes
  bytes=$(curl -s -H "Accept-Encoding: ${enc}" "${url}" | wc -c)
  local out before after
  before=$(ticks "$@")
  out=$(wrk -t1 -c"${CONNS}" -d"${DUR}s" --latency -H "Accept-Encoding: ${enc}" "${url}" 2>&1)
  after=$(ticks "$@")
  local rps p99 reqs cpu
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"${out}")
  p99=$(awk '$1=="99%" {print $2}' <<<"${out}")
  reqs=$(awk '/requests in/ {print $1}' <<<"${out}")
  cpu=$(per_request_us "$((after - before))" "${reqs:-0}")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${round}" "${page}" "${enc}" "${name}" "${rps}" "${p99}" "${bytes}" "${cpu}" >>"${RESULTS}"
  log "$(printf 'round %s %-8s %-8s %-22s %10s req/s %8s us/req  p99 %-8s %8s bytes' "${round}" "${page}" "${enc}" "${name}" "${rps}" "${cpu}" "${p99}" "${bytes}")"
  sleep 1 # let the sockets of this measurement close before the next
}
for round in $(seq 1 "${ROUNDS}"); do
  for page in ${PAGES}; do
    measure "${round}" "newsmirror hit" "${page}" identity "${P_NM}" "${NM_PID}"
    measure "${round}" "bare axum" "${page}" identity "${P_BARE}" "${BARE_PID}"
    measure "${round}" "nginx static" "${page}" identity "${P_STATIC}" "${NGINX_PID}"
    measure "${round}" "newsmirror hit" "${page}" gzip "${P_NM}" "${NM_PID}"
    measure "${round}" "bare axum" "${page}" gzip "${P_BARE}" "${BARE_PID}"
    measure "${round}" "bare head" "${page}" gzip "${P_BARE_HEAD}" "${BARE_HEAD_PID}"
    measure "${round}" "nginx gzip_static" "${page}" gzip "${P_STATIC}" "${NGINX_PID}"
    measure "${round}" "newsmirror rewrite" "${page}" identity "${P_NM_OFF}" "${NM_OFF_PID}" "${NGINX_PID}"
    measure "${round}" "nginx sub_filter" "${page}" identity "${P_SUB}" "${NGINX_PID}"
    [[ "${page}" == real-* ]] && continue
    measure "${round}" "newsmirror hit, log on" "${page}" identity "${P_NM_LOG}" "${NM_LOG_PID}"
    measure "${round}" "bare loop" "${page}" identity "${P_BARE_LOOP}" "${BARE_LOOP_PID}"
    measure "${round}" "bare head" "${page}" identity "${P_BARE_HEAD}" "${BARE_HEAD_PID}"
    measure "${round}" "nginx two-tier" "${page}" identity "${P_TIER}" "${NGINX_PID}"
    measure "${round}" "nginx recipe" "${page}" identity "${P_RECIPE}" "${NGINX_PID}"
    measure "${round}" "nginx two-tier" "${page}" gzip "${P_TIER}" "${NGINX_PID}"
    measure "${round}" "nginx two-tier gzip 1" "${page}" gzip "${P_TIER1}" "${NGINX_PID}"
    measure "${round}" "newsmirror hit" "${page}" br "${P_NM}" "${NM_PID}"
  done
done

# Peak resident memory of each newsmirror process over the whole run
# (VmHWM), against its bound: cache.max_bytes + 64 MiB.
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
NM_HWM_KB=$(hwm "${NM_PID}"); NM_OFF_HWM_KB=$(hwm "${NM_OFF_PID}")

# ---- table ----
cp "${RESULTS}" "${RESULTS_OUT:-/dev/null}" 2>/dev/null || true
python3 - "${RESULTS}" "$(nproc)" "${DUR}" "${CONNS}" "${NM_HWM_KB}" "${NM_OFF_HWM_KB}" "${ROUNDS}" "${PAGES}" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, order = {}, []
for _round, p, e, n, r, p99, b, cpu in rows:
    key = (p, e, n)
    if key not in runs:
        runs[key] = []
        order.append(key)
    runs[key].append((float(r or 0), p99, b, float(cpu or 0)))
med = {k: statistics.median(x[0] for x in v) for k, v in runs.items()}
cpu = {k: statistics.median(x[3] for x in v) for k, v in runs.items()}
print(f"\nwrk -t1 -c{sys.argv[4]} -d{sys.argv[3]}s, {sys.argv[2]} cores, loopback, "
      f"{sys.argv[7]} interleaved rounds: medians (req/s min-max)\n")
print("| page | encoding | target | req/s | min-max | CPU us/req | p99 (median round) | bytes |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for k in order:
    v = sorted(runs[k])
    mid = v[len(v) // 2]
    print(f"| {k[0]} | {k[1]} | {k[2]} | {med[k]:,.0f} | {v[0][0]:,.0f}-{v[-1][0]:,.0f} | {cpu[k]:.1f} | {mid[1]} | {mid[2]} |")
def ratio(d, a, b):
    x, y = d.get(a), d.get(b)
    return f"{x / y:.2f}x" if x and y else "n/a"
print("\nRatios of medians. CPU: lower is better (the bars are upper bounds); req/s: higher is better.\n")
print("| page | comparison | CPU per request | req/s | bar |")
print("|---|---|---:|---:|---|")
for p in sys.argv[8].split():
    for label, a, b, bar in [
        ("hit vs bare axum", (p, "identity", "newsmirror hit"), (p, "identity", "bare axum"), "CPU <= 1.1x (outside: 1.3x)"),
        ("gzip hit vs bare axum gzip", (p, "gzip", "newsmirror hit"), (p, "gzip", "bare axum"), "CPU <= 1.1x"),
        ("hit vs nginx static", (p, "identity", "newsmirror hit"), (p, "identity", "nginx static"), ""),
        ("gzip hit vs nginx gzip_static", (p, "gzip", "newsmirror hit"), (p, "gzip", "nginx gzip_static"), "req/s >= 1.0x"),
        ("rewrite vs sub_filter", (p, "identity", "newsmirror rewrite"), (p, "identity", "nginx sub_filter"), "req/s >= 1.5x (outside: 1.0x)"),
        ("hit, log on vs log off", (p, "identity", "newsmirror hit, log on"), (p, "identity", "newsmirror hit"), "CPU <= 1.05x"),
        ("bare loop vs bare axum", (p, "identity", "bare loop"), (p, "identity", "bare axum"), "(our accept loop)"),
        ("bare head vs bare axum", (p, "identity", "bare head"), (p, "identity", "bare axum"), "(our header bytes)"),
        ("gzip bare head vs bare axum gzip", (p, "gzip", "bare head"), (p, "gzip", "bare axum"), "(our header bytes)"),
        ("hit vs bare head", (p, "identity", "newsmirror hit"), (p, "identity", "bare head"), "(our code alone)"),
        ("gzip hit vs bare head gzip", (p, "gzip", "newsmirror hit"), (p, "gzip", "bare head"), "(our code alone)"),
        ("hit vs nginx recipe", (p, "identity", "newsmirror hit"), (p, "identity", "nginx recipe"), ""),
        ("gzip hit vs two-tier gzip 6", (p, "gzip", "newsmirror hit"), (p, "gzip", "nginx two-tier"), ""),
    ]:
        if a in med and b in med:
            print(f"| {p} | {label} | {ratio(cpu, a, b)} | {ratio(med, a, b)} | {bar} |")
mib = lambda kb: int(kb) / 1024
print("\n| process | cache.max_bytes | peak RSS (VmHWM) | bound (max_bytes + 64 MiB) |")
print("|---|---:|---:|---:|")
print(f"| newsmirror, cache on | 256 MiB | {mib(sys.argv[5]):.1f} MiB | 320 MiB |")
print(f"| newsmirror, cache off | 0 | {mib(sys.argv[6]):.1f} MiB | 64 MiB |")
PY
