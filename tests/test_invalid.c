/* Invalid input is refused before it reaches Redis: bad queue, function and namespace names
 * (client and worker), bad URLs, a negative timeout, a back-off or retry count out of range,
 * an unclosed argument builder, args that are not exactly one msgpack array, a bulk enqueue
 * with one bad task among many. Each call returns SPINDLE_ERR_INVALID with a message naming
 * the input, and DBSIZE stays 0. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static long long dbsize(void)
{
    return harness_int("DBSIZE");
}

/* Asserts rc is SPINDLE_ERR_INVALID and the client's message contains want. */
static void assert_invalid(int rc, const char *want)
{
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), want));
    if (rc != SPINDLE_ERR_INVALID || strstr(spindle_errstr(client), want) == NULL)
        fprintf(stderr, "\n  rc %d, message '%s', expected '%s'\n", rc, spindle_errstr(client),
                want);
}

static void test_bad_queue_name(void)
{
    static const char *const bad[] = {"bad queue", "{default}", "q}", "a/b", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spindle_enqueue_options o;
        spindle_enqueue_options_init(&o);
        o.queue = bad[i];
        spindle_handle *h = NULL;
        int rc = spindle_enqueue(client, "add", NULL, &o, &h);
        assert_invalid(rc, bad[i][0] ? bad[i] : "queue name is empty");
        CU_ASSERT_PTR_NULL(h);
        CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "queue"));
    }
    char longname[130];
    memset(longname, 'q', 129);
    longname[129] = '\0';
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = longname;
    assert_invalid(spindle_enqueue(client, "add", NULL, &o, NULL), "longer than 128");
    longname[128] = '\0';
    CU_ASSERT_EQUAL(dbsize(), 0);
    /* 128 bytes is fine: the limit is inclusive. */
    CU_ASSERT_EQUAL(spindle_enqueue(client, "add", NULL, &o, NULL), SPINDLE_OK);
    CU_ASSERT_TRUE(dbsize() > 0);
    harness_flushall();
}

static void test_bad_function_name(void)
{
    static const char *const bad[] = {"no such func", "f{x}", "f\n", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spindle_handle *h = NULL;
        assert_invalid(spindle_enqueue(client, bad[i], NULL, NULL, &h), bad[i]);
        CU_ASSERT_PTR_NULL(h);
        CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "function"));
        assert_invalid(spindle_enqueue_msgpack(client, bad[i], "\x90", 1, NULL, NULL), bad[i]);
    }
    assert_invalid(spindle_enqueue(client, NULL, NULL, NULL, NULL), "function name is empty");
    assert_invalid(spindle_enqueue(client, "", NULL, NULL, NULL), "function name is empty");
    CU_ASSERT_EQUAL(dbsize(), 0);
}

static void test_bad_namespace(void)
{
    static const char *const bad[] = {"bad ns", "ns{x}", "ns*"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spindle_client *c = spindle_client_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        spindle_client_options o;
        spindle_client_options_init(&o);
        o.url = harness_url();
        o.ns = bad[i];
        CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_INVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), bad[i]));
        CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "namespace"));
        CU_ASSERT_EQUAL(spindle_client_reconnect(c), SPINDLE_ERR_INVALID);
        spindle_client_free(c);
    }
    CU_ASSERT_EQUAL(dbsize(), 0);
}

/* A client whose connect was refused must stay unusable: a later call must neither connect
 * with the half-parsed options nor write anything. Here the URL and the namespace are
 * refused; the host, port or socket path in the URL are the harness's own server, so a
 * client that goes ahead anyway writes to it, under an empty namespace. */
