/* Redis Cluster (cluster:// URLs, store/cluster.c) against a real 3-master cluster on loopback
 * that the suite builds itself: three redis-server --cluster-enabled yes in the run's temp
 * dir, slots assigned with CLUSTER ADDSLOTS (0-5460, 5461-10922, 10923-16383) and joined
 * with CLUSTER MEET, stopped by PID. Queues are picked so that one lands on each master.
 *
 * Checked: the hash slot rule (CRC16 of the hash tag, against CLUSTER KEYSLOT); a worker
 * serving the three queues with a cluster URL runs every task of a producer to its result,
 * each task's hash living on its queue's master; the CLI (queues, status, result) works with
 * the URL; a client given one node only finds the others; a queue's slot migrated to another
 * master while idle (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) is followed by the
 * stale client and worker through MOVED, also inside a pipeline; ASK during a migration is
 * followed (ASKING, then the command on the importing node); a dependency across slots is
 * refused with a clear message; a running task on another master than the worker's subscriber is
 * cancelled. Skipped, with a message, when redis-server cannot run in cluster mode. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "cli_run.h"
#include "fleet.h"
#include "spindle/args.h"
#include "spindle/group.h"
#include "store/crc16.h"
#include "suites.h"

#define NODES 3

static pid_t pids[NODES];
static int ports[NODES];
static char ids[NODES][64];
static char url[256];
static int ready;
static char skip_why[256];
static char queues[NODES][32];
static const char *queue_list[NODES];
static pid_t worker = -1;
static spindle_client *client;

static int slot_lo(int i)
{
    return i == 0 ? 0 : i == 1 ? 5461 : 10923;
}

static int slot_hi(int i)
{
    return i == 0 ? 5460 : i == 1 ? 10922 : 16383;
}

static int node_of_slot(int slot)
{
    return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
}

static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* A port P free with its cluster bus port P + 10000. */
static int pick_port(int salt)
{
    for (int tries = 0; tries < 200; tries++) {
        int p = 20000 + (int)((getpid() * 7919L + salt * 104729L + tries * 613L) % 25000);
        if (port_free(p) && port_free(p + 10000))
            return p;
    }
    return -1;
}

