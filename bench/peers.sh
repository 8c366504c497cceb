#!/usr/bin/env bash
# `make bench-peers`: Spindle beside the peer queues of ../shared/peers (BullMQ, bee-queue,
# Sidekiq, and on request RQ and Celery), on ONE private redis-server, in one run, then the
# ratios the performance targets are stated in (bench/ratios.py). Absolute rates drift on a
# shared machine; ratios taken side by side hold.
#
# The peers folder is copied to a temp dir (it may be read-only) and set up there with its own
# setup.sh (Debian packages and pinned npm modules: this is the one target that may download).
# Environment: BENCH_N (default 50000), BENCH_REPS (3), BENCH_PEERS (harness --only list,
# default bullmq:c50,bee-queue,sidekiq; "all" for every peer), PEERS_DIR (default
# ../shared/peers next to the repository), BUILD.
set -euo pipefail
BUILD=${BUILD:-build}
N=${BENCH_N:-50000}
REPS=${BENCH_REPS:-3}
PEERS=${BENCH_PEERS:-bullmq:c50,bee-queue,sidekiq}
[ "$PEERS" = all ] && PEERS=""
here=$(cd "$(dirname "$0")" && pwd)
src=${PEERS_DIR:-$here/../../shared/peers}
[ -f "$src/harness.py" ] || { echo "bench-peers: no peers harness in $src (set PEERS_DIR)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-peers.XXXXXX")
cleanup() {
    stop_private_redis
    rm -rf "$tmp"
}
trap cleanup EXIT
cp -r "$src" "$tmp/peers"
chmod -R u+w "$tmp/peers"
(cd "$tmp/peers" && ./setup.sh) >&2
. "$here/../examples/private-redis.sh"
start_private_redis "$tmp"
echo "bench-peers: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$REDIS_PORT, N=$N, $REPS reps, $(nproc) cores" >&2
for rep in $(seq 1 "$REPS"); do
    echo "# spindle rep $rep/$REPS ..." >&2
    "$BUILD/bin/spindle-bench" --redis "redis://127.0.0.1:$REDIS_PORT" --build "$BUILD" --n "$N" \
        --prefetch "${BENCH_PREFETCH:-128}" --concurrency "${BENCH_CONCURRENCY:-2}" \
        2>>"$tmp/spindle.log" | tee -a "$tmp/spindle.jsonl" >/dev/null
done
(cd "$tmp/peers" && /usr/bin/python3 harness.py --port "$REDIS_PORT" --n "$N" --reps "$REPS" \
    --only "$PEERS" --results "$tmp/results") >"$tmp/peers.out"
cat "$tmp/peers.out" >&2
/usr/bin/python3 "$here/ratios.py" "$tmp/spindle.jsonl" "$tmp"/results/summary-*.jsonl
