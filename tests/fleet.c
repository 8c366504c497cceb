/* Helpers of the fleet suites (fleet.h). */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fleet_options(spindle_worker_options *o, const char *const *queues, size_t n)
{
    spindle_worker_options_init(o);
    o->queues = queues;
    o->nqueues = n;
    o->heartbeat_interval_ms = harness_scaled_ms(FLEET_BEAT_MS);
    o->heartbeat_ttl_ms = harness_scaled_ms(FLEET_TTL_MS);
    o->sweep_interval_ms = harness_scaled_ms(FLEET_SWEEP_MS);
    o->shutdown_timeout_s = 2;
}

int fleet_fresh(spindle_client **client)
{
    harness_stop_workers();
    if (harness_flushall() != 0)
        return -1;
    spindle_client_free(*client);
    *client = harness_client();
    return *client ? 0 : -1;
}

spindle_handle *fleet_enqueue(spindle_client *c, const char *queue, const char *func, long arg,
                              int retries, long timeout_s)
{
    return fleet_enqueue_args(c, queue, func, &arg, arg >= 0 ? 1 : 0, retries, timeout_s);
}

spindle_handle *fleet_enqueue_args(spindle_client *c, const char *queue, const char *func,
                                   const long *args, size_t n, int retries, long timeout_s)
{
    spindle_args *a = NULL;
    if (n > 0) {
        a = spindle_args_new();
        for (size_t i = 0; i < n; i++)
            spindle_args_int(a, args[i]);
    }
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    o.max_retries = retries;
    o.timeout_s = timeout_s;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(c, func, a, &o, &h);
    spindle_args_free(a);
    if (rc != SPINDLE_OK) {
        fprintf(stderr, "\n  enqueue %s on %s: %s\n", func, queue, spindle_errstr(c));
        return NULL;
    }
    return h;
}

int fleet_set_backoff(const spindle_handle *h, long backoff_ms, long backoff_max_ms)
{
    char key[512];
    harness_task_key(key, sizeof(key), h);
    return harness_int("HSET %s backoff %ld backoff_max %ld", key, backoff_ms, backoff_max_ms) == 2
               ? 0
               : -1;
}

char *fleet_field(const spindle_handle *h, const char *field)
{
    char key[512];
    return harness_hget(harness_task_key(key, sizeof(key), h), field, NULL);
}

long long fleet_num(const spindle_handle *h, const char *field, long long dflt)
{
    char *v = fleet_field(h, field);
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : dflt;
    if (v && (end == v || *end != '\0'))
        n = dflt;
    free(v);
    return n;
}

int fleet_absent(const spindle_handle *h, const char *field)
{
    char key[512];
    harness_task_key(key, sizeof(key), h);
    return harness_int("HEXISTS %s %s", key, field) == 0;
}

int fleet_wait_state(const spindle_handle *h, const char *state, long timeout_ms)
{
    char key[512];
    return harness_wait_hfield(harness_task_key(key, sizeof(key), h), "state", state, timeout_ms);
}

pid_t fleet_wait_running(const spindle_handle *h, char *worker, size_t cap, long timeout_ms)
{
    if (fleet_wait_state(h, "running", timeout_ms) != 0)
        return -1;
    char *w = fleet_field(h, "worker");
    snprintf(worker, cap, "%s", w ? w : "");
    free(w);
    return harness_worker_id_pid(worker);
}

pid_t fleet_wait_started(const spindle_handle *h, char *worker, size_t cap, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    pid_t pid = fleet_wait_running(h, worker, cap, timeout_ms);
    if (pid < 0)
        return -1;
    char mark[512], key[512];
    snprintf(mark, sizeof(mark), "%s/started-%s", harness_dir(), spindle_handle_id(h));
    fleet_beat_key(key, sizeof(key), worker);
    for (;;) {
        if (access(mark, F_OK) == 0)
            return pid;
        char *task = harness_hget(key, "task", NULL);
        int named = task && strcmp(task, spindle_handle_id(h)) == 0;
        free(task);
        if (named)
            return pid;
        if (harness_ms() >= deadline)
            return -1;
        harness_sleep_ms(2);
    }
}

