#!/usr/bin/env bash
# A cache hit's cost in instructions per request (valgrind's callgrind:
# instructions do not move with the load of this shared machine, as CPU
# time does), beside the bare handler answering the same bytes from memory
# (examples/bare_static.rs under plain axum::serve, with and without the
# ~900 bytes of a hit's headers).
#
#   bench/hit_cost.sh [N]     (N requests per case, default 1000)
#   KEEP=DIR bench/hit_cost.sh   keeps the callgrind files in DIR, for
#                                callgrind_annotate --inclusive=yes
#
# Each server runs under callgrind; after a warm-up the counters are zeroed,
# N requests are sent one after another on one keep-alive connection, and
# the counters are dumped: instructions per request = the dump's total / N
# (every thread of the server, idle ones included). The client is not
# counted. Needs valgrind (installed if missing and root).
set -euo pipefail
N="${1:-1000}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nm-hitcost.XXXXXX")"
TAG=hit_cost
# shellcheck source=lib.sh
source "${HERE}/lib.sh"
need valgrind
(cd "${ROOT}" && cargo build --release --locked -q && cargo build --release --locked -q --example bare_static)
BIN="${ROOT}/target/release/newsmirror"
BARE="${ROOT}/target/release/examples/bare_static"

mkdir -p "${WORK}/origin" "${WORK}/static" "${WORK}/cg"
python3 "${HERE}/pages.py" "${ROOT}/demo/www.demo-news.test/news/2026/11/river-bridge-opens.html" "${WORK}/origin" "${ROOT}/../shared/corpora/aeb" >/dev/null 2>&1
PAGES="${PAGES:-small article}"

P_ORIGIN=$(free_port); P_NM=$(free_port); P_BARE=$(free_port); P_HEAD=$(free_port)
cat >"${WORK}/nginx.conf" <<EOF
${NGINX_USER_LINE}
worker_processes 1; daemon off; pid ${WORK}/nginx.pid; error_log ${WORK}/error.log warn;
events { worker_connections 1024; }
http { access_log off; include /etc/nginx/mime.types;
  server { listen 127.0.0.1:${P_ORIGIN}; root ${WORK}/origin;
           location / { add_header Cache-Control "max-age=3600"; } } }
EOF
"${NGINX}" -c "${WORK}/nginx.conf" -p "${WORK}" &
PIDS+=($!)
nm_config "${P_NM}" "256MiB" "${P_ORIGIN}" >"${WORK}/nm.toml"

# Plain (not under valgrind) first, to make the bare handlers' files.
RUST_LOG=warn "${BIN}" serve --config "${WORK}/nm.toml" 2>"${WORK}/nm-plain.log" &
plain=$!
wait_port "${P_ORIGIN}"; wait_port "${P_NM}"
for page in ${PAGES}; do
  curl -s -H 'Accept-Encoding: identity' "http://127.0.0.1:${P_NM}/${page}.html" -o "${WORK}/static/${page}.html"
  gzip -6 -k -f "${WORK}/static/${page}.html"
done
kill "${plain}"; wait "${plain}" 2>/dev/null || true

grind() { # name outfile-prefix command...
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="${WORK}/cg/${name}.%p" "$@" >>"${WORK}/valgrind-${name}.log" 2>&1 &
  PIDS+=($!)
}
RUST_LOG=warn grind newsmirror "${BIN}" serve --config "${WORK}/nm.toml"
NM_VG=${PIDS[-1]}
grind bare "${BARE}" "127.0.0.1:${P_BARE}" "${WORK}/static"
BARE_VG=${PIDS[-1]}
grind head "${BARE}" "127.0.0.1:${P_HEAD}" "${WORK}/static" --mirror-head
HEAD_VG=${PIDS[-1]}
for p in "${P_NM}" "${P_BARE}" "${P_HEAD}"; do
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:${p}/" && break; sleep 0.2; done
done

# N sequential GETs on one connection; checks every answer is a 200 of the
# expected size.
client() { # port path encoding count
  python3 - "$@" <<'PY'
import http.client, sys
port, path, enc, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
size = None
for _ in range(n):
    c.request("GET", path, headers={"Accept-Encoding": enc})
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or (size is not None and len(body) != size):
        sys.exit(f"answer {r.status}, {len(body)} bytes")
    size = len(body)
print(size)
PY
}

# callgrind_control finds a program by the PID valgrind runs it as.
total_of() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }
measure() { # name vgpid port page enc
  local name=$1 pid=$2 port=$3 page=$4 enc=$5
  client "${port}" "/${page}.html" "${enc}" 50 >/dev/null  # warm: the page is a hit, the connection's buffers grown
  callgrind_control -z "${pid}" >/dev/null 2>&1
  local bytes
  bytes=$(client "${port}" "/${page}.html" "${enc}" "${N}")
  callgrind_control -d "${name}-${page}-${enc}" "${pid}" >/dev/null 2>&1
  local file
  file=$(grep -l "^desc: Trigger: dump ${name}-${page}-${enc}$" "${WORK}"/cg/"${1%%-*}".* 2>/dev/null | head -1 || true)
  [[ -n "${file}" ]] || { log "no dump for ${name} ${page} ${enc}"; exit 1; }
  local instr
  instr=$(total_of "${file}")
  echo "$((instr / N)) ${bytes}"
  [[ -n "${KEEP:-}" ]] && mkdir -p "${KEEP}" && cp "${file}" "${KEEP}/${name}-${page}-${enc}.callgrind"
  return 0
}

printf 'instructions per request, %s sequential requests on one connection (callgrind, every server thread)\n\n' "${N}"
printf '| page | encoding | bytes | newsmirror hit | bare axum | bare head | hit / bare axum | hit / bare head |\n|---|---|---:|---:|---:|---:|---:|---:|\n'
for page in ${PAGES}; do
  for enc in identity gzip; do
    read -r nm bytes < <(measure newsmirror "${NM_VG}" "${P_NM}" "${page}" "${enc}")
    read -r bare _ < <(measure bare "${BARE_VG}" "${P_BARE}" "${page}" "${enc}")
    read -r head _ < <(measure head "${HEAD_VG}" "${P_HEAD}" "${page}" "${enc}")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${page}" "${enc}" "${bytes}" "${nm}" "${bare}" "${head}" \
      "$(python3 -c "print(f'{$nm/$bare:.2f}x')")" "$(python3 -c "print(f'{$nm/$head:.2f}x')")"
  done
done
