/* spindle-bench: Spindle's throughput, latency and memory figures on one redis-server.
 *
 *   spindle-bench --redis URL --build DIR [--n N] [--prefetch P] [--concurrency C]
 *                 [--only GROUPS]
 *
 * (P and C: the workers' --prefetch and --concurrency, default 128 and 2; GROUPS: some of
 * single,bulk,drain4,latency,idle, default all.) Scenarios, in the
 * order of the peers harness (../shared/peers): enqueue-single (one call, one task, each
 * awaited), memory-queued, drain-1 (one worker process started on the full queue, timed from
 * its spawn until every task is settled), memory-finished, enqueue-bulk
 * (spindle_enqueue_bulk, 1000 per call), drain-2 (two worker processes), drain-4 (bulk again,
 * four worker processes), then latency-pickup
 * and latency-wait (latency.c) and idle-commands (idle.c). Prints a table on stderr and one
 * JSON object per scenario on stdout.
 *
 * The workload is the peers' one: add(i, 1) with the example task library. This is a
 * benchmark, not a test: it asserts nothing about speed, but it does check that every task
 * ended succeeded, so a fast wrong run is reported as such. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/clock.h"
#include "common/url.h"

static void enqueue_single(spindle_client *c)
{
    char buf[32], cost[128];
    bench_redis_usage u0 = bench_redis_usage_now();
    int64_t t0 = spindle_mono_us();
    for (long i = 0; i < bench_n; i++) {
        size_t len = bench_pack_add(buf, i);
        if (spindle_enqueue_msgpack(c, "add", buf, len, NULL, NULL) != SPINDLE_OK)
            bench_die("enqueue", spindle_errstr(c));
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    bench_redis_cost(u0, bench_n, cost, sizeof(cost));
    bench_emit("enqueue-single", bench_n, secs, cost);
}

static void enqueue_bulk(spindle_client *c)
{
    spindle_task_spec *specs = calloc((size_t)bench_n, sizeof(*specs));
    char(*bufs)[32] = calloc((size_t)bench_n, 32);
    if (!specs || !bufs)
        bench_die("bulk", "out of memory");
    for (long i = 0; i < bench_n; i++)
        specs[i] = (spindle_task_spec){"add", bufs[i], bench_pack_add(bufs[i], i)};
    char cost[128];
    bench_redis_usage u0 = bench_redis_usage_now();
    int64_t t0 = spindle_mono_us();
    for (long i = 0; i < bench_n; i += 1000) {
        size_t m = (size_t)(bench_n - i < 1000 ? bench_n - i : 1000);
        if (spindle_enqueue_bulk(c, specs + i, m, NULL, NULL) != SPINDLE_OK)
            bench_die("bulk enqueue", spindle_errstr(c));
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    bench_redis_cost(u0, bench_n, cost, sizeof(cost));
    bench_emit("enqueue-bulk", bench_n, secs, cost);
    free(specs);
    free(bufs);
}

/* Counts task hashes in state succeeded (SCAN; after the timing). */
static long count_succeeded(const char *ns)
{
    long ok = 0;
    char cursor[32] = "0";
    do {
        redisReply *r =
            redisCommand(bench_raw, "SCAN %s MATCH %s:{default}:task:* COUNT 1000", cursor, ns);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            bench_die("SCAN", bench_raw->errstr);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++)
            redisAppendCommand(bench_raw, "HGET %s state", keys->element[i]->str);
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *s = NULL;
            if (redisGetReply(bench_raw, (void **)&s) != REDIS_OK)
                bench_die("HGET", bench_raw->errstr);
            ok += s->type == REDIS_REPLY_STRING && strcmp(s->str, "succeeded") == 0;
            freeReplyObject(s);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return ok;
}

