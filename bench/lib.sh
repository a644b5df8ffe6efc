# Shared by bench/load.sh and bench/ab.sh (sourced; they set WORK and TAG
# first): logging, cleanup of started processes, tools, ports.

PIDS=()
log() { printf '[%s] %s\n' "${TAG}" "$*" >&2; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "${pid}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "${pid}" 2>/dev/null || true; done
  rm -rf "${WORK}"
}
trap cleanup EXIT

# Installs a Debian package when missing (as root), else stops.
need() {
  command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]] && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "installing $1"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    log "missing: $1"; exit 1
  fi
}
need nginx
need wrk
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
# As root, nginx workers would run as nobody, who cannot read the 0700 work directory.
NGINX_USER_LINE=""
if [[ "$(id -u)" == 0 ]]; then NGINX_USER_LINE="user root;"; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  log "nothing answers on port $1"; exit 1
}

# newsmirror's configuration for the benchmark site:
#   nm_config LISTEN_PORT CACHE_MAX_BYTES ORIGIN_PORT
nm_config() {
  cat <<EOF
[server]
listen = "127.0.0.1:$1"
[cache]
max_bytes = "$2"
default_ttl = "1h"
[upstream.origins]
"www.bench-news.test" = "http://127.0.0.1:$3"
"img.bench-news.test" = "http://127.0.0.1:$3"
[[site]]
name = "bench"
upstream = "https://www.bench-news.test"
asset_hosts = ["img.bench-news.test"]
remove = ["script:not([type='application/ld+json'])", "iframe", ".ad-slot"]
footer = "原文链接：{original_url}"
nav = [ { label = "首页", href = "/" }, { label = "新闻", href = "/news/" } ]
EOF
}

CLK=$(getconf CLK_TCK)
# utime + stime, in clock ticks, of these processes (and, for nginx's
# master, its workers).
ticks() {
  local t=0 pid
  for pid in "$@"; do
    for p in "${pid}" $(pgrep -P "${pid}" 2>/dev/null || true); do
      [[ -r "/proc/${p}/stat" ]] || continue
      # Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
      t=$((t + $(sed 's/^.*) //' "/proc/${p}/stat" | awk '{print $12 + $13}')))
    done
  done
  echo "${t}"
}
# Microseconds of CPU per request: TICKS of CPU (clock ticks) over REQS requests.
per_request_us() {
  python3 -c "import sys; t,c,n=map(float,sys.argv[1:]); print(f'{t/c*1e6/n:.1f}' if n else '0')" "$1" "${CLK}" "${2:-0}"
}
