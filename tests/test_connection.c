/* Connections, with a forked worker: the database in the URL is selected (keys land there
 * and nowhere else); an unreachable server is SPINDLE_ERR_IO and a refused AUTH
 * SPINDLE_ERR_REDIS, neither message showing the password; a server still loading its
 * dataset is SPINDLE_ERR_IO too (an outage, not a refusal); a connection killed by the
 * server is recovered by a retry, for the client and for the worker, and a task claimed by
 * a request whose reply the worker lost is put back; scripts flushed from the server
 * (SCRIPT FLUSH, as after a restart) are loaded again. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "fleet.h"
#include "harness.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_with_worker(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static int is_unix(void)
{
    return strncmp(harness_url(), "unix://", 7) == 0;
}

/* A client for url in the harness's namespace; the connect status in *rc. Caller frees. */
static spindle_client *connect_to(const char *url, int *rc)
{
    spindle_client *c = spindle_client_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    o.ns = harness_ns();
    o.connect_timeout_ms = 1000;
    *rc = spindle_client_connect(c, &o);
    return c;
}

/* add(a, b) through c, waited for; 1 if it gave a + b. */
static int add_works(spindle_client *c, int64_t a, int64_t b)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_args_int(args, b);
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(c, "add", args, NULL, &h);
    spindle_args_free(args);
    spindle_result *r = NULL;
    if (rc == SPINDLE_OK)
        rc = spindle_wait(c, h, HARNESS_WAIT_MS, &r);
    int ok = rc == SPINDLE_OK && r && spindle_result_value(r)->via.i64 == a + b;
    if (!ok)
        fprintf(stderr, "\n  add(%lld, %lld): rc %d: %s\n", (long long)a, (long long)b, rc,
                spindle_errstr(c));
    spindle_result_free(r);
    spindle_handle_free(h);
    return ok;
}

static void test_db_from_url(void)
{
    char url[300];
    snprintf(url, sizeof(url), "%s%s", harness_url(), is_unix() ? "?db=5" : "/5");
    int rc;
    spindle_client *c = connect_to(url, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "add", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL(h);
    if (h) {
        char key[512];
        harness_task_key(key, sizeof(key), h);
        CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
        redisReply *r = harness_cmd("SELECT 5");
        CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
        if (r)
            freeReplyObject(r);
        CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 1);
        r = harness_cmd("FLUSHDB");
        if (r)
            freeReplyObject(r);
        r = harness_cmd("SELECT 0");
        CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
        if (r)
            freeReplyObject(r);
    }
    spindle_handle_free(h);
    spindle_client_free(c);
}

static void test_unreachable(void)
{
    int rc;
    int64_t t0 = harness_ms();
    spindle_client *c = connect_to("unix:///nonexistent-spindle-dir/redis.sock", &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_IO);
    CU_ASSERT_TRUE(harness_ms() - t0 < 2000);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "/nonexistent-spindle-dir/redis.sock"));
    /* Valid options: a later call tries again, and fails the same way. */
    CU_ASSERT_EQUAL(spindle_enqueue(c, "add", NULL, NULL, NULL), SPINDLE_ERR_IO);
    spindle_client_free(c);
}

/* A stand-in for a redis-server loading its AOF after a restart: it accepts one connection
 * and answers -LOADING to everything, then reads until the client hangs up. */
static void *serve_loading(void *arg)
{
    static const char reply[] = "-LOADING Redis is loading the dataset in memory\r\n";
    int fd = accept(*(int *)arg, NULL, NULL); /* bounded by the listener's SO_RCVTIMEO */
    if (fd < 0)
        return NULL;
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    /* More replies than the client's pipelined SCRIPT LOADs: it reads the ones it needs. */
    for (int i = 0; i < 32; i++)
        if (write(fd, reply, sizeof(reply) - 1) < 0)
            break;
    char buf[4096];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    return NULL;
}

/* -LOADING means "not yet": SPINDLE_ERR_IO, which callers wait out with back-off (a worker
 * slot retries its settlement), not SPINDLE_ERR_REDIS, which they give up on. */
static void test_loading_is_io(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    int ok = lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 1) == 0 &&
             getsockname(lfd, (struct sockaddr *)&a, &len) == 0 &&
             setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
    pthread_t server;
    ok = ok && pthread_create(&server, NULL, serve_loading, &lfd) == 0;
    CU_ASSERT_TRUE(ok);
    if (ok) {
        char url[64];
        snprintf(url, sizeof(url), "redis://127.0.0.1:%d", ntohs(a.sin_port));
        int rc;
        spindle_client *c = connect_to(url, &rc);
        CU_ASSERT_EQUAL(rc, SPINDLE_ERR_IO);
        CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "loading its dataset"));
        spindle_client_free(c); /* hangs up: the server thread returns */
        pthread_join(server, NULL);
    }
    if (lfd >= 0)
        close(lfd);
}

/* Passwords never appear in messages: not for a refused AUTH (the harness's server has no
 * password, so any AUTH is refused), not for an unreachable server. */
