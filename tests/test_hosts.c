/* Many hosts: Redis, two worker hosts and a producer, each in a network namespace of its own,
 * joined by veth cables through a bridge (netns.h). Tasks flow from the producer host through
 * Redis to both worker hosts and complete. Then one worker host's cable is pulled while it
 * runs tasks: the other host's sweep sees its heartbeats expire and reruns its in-flight
 * tasks, none is lost; when the cable is back, the cut host's late settlements arrive and are
 * refused by fencing, so no task completes twice (the throughput counters count each once).
 *
 * Needs root (and `ip`): otherwise every test passes with a printed "skipped:" line. The
 * test process itself is the producer: it joins the producer's namespace for the suite. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "netns.h"
#include "suites.h"

enum { REDIS_HOST, HOST_A, HOST_B, PRODUCER, NHOSTS };

#define FLOW_TASKS 20
#define CUT_TASKS 16
#define CUT_TASK_MS 200

static const char *const queue = "hosts";
static netns_net net;
static int skip, harness_up;
static char why[600];
static pid_t redis_pid, worker_pid[NHOSTS];
static redisContext *raw;
static spindle_client *client;
static char url[64];
static int done_ok; /* tasks the tests saw succeed, for the throughput counters */

/* CI shows the tail of the output: say it again after the run's summary. */
static pid_t test_pid;

static void skipped_at_exit(void)
{
    if (getpid() == test_pid)
        printf("spindle-tests: skipped: the hosts suite (%s)\n", why);
}

static void skipped(void)
{
    printf("\n  skipped: many-hosts test: %s ", why);
    fflush(stdout);
}

static char *log_path(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "%s/hosts-%s.log", harness_dir(), what);
    return buf;
}

/* Connects to the Redis host and waits for its PING. 0 on success. */
static int connect_raw(void)
{
    int64_t deadline = harness_ms() + harness_scaled_ms(HARNESS_WAIT_MS);
    struct timeval tv = {5, 0};
    do {
        raw = redisConnectWithTimeout(net.addr[REDIS_HOST], 6379, (struct timeval){1, 0});
        if (raw && !raw->err) {
            redisSetTimeout(raw, tv);
            redisReply *r = redisCommand(raw, "PING");
            int ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject(r);
            if (ok)
                return 0;
        }
        if (raw)
            redisFree(raw);
        raw = NULL;
        harness_sleep_ms(50);
    } while (harness_ms() < deadline);
    return -1;
}

static int skip_suite(void)
{
    skip = 1;
    test_pid = getpid();
    atexit(skipped_at_exit);
    return 0;
}

static int suite_init(void)
{
    if (!netns_usable(why, sizeof(why)))
        return skip_suite();
    if (harness_suite_init() != 0)
        return -1;
    harness_up = 1;
    int refused = 0;
    if (netns_create(&net, NHOSTS, &refused, why, sizeof(why)) != 0) {
        if (refused)
            return skip_suite();
        fprintf(stderr, "\n  hosts: %s\n", why);
        return -1;
    }
    /* A directory of its own: the harness's may hold a dump.rdb of its server. */
    char dir[300], logfile[300];
    snprintf(dir, sizeof(dir), "%s/hosts-redis", harness_dir());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "\n  hosts: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    const char *server = getenv("SPINDLE_TEST_REDIS_SERVER");
    const char *argv[] = {server && *server ? server : "redis-server",
                          "--bind",
                          net.addr[REDIS_HOST],
                          "--port",
                          "6379",
                          "--save",
                          "",
                          "--appendonly",
                          "no",
                          "--protected-mode",
                          "no",
                          "--dir",
                          dir,
                          NULL};
    redis_pid = netns_spawn(&net, REDIS_HOST, argv, log_path(logfile, sizeof(logfile), "redis"));
    snprintf(url, sizeof(url), "redis://%s:6379", net.addr[REDIS_HOST]);
    if (redis_pid < 0 || netns_enter(&net, PRODUCER) != 0 || connect_raw() != 0) {
        fprintf(stderr, "\n  hosts: no Redis at %s from the producer host (see %s)\n", url,
                logfile);
        return -1;
    }
    client = spindle_client_new();
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    o.ns = harness_ns();
    if (client == NULL || spindle_client_connect(client, &o) != SPINDLE_OK) {
        fprintf(stderr, "\n  hosts: client connect to %s failed: %s\n", url,
                client ? spindle_errstr(client) : "out of memory");
        return -1;
    }
    return 0;
}

