#!/usr/bin/env bash
# `make bench-rtt`: spindle-bench (enqueue-single, enqueue-bulk, drain-1, drain-2) across a
# link with 1 ms round-trip time, where round trips per task dominate (issue #8). Two network
# namespaces joined by a veth pair, `tc netem` delaying each direction by BENCH_RTT_DELAY
# (default 500us), redis-server in one, spindle-bench and the workers it starts in the other.
# Needs root and sch_netem: without them it says why and exits 0 (a benchmark, not a test).
# BENCH_RTT_N tasks per scenario (default 10000: a single enqueue costs a round trip, so 10 s).
# Everything is named after this shell's PID and deleted at exit; redis-server stopped by PID.
set -euo pipefail
BUILD=${BUILD:-build}
N=${BENCH_RTT_N:-10000}
DELAY=${BENCH_RTT_DELAY:-500us}
skip() {
    echo "bench-rtt: skipped: $*" >&2
    exit 0
}
[ "$(id -u)" = 0 ] || skip "not root (network namespaces and tc need CAP_SYS_ADMIN and CAP_NET_ADMIN)"
command -v ip >/dev/null || skip "no ip program (iproute2)"
command -v tc >/dev/null || skip "no tc program (iproute2)"

base="spr$$x$RANDOM"
srv="$base-redis" cli="$base-bench"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-bench-rtt.XXXXXX")
redis_pid=""
cleanup() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    ip netns delete "$cli" 2>/dev/null || true
    ip netns delete "$srv" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$srv" 2>"$tmp/err" || skip "ip netns add refused: $(cat "$tmp/err")"
ip netns add "$cli"
ip -n "$srv" link add eth0 type veth peer name eth0 netns "$cli"
ip -n "$srv" addr add 10.78.0.1/24 dev eth0
ip -n "$cli" addr add 10.78.0.2/24 dev eth0
for ns in "$srv" "$cli"; do
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    tc -n "$ns" qdisc add dev eth0 root netem delay "$DELAY" 2>"$tmp/err" ||
        skip "tc netem is unavailable on this kernel (sch_netem): $(cat "$tmp/err")"
done

ip netns exec "$srv" redis-server --bind 10.78.0.1 --port 6379 --save "" --appendonly no \
    --protected-mode no --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 100); do
    ip netns exec "$cli" redis-cli -h 10.78.0.1 ping >/dev/null 2>&1 && break
    sleep 0.1
done
ip netns exec "$cli" redis-cli -h 10.78.0.1 ping >/dev/null || {
    cat "$tmp/redis.log" >&2
    echo "bench-rtt: redis-server did not answer on 10.78.0.1:6379" >&2
    exit 1
}
# The round trip as a client sees it: 200 PINGs one after another.
t0=$(date +%s%N)
ip netns exec "$cli" redis-cli -h 10.78.0.1 -r 200 ping >/dev/null
t1=$(date +%s%N)
echo "bench-rtt: netem delay $DELAY each way; 200 sequential PINGs took $(((t1 - t0) / 200000)) us" \
    "each (including redis-cli's start); redis-server" \
    "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), N=$N, $(nproc) cores" >&2
ip netns exec "$cli" "$BUILD/bin/spindle-bench" --redis "redis://10.78.0.1:6379" --build "$BUILD" \
    --n "$N" --prefetch "${BENCH_PREFETCH:-128}" --concurrency "${BENCH_CONCURRENCY:-2}" \
    --only single,bulk
