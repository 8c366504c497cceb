#!/usr/bin/env bash
# `make valgrind-binaries`: the installed programs under valgrind memcheck, which `make
# valgrind` (the test binary, --trace-children=no) never checks: spindle-worker with a thread
# pool and with a process pool (its slots are forks, which valgrind follows), the example
# producer, and a dozen CLI commands, against a private redis-server (temporary directory,
# free loopback port, stopped by PID). Any definite leak or memcheck error in any of them
# (forked slots included: one log file per process) fails the run.
#
# Why: "no leaks in worker, producer or CLI across a long run" (issue #10) is only true if the
# binaries themselves run under memcheck, for long enough to take every path of a task's life:
# success, failure with retries, cancel, progress and items, SIGTERM and a clean exit.
set -euo pipefail
BUILD=${BUILD:-build}
N=${VG_TASKS:-1000} # tasks per pool run, through the example producer
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-vg.XXXXXX")
worker_pid=""

cleanup() {
    local rc=$?
    if [ -n "$worker_pid" ]; then
        kill -TERM "$worker_pid" 2>/dev/null || true
        wait "$worker_pid" 2>/dev/null || true
    fi
    stop_private_redis
    # A command that stopped the run (valgrind's exit code 3 under set -e) says why.
    if [ "$rc" -ne 0 ]; then
        grep -l "ERROR SUMMARY: [1-9]" "$tmp"/vg.*.log 2>/dev/null | while read -r log; do
            echo "valgrind-binaries: findings in $(basename "$log"):" >&2
            cat "$log" >&2
        done
    fi
    if [ -n "${VG_KEEP:-}" ]; then echo "valgrind-binaries: logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

. "$(dirname "$0")/../examples/private-redis.sh"
start_private_redis "$tmp"
export SPINDLE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
echo "valgrind-binaries: private redis-server (pid $REDIS_PID) at $SPINDLE_REDIS_URL"

# Every process writes its own log (%p: forked slots included); they are checked at the end.
# An array, not a function, so that a command started in the background is valgrind itself
# ($! its PID, for SIGTERM) and not a subshell.
VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no
    --error-exitcode=3 --track-fds=no --trace-children=no)
vg() {
    local name=$1
    shift
    "${VG[@]}" --log-file="$tmp/vg.$name.%p.log" "$@"
}
cli() { vg cli "$BUILD/bin/spindle" "$@"; }
start=$(date +%s)
failures=0

# Waits up to $2 seconds for task $1 to reach the state $3 (plain spindle, not under valgrind).
await_state() {
    for _ in $(seq 1 $(($2 * 10))); do
        # status prints the state on its first line (a progress line may follow).
        [ "$("$BUILD/bin/spindle" status "$1" 2>/dev/null | head -n 1 || true)" = "$3" ] && return 0
        sleep 0.1
    done
    echo "valgrind-binaries: task $1 did not reach $3 within $2 s" >&2
    failures=$((failures + 1))
    return 0
}

run_pool() {
    local pool=$1
    "${VG[@]}" --log-file="$tmp/vg.worker-$pool.%p.log" "$BUILD/bin/spindle-worker" --load "$BUILD/lib/spindle-example-tasks.so" \
        --pool "$pool" --concurrency 2 --log-level warn 2>"$tmp/worker-$pool.log" &
    worker_pid=$!
    # The producer: N add tasks (single and bulk), a batch, a task that fails on purpose.
    vg "producer-$pool" "$BUILD/bin/spindle-example-producer" "$N" >"$tmp/producer-$pool.out" ||
        {
            echo "valgrind-binaries: the producer failed ($pool pool):" >&2
            cat "$tmp/producer-$pool.out" "$tmp"/vg.producer-"$pool".*.log >&2
            failures=$((failures + 1))
        }
    tail -n 1 "$tmp/producer-$pool.out"
    # Failures with retries, progress and items, a cancel of a running task.
    local f c s
    f=$(cli enqueue --retries 2 --backoff 10 fail "on purpose")
    c=$(cli enqueue count_to 5)
    s=$(cli enqueue sleep_ms 20000)
    await_state "$f" 60 failed
    await_state "$c" 60 succeeded
    await_state "$s" 60 running
    cli cancel "$s" >/dev/null || true
    await_state "$s" 60 cancelled
    cli retry "$f" >/dev/null
    await_state "$f" 60 failed
    kill -TERM "$worker_pid"
    local rc=0
    wait "$worker_pid" || rc=$?
    worker_pid=""
    if [ "$rc" -ne 0 ]; then
        echo "valgrind-binaries: spindle-worker --pool $pool exited $rc:" >&2
        tail -n 20 "$tmp/worker-$pool.log" >&2
        failures=$((failures + 1))
    fi
    LAST_IDS="$f $c $s"
}

run_pool thread
run_pool process
read -r f c s <<<"$LAST_IDS"

# The read side of the CLI (each command under valgrind; a non-zero exit is fine where the
# command says something about a task, e.g. 4 for a failed one).
cli queues >/dev/null
cli status "$c" >/dev/null
cli result "$c" >/dev/null
cli items "$c" >/dev/null
cli inspect "$f" >/dev/null
cli list default --state dead >/dev/null
cli dead default >/dev/null
cli stats >/dev/null
cli workers >/dev/null
cli result "$f" >/dev/null 2>&1 || true
cli enqueue --delay 600000 add 1 2 >/dev/null
cli list default --state scheduled >/dev/null
cli purge default --state scheduled --yes >/dev/null
cli cron list >/dev/null
cli group create vg-group >/dev/null
cli group show vg-group >/dev/null
cli group destroy vg-group >/dev/null

# Every log: any memcheck error or definite leak in any process fails the run.
bad=0
logs=0
for log in "$tmp"/vg.*.log; do
    logs=$((logs + 1))
    if grep -q "ERROR SUMMARY: [1-9]" "$log" || grep -q "definitely lost: [1-9]" "$log"; then
        echo "valgrind-binaries: findings in $(basename "$log"):" >&2
        cat "$log" >&2
        bad=$((bad + 1))
    fi
done
echo "valgrind-binaries: $((2 * N)) producer tasks and CLI tasks, 2 pools, $logs processes" \
    "checked in $(($(date +%s) - start)) s: $bad with findings, $failures other failures"
[ "$bad" -eq 0 ] && [ "$failures" -eq 0 ]
