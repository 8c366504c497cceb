#!/usr/bin/env bash
# `make demo`: Spindle's main job on an embedded default. Starts a private redis-server on a
# free loopback port in a temporary directory, two workers, enqueues a few hundred tasks
# through the C API, waits for them, prints a summary, shows the CLI and redis-cli views of
# one task, and stops everything it started (by PID).
set -euo pipefail
BUILD=${BUILD:-build}
N=${DEMO_N:-400}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-demo.XXXXXX")
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    stop_private_redis
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/private-redis.sh"
start_private_redis "$tmp"
PORT=$REDIS_PORT
export SPINDLE_REDIS_URL="redis://127.0.0.1:$PORT"
echo "demo: private redis-server (pid $REDIS_PID) at $SPINDLE_REDIS_URL in $tmp"

for i in 1 2; do
    "$BUILD/bin/spindle-worker" --load "$BUILD/lib/spindle-example-tasks.so" \
        --log-level warn 2>"$tmp/worker$i.log" &
    pids+=($!)
done
echo "demo: two workers started (pids ${pids[*]})"

echo "demo: enqueueing $N add(i, 1) tasks through the C API and waiting for them"
"$BUILD/bin/spindle-example-producer" "$N"

echo
echo "demo: the same from the command line:"
id=$("$BUILD/bin/spindle" enqueue add 2 3)
echo "  \$ spindle enqueue add 2 3            -> $id"
echo "  \$ spindle result $id --wait 5 -> $("$BUILD/bin/spindle" result "$id" --wait 5)"
echo "  \$ spindle status $id          -> $("$BUILD/bin/spindle" status "$id")"
echo "  \$ redis-cli HGETALL 'spindle:{default}:task:$id'"
redis-cli -p "$PORT" --no-raw HGETALL "spindle:{default}:task:$id" | sed 's/^/      /'
echo "  \$ redis-cli TTL 'spindle:{default}:task:$id' -> $(redis-cli -p "$PORT" TTL "spindle:{default}:task:$id")"
echo "  \$ spindle queues"
"$BUILD/bin/spindle" queues | sed 's/^/      /'
echo
echo "demo: stopping the workers and redis-server"