static void test_refused_client_writes_nothing(void)
{
    char bad_url[300];
    int is_unix = strncmp(harness_url(), "unix://", 7) == 0;
    /* Valid up to the database part, which is not a number. */
    snprintf(bad_url, sizeof(bad_url), "%s%s", harness_url(), is_unix ? "?db=x" : "/x");
    const char *urls[] = {bad_url, harness_url()};
    const char *nss[] = {harness_ns(), "bad ns"};
    for (int i = 0; i < 2; i++) {
        spindle_client *c = spindle_client_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        spindle_client_options o;
        spindle_client_options_init(&o);
        o.url = urls[i];
        o.ns = nss[i];
        CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_INVALID);
        spindle_handle *h = NULL;
        int rc = spindle_enqueue(c, "add", NULL, NULL, &h);
        CU_ASSERT_NOT_EQUAL(rc, SPINDLE_OK);
        long long n = dbsize();
        CU_ASSERT_EQUAL(n, 0);
        if (rc == SPINDLE_OK || n != 0) {
            redisReply *keys = harness_cmd("KEYS *");
            fprintf(stderr, "\n  refused client (url %s, ns %s): enqueue rc %d, %lld key(s)%s",
                    urls[i], nss[i], rc, n, keys && keys->elements ? ", e.g. " : "");
            if (keys && keys->type == REDIS_REPLY_ARRAY && keys->elements)
                fprintf(stderr, "'%s'", keys->element[0]->str);
            fprintf(stderr, "\n");
            if (keys)
                freeReplyObject(keys);
        }
        spindle_handle_free(h);
        spindle_client_free(c);
        harness_flushall();
    }
}

static void test_bad_url(void)
{
    spindle_client *c = spindle_client_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = "redis://127.0.0.1:0";
    o.ns = harness_ns();
    CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "redis://127.0.0.1:0"));
    o.url = "tcp://127.0.0.1";
    CU_ASSERT_EQUAL(spindle_client_connect(c, &o), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "scheme"));
    spindle_client_free(c);
}

/* The worker validates its queue names and namespace before connecting. */
static void test_worker_bad_names(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL(fixture_register_tasks(reg), SPINDLE_OK);
    size_t registered = spindle_registry_count(reg);

    const char *queues[] = {"default", "bad queue"};
    spindle_worker_options o;
    spindle_worker_options_init(&o);
    o.url = harness_url();
    o.ns = harness_ns();
    o.queues = queues;
    o.nqueues = 2;
    o.handle_signals = 0;
    spindle_worker *w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(spindle_worker_run(w), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_worker_errstr(w), "'bad queue'"));
    spindle_worker_free(w);

    spindle_worker_options_init(&o);
    o.url = harness_url();
    o.ns = "bad{ns}";
    o.handle_signals = 0;
    w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(spindle_worker_run(w), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_worker_errstr(w), "bad{ns}"));
    spindle_worker_free(w);

    /* The registry refuses bad function names too. */
    CU_ASSERT_EQUAL(spindle_registry_add(reg, "bad name", NULL, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "'bad name'"));
    CU_ASSERT_EQUAL(spindle_registry_count(reg), registered);
    spindle_registry_free(reg);
    CU_ASSERT_EQUAL(dbsize(), 0);
}

static void test_bad_options(void)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.timeout_s = -5;
    assert_invalid(spindle_enqueue(client, "add", NULL, &o, NULL), "-5");
    CU_ASSERT_EQUAL(dbsize(), 0);
}

/* Back-off below 0 or above SPINDLE_MAX_BACKOFF_MS, max_retries outside -1..1000: refused,
 * single and bulk. */
static void test_bad_retry_options(void)
{
    static const struct {
        long backoff, backoff_max;
        int retries;
        const char *want;
    } bad[] = {
        {-1, 0, -1, "backoff_ms -1"},
        {0, -5, -1, "backoff_max_ms -5"},
        {SPINDLE_MAX_BACKOFF_MS + 1, 0, -1, "backoff_ms"},
        {0, SPINDLE_MAX_BACKOFF_MS + 1, -1, "backoff_max_ms"},
        {0, 0, -2, "max_retries -2"},
        {0, 0, SPINDLE_MAX_RETRIES + 1, "max_retries 1001"},
    };
    static const spindle_task_spec spec = {.func = "add"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spindle_enqueue_options o;
        spindle_enqueue_options_init(&o);
        o.backoff_ms = bad[i].backoff;
        o.backoff_max_ms = bad[i].backoff_max;
        o.max_retries = bad[i].retries;
        assert_invalid(spindle_enqueue(client, "add", NULL, &o, NULL), bad[i].want);
        assert_invalid(spindle_enqueue_bulk(client, &spec, 1, &o, NULL), bad[i].want);
    }
    CU_ASSERT_EQUAL(dbsize(), 0);
}

