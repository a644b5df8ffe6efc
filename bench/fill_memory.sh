#!/usr/bin/env bash
# What fills in flight may hold: builds the release binary and
# examples/fill_memory.rs, runs the mirror as a child process under endless
# chunked bodies with stalled, slow, departed and shared readers while
# ordinary pages fill the cache, and prints its peak RSS against
# max_bytes + baseline + 1 MiB per open reader connection.
#
#   bench/fill_memory.sh [SECONDS] [BUDGET_MIB] [OTHER_BINARY]
#
# With OTHER_BINARY (a newsmirror built from another commit, e.g. one from
# before the fill bounds), it is measured the same way after this one (for
# a binary that does not know upstream.max_connections_per_host, set
# FILL_MEMORY_NO_CAP_KEY=1).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
budget="${2:-64}"
cargo build --release --locked --quiet --bin newsmirror --example fill_memory
target/release/examples/fill_memory "$seconds" "$budget"
if [[ -n "${3:-}" ]]; then
  target/release/examples/fill_memory "$seconds" "$budget" "$3" || true
fi
