# Sourced by examples/demo.sh and bench/run.sh: start_private_redis DIR starts a
# redis-server on a free loopback port with its files in DIR, sets REDIS_PID and REDIS_PORT,
# and returns once it answers PING. stop_private_redis stops it by PID.
# Extra redis-server arguments may be given in REDIS_EXTRA_ARGS.

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_private_redis() {
    local dir=$1
    for _ in $(seq 1 20); do
        local port=$((20000 + RANDOM % 20000))
        port_free "$port" || continue
        # shellcheck disable=SC2086
        redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
            --dir "$dir" --logfile "$dir/redis.log" ${REDIS_EXTRA_ARGS:-} &
        REDIS_PID=$!
        for _ in $(seq 1 50); do
            if redis-cli -p "$port" ping >/dev/null 2>&1; then
                REDIS_PORT=$port
                return 0
            fi
            kill -0 "$REDIS_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=""
    done
    echo "could not start redis-server (see $dir/redis.log)" >&2
    return 1
}

stop_private_redis() {
    if [ -n "${REDIS_PID:-}" ]; then
        kill -TERM "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=""
    fi
}