static redisContext *node(int i)
{
    struct timeval tv = {.tv_sec = 2};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", ports[i], tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

/* One command on node i; the reply, or NULL. */
static redisReply *on(int i, const char *fmt, ...)
{
    redisContext *c = node(i);
    if (c == NULL)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

static pid_t start_server(int i)
{
    char port[16], conf[600], dir[512], log[600];
    snprintf(port, sizeof(port), "%d", ports[i]);
    snprintf(dir, sizeof(dir), "%s/cluster-%d", harness_dir(), i);
    mkdir(dir, 0700);
    snprintf(conf, sizeof(conf), "%s/nodes.conf", dir);
    snprintf(log, sizeof(log), "%s/redis.log", dir);
    const char *server = getenv("SPINDLE_TEST_REDIS_SERVER");
    // cppcheck-suppress variableScope ; built before fork(): the child only execs
    const char *argv[] = {server && *server ? server : "redis-server",
                          "--port",
                          port,
                          "--bind",
                          "127.0.0.1",
                          "--cluster-enabled",
                          "yes",
                          "--cluster-config-file",
                          conf,
                          "--dir",
                          dir,
                          "--save",
                          "",
                          "--appendonly",
                          "no",
                          "--logfile",
                          log,
                          "--cluster-node-timeout",
                          "5000",
                          NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_ping(int i)
{
    int64_t deadline = harness_ms() + harness_scaled_ms(5000);
    while (harness_ms() < deadline) {
        redisReply *r = on(i, "PING");
        int ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (ok)
            return 0;
        int st;
        if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
            pids[i] = 0;
            return -1;
        }
        harness_sleep_ms(20);
    }
    return -1;
}

/* 1 when every node says cluster_state:ok and knows all three. */
static int cluster_ok(void)
{
    for (int i = 0; i < NODES; i++) {
        redisReply *r = on(i, "CLUSTER INFO");
        int ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") &&
                 strstr(r->str, "cluster_known_nodes:3");
        if (r)
            freeReplyObject(r);
        if (!ok)
            return 0;
    }
    return 1;
}

static int assign_slots(int i)
{
    int n = slot_hi(i) - slot_lo(i) + 1;
    const char **argv = calloc((size_t)n + 2, sizeof(char *));
    char *text = calloc((size_t)n, 8);
    if (argv == NULL || text == NULL) {
        free(argv);
        free(text);
        return -1;
    }
    argv[0] = "CLUSTER";
    argv[1] = "ADDSLOTS";
    for (int k = 0; k < n; k++) {
        snprintf(text + 8 * (size_t)k, 8, "%d", slot_lo(i) + k);
        argv[k + 2] = text + 8 * (size_t)k;
    }
    redisContext *c = node(i);
    redisReply *r = c ? redisCommandArgv(c, n + 2, argv, NULL) : NULL;
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok)
        fprintf(stderr, "\n  CLUSTER ADDSLOTS: %s\n", r && r->str ? r->str : c ? c->errstr : "");
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    free(argv);
    free(text);
    return ok ? 0 : -1;
}

static void stop_servers(void)
{
    for (int i = 0; i < NODES; i++) {
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            int st;
            waitpid(pids[i], &st, 0);
            pids[i] = 0;
        }
    }
}

/* Queue names cl-N whose slot lands on each master in turn. */
static void pick_queues(void)
{
    int found = 0;
    for (int n = 0; found < NODES && n < 1000; n++) {
        char q[32];
        snprintf(q, sizeof(q), "cl-%d", n);
        if (node_of_slot(spindle_key_slot(q, strlen(q))) == found)
            snprintf(queues[found++], sizeof(queues[0]), "%s", q);
    }
    for (int i = 0; i < NODES; i++)
        queue_list[i] = queues[i];
}

static int suite_init(void)
{
    /* The harness's own server is not used, but this makes the run's temp dir and stops
     * stray workers. */
    if (harness_suite_init() != 0 || harness_dir()[0] == '\0')
        return 1;
    for (int i = 0; i < NODES; i++) {
        ports[i] = pick_port(i + 1);
        for (int j = 0; j < i; j++)
            if (ports[j] == ports[i] || ports[j] + 10000 == ports[i] ||
                ports[j] == ports[i] + 10000)
                ports[i] = -1;
        if (ports[i] < 0)
            return snprintf(skip_why, sizeof(skip_why), "no free ports"), 0;
        pids[i] = start_server(i);
        if (pids[i] <= 0 || wait_ping(i) != 0) {
            snprintf(skip_why, sizeof(skip_why),
                     "redis-server did not start with --cluster-enabled yes (no cluster "
                     "support?)");
            stop_servers();
            return 0;
        }
    }
    for (int i = 0; i < NODES; i++) {
        redisReply *r = on(i, "CLUSTER MYID");
        if (r && r->type == REDIS_REPLY_STRING)
            snprintf(ids[i], sizeof(ids[i]), "%s", r->str);
        if (r)
            freeReplyObject(r);
        r = on(i, "CLUSTER SET-CONFIG-EPOCH %d", i + 1);
        if (r)
            freeReplyObject(r);
        if (assign_slots(i) != 0) { /* the server runs in cluster mode but refuses: a failure */
            fprintf(stderr, "\n  cluster: CLUSTER ADDSLOTS refused on port %d\n", ports[i]);
            return 1;
        }
    }
    for (int i = 1; i < NODES; i++) {
        redisReply *r = on(0, "CLUSTER MEET 127.0.0.1 %d", ports[i]);
        if (r)
            freeReplyObject(r);
    }
    int64_t deadline = harness_ms() + harness_scaled_ms(10000);
    while (!cluster_ok() && harness_ms() < deadline)
        harness_sleep_ms(50);
    if (!cluster_ok()) {
        fprintf(stderr, "\n  cluster: no cluster_state:ok on ports %d %d %d (logs in %s)\n",
                ports[0], ports[1], ports[2], harness_dir());
        return 1;
    }
    snprintf(url, sizeof(url), "cluster://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", ports[0],
             ports[1], ports[2]);
    pick_queues();
    ready = 1;
    return 0;
}

static int suite_cleanup(void)
{
    if (worker > 0)
        harness_worker_stop(worker, harness_scaled_ms(5000), NULL);
    worker = -1;
    spindle_client_free(client);
    client = NULL;
    stop_servers();
    return harness_suite_cleanup();
}

static int skipped(void)
{
    if (!ready)
        fprintf(stderr, "\n  skipped: %s\n", skip_why[0] ? skip_why : "no cluster");
    return !ready;
}

static spindle_client *connect_to(const char *u)
{
    spindle_client *c = spindle_client_new();
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = u;
    o.ns = harness_ns();
    if (c && spindle_client_connect(c, &o) != SPINDLE_OK) {
        fprintf(stderr, "\n  connect %s: %s\n", u, spindle_errstr(c));
        spindle_client_free(c);
        return NULL;
    }
    return c;
}

static spindle_handle *enqueue_add(spindle_client *c, const char *queue, long a, long b)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_args_int(args, b);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    spindle_handle *h = NULL;
    if (spindle_enqueue(c, "add", args, &o, &h) != SPINDLE_OK)
        fprintf(stderr, "\n  enqueue on %s: %s\n", queue, spindle_errstr(c));
    spindle_args_free(args);
    return h;
}