/* Starts `workers` worker processes on the full queue; times until all tasks are settled. */
static void drain(const char *scenario, int workers, const char *ns)
{
    char pending[300];
    snprintf(pending, sizeof(pending), "%s:{default}:pending", ns);
    pid_t pids[8];
    bench_redis_usage u0 = bench_redis_usage_now();
    int64_t t0 = spindle_mono_us();
    for (int i = 0; i < workers; i++)
        pids[i] = bench_start_worker();
    /* Done when pending is empty and no worker holds a claimed task. Polled every 2 ms. */
    for (;;) {
        if (bench_llen(pending) == 0) {
            redisReply *r = redisCommand(bench_raw, "SMEMBERS %s:{default}:workers", ns);
            long long held = 0;
            for (size_t i = 0; r && i < r->elements; i++) {
                char key[512];
                snprintf(key, sizeof(key), "%s:{default}:inflight:%s", ns, r->element[i]->str);
                held += bench_llen(key);
            }
            if (r)
                freeReplyObject(r);
            if (held == 0)
                break;
        }
        usleep(2000);
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    char cost[128]; /* read before the workers stop, whose exit and the check below cost too */
    bench_redis_cost(u0, bench_n, cost, sizeof(cost));
    for (int i = 0; i < workers; i++)
        bench_stop_worker(pids[i]);
    long ok = count_succeeded(ns);
    char extra[192];
    snprintf(extra, sizeof(extra), "\"verified\":%s,%s", ok == bench_n ? "true" : "false", cost);
    bench_emit(scenario, bench_n, secs, extra);
    if (ok != bench_n)
        fprintf(stderr, "spindle-bench: %s: only %ld of %ld tasks succeeded\n", scenario, ok,
                bench_n);
}

static void memory(const char *scenario, long long base)
{
    long long used = bench_info("memory", "used_memory");
    char extra[64];
    snprintf(extra, sizeof(extra), "\"bytes_per_task\":%.0f", (double)(used - base) / bench_n);
    bench_emit(scenario, bench_n, 0, extra);
}

/* 1 if the scenario group is in the comma-separated list only (NULL: every group). */
static int wanted(const char *only, const char *group)
{
    if (only == NULL)
        return 1;
    size_t n = strlen(group);
    for (const char *p = only; (p = strstr(p, group)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *ns = "spindle", *only = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--redis") == 0)
            bench_url = argv[i + 1];
        else if (strcmp(argv[i], "--build") == 0)
            bench_build = argv[i + 1];
        else if (strcmp(argv[i], "--n") == 0)
            bench_n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--prefetch") == 0)
            bench_prefetch = argv[i + 1];
        else if (strcmp(argv[i], "--concurrency") == 0)
            bench_concurrency = argv[i + 1];
        else if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
    }
    if (bench_url == NULL || bench_n < 1)
        bench_die(
            "usage",
            "spindle-bench --redis URL [--build DIR] [--n N] [--prefetch P] [--concurrency C] "
            "[--only single,bulk,drain4,latency,idle]");
    spindle_url u;
    spindle_error err;
    if (spindle_url_parse(bench_url, &u, &err) != SPINDLE_OK)
        bench_die("url", err.msg);
    bench_raw = u.is_unix ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
    if (bench_raw == NULL || bench_raw->err)
        bench_die("connect", bench_raw ? bench_raw->errstr : "out of memory");
    spindle_client *c = spindle_client_new();
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = bench_url;
    if (c == NULL || spindle_client_connect(c, &o) != SPINDLE_OK)
        bench_die("connect", c ? spindle_errstr(c) : "out of memory");

    bench_command("FLUSHALL");
    if (wanted(only, "single")) {
        long long m0 = bench_info("memory", "used_memory");
        enqueue_single(c);
        memory("memory-queued", m0);
        drain("drain-1", 1, ns);
        memory("memory-finished", m0);
        bench_command("FLUSHALL");
    }
    if (wanted(only, "bulk")) {
        enqueue_bulk(c);
        drain("drain-2", 2, ns);
        bench_command("FLUSHALL");
    }
    if (wanted(only, "drain4")) { /* a report of issue #8, not one of the peers' scenarios */
        enqueue_bulk(c);
        drain("drain-4", 4, ns);
        bench_command("FLUSHALL");
    }
    if (wanted(only, "latency")) {
        bench_latency_pickup(c);
        bench_latency_wait(c);
    }
    if (wanted(only, "idle"))
        bench_idle_commands();
    spindle_client_free(c);
    redisFree(bench_raw);
    return 0;
}
