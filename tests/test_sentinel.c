/* Redis Sentinel end to end: on loopback, in the run's temp dir, one master, one replica and
 * three sentinels (quorum 2) started by this suite and stopped by PID. A producer and a worker
 * both given a sentinel:// URL go on through a forced failover (SENTINEL FAILOVER) with the
 * new master, and every task whose enqueue was acknowledged (WAIT 1 succeeded: the replica
 * that gets promoted had it) completes. The WAIT option is also shown to report a replica
 * that did not answer in time (SIGSTOP). Skipped, saying so, when redis-server cannot run as
 * a sentinel. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "spindle/status.h"
#include "suites.h"

#define NSENT 3
#define MASTER_NAME "mymaster"

static struct {
    int ok; /* the topology came up */
    char dir[300];
    int data_port[2]; /* [0] the first master, [1] its replica */
    int sent_port[NSENT];
    pid_t data_pid[2], sent_pid[NSENT];
    char url[256]; /* sentinel://127.0.0.1:P1,.../mymaster */
} T;

/* Runs argv in the foreground, its output in log; dies with us. Returns the PID or -1. */
static pid_t spawn(const char *const *argv, const char *log)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

static void stop(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGCONT);
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

static redisReply *cmd_at(int port, const char *fmt, ...)
{
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    redisContext *rc = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (rc == NULL || rc->err) {
        redisFree(rc);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    redisFree(rc);
    return r;
}

/* 1 if the reply to cmd at port contains text (as a status, string or first array strings). */
static int says(int port, const char *cmd, const char *text)
{
    redisReply *r = cmd_at(port, cmd);
    int found = 0;
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        found = strstr(r->str, text) != NULL;
    if (r)
        freeReplyObject(r);
    return found;
}

/* Polls until says(port, cmd, text) or timeout_ms. */
static int await(int port, const char *cmd, const char *text, long timeout_ms)
{
    int64_t deadline = harness_ms() + harness_scaled_ms(timeout_ms);
    while (harness_ms() < deadline) {
        if (says(port, cmd, text))
            return 1;
        harness_sleep_ms(50);
    }
    return 0;
}

/* The port the first sentinel names as master; -1 if it answers something else. */
static int master_port(void)
{
    redisReply *r = cmd_at(T.sent_port[0], "SENTINEL get-master-addr-by-name %s", MASTER_NAME);
    int port = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        port = atoi(r->element[1]->str);
    if (r)
        freeReplyObject(r);
    return port;
}

static int start_data(int i)
{
    char port[16], log[400], replicaof[32];
    T.data_port[i] = harness_free_port();
    snprintf(port, sizeof(port), "%d", T.data_port[i]);
    snprintf(log, sizeof(log), "%s/data%d.log", T.dir, i);
    snprintf(replicaof, sizeof(replicaof), "127.0.0.1 %d", T.data_port[0]);
    char dbfile[32];
    snprintf(dbfile, sizeof(dbfile), "data%d.rdb", i);
    const char *argv[20] = {"redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "",
                            "--dir", T.dir, "--dbfilename", dbfile, "--appendonly", "no",
                            /* no 5 s wait before the replica's first sync */
                            "--repl-diskless-sync-delay", "0"};
    int argc = 15;
    if (i == 1) {
        argv[argc++] = "--replicaof";
        argv[argc++] = replicaof;
    }
    argv[argc] = NULL;
    T.data_pid[i] = spawn(argv, log);
    return T.data_pid[i] > 0 && await(T.data_port[i], "PING", "PONG", 5000) ? 0 : -1;
}

static int start_sentinel(int i)
{
    char conf[400], log[400], port[16];
    T.sent_port[i] = harness_free_port();
    snprintf(conf, sizeof(conf), "%s/sentinel%d.conf", T.dir, i);
    snprintf(log, sizeof(log), "%s/sentinel%d.log", T.dir, i);
    snprintf(port, sizeof(port), "%d", T.sent_port[i]);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    /* down-after 1000 ms and a short failover-timeout: failovers settle within seconds. */
    fprintf(f,
            "bind 127.0.0.1\nport %d\ndir %s\n"
            "sentinel monitor %s 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds %s 1000\n"
            "sentinel failover-timeout %s 3000\n",
            T.sent_port[i], T.dir, MASTER_NAME, T.data_port[0], MASTER_NAME, MASTER_NAME);
    fclose(f);
    const char *argv[] = {"redis-server", conf, "--sentinel", NULL};
    T.sent_pid[i] = spawn(argv, log);
    return T.sent_pid[i] > 0 && await(T.sent_port[i], "PING", "PONG", 5000) ? 0 : -1;
}

/* 1 once the first sentinel lists the replica as healthy (a forced failover needs one). */
static int sentinel_sees_replica(void)
{
    redisReply *r = cmd_at(T.sent_port[0], "SENTINEL replicas %s", MASTER_NAME);
    int ok = 0;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
        const redisReply *e = r->element[0];
        for (size_t k = 0; k + 1 < e->elements; k += 2)
            if (strcmp(e->element[k]->str, "flags") == 0)
                ok = strcmp(e->element[k + 1]->str, "slave") == 0;
    }
    if (r)
        freeReplyObject(r);
    return ok;
}

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    snprintf(T.dir, sizeof(T.dir), "%s/sentinel", harness_dir());
    if (mkdir(T.dir, 0700) != 0 && errno != EEXIST)
        return -1;
    if (start_data(0) != 0 || start_data(1) != 0)
        return -1;
    if (!await(T.data_port[1], "INFO replication", "master_link_status:up", 5000))
        return -1;
    size_t off = (size_t)snprintf(T.url, sizeof(T.url), "sentinel://");
    for (int i = 0; i < NSENT; i++) {
        if (start_sentinel(i) != 0) {
            fprintf(stderr,
                    "\n  sentinel suite SKIPPED: redis-server --sentinel did not start "
                    "(see %s/sentinel%d.log)\n",
                    T.dir, i);
            return 0;
        }
        off += (size_t)snprintf(T.url + off, sizeof(T.url) - off, "%s127.0.0.1:%d", i ? "," : "",
                                T.sent_port[i]);
    }
    snprintf(T.url + off, sizeof(T.url) - off, "/%s", MASTER_NAME);
    int64_t deadline = harness_ms() + harness_scaled_ms(5000);
    while (!sentinel_sees_replica() && harness_ms() < deadline)
        harness_sleep_ms(50);
    T.ok = sentinel_sees_replica();
    return T.ok ? 0 : -1;
}