/* Waits for h and checks its result is the integer want. */
static int result_is(spindle_client *c, const spindle_handle *h, long want)
{
    spindle_result *r = NULL;
    if (spindle_wait(c, h, harness_scaled_ms(5000), &r) != SPINDLE_OK) {
        fprintf(stderr, "\n  wait %s: %s\n", spindle_handle_id(h), spindle_errstr(c));
        return 0;
    }
    const msgpack_object *v = spindle_result_value(r);
    int ok = spindle_result_state(r) == SPINDLE_STATE_SUCCEEDED && v &&
             v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && (long)v->via.u64 == want;
    spindle_result_free(r);
    return ok;
}

/* 1 if the task hash of h lives on node i (EXISTS there answers 1, not MOVED). */
static int task_on_node(const char *queue, const spindle_handle *h, int i)
{
    redisReply *r = on(i, "EXISTS %s:{%s}:task:%s", harness_ns(), queue, spindle_handle_id(h));
    int ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r)
        freeReplyObject(r);
    return ok;
}

static harness_output run_cli(const char *u, const char *a, const char *b)
{
    const char *args[] = {a, b, NULL};
    return cli_run_url_argv(u, args);
}

static void test_slots(void)
{
    CU_ASSERT_EQUAL(spindle_crc16("123456789", 9), 0x31C3);
    CU_ASSERT_EQUAL(spindle_key_slot("foo", 3), 12182);
    CU_ASSERT_EQUAL(spindle_key_slot("{user1000}.following", 20),
                    spindle_key_slot("{user1000}.followers", 20));
    CU_ASSERT_EQUAL(spindle_key_slot("foo{}{bar}", 10), spindle_crc16("foo{}{bar}", 10) % 16384);
    CU_ASSERT_EQUAL(spindle_key_slot("foo{{bar}}zap", 13), spindle_crc16("{bar", 4) % 16384);
    if (skipped())
        return;
    /* Against the server, for keys as Spindle builds them. */
    const char *keys[] = {"spindle:{default}:pending", "x:{cl-1}:task:abc", "spindle:queues",
                          "spindle:{g:crawl}:meta", "plain"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        redisReply *r = on(0, "CLUSTER KEYSLOT %s", keys[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->integer, spindle_key_slot(keys[k], strlen(keys[k])));
        freeReplyObject(r);
    }
    for (int i = 0; i < NODES; i++)
        CU_ASSERT_EQUAL(node_of_slot(spindle_key_slot(queues[i], strlen(queues[i]))), i);
}

static void test_three_masters(void)
{
    if (skipped())
        return;
    client = connect_to(url);
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    spindle_worker_options o;
    fleet_options(&o, queue_list, NODES);
    o.url = url;
    o.concurrency = 2;
    worker = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(worker > 0);
    enum { PER_QUEUE = 10 };
    spindle_handle *h[NODES][PER_QUEUE];
    for (int q = 0; q < NODES; q++)
        for (int k = 0; k < PER_QUEUE; k++) {
            h[q][k] = enqueue_add(client, queues[q], (long)q * 100, k);
            CU_ASSERT_PTR_NOT_NULL_FATAL(h[q][k]);
        }
    for (int q = 0; q < NODES; q++)
        for (int k = 0; k < PER_QUEUE; k++) {
            CU_ASSERT_TRUE(result_is(client, h[q][k], q * 100 + k));
            CU_ASSERT_TRUE(task_on_node(queues[q], h[q][k], q));
        }
    /* The CLI with the same URL. */
    harness_output out = run_cli(url, "queues", NULL);
    CU_ASSERT_EQUAL(out.code, 0);
    for (int q = 0; q < NODES; q++)
        CU_ASSERT_PTR_NOT_NULL(strstr(out.out, queues[q]));
    harness_output_free(&out);
    out = run_cli(url, "status", spindle_handle_id(h[2][3]));
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "succeeded"));
    harness_output_free(&out);
    out = run_cli(url, "result", spindle_handle_id(h[1][4]));
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "104"));
    harness_output_free(&out);
    if (strstr(out.err ? out.err : "", "CROSSSLOT"))
        CU_FAIL("CROSSSLOT");
    char *log = harness_worker_log(worker);
    CU_ASSERT_PTR_NULL(strstr(log, "CROSSSLOT"));
    CU_ASSERT_PTR_NULL(strstr(log, " error "));
    if (strstr(log, " error "))
        fprintf(stderr, "\n  worker log:\n%s\n", log);
    free(log);
    for (int q = 0; q < NODES; q++)
        for (int k = 0; k < PER_QUEUE; k++)
            spindle_handle_free(h[q][k]);
}