static int suite_cleanup(void)
{
    if (client)
        spindle_client_free(client);
    client = NULL;
    if (raw)
        redisFree(raw);
    raw = NULL;
    for (int i = 0; i < NHOSTS; i++)
        if (worker_pid[i] > 0)
            netns_stop(worker_pid[i], harness_scaled_ms(5000));
    memset(worker_pid, 0, sizeof(worker_pid));
    if (redis_pid > 0)
        netns_stop(redis_pid, 5000);
    redis_pid = 0;
    netns_leave();
    netns_destroy(&net);
    if (!harness_up)
        return 0;
    harness_up = 0;
    return harness_suite_cleanup();
}

/* Seconds for a worker flag from ms before scaling, e.g. "0.600". */
static char *secs(char *buf, size_t cap, long ms)
{
    snprintf(buf, cap, "%.3f", (double)harness_scaled_ms(ms) / 1000.0);
    return buf;
}

/* spindle-worker on host i: thread pool, two slots, one task per claim, short heartbeats. */
static pid_t start_worker(int i)
{
    char bin[300], lib[300], logfile[300], name[16], beat[16], ttl[16], sweep[16];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", harness_build());
    snprintf(name, sizeof(name), "worker-h%d", i + 1);
    const char *argv[] = {bin,
                          "--redis",
                          url,
                          "--namespace",
                          harness_ns(),
                          "--queues",
                          queue,
                          "--load",
                          lib,
                          "--pool",
                          "thread",
                          "--concurrency",
                          "2",
                          "--prefetch",
                          "1",
                          "--shutdown-timeout",
                          "2",
                          "--heartbeat-interval",
                          secs(beat, sizeof(beat), FLEET_BEAT_MS),
                          "--heartbeat-ttl",
                          secs(ttl, sizeof(ttl), FLEET_TTL_MS),
                          "--sweep-interval",
                          secs(sweep, sizeof(sweep), FLEET_SWEEP_MS),
                          NULL};
    worker_pid[i] = netns_spawn(&net, i, argv, log_path(logfile, sizeof(logfile), name));
    return worker_pid[i];
}

static char *worker_log(int i)
{
    char path[300], name[16];
    snprintf(name, sizeof(name), "worker-h%d", i + 1);
    FILE *f = fopen(log_path(path, sizeof(path), name), "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    if (buf)
        buf[fread(buf, 1, (1 << 20) - 1, f)] = '\0';
    fclose(f);
    return buf;
}

static redisReply *cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    return r;
}

/* HGET of a task's field into buf ("" if absent or on an error). */
static char *field(const spindle_handle *h, const char *name, char *buf, size_t cap)
{
    char key[300];
    buf[0] = '\0';
    redisReply *r = cmd("HGET %s %s", harness_task_key(key, sizeof(key), h), name);
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf(buf, cap, "%.*s", (int)r->len, r->str);
    if (r)
        freeReplyObject(r);
    return buf;
}

static long long num(const spindle_handle *h, const char *name)
{
    char buf[64];
    return field(h, name, buf, sizeof(buf))[0] ? atoll(buf) : -1;
}

/* The host whose worker ran (or runs) the task: HOST_A, HOST_B or -1. With the thread pool,
 * the PID in a slot's id is its worker process's. */
static int host_of(const spindle_handle *h)
{
    char id[200];
    pid_t pid = harness_worker_id_pid(field(h, "worker", id, sizeof(id)));
    return pid > 0 && pid == worker_pid[HOST_A]   ? HOST_A
           : pid > 0 && pid == worker_pid[HOST_B] ? HOST_B
                                                  : -1;
}

