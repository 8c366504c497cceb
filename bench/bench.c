/* spindle-bench: Spindle's throughput, latency and memory figures on one redis-server.
 *
 *   spindle-bench --redis URL --build DIR [--n N] [--prefetch P]   (P: the workers' --prefetch)
 *
 * Scenarios, in the order of the peers harness (../shared/peers): enqueue-single (one call,
 * one task, each awaited), memory-queued, drain-1 (one worker process started on the full
 * queue, timed from its spawn until every task is settled), memory-finished, enqueue-bulk
 * (spindle_enqueue_bulk, 1000 per call), drain-2 (two worker processes), latency-wait
 * (enqueue then wait, idle worker), idle-commands (Redis commands per second from an idle
 * worker). Prints a table on stderr and one JSON object per scenario on stdout.
 *
 * The workload is the peers' one: add(i, 1) with the example task library. This is a
 * benchmark, not a test: it asserts nothing about speed, but it does check that every task
 * ended succeeded, so a fast wrong run is reported as such. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common/clock.h"
#include "common/url.h"
#include "spindle.h"

static const char *url, *build = "build", *prefetch = "128";
static long n_tasks = 50000;
static redisContext *raw;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "spindle-bench: %s: %s\n", what, why);
    exit(1);
}

static long long info_field(const char *section, const char *field)
{
    redisReply *r = redisCommand(raw, "INFO %s", section);
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        die("INFO", raw->errstr);
    long long v = -1;
    const char *p = strstr(r->str, field);
    if (p)
        v = strtoll(p + strlen(field) + 1, NULL, 10);
    freeReplyObject(r);
    return v;
}

static void command(const char *cmd)
{
    redisReply *r = redisCommand(raw, cmd);
    if (r == NULL)
        die(cmd, raw->errstr);
    freeReplyObject(r);
}

static long long llen(const char *key)
{
    redisReply *r = redisCommand(raw, "LLEN %s", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

static void emit(const char *scenario, long tasks, double seconds, const char *extra)
{
    double rate = seconds > 0 ? (double)tasks / seconds : 0;
    fprintf(stderr, "%-16s %8ld tasks %9.3f s %12.0f tasks/s %s\n", scenario, tasks, seconds, rate,
            extra ? extra : "");
    printf("{\"scenario\":\"%s\",\"tasks\":%ld,\"seconds\":%.6f,\"tasks_per_s\":%.1f%s%s}\n",
           scenario, tasks, seconds, rate, extra && *extra ? "," : "", extra ? extra : "");
    fflush(stdout);
}

static pid_t start_worker(void)
{
    char lib[512], bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", build);
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", build);
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--redis", url, "--load", lib, "--log-level", "warn", "--prefetch",
              prefetch, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop_worker(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Packs add(i, 1)'s args into buf; returns the length. */
static size_t pack_add(char *buf, long i)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int64(&pk, i);
    msgpack_pack_int64(&pk, 1);
    memcpy(buf, sb.data, sb.size);
    size_t len = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return len;
}

static void enqueue_single(spindle_client *c)
{
    char buf[32];
    int64_t t0 = spindle_mono_us();
    for (long i = 0; i < n_tasks; i++) {
        size_t len = pack_add(buf, i);
        if (spindle_enqueue_msgpack(c, "add", buf, len, NULL, NULL) != SPINDLE_OK)
            die("enqueue", spindle_errstr(c));
    }
    emit("enqueue-single", n_tasks, (double)(spindle_mono_us() - t0) / 1e6, NULL);
}