/* A URL naming one node: the client learns the map from it and reaches the other two. */
static void test_one_seed(void)
{
    if (skipped())
        return;
    char one[64];
    snprintf(one, sizeof(one), "cluster://127.0.0.1:%d", ports[1]);
    spindle_client *c = connect_to(one);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (int q = 0; q < NODES; q++) {
        spindle_handle *h = enqueue_add(c, queues[q], 7, q);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_TRUE(result_is(c, h, 7 + q));
        CU_ASSERT_TRUE(task_on_node(queues[q], h, q));
        spindle_handle_free(h);
    }
    harness_output out = run_cli(one, "queues", NULL);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, queues[0]));
    harness_output_free(&out);
    spindle_client_free(c);
}

/* Moves slot from node src to node dst as redis-cli --cluster reshard does. */
static int migrate_slot(int slot, int src, int dst)
{
    redisReply *r = on(dst, "CLUSTER SETSLOT %d IMPORTING %s", slot, ids[src]);
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    r = on(src, "CLUSTER SETSLOT %d MIGRATING %s", slot, ids[dst]);
    ok = ok && r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    for (int rounds = 0; ok && rounds < 100; rounds++) {
        r = on(src, "CLUSTER GETKEYSINSLOT %d 100", slot);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            ok = 0;
        } else if (r->elements == 0) {
            freeReplyObject(r);
            r = NULL;
            break;
        } else {
            const char *argv[110];
            char port[16];
            snprintf(port, sizeof(port), "%d", ports[dst]);
            int argc = 0;
            argv[argc++] = "MIGRATE";
            argv[argc++] = "127.0.0.1";
            argv[argc++] = port;
            argv[argc++] = "";
            argv[argc++] = "0";
            argv[argc++] = "5000";
            argv[argc++] = "KEYS";
            for (size_t k = 0; k < r->elements; k++)
                argv[argc++] = r->element[k]->str;
            redisContext *c = node(src);
            redisReply *m = c ? redisCommandArgv(c, argc, argv, NULL) : NULL;
            ok = m && m->type == REDIS_REPLY_STATUS;
            if (!ok)
                fprintf(stderr, "\n  MIGRATE: %s\n", m && m->str ? m->str : "no reply");
            if (m)
                freeReplyObject(m);
            if (c)
                redisFree(c);
        }
        if (r)
            freeReplyObject(r);
    }
    int order[NODES] = {dst, src, 3 - src - dst};
    for (int k = 0; ok && k < NODES; k++) {
        r = on(order[k], "CLUSTER SETSLOT %d NODE %s", slot, ids[dst]);
        ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
    }
    return ok ? 0 : -1;
}

/* The slot of queue 1 moves from master 1 to master 2 while the client and the worker hold
 * the old map: MOVED sends both to the new owner, old tasks and new ones alike. */