static int suite_cleanup(void)
{
    for (int i = 0; i < NSENT; i++)
        stop(&T.sent_pid[i]);
    stop(&T.data_pid[0]);
    stop(&T.data_pid[1]);
    return harness_suite_cleanup();
}

static spindle_client *connect_sentinel(const char *url, int wait_replicas)
{
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    o.ns = harness_ns();
    o.wait_replicas = wait_replicas;
    o.wait_timeout_ms = (int)harness_scaled_ms(500);
    spindle_client *c = spindle_client_new();
    int rc = spindle_client_connect(c, &o);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "connect %s: %s\n", url, spindle_errstr(c));
    return c;
}

static int enqueue_add(spindle_client *c, long a, spindle_handle **h)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_args_int(args, 1);
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = "sentinel";
    int rc = spindle_enqueue(c, "add", args, &eo, h);
    spindle_args_free(args);
    return rc;
}

static void test_resolves_master(void)
{
    if (!T.ok)
        return;
    spindle_client *c = connect_sentinel(T.url, 0);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(enqueue_add(c, 1, &h), SPINDLE_OK);
    /* The task is on the master the sentinels name. */
    char key[300];
    snprintf(key, sizeof(key), "%s:{sentinel}:task:%s", harness_ns(), spindle_handle_id(h));
    redisReply *r = cmd_at(master_port(), "EXISTS %s", key);
    CU_ASSERT(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    if (r)
        freeReplyObject(r);
    spindle_handle_free(h);
    spindle_client_free(c);

    /* The CLI takes the same URL. */
    char bin[300];
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    char *const argv[] = {bin,      "--redis", T.url, "--namespace", (char *)harness_ns(),
                          "queues", NULL};
    harness_output o;
    CU_ASSERT_EQUAL_FATAL(harness_run(argv, harness_scaled_ms(10000), &o), 0);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "sentinel"));
    harness_output_free(&o);
}

static void test_unknown_master_names_sentinels(void)
{
    if (!T.ok)
        return;
    char url[300];
    snprintf(url, sizeof(url), "sentinel://127.0.0.1:%d/nosuch", T.sent_port[0]);
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    spindle_client *c = spindle_client_new();
    CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_IO);
    char port[16];
    snprintf(port, sizeof(port), ":%d", T.sent_port[0]);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "does not monitor a master named 'nosuch'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), port));
    spindle_client_free(c);
}