static void enqueue_bulk(spindle_client *c)
{
    spindle_task_spec *specs = calloc((size_t)n_tasks, sizeof(*specs));
    char(*bufs)[32] = calloc((size_t)n_tasks, 32);
    if (!specs || !bufs)
        die("bulk", "out of memory");
    for (long i = 0; i < n_tasks; i++)
        specs[i] = (spindle_task_spec){"add", bufs[i], pack_add(bufs[i], i)};
    int64_t t0 = spindle_mono_us();
    for (long i = 0; i < n_tasks; i += 1000) {
        size_t m = (size_t)(n_tasks - i < 1000 ? n_tasks - i : 1000);
        if (spindle_enqueue_bulk(c, specs + i, m, NULL, NULL) != SPINDLE_OK)
            die("bulk enqueue", spindle_errstr(c));
    }
    emit("enqueue-bulk", n_tasks, (double)(spindle_mono_us() - t0) / 1e6, NULL);
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
            redisCommand(raw, "SCAN %s MATCH %s:{default}:task:* COUNT 1000", cursor, ns);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            die("SCAN", raw->errstr);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++)
            redisAppendCommand(raw, "HGET %s state", keys->element[i]->str);
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *s = NULL;
            if (redisGetReply(raw, (void **)&s) != REDIS_OK)
                die("HGET", raw->errstr);
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
    int64_t t0 = spindle_mono_us();
    for (int i = 0; i < workers; i++)
        pids[i] = start_worker();
    /* Done when pending is empty and no worker holds a claimed task. Polled every 2 ms. */
    for (;;) {
        if (llen(pending) == 0) {
            redisReply *r = redisCommand(raw, "SMEMBERS %s:{default}:workers", ns);
            long long held = 0;
            for (size_t i = 0; r && i < r->elements; i++) {
                char key[512];
                snprintf(key, sizeof(key), "%s:{default}:inflight:%s", ns, r->element[i]->str);
                held += llen(key);
            }
            if (r)
                freeReplyObject(r);
            if (held == 0)
                break;
        }
        usleep(2000);
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    for (int i = 0; i < workers; i++)
        stop_worker(pids[i]);
    long ok = count_succeeded(ns);
    char extra[64];
    snprintf(extra, sizeof(extra), "\"verified\":%s", ok == n_tasks ? "true" : "false");
    emit(scenario, n_tasks, secs, extra);
    if (ok != n_tasks)
        fprintf(stderr, "spindle-bench: %s: only %ld of %ld tasks succeeded\n", scenario, ok,
                n_tasks);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void latency_wait(spindle_client *c)
{
    enum { SAMPLES = 2000 };
    static int64_t us[SAMPLES];
    pid_t w = start_worker();
    usleep(300 * 1000);
    char buf[32];
    int64_t t0 = spindle_mono_us();
    for (int i = 0; i < SAMPLES; i++) {
        size_t len = pack_add(buf, i);
        spindle_handle *h = NULL;
        spindle_result *r = NULL;
        int64_t s = spindle_mono_us();
        if (spindle_enqueue_msgpack(c, "add", buf, len, NULL, &h) != SPINDLE_OK ||
            spindle_wait(c, h, 5000, &r) != SPINDLE_OK)
            die("latency", spindle_errstr(c));
        us[i] = spindle_mono_us() - s;
        spindle_result_free(r);
        spindle_handle_free(h);
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    stop_worker(w);
    qsort(us, SAMPLES, sizeof(us[0]), cmp_i64);
    char extra[96];
    snprintf(extra, sizeof(extra), "\"p50_ms\":%.3f,\"p99_ms\":%.3f",
             (double)us[SAMPLES / 2] / 1000.0, (double)us[SAMPLES * 99 / 100] / 1000.0);
    emit("latency-wait", SAMPLES, secs, extra);
}

static void idle_commands(void)
{
    pid_t w = start_worker();
    usleep(500 * 1000);
    long long before = info_field("stats", "total_commands_processed");
    int64_t t0 = spindle_mono_us();
    sleep(3);
    long long after = info_field("stats", "total_commands_processed");
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    stop_worker(w);
    /* The INFO call itself counts once. */
    char extra[64];
    snprintf(extra, sizeof(extra), "\"commands_per_s\":%.2f", (double)(after - before - 1) / secs);
    emit("idle-commands", 0, secs, extra);
}

static void memory(const char *scenario, long long base)
{
    long long used = info_field("memory", "used_memory");
    char extra[64];
    snprintf(extra, sizeof(extra), "\"bytes_per_task\":%.0f", (double)(used - base) / n_tasks);
    emit(scenario, n_tasks, 0, extra);
}

int main(int argc, char **argv)
{
    const char *ns = "spindle";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--redis") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--build") == 0)
            build = argv[i + 1];
        else if (strcmp(argv[i], "--n") == 0)
            n_tasks = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--prefetch") == 0)
            prefetch = argv[i + 1];
    }
    if (url == NULL || n_tasks < 1)
        die("usage", "spindle-bench --redis URL [--build DIR] [--n N] [--prefetch P]");
    spindle_url u;
    spindle_error err;
    if (spindle_url_parse(url, &u, &err) != SPINDLE_OK)
        die("url", err.msg);
    raw = u.is_unix ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
    if (raw == NULL || raw->err)
        die("connect", raw ? raw->errstr : "out of memory");
    spindle_client *c = spindle_client_new();
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    if (c == NULL || spindle_client_connect(c, &o) != SPINDLE_OK)
        die("connect", c ? spindle_errstr(c) : "out of memory");

    command("FLUSHALL");
    long long m0 = info_field("memory", "used_memory");
    enqueue_single(c);
    memory("memory-queued", m0);
    drain("drain-1", 1, ns);
    memory("memory-finished", m0);
    command("FLUSHALL");
    enqueue_bulk(c);
    drain("drain-2", 2, ns);
    command("FLUSHALL");
    latency_wait(c);
    idle_commands();
    spindle_client_free(c);
    redisFree(raw);
    return 0;
}