static void test_moved(void)
{
    if (skipped())
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    CU_ASSERT_FATAL(worker > 0);
    const char *q = queues[1];
    spindle_handle *before = enqueue_add(client, q, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_TRUE(result_is(client, before, 2));
    int slot = spindle_key_slot(q, strlen(q));
    CU_ASSERT_EQUAL_FATAL(migrate_slot(slot, 1, 2), 0);
    CU_ASSERT_TRUE(task_on_node(q, before, 2));
    spindle_handle *after[5];
    for (int k = 0; k < 5; k++) {
        after[k] = enqueue_add(client, q, 40, k);
        CU_ASSERT_PTR_NOT_NULL_FATAL(after[k]);
    }
    for (int k = 0; k < 5; k++) {
        CU_ASSERT_TRUE(result_is(client, after[k], 40 + k));
        CU_ASSERT_TRUE(task_on_node(q, after[k], 2));
        spindle_handle_free(after[k]);
    }
    harness_output out = run_cli(url, "status", spindle_handle_id(before));
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "succeeded"));
    harness_output_free(&out);
    /* Back to master 1 behind the client's back; a lookup over every queue is one pipeline
     * across the three masters, in which this queue's command meets MOVED. */
    CU_ASSERT_EQUAL_FATAL(migrate_slot(slot, 2, 1), 0);
    spindle_handle *again = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(before), NULL, &again),
                    SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(again);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(again), q);
    CU_ASSERT_TRUE(result_is(client, again, 2));
    CU_ASSERT_TRUE(task_on_node(q, again, 1));
    spindle_handle_free(again);
    spindle_handle_free(before);
}

/* ASK: while queue 0's slot is half-way from master 0 to master 1, a key master 0 does not
 * hold is asked of master 1 (ASKING first); a key it holds is still served by master 0. */
static void test_ask(void)
{
    if (skipped())
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    const char *q = queues[0];
    spindle_handle *h = enqueue_add(client, q, 5, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_TRUE(result_is(client, h, 10));
    int slot = spindle_key_slot(q, strlen(q));
    redisReply *r = on(1, "CLUSTER SETSLOT %d IMPORTING %s", slot, ids[0]);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    r = on(0, "CLUSTER SETSLOT %d MIGRATING %s", slot, ids[1]);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    spindle_handle *missing = NULL;
    CU_ASSERT_EQUAL(
        spindle_handle_open(client, "00000000-0000-4000-8000-000000000000", q, &missing),
        SPINDLE_ERR_NOT_FOUND);
    if (missing == NULL && strstr(spindle_errstr(client), "ASK"))
        fprintf(stderr, "\n  ASK not followed: %s\n", spindle_errstr(client));
    spindle_handle_free(missing);
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_SUCCEEDED);
    for (int i = 0; i < 2; i++) {
        r = on(i, "CLUSTER SETSLOT %d STABLE", slot);
        CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
        if (r)
            freeReplyObject(r);
    }
    spindle_handle_free(h);
}

/* A dependency on a task of a queue in another slot is refused before anything is written;
 * one on the same queue works. */
static void test_cross_slot_dependency(void)
{
    if (skipped())
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    spindle_handle *dep = enqueue_add(client, queues[0], 2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dep);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    spindle_handle *h = NULL;
    for (int same = 0; same < 2; same++) {
        spindle_args *args = spindle_args_new();
        spindle_args_handle(args, dep);
        spindle_args_int(args, 10);
        o.queue = same ? queues[0] : queues[2];
        int rc = spindle_enqueue(client, "add", args, &o, &h);
        spindle_args_free(args);
        if (!same) {
            CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
            CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "in Redis Cluster"));
        } else {
            CU_ASSERT_EQUAL_FATAL(rc, SPINDLE_OK);
            CU_ASSERT_TRUE(result_is(client, h, 15));
            spindle_handle_free(h);
        }
    }
    spindle_handle_free(dep);
}

/* Cancel of a running task on master 2: the cancel script PUBLISHes there, the worker's
 * subscriber listens on its home node (the URL's first, master 0), and the cluster bus
 * carries the message between them. */