/* WAIT 1 succeeds with the replica up; with the replica stopped it times out and says so. */
static void test_wait_replicas(void)
{
    if (!T.ok)
        return;
    spindle_client *c = connect_sentinel(T.url, 1);
    CU_ASSERT_EQUAL(enqueue_add(c, 1, NULL), SPINDLE_OK);
    int replica = master_port() == T.data_port[0] ? 1 : 0;
    kill(T.data_pid[replica], SIGSTOP);
    CU_ASSERT_EQUAL(enqueue_add(c, 2, NULL), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "acknowledged by 0 of 1 replicas"));
    kill(T.data_pid[replica], SIGCONT);
    CU_ASSERT(await(master_port(), "INFO replication", "connected_slaves:1", 5000));
    CU_ASSERT_EQUAL(enqueue_add(c, 3, NULL), SPINDLE_OK);
    spindle_client_free(c);
}

static void test_wait_options_checked(void)
{
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = "redis://127.0.0.1:1";
    spindle_client *c = spindle_client_new();
    o.wait_replicas = -1;
    CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "wait_replicas -1"));
    o.wait_replicas = 1;
    o.wait_timeout_ms = 0; /* WAIT 1 0 would block forever */
    CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "wait_timeout_ms 0"));
    spindle_client_free(c);
}

#define MAX_TASKS 20000

/* A producer enqueues continuously (WAIT 1) while a worker serves; a forced failover midway;
 * both carry on with the new master; every acknowledged task completes. */
static void test_failover_loses_no_acknowledged_task(void)
{
    if (!T.ok)
        return;
    CU_ASSERT_TRUE_FATAL(await(master_port(), "INFO replication", "connected_slaves:1", 5000));
    int first = master_port();
    spindle_worker_options wo;
    spindle_worker_options_init(&wo);
    static const char *const queues[] = {"sentinel"};
    wo.url = T.url;
    wo.queues = queues;
    wo.nqueues = 1;
    wo.heartbeat_interval_ms = harness_scaled_ms(200);
    wo.heartbeat_ttl_ms = harness_scaled_ms(1500);
    wo.sweep_interval_ms = harness_scaled_ms(200);
    pid_t worker = harness_worker_fork_opts(NULL, &wo);
    CU_ASSERT_TRUE_FATAL(worker > 0);

    spindle_client *c = connect_sentinel(T.url, 1);
    spindle_handle **acked = calloc(MAX_TASKS, sizeof(*acked));
    int n = 0, refused = 0, before = -1;
    int64_t start = harness_ms(), failover_at = 0, switched_at = 0;
    while (n < MAX_TASKS) {
        int64_t now = harness_ms();
        if (failover_at == 0 && now - start > harness_scaled_ms(1000)) {
            redisReply *r = cmd_at(T.sent_port[1], "SENTINEL FAILOVER %s", MASTER_NAME);
            CU_ASSERT(r && r->type == REDIS_REPLY_STATUS);
            if (r)
                freeReplyObject(r);
            failover_at = now;
            before = n;
        }
        if (failover_at && switched_at == 0 && master_port() != first)
            switched_at = now;
        if (switched_at && now - switched_at > harness_scaled_ms(1500))
            break;
        CU_ASSERT_TRUE_FATAL(now - start < harness_scaled_ms(15000));
        if (enqueue_add(c, n, &acked[n]) == SPINDLE_OK)
            n++;
        else
            refused++;
        harness_sleep_ms(2);
    }
    fprintf(stderr, "\n  sentinel: %d tasks acknowledged (%d before the failover), %d refused\n", n,
            before, refused);
    CU_ASSERT(before > 0);
    CU_ASSERT(n > before);
    CU_ASSERT_NOT_EQUAL(master_port(), first);
    int done = 0;
    for (int i = 0; i < n; i++) {
        spindle_result *res = NULL;
        int rc = spindle_wait(c, acked[i], harness_scaled_ms(10000), &res);
        if (rc == SPINDLE_OK)
            done++;
        else
            fprintf(stderr, "  task %d (%s): %s %s\n", i, spindle_handle_id(acked[i]),
                    spindle_status_name(rc), spindle_errstr(c));
        spindle_result_free(res);
        spindle_handle_free(acked[i]);
    }
    CU_ASSERT_EQUAL(done, n);
    free(acked);
    spindle_client_free(c);
    harness_worker_stop(worker, harness_scaled_ms(5000), NULL);
}

int register_sentinel_tests(void)
{
    static const test_case tests[] = {
        {"resolves the master", test_resolves_master},
        {"unknown master names the sentinels", test_unknown_master_names_sentinels},
        {"wait_replicas: WAIT 1 ok, stopped replica reported", test_wait_replicas},
        {"wait_replicas: options out of range refused", test_wait_options_checked},
        {"failover: zero acknowledged tasks lost", test_failover_loses_no_acknowledged_task},
        {NULL, NULL},
    };
    return add_suite("sentinel", suite_init, suite_cleanup, tests);
}