/* Waits until n clients are blocked in BRPOP: the workers' slots, idle. */
static int wait_idle(int n, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    do {
        redisReply *r = cmd("CLIENT LIST");
        int blocked = 0;
        if (r && r->type == REDIS_REPLY_STRING)
            for (const char *p = r->str; (p = strstr(p, "cmd=brpop")) != NULL; p++)
                blocked++;
        if (r)
            freeReplyObject(r);
        if (blocked >= n)
            return 0;
        harness_sleep_ms(10);
    } while (harness_ms() < deadline);
    return -1;
}

/* Waits until every task is `succeeded`: 0 if within timeout_ms. */
static int wait_all_succeeded(spindle_handle **h, int n, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    char state[32];
    for (int i = 0; i < n; i++)
        while (strcmp(field(h[i], "state", state, sizeof(state)), "succeeded") != 0) {
            if (harness_ms() >= deadline) {
                fprintf(stderr, "\n  task %d of %d is '%s' after %ld ms\n", i, n, state,
                        timeout_ms);
                return -1;
            }
            harness_sleep_ms(10);
        }
    return 0;
}

static long long queue_len(const char *suffix, const char *type)
{
    char key[300];
    redisReply *r = cmd("%s %s", type, harness_key(key, sizeof(key), queue, suffix));
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

/* Tasks of the queue counted as succeeded by the settle script, over every hourly stats hash. */
static long long settled_ok(void)
{
    char pattern[300];
    redisReply *keys = cmd("KEYS %s", harness_key(pattern, sizeof(pattern), queue, "stats:h:*"));
    long long total = 0;
    for (size_t i = 0; keys && keys->type == REDIS_REPLY_ARRAY && i < keys->elements; i++) {
        redisReply *r = cmd("HGET %s ok", keys->element[i]->str);
        if (r && r->type == REDIS_REPLY_STRING)
            total += atoll(r->str);
        if (r)
            freeReplyObject(r);
    }
    if (keys)
        freeReplyObject(keys);
    return total;
}

static void free_all(spindle_handle **h, int n)
{
    for (int i = 0; i < n; i++)
        spindle_handle_free(h[i]);
}

/* Both worker hosts take tasks from the producer host and complete them. */
static void test_tasks_flow(void)
{
    if (skip) {
        skipped();
        return;
    }
    CU_ASSERT_FATAL(start_worker(HOST_A) > 0 && start_worker(HOST_B) > 0);
    CU_ASSERT_EQUAL_FATAL(wait_idle(4, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_handle *h[FLOW_TASKS] = {0};
    for (int i = 0; i < FLOW_TASKS; i++) {
        h[i] = fleet_enqueue(client, queue, "sleep_ms", 20, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
    }
    CU_ASSERT_EQUAL(wait_all_succeeded(h, FLOW_TASKS, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    int on[NHOSTS] = {0}, other = 0;
    for (int i = 0; i < FLOW_TASKS; i++) {
        int host = host_of(h[i]);
        if (host >= 0)
            on[host]++;
        else
            other++;
        CU_ASSERT_EQUAL(num(h[i], "attempts"), 1);
    }
    CU_ASSERT_TRUE(on[HOST_A] > 0);
    CU_ASSERT_TRUE(on[HOST_B] > 0);
    CU_ASSERT_EQUAL(other, 0);
    done_ok += FLOW_TASKS;
    CU_ASSERT_EQUAL(settled_ok(), done_ok);
    free_all(h, FLOW_TASKS);
}

/* Host A's cable is pulled while it runs a task: host B reruns what A held once A's
 * heartbeats expire; when the cable is back, A's late settlements are refused. */
static void test_link_cut(void)
{
    if (skip) {
        skipped();
        return;
    }
    CU_ASSERT_FATAL(worker_pid[HOST_A] > 0 && worker_pid[HOST_B] > 0);
    long task_ms = harness_scaled_ms(CUT_TASK_MS);
    spindle_handle *h[CUT_TASKS] = {0};
    for (int i = 0; i < CUT_TASKS; i++) {
        h[i] = fleet_enqueue(client, queue, "sleep_ms", task_ms, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
    }
    /* Cut as soon as A runs a task (claimed, not yet settled). */
    int64_t deadline = harness_ms() + harness_scaled_ms(HARNESS_WAIT_MS), running_on_a = 0;
    char state[32];
    while (!running_on_a && harness_ms() < deadline) {
        for (int i = 0; i < CUT_TASKS && !running_on_a; i++)
            running_on_a = strcmp(field(h[i], "state", state, sizeof(state)), "running") == 0 &&
                           host_of(h[i]) == HOST_A;
        if (!running_on_a)
            harness_sleep_ms(5);
    }
    CU_ASSERT_TRUE_FATAL(running_on_a);
    CU_ASSERT_EQUAL_FATAL(netns_link(&net, HOST_A, 0), 0);

    long bound = harness_scaled_ms(FLEET_TTL_MS + FLEET_SWEEP_MS) + (long)CUT_TASKS * task_ms / 2 +
                 harness_scaled_ms(HARNESS_WAIT_MS);
    CU_ASSERT_EQUAL(wait_all_succeeded(h, CUT_TASKS, bound), 0);
    int lost = 0;
    char result[64];
    for (int i = 0; i < CUT_TASKS; i++) {
        long long l = num(h[i], "lost");
        if (l >= 1) {
            lost++;
            CU_ASSERT_EQUAL(l, 1);
            CU_ASSERT_EQUAL(num(h[i], "attempts"), 2);
            CU_ASSERT_EQUAL(host_of(h[i]), HOST_B);
        } else {
            CU_ASSERT_EQUAL(num(h[i], "attempts"), 1);
        }
        CU_ASSERT_TRUE(field(h[i], "result", result, sizeof(result))[0] != '\0');
    }
    CU_ASSERT_TRUE(lost >= 1);
    CU_ASSERT_EQUAL(queue_len("pending", "LLEN"), 0);
    CU_ASSERT_EQUAL(queue_len("dead", "ZCARD"), 0);

    /* The cable back: A's slot finished its task long ago and has retried its settlement
     * since; it now reaches Redis and is refused, changing nothing. */
    CU_ASSERT_EQUAL_FATAL(netns_link(&net, HOST_A, 1), 0);
    deadline = harness_ms() + harness_scaled_ms(20000);
    int refused = 0;
    while (refused == 0 && harness_ms() < deadline) {
        char *log = worker_log(HOST_A);
        refused = fleet_count(log, "settlement refused");
        free(log);
        if (refused == 0)
            harness_sleep_ms(50);
    }
    CU_ASSERT_TRUE(refused >= 1 && refused <= lost);
    if (refused < 1 || refused > lost)
        fprintf(stderr, "\n  %d refused settlement(s) on host A, %d task(s) lost\n", refused, lost);
    for (int i = 0; i < CUT_TASKS; i++) {
        CU_ASSERT_STRING_EQUAL(field(h[i], "state", state, sizeof(state)), "succeeded");
        if (num(h[i], "lost") >= 1) {
            CU_ASSERT_EQUAL(num(h[i], "attempts"), 2);
            CU_ASSERT_EQUAL(host_of(h[i]), HOST_B);
        }
    }
    done_ok += CUT_TASKS;
    CU_ASSERT_EQUAL(settled_ok(), done_ok); /* each task completed once */
    free_all(h, CUT_TASKS);
}

int register_hosts_tests(void)
{
    static const test_case tests[] = {
        {"tasks flow from a producer host through a Redis host to two worker hosts",
         test_tasks_flow},
        {"a worker host cut off mid-run: the other host reruns its tasks, its late settlements "
         "are refused",
         test_link_cut},
        {NULL, NULL},
    };
    return add_suite("hosts", suite_init, suite_cleanup, tests);
}