static void test_password_not_in_messages(void)
{
    static const char secret[] = "TopSecret42";
    char url[300];
    int rc;
    spindle_client *c;
    if (is_unix())
        snprintf(url, sizeof(url), "%s?password=%s", harness_url(), secret);
    else
        snprintf(url, sizeof(url), "redis://:%s@%s", secret, harness_url() + 8);
    c = connect_to(url, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "AUTH"));
    CU_ASSERT_PTR_NULL(strstr(spindle_errstr(c), secret));
    if (strstr(spindle_errstr(c), secret))
        fprintf(stderr, "\n  message shows the password: %s\n", spindle_errstr(c));
    spindle_client_free(c);

    c = connect_to("redis://user:TopSecret42@127.0.0.1:1", &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_IO);
    CU_ASSERT_PTR_NULL(strstr(spindle_errstr(c), secret));
    spindle_client_free(c);

    c = connect_to("unix:///nonexistent-spindle-dir/redis.sock?password=TopSecret42", &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_IO);
    CU_ASSERT_PTR_NULL(strstr(spindle_errstr(c), secret));
    if (strstr(spindle_errstr(c), secret))
        fprintf(stderr, "\n  message shows the password: %s\n", spindle_errstr(c));
    spindle_client_free(c);
}

/* The server drops every connection but the harness's own: the client's next call may fail
 * with SPINDLE_ERR_IO, a retry reconnects; the worker, cut off in its BRPOP, reconnects on
 * its own and serves the task. */
static void test_connection_killed(void)
{
    CU_ASSERT_TRUE(add_works(client, 1, 1));
    long long killed = harness_int("CLIENT KILL TYPE normal SKIPME yes");
    CU_ASSERT_TRUE(killed >= 2); /* the client and the worker at least */

    int rc = SPINDLE_ERR_IO;
    int attempts = 0;
    spindle_handle *h = NULL;
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, 20);
    spindle_args_int(args, 22);
    while (rc == SPINDLE_ERR_IO && attempts < 3) {
        rc = spindle_enqueue(client, "add", args, NULL, &h);
        attempts++;
    }
    spindle_args_free(args);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_TRUE(attempts <= 2);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 42);
    spindle_result_free(r);
    spindle_handle_free(h);

    /* An explicit reconnect works too. */
    CU_ASSERT_EQUAL(spindle_client_reconnect(client), SPINDLE_OK);
    CU_ASSERT_TRUE(add_works(client, 2, 3));
}

/* What a claim leaves when its reply is lost (Redis ran the script, then the connection
 * broke before the reply arrived): a task `running` in the slot's in-flight list that the
 * slot never saw. Written here by hand for the forked worker's slot, whose connection is
 * then killed; once reconnected, the slot must put the task back and run it, not leave it
 * `running` while its heartbeat says it is alive. */
static void test_lost_claim_reply(void)
{
    char all[512], id[SPINDLE_ID_LEN + 1];
    redisReply *slots = harness_cmd("SMEMBERS %s", harness_key(all, sizeof(all), NULL, "workers"));
    CU_ASSERT_TRUE_FATAL(slots && slots->type == REDIS_REPLY_ARRAY && slots->elements == 1);
    const char *slot = slots->element[0]->str;
    spindle_id_new(id);
    CU_ASSERT_EQUAL(fleet_plant_running("default", slot, id, 1, 0), 0);
    freeReplyObject(slots);

    CU_ASSERT_TRUE(harness_int("CLIENT KILL TYPE normal SKIPME yes") >= 1);
    spindle_handle *h = NULL;
    int rc = SPINDLE_ERR_IO;
    for (int attempt = 0; rc == SPINDLE_ERR_IO && attempt < 3; attempt++)
        rc = spindle_handle_open(client, id, "default", &h);
    CU_ASSERT_EQUAL_FATAL(rc, SPINDLE_OK);
    spindle_result *res = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &res), SPINDLE_OK);
    CU_ASSERT_TRUE(res && spindle_result_value(res)->via.u64 == 42);
    spindle_result_free(res);
    spindle_handle_free(h);
}

static void test_scripts_flushed(void)
{
    redisReply *r = harness_cmd("SCRIPT FLUSH");
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_TRUE(add_works(client, 3, 4));
    CU_ASSERT_TRUE(add_works(client, 5, 6));
}

int register_connection_tests(void)
{
    static const test_case tests[] = {
        {"database from the URL", test_db_from_url},
        {"unreachable server -> SPINDLE_ERR_IO", test_unreachable},
        {"passwords not in messages", test_password_not_in_messages},
        {"server loading its dataset -> SPINDLE_ERR_IO", test_loading_is_io},
        {"connection killed: client and worker recover", test_connection_killed},
        {"claim reply lost: the task is put back", test_lost_claim_reply},
        {"scripts flushed: loaded again", test_scripts_flushed},
        {NULL, NULL},
    };
    return add_suite("connection", suite_init, suite_cleanup, tests);
}