static void test_bad_args(void)
{
    /* Builder with an open container. */
    spindle_args *a = spindle_args_new();
    spindle_args_array(a, 2);
    spindle_args_int(a, 1);
    spindle_handle *h = NULL;
    assert_invalid(spindle_enqueue(client, "echo", a, NULL, &h), "still open");
    CU_ASSERT_PTR_NULL(h);
    spindle_args_free(a);

    /* Builder in its sticky error state. */
    a = spindle_args_new();
    spindle_args_str(a, NULL);
    CU_ASSERT_NOT_EQUAL(spindle_enqueue(client, "echo", a, NULL, NULL), SPINDLE_OK);
    spindle_args_free(a);

    /* Buffers that are not exactly one msgpack array. */
    static const struct {
        const char *buf;
        size_t len;
    } bad[] = {
        {"\x05", 1},         /* a number */
        {"\x81\x01\x02", 3}, /* a map */
        {"\x92\x01", 2},     /* truncated */
        {"\x91\x01\x01", 3}, /* trailing byte */
        {"\xc1", 1},         /* never used */
        {"\x90\x90", 2},     /* two arrays */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_invalid(spindle_enqueue_msgpack(client, "echo", bad[i].buf, bad[i].len, NULL, NULL),
                       "exactly one msgpack array");
    CU_ASSERT_EQUAL(dbsize(), 0);
}

/* One bad task among 1500 (past the first 1000-task chunk): nothing is enqueued. */
static void test_bulk_all_or_nothing(void)
{
    enum { N = 1500 };
    spindle_task_spec *specs = calloc(N, sizeof(*specs));
    spindle_handle **out = calloc(N, sizeof(*out));
    CU_ASSERT_PTR_NOT_NULL_FATAL(specs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    for (size_t i = 0; i < N; i++)
        specs[i] = (spindle_task_spec){.func = "add", .args = "\x92\x01\x02", .args_len = 3};
    specs[1200].func = "bad func";
    assert_invalid(spindle_enqueue_bulk(client, specs, N, NULL, out), "bad func");
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "task 1200"));
    CU_ASSERT_EQUAL(dbsize(), 0);

    specs[1200].func = "add";
    specs[1300].args = "\x82";
    specs[1300].args_len = 1;
    assert_invalid(spindle_enqueue_bulk(client, specs, N, NULL, out), "task 1300");
    CU_ASSERT_EQUAL(dbsize(), 0);

    specs[1300].args = NULL;
    specs[1300].args_len = 0;
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "no queue";
    assert_invalid(spindle_enqueue_bulk(client, specs, N, &o, out), "'no queue'");
    CU_ASSERT_EQUAL(dbsize(), 0);
    free(specs);
    free(out);
}

int register_invalid_tests(void)
{
    static const test_case tests[] = {
        {"bad queue name", test_bad_queue_name},
        {"bad function name", test_bad_function_name},
        {"bad namespace", test_bad_namespace},
        {"bad URL", test_bad_url},
        {"refused client writes nothing", test_refused_client_writes_nothing},
        {"worker: bad queue and namespace", test_worker_bad_names},
        {"negative timeout", test_bad_options},
        {"back-off and retries out of range", test_bad_retry_options},
        {"bad args", test_bad_args},
        {"bulk: one bad task, nothing enqueued", test_bulk_all_or_nothing},
        {NULL, NULL},
    };
    return add_suite("invalid input (nothing written)", suite_init, suite_cleanup, tests);
}