int fleet_in_zset(const char *queue, const char *suffix, const spindle_handle *h)
{
    char key[512];
    harness_key(key, sizeof(key), queue, suffix);
    redisReply *r = harness_cmd("ZSCORE %s %s", key, spindle_handle_id(h));
    int in = r && r->type == REDIS_REPLY_STRING;
    if (r)
        freeReplyObject(r);
    return in;
}

long long fleet_zcard(const char *queue, const char *suffix)
{
    char key[512];
    return harness_int("ZCARD %s", harness_key(key, sizeof(key), queue, suffix));
}

/* Copies a string field of an HGETALL reply into buf. */
static void copy_field(const redisReply *hash, const char *name, char *buf, size_t cap)
{
    const redisReply *v = harness_field(hash, name);
    snprintf(buf, cap, "%s", v && v->type == REDIS_REPLY_STRING ? v->str : "");
}

int fleet_beats(pid_t supervisor, fleet_beat *out, int cap)
{
    redisReply *keys = harness_cmd("KEYS %s:worker:*", harness_ns());
    if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
        if (keys)
            freeReplyObject(keys);
        return -1;
    }
    size_t prefix = strlen(harness_ns()) + strlen(":worker:");
    int n = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *h = harness_cmd("HGETALL %s", keys->element[i]->str);
        if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
            if (h)
                freeReplyObject(h); /* expired between KEYS and HGETALL */
            continue;
        }
        fleet_beat b;
        memset(&b, 0, sizeof(b));
        snprintf(b.id, sizeof(b.id), "%s", keys->element[i]->str + prefix);
        char num[32];
        copy_field(h, "pid", num, sizeof(num));
        b.pid = atol(num);
        copy_field(h, "supervisor", num, sizeof(num));
        b.supervisor = atol(num);
        copy_field(h, "pool", b.pool, sizeof(b.pool));
        copy_field(h, "task", b.task, sizeof(b.task));
        freeReplyObject(h);
        if (supervisor != 0 && b.supervisor != (long)supervisor)
            continue;
        if (n < cap)
            out[n] = b;
        n++;
    }
    freeReplyObject(keys);
    return n;
}

int fleet_wait_beats(pid_t supervisor, int n, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    for (;;) {
        if (fleet_beats(supervisor, NULL, 0) == n)
            return 0;
        if (harness_ms() >= deadline)
            return -1;
        harness_sleep_ms(10);
    }
}

char *fleet_beat_key(char *buf, size_t cap, const char *id)
{
    snprintf(buf, cap, "%s:worker:%s", harness_ns(), id);
    return buf;
}

int fleet_beat_exists(const char *id)
{
    char key[512];
    return harness_int("EXISTS %s", fleet_beat_key(key, sizeof(key), id)) == 1;
}

int fleet_count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

pid_t fleet_worker(const char *const *queues, size_t n)
{
    spindle_worker_options o;
    fleet_options(&o, queues, n);
    return harness_worker_fork_opts(NULL, &o);
}

int fleet_plant_running(const char *queue, const char *worker, const char *id, int attempts,
                        int lost)
{
    char key[512], inflight[512], workers[512], suffix[256], att[16], lst[16];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), queue, suffix);
    snprintf(suffix, sizeof(suffix), "inflight:%s", worker);
    harness_key(inflight, sizeof(inflight), queue, suffix);
    harness_key(workers, sizeof(workers), queue, "workers");
    snprintf(att, sizeof(att), "%d", attempts);
    snprintf(lst, sizeof(lst), "%d", lost);
    static const char args[] = {(char)0x92, 0x14, 0x16}; /* msgpack [20, 22] */
    const char *argv[] = {"HSET",       key,       "func",        "add",  "args",     args,
                          "state",      "running", "enqueued_at", "1",    "attempts", att,
                          "started_at", "1",       "worker",      worker, "lost",     lst};
    int argc = lost > 0 ? 18 : 16;
    size_t lens[18];
    for (int i = 0; i < argc; i++)
        lens[i] = argv[i] == args ? sizeof(args) : strlen(argv[i]);
    redisReply *r = harness_cmdargv(argc, argv, lens);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    if (r)
        freeReplyObject(r);
    ok = ok && harness_int("LPUSH %s %s", inflight, id) >= 1;
    ok = ok && harness_int("SADD %s %s", workers, worker) >= 0;
    return ok ? 0 : -1;
}