static void test_cancel_running(void)
{
    if (skipped())
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, 4000);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queues[2];
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "sleep_ms", args, &o, &h), SPINDLE_OK);
    spindle_args_free(args);
    spindle_state st = SPINDLE_STATE_PENDING;
    int64_t deadline = harness_ms() + harness_scaled_ms(3000);
    while (st != SPINDLE_STATE_RUNNING && harness_ms() < deadline) {
        CU_ASSERT_EQUAL_FATAL(spindle_status(client, h, &st), SPINDLE_OK);
        harness_sleep_ms(10);
    }
    CU_ASSERT_EQUAL_FATAL(st, SPINDLE_STATE_RUNNING);
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_RUNNING);
    deadline = harness_ms() + harness_scaled_ms(3000);
    while (st != SPINDLE_STATE_CANCELLED && harness_ms() < deadline) {
        CU_ASSERT_EQUAL_FATAL(spindle_status(client, h, &st), SPINDLE_OK);
        harness_sleep_ms(10);
    }
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_CANCELLED);
    CU_ASSERT(harness_ms() - t0 < harness_scaled_ms(2000)); /* not the task's 4 s */
    spindle_handle_free(h);
}

/* A group whose members are on the three masters: its own keys in {g:NAME}, each member's
 * end announced in its queue's slot; wait, results and destroy send one command per queue. */
static void test_group_across_masters(void)
{
    if (skipped())
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "cl-group", 600, &g), SPINDLE_OK);
    for (int q = 0; q < NODES; q++) {
        char name[16];
        snprintf(name, sizeof(name), "m%d", q);
        spindle_args *args = spindle_args_new();
        spindle_args_int(args, 1000);
        spindle_args_int(args, q);
        spindle_enqueue_options o;
        spindle_enqueue_options_init(&o);
        o.queue = queues[q];
        CU_ASSERT_EQUAL(spindle_group_submit(client, g, name, "add", args, &o, NULL), SPINDLE_OK);
        spindle_args_free(args);
    }
    spindle_group_wait_result w;
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, harness_scaled_ms(5000), &w),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(w.nfinished, NODES);
    spindle_group_wait_clear(&w);
    spindle_group_result *res = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 0, &res, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, NODES);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_TRUE(res[i].ok);
        CU_ASSERT_STRING_EQUAL(res[i].queue, queues[i]);
    }
    spindle_group_results_free(res, n);
    CU_ASSERT_EQUAL(spindle_group_destroy(client, g), SPINDLE_OK);
    spindle_group_free(g);
}

/* The consistency audit walks the masters in turn: a pending task in no list, written by
 * hand on each master, is found and run by a worker sweeping every 20 ms. */
static void test_audit_every_master(void)
{
    if (skipped())
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
    const char *ids_[NODES] = {"00000000-0000-4000-8000-00000000c100",
                               "00000000-0000-4000-8000-00000000c101",
                               "00000000-0000-4000-8000-00000000c102"};
    for (int q = 0; q < NODES; q++) {
        char key[256];
        snprintf(key, sizeof(key), "%s:{%s}:task:%s", harness_ns(), queues[q], ids_[q]);
        const char *argv[] = {"HSET",         key,     "func",    "add",      "args",
                              "\x92\x02\x03", "state", "pending", "attempts", "0"};
        size_t lens[10];
        for (int i = 0; i < 10; i++)
            lens[i] = strlen(argv[i]);
        redisContext *c = node(q);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        redisReply *r = redisCommandArgv(c, 10, argv, lens);
        CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
        if (r)
            freeReplyObject(r);
        redisFree(c);
    }
    spindle_worker_options o;
    fleet_options(&o, queue_list, NODES);
    o.url = url;
    o.sweep_interval_ms = 20;
    pid_t auditor = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(auditor > 0);
    for (int q = 0; q < NODES; q++) {
        spindle_handle *h = NULL;
        CU_ASSERT_EQUAL_FATAL(spindle_handle_open(client, ids_[q], queues[q], &h), SPINDLE_OK);
        CU_ASSERT_TRUE(result_is(client, h, 5));
        spindle_handle_free(h);
    }
    harness_worker_stop(auditor, harness_scaled_ms(5000), NULL);
}

int register_cluster_tests(void)
{
    static const test_case tests[] = {
        {"hash slots of keys", test_slots},
        {"tasks on three masters, CLI", test_three_masters},
        {"one seed node in the URL", test_one_seed},
        {"slot migrated: MOVED followed", test_moved},
        {"slot half-migrated: ASK followed", test_ask},
        {"dependency across slots refused", test_cross_slot_dependency},
        {"cancel of a running task crosses the cluster bus", test_cancel_running},
        {"group with members on three masters", test_group_across_masters},
        {"audit walks every master", test_audit_every_master},
        {NULL, NULL},
    };
    return add_suite("cluster", suite_init, suite_cleanup, tests);
}
