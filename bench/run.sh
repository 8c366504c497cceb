#!/usr/bin/env bash
# `make bench`: runs spindle-bench against a private redis-server (started and stopped here,
# by PID). BENCH_N tasks per scenario (default 50000). JSON lines go to stdout, the table to
# stderr. BENCH_PREFETCH and BENCH_CONCURRENCY set the workers' --prefetch and --concurrency
# (default 128 and 2).
set -euo pipefail
BUILD=${BUILD:-build}
N=${BENCH_N:-50000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-bench.XXXXXX")
cleanup() {
    stop_private_redis
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$here/../examples/private-redis.sh"
start_private_redis "$tmp"
echo "bench: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$REDIS_PORT, N=$N, $(nproc) cores" >&2
"$BUILD/bin/spindle-bench" --redis "redis://127.0.0.1:$REDIS_PORT" --build "$BUILD" --n "$N" --prefetch "${BENCH_PREFETCH:-128}" \
    --concurrency "${BENCH_CONCURRENCY:-2}"
