#!/usr/bin/env bash
# `make bench-cluster`: Spindle's enqueue and drain throughput on ONE plain redis-server
# (1 master), then on a 3-master Redis Cluster on loopback, with the same queues and workload
# (bench/cluster.c). Every server is started here in a temp dir and stopped by PID, also on
# failure. The cluster is built as tests/test_cluster.c builds it: three redis-server
# --cluster-enabled yes, CLUSTER ADDSLOTS 0-5460 / 5461-10922 / 10923-16383, CLUSTER MEET.
#
# BENCH_N tasks (default 30000), BENCH_CLUSTER_QUEUES queues (3, one per master),
# BENCH_CLUSTER_WORKERS worker processes (3) of --concurrency BENCH_CONCURRENCY (2).
# JSON lines go to stdout, the progress and the table to stderr.
set -euo pipefail
BUILD=${BUILD:-build}
N=${BENCH_N:-30000}
Q=${BENCH_CLUSTER_QUEUES:-3}
W=${BENCH_CLUSTER_WORKERS:-3}
C=${BENCH_CONCURRENCY:-2}
BIN="$BUILD/bin/spindle-bench-cluster"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-bench-cluster.XXXXXX")
pids=()

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_all() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pids=()
}
cleanup() {
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port P whose cluster bus port P + 10000 is free too.
pick_port() {
    for _ in $(seq 1 50); do
        local p=$((20000 + RANDOM % 20000))
        if port_free "$p" && port_free $((p + 10000)); then
            echo "$p"
            return 0
        fi
    done
    echo "bench-cluster: no free port" >&2
    return 1
}

# start_server DIR PORT [ARGS...]: sets LAST_PID; returns once it answers PING.
start_server() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" \
        --logfile "$dir/redis.log" "$@" &
    LAST_PID=$!
    pids+=("$LAST_PID")
    for _ in $(seq 1 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        kill -0 "$LAST_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench-cluster: redis-server on port $port did not start (see $dir/redis.log)" >&2
    return 1
}

run() { # run MASTERS URL
    echo "bench-cluster: $1 master(s): $2, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    "$BIN" --redis "$2" --masters "$1" --build "$BUILD" --n "$N" --queues "$Q" --workers "$W" \
        --concurrency "$C" | tee -a "$tmp/results.jsonl"
}

queues=$("$BIN" --pick "$Q")
echo "bench-cluster: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), N=$N, queues $queues, $W workers x $C, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2

# 1 master: a plain redis-server.
port=$(pick_port)
start_server "$tmp/single" "$port"
run 1 "redis://127.0.0.1:$port"
stop_all

# 3 masters: a loopback Redis Cluster.
ports=()
for i in 0 1 2; do
    p=$(pick_port)
    for q in "${ports[@]}"; do [ "$p" != "$q" ] || p=$(pick_port); done
    ports+=("$p")
    start_server "$tmp/cluster-$i" "$p" --cluster-enabled yes \
        --cluster-config-file "$tmp/cluster-$i/nodes.conf" --cluster-node-timeout 5000
done
lo=(0 5461 10923)
hi=(5460 10922 16383)
for i in 0 1 2; do
    redis-cli -p "${ports[$i]}" cluster set-config-epoch $((i + 1)) >/dev/null
    # shellcheck disable=SC2046
    out=$(redis-cli -p "${ports[$i]}" cluster addslots $(seq "${lo[$i]}" "${hi[$i]}"))
    [ "$out" = OK ] || { echo "bench-cluster: CLUSTER ADDSLOTS: $out" >&2; exit 1; }
done
for i in 1 2; do
    redis-cli -p "${ports[0]}" cluster meet 127.0.0.1 "${ports[$i]}" >/dev/null
done
ok=0
for _ in $(seq 1 200); do
    ok=1
    for p in "${ports[@]}"; do
        info=$(redis-cli -p "$p" cluster info)
        grep -q 'cluster_state:ok' <<<"$info" && grep -q 'cluster_known_nodes:3' <<<"$info" || ok=0
    done
    [ $ok = 1 ] && break
    sleep 0.05
done
[ $ok = 1 ] || { echo "bench-cluster: the cluster did not reach cluster_state:ok" >&2; exit 1; }
# Each queue on the master it was picked for.
IFS=, read -ra qs <<<"$queues"
for i in "${!qs[@]}"; do
    slot=$(redis-cli -p "${ports[0]}" cluster keyslot "spindle:{${qs[$i]}}:pending")
    want=$((i % 3))
    if [ "$slot" -lt "${lo[$want]}" ] || [ "$slot" -gt "${hi[$want]}" ]; then
        echo "bench-cluster: queue ${qs[$i]} (slot $slot) is not on master $want" >&2
        exit 1
    fi
done
run 3 "cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
stop_all

python3 - "$tmp/results.jsonl" >&2 <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["scenario"], r["masters"]): r for r in rows}
print("\n%-13s %14s %14s %8s" % ("scenario", "1 master /s", "3 masters /s", "3 vs 1"))
for s in ("enqueue-bulk", "drain"):
    a, b = by[(s, 1)], by[(s, 3)]
    print("%-13s %14.0f %14.0f %7.2fx" % (s, a["tasks_per_s"], b["tasks_per_s"],
                                          b["tasks_per_s"] / a["tasks_per_s"]))
print("load average (1 min) at the end of each: " +
      ", ".join("%s/%d: %.2f" % (r["scenario"], r["masters"], r["load1"]) for r in rows))
EOF
