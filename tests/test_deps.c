/* Dependencies between tasks (docs/PROTOCOL.md, "Dependencies"), with real workers: chains,
 * fan-in, a diamond, failed and cancelled dependencies with and without run_anyway, a
 * dependency that ended before the enqueue or whose hash is deleted at its success (TTL 0),
 * unknown and expired dependencies refused, cancel of a waiting task, a dependency on another
 * queue, the release done by the settle step itself (the dependent is pending at once, with
 * no worker of its queue running), the audit leaving waiting tasks alone, and the same
 * behaviour on a synchronous client; the index of waiting tasks (NS:{Q}:waiting) through
 * every way in and out of `waiting`, and as `spindle queues` and `spindle list --state
 * waiting` show it. Outcomes are checked through the API and in the task
 * hashes with plain Redis commands.
 *
 * Queues: "deps" is served by the suite's worker when a test starts one; "deps-idle" is never
 * served, so a task there stays where the protocol puts it. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "cli_run.h"
#include "common/deps.h"
#include "common/msgpack_check.h"
#include "fleet.h"
#include "spindle/deps.h"
#include "spindle/sync.h"
#include "suites.h"

static spindle_client *client;
static const char *const served[] = {"deps", "deps-other"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Starts a worker serving "deps" and "deps-other". */
static void start_worker(void)
{
    spindle_worker_options o;
    fleet_options(&o, served, 2);
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);
}

/* A task argument: an integer, or a handle. */
typedef struct arg {
    long v;
    const spindle_handle *h;
} arg;

/* Enqueues func(args…) on queue (anyway: run_anyway); NULL on failure, the message printed. */
static spindle_handle *enq_on(spindle_client *c, const char *queue, const char *func,
                              const arg *args, size_t n, int anyway, long ttl)
{
    spindle_args *a = spindle_args_new();
    for (size_t i = 0; a && i < n; i++) {
        if (args[i].h)
            spindle_args_handle(a, args[i].h);
        else
            spindle_args_int(a, args[i].v);
    }
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    o.run_anyway = anyway;
    o.result_ttl_s = ttl;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(c, func, a, &o, &h);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  enqueue %s: %s\n", func, spindle_errstr(c));
    spindle_args_free(a);
    return h;
}

static spindle_handle *enq(const char *queue, const char *func, const arg *args, size_t n)
{
    return enq_on(client, queue, func, args, n, 0, -1);
}

/* The task's state from its hash ("" if gone). */
static int state_is(const spindle_handle *h, const char *want)
{
    char *s = fleet_field(h, "state");
    int ok = s && strcmp(s, want) == 0;
    if (!ok)
        fprintf(stderr, "\n  task %s: state %s, expected %s\n", spindle_handle_id(h),
                s ? s : "(none)", want);
    free(s);
    return ok;
}

/* Waits for h to succeed with the integer want. */
static void expect_int(spindle_client *c, const spindle_handle *h, long long want)
{
    spindle_result *r = NULL;
    int rc = spindle_wait(c, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    long long got = v && (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                          v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                        ? v->via.i64
                        : -1;
    CU_ASSERT_EQUAL(got, want);
    if (rc != SPINDLE_OK || got != want)
        fprintf(stderr, "\n  %s: rc %d, got %lld, want %lld (%s)\n", spindle_handle_id(h), rc, got,
                want, r && spindle_result_error(r) ? spindle_result_error(r) : "");
    spindle_result_free(r);
}

/* Waits for h to end with rc (failed or cancelled) and an error containing both needles. */
static void expect_error(spindle_client *c, const spindle_handle *h, int want_rc,
                         const char *needle1, const char *needle2)
{
    spindle_result *r = NULL;
    int rc = spindle_wait(c, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, want_rc);
    const char *e = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(e ? strstr(e, needle1) : NULL);
    CU_ASSERT_PTR_NOT_NULL(e && needle2 ? strstr(e, needle2) : e);
    if (rc != want_rc || !e || !strstr(e, needle1) || (needle2 && !strstr(e, needle2)))
        fprintf(stderr, "\n  %s: rc %d (want %d), error '%s', want '%s' and '%s'\n",
                spindle_handle_id(h), rc, want_rc, e ? e : "(none)", needle1,
                needle2 ? needle2 : "");
    spindle_result_free(r);
}

/* The score of h in NS:{queue}:waiting (its enqueued_at), -1 if it is not there. */
static long long waiting_since(const char *queue, const spindle_handle *h)
{
    char key[512];
    redisReply *r = harness_cmd("ZSCORE %s %s", harness_key(key, sizeof(key), queue, "waiting"),
                                spindle_handle_id(h));
    long long v = r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

/* A chain of three, enqueued before any worker runs: the two dependents wait, holding the
 * count of what they wait for; a waiter on the last one blocks until it ends. */
static void test_chain(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps", "add", (arg[]){{1, NULL}, {2, NULL}}, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}, {10, NULL}}, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    spindle_handle *c = enq("deps", "add", (arg[]){{0, b}, {100, NULL}}, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_TRUE(state_is(a, "pending"));
    CU_ASSERT_TRUE(state_is(b, "waiting"));
    CU_ASSERT_TRUE(state_is(c, "waiting"));
    CU_ASSERT_EQUAL(fleet_num(c, "deps", -1), 1);
    CU_ASSERT_TRUE(fleet_in_zset("deps", "waiting", b));
    CU_ASSERT_TRUE(fleet_in_zset("deps", "waiting", c));
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 2);
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, c, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_WAITING);
    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, b, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_WAITING);
    CU_ASSERT_EQUAL(info.deps_waiting, 1);
    CU_ASSERT_EQUAL(info.run_anyway, 0);
    spindle_task_info_clear(&info);
    /* The CLI shows the state and the count. */
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    char *const argv[] = {bin,
                          "--redis",
                          (char *)harness_url(),
                          "--namespace",
                          (char *)harness_ns(),
                          "status",
                          (char *)spindle_handle_id(c),
                          "--queue",
                          "deps",
                          "--verbose",
                          NULL};
    harness_output out = {0};
    CU_ASSERT_EQUAL(harness_run(argv, HARNESS_WAIT_MS, &out), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_TRUE(out.out && strncmp(out.out, "waiting\n", 8) == 0 &&
                   strstr(out.out, "\ndeps: 1\n"));
    harness_output_free(&out);
    /* Only a's id is pending: the dependents are in no list. */
    char key[512];
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), "deps", "pending")), 1);
    /* Retry by id refuses a task that has not ended. */
    CU_ASSERT_EQUAL(spindle_retry(client, c), SPINDLE_ERR_INVALID);
    start_worker();
    expect_int(client, c, 113);
    expect_int(client, b, 13);
    /* The dependents lists are gone with the release. */
    char suffix[128];
    snprintf(suffix, sizeof(suffix), "dependents:%s", spindle_handle_id(a));
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", harness_key(key, sizeof(key), "deps", suffix)), 0);
    CU_ASSERT_TRUE(fleet_absent(a, "dependents"));
    CU_ASSERT_TRUE(fleet_absent(c, "deps"));
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 0);
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(c);
}

/* Fan-in: ten results handed over as one array of handles. */
static void test_fan_in(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    enum { N = 10 };
    spindle_handle *parts[N];
    long want = 0;
    for (int i = 0; i < N; i++) {
        parts[i] = enq("deps", "add", (arg[]){{(long)i * i, NULL}, {1, NULL}}, 2);
        CU_ASSERT_PTR_NOT_NULL_FATAL(parts[i]);
        want += i * i + 1;
    }
    spindle_args *a = spindle_args_new();
    spindle_args_array(a, N);
    for (int i = 0; i < N; i++)
        spindle_args_handle(a, parts[i]);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "deps";
    spindle_handle *sum = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "sum_all", a, &o, &sum), SPINDLE_OK);
    spindle_args_free(a);
    CU_ASSERT_EQUAL(fleet_num(sum, "deps", -1), N);
    start_worker();
    expect_int(client, sum, want);
    for (int i = 0; i < N; i++)
        spindle_handle_free(parts[i]);
    spindle_handle_free(sum);
}

/* A diamond: a feeds b and c, which both feed d; the same handle twice counts once. */
static void test_diamond(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps", "add", (arg[]){{1, NULL}}, 1);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}, {10, NULL}}, 2);
    spindle_handle *c = enq("deps", "add", (arg[]){{0, a}, {100, NULL}, {0, a}}, 3);
    CU_ASSERT_FATAL(a && b && c);
    spindle_handle *d = enq("deps", "add", (arg[]){{0, b}, {0, c}}, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(fleet_num(c, "deps", -1), 1);
    CU_ASSERT_EQUAL(fleet_num(d, "deps", -1), 2);
    start_worker();
    expect_int(client, d, 11 + 102);
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(c);
    spindle_handle_free(d);
}

/* A failed dependency: without run_anyway its dependent and that one's dependent end failed
 * naming the cause, without running; with run_anyway the dependent runs and receives the
 * error in its place. */
static void test_failed_dependency(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_args *fa = spindle_args_new();
    spindle_args_str(fa, "boom");
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "deps";
    spindle_handle *f = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "fail", fa, &o, &f), SPINDLE_OK);
    spindle_args_free(fa);
    spindle_handle *x = enq("deps", "add", (arg[]){{0, f}, {1, NULL}}, 2);
    spindle_handle *y = enq("deps", "add", (arg[]){{0, x}, {1, NULL}}, 2);
    spindle_handle *z = enq_on(client, "deps", "dep_errors", (arg[]){{0, f}, {5, NULL}}, 2, 1, -1);
    CU_ASSERT_FATAL(x && y && z);
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 3);
    start_worker();
    expect_error(client, x, SPINDLE_ERR_TASK_FAILED, "dependency ", spindle_handle_id(f));
    expect_error(client, x, SPINDLE_ERR_TASK_FAILED, "failed: boom", NULL);
    expect_error(client, y, SPINDLE_ERR_TASK_FAILED, spindle_handle_id(x), "boom");
    /* They never ran, and are dead letters like any failure for good. */
    CU_ASSERT_TRUE(fleet_absent(x, "attempts"));
    CU_ASSERT_TRUE(fleet_absent(y, "attempts"));
    CU_ASSERT_TRUE(fleet_in_zset("deps", "dead", y));
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, z, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    /* The cascade f -> x -> y, and z run anyway: none is left in the waiting index. */
    CU_ASSERT_FALSE(fleet_in_zset("deps", "waiting", x));
    CU_ASSERT_FALSE(fleet_in_zset("deps", "waiting", y));
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 0);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_FATAL(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2);
    const msgpack_object *e = &v->via.array.ptr[0];
    CU_ASSERT_TRUE(e->type == MSGPACK_OBJECT_STR && e->via.str.size == 11 &&
                   memcmp(e->via.str.ptr, "error: boom", 11) == 0);
    CU_ASSERT_EQUAL(v->via.array.ptr[1].via.u64, 5);
    spindle_result_free(r);
    spindle_handle_free(f);
    spindle_handle_free(x);
    spindle_handle_free(y);
    spindle_handle_free(z);
}

/* A cancelled dependency (never served): its dependent ends cancelled at once, naming it. */
static void test_cancelled_dependency(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps-idle", "add", (arg[]){{1, NULL}}, 1);
    spindle_handle *b = enq("deps-idle", "add", (arg[]){{0, a}}, 1);
    spindle_handle *c = enq_on(client, "deps-idle", "add", (arg[]){{0, b}}, 1, 1, -1);
    CU_ASSERT_FATAL(a && b && c);
    CU_ASSERT_EQUAL(spindle_cancel(client, a, -1, NULL), SPINDLE_OK);
    /* No worker: the settle of a's cancel released b, whose end released c (run anyway:
     * it is pending now, waiting for a worker). */
    CU_ASSERT_TRUE(state_is(b, "cancelled"));
    expect_error(client, b, SPINDLE_ERR_CANCELLED, spindle_handle_id(a),
                 "cancelled: cancelled before it started");
    CU_ASSERT_TRUE(state_is(c, "pending"));
    CU_ASSERT_EQUAL(fleet_zcard("deps-idle", "waiting"), 0);
    char *out = fleet_field(c, "dep_anyway");
    CU_ASSERT_STRING_EQUAL(out ? out : "", "1");
    free(out);
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(c);
}

/* Dependencies that ended before the enqueue are resolved by it: a success makes the task
 * pending at once, a failure ends it at once. */
static void test_ended_before(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    start_worker();
    spindle_handle *a = enq("deps", "add", (arg[]){{2, NULL}, {3, NULL}}, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    expect_int(client, a, 5);
    spindle_handle *f = enq("deps", "fail", NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, f, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    spindle_result_free(r);
    spindle_handle *b = enq("deps-idle", "add", (arg[]){{0, a}, {1, NULL}}, 2);
    spindle_handle *c = enq("deps-idle", "add", (arg[]){{0, a}, {0, f}}, 2);
    CU_ASSERT_FATAL(b && c);
    CU_ASSERT_TRUE(state_is(b, "pending"));
    char field[64];
    snprintf(field, sizeof(field), "dep:%s", spindle_handle_id(a));
    char *out = fleet_field(b, field);
    /* 's' then the result, msgpack 5. */
    CU_ASSERT_TRUE(out && out[0] == 's' && out[1] == 5 && out[2] == '\0');
    free(out);
    expect_error(client, c, SPINDLE_ERR_TASK_FAILED, spindle_handle_id(f),
                 "failed: fail: asked to fail");
    spindle_handle_free(a);
    spindle_handle_free(f);
    spindle_handle_free(b);
    spindle_handle_free(c);
}

/* A TTL-0 dependency: its hash is deleted at its success, and its result still reaches the
 * dependent. */
static void test_ttl0_dependency(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq_on(client, "deps", "add", (arg[]){{4, NULL}}, 1, 0, 0);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}, {1, NULL}}, 2);
    CU_ASSERT_FATAL(a && b);
    start_worker();
    expect_int(client, b, 5);
    char key[512];
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", harness_task_key(key, sizeof(key), a)), 0);
    spindle_handle_free(a);
    spindle_handle_free(b);
}

/* A ref to an unknown id, or to a task whose hash expired, is refused and nothing is written. */
static void test_refused(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps-idle", "add", (arg[]){{1, NULL}}, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    /* Written by hand, as a producer in another language would: [ref, ref]. */
    const char *ghost = "00000000-0000-4000-8000-00000000dead";
    char buf[256];
    size_t n = 0;
    buf[n++] = (char)0x92;
    const char *ids[2] = {spindle_handle_id(a), ghost};
    for (int i = 0; i < 2; i++) {
        buf[n++] = (char)0xc7;
        buf[n++] = (char)(36 + 9);
        buf[n++] = SPINDLE_EXT_TASK_REF;
        memcpy(buf + n, ids[i], 36);
        memcpy(buf + n + 36, "deps-idle", sizeof("deps-idle") - 1); /* msgpack: no NUL */
        n += 45;
    }
    long long keys = harness_int("DBSIZE");
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "deps";
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(client, "add", buf, n, &o, &h), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(h);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), ghost));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "unknown or expired"));
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), keys); /* NS:queues existed: no key was added */
    CU_ASSERT_TRUE(fleet_absent(a, "dependents"));
    /* Expired: the hash of a is gone. */
    char key[512];
    CU_ASSERT_EQUAL(harness_int("PEXPIRE %s 1", harness_task_key(key, sizeof(key), a)), 1);
    harness_sleep_ms(20);
    CU_ASSERT_PTR_NULL(enq("deps", "add", (arg[]){{0, a}}, 1));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), spindle_handle_id(a)));
    /* A malformed ref is refused before anything is sent. */
    buf[4] = 'X';
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(client, "add", buf, n, &o, NULL), SPINDLE_ERR_INVALID);
    /* Bulk enqueue refuses dependencies. */
    spindle_task_spec spec = {.func = "add", .args = buf, .args_len = n};
    CU_ASSERT_EQUAL(spindle_enqueue_bulk(client, &spec, 1, &o, NULL), SPINDLE_ERR_INVALID);
    spindle_handle_free(a);
}

/* Cancel of a waiting task ends it at once and its dependents with it; its own dependency
 * ending later changes nothing. */
static void test_cancel_waiting(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps", "add", (arg[]){{1, NULL}}, 1);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}}, 1);
    spindle_handle *c = enq("deps", "add", (arg[]){{0, b}}, 1);
    CU_ASSERT_FATAL(a && b && c);
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 2);
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_cancel(client, b, -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_CANCELLED);
    CU_ASSERT_TRUE(state_is(c, "cancelled"));
    /* b by its cancel, c by the release that ended it. */
    CU_ASSERT_FALSE(fleet_in_zset("deps", "waiting", b));
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 0);
    expect_error(client, c, SPINDLE_ERR_CANCELLED, spindle_handle_id(b), NULL);
    start_worker();
    expect_int(client, a, 1);
    CU_ASSERT_TRUE(state_is(b, "cancelled"));
    CU_ASSERT_TRUE(fleet_absent(b, "attempts"));
    /* b never received a's result: a retry would run it without; it is refused. */
    CU_ASSERT_EQUAL(spindle_retry(client, b), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "enqueue it again"));
    CU_ASSERT_TRUE(state_is(b, "cancelled"));
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(c);
}

/* A dependency on another queue, and the release done by the step that ends it: the
 * dependent, on a queue no worker serves, is pending the moment its last dependency has
 * ended, and on its queue's pending list. */
static void test_other_queue_release(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps-other", "add", (arg[]){{7, NULL}}, 1);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}, {1, NULL}}, 2);
    spindle_handle *idle = enq("deps-idle", "add", (arg[]){{0, a}, {0, b}}, 2);
    CU_ASSERT_FATAL(a && b && idle);
    start_worker();
    expect_int(client, b, 8);
    CU_ASSERT_TRUE(state_is(idle, "pending"));
    char key[512];
    redisReply *r = harness_cmd("LPOS %s %s", harness_key(key, sizeof(key), "deps-idle", "pending"),
                                spindle_handle_id(idle));
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_TRUE(fleet_absent(idle, "deps"));
    /* Served now: it runs with both results. */
    const char *const q[] = {"deps-idle"};
    spindle_worker_options o;
    fleet_options(&o, q, 1);
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);
    expect_int(client, idle, 15);
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(idle);
}

/* The words of the table line of `spindle ARGS…` that starts with prefix, into w (max 8);
 * their count, 0 if no such line. out keeps the text w points into. */
static int cli_row(harness_output *out, const char *prefix, char *line, size_t cap, char **w)
{
    if (out->code != 0 || !cli_line_starting(out->out, prefix, line, cap))
        return 0;
    return cli_split_words(line, w, 8);
}

/* What an operator sees of waiting tasks: `spindle queues` counts them (text and JSON),
 * `spindle list --state waiting` pages them longest waiting first with the count of open
 * dependencies and since when they wait, a task whose hash is gone shows as (gone) and the
 * listing does not remove it; once the dependency ends they leave the index. */
static void test_waiting_listed(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    /* Scores are ms (ties go by id): a few ms apart, so the order is the enqueue order. */
    spindle_handle *a = enq("deps", "add", (arg[]){{1, NULL}}, 1);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}, {10, NULL}}, 2);
    harness_sleep_ms(3);
    spindle_handle *c = enq("deps", "add", (arg[]){{0, a}, {0, b}}, 2);
    harness_sleep_ms(3);
    spindle_handle *gone = enq("deps", "add", (arg[]){{0, a}}, 1);
    CU_ASSERT_FATAL(a && b && c && gone);
    char key[512], suffix[128], line[512], *w[8];
    snprintf(suffix, sizeof(suffix), "task:%s", spindle_handle_id(gone));
    CU_ASSERT_EQUAL(harness_int("DEL %s", harness_key(key, sizeof(key), "deps", suffix)), 1);

    harness_output o = cli_run("queues", NULL);
    CU_ASSERT_EQUAL(cli_row(&o, "QUEUE ", line, sizeof(line), w), 7);
    CU_ASSERT_STRING_EQUAL(w[2], "WAITING");
    CU_ASSERT_EQUAL_FATAL(cli_row(&o, "deps ", line, sizeof(line), w), 7);
    CU_ASSERT_STRING_EQUAL(w[1], "1"); /* a, pending */
    CU_ASSERT_STRING_EQUAL(w[2], "3"); /* b, c and the one whose hash is gone */
    harness_output_free(&o);
    o = cli_run("queues", "--json", NULL);
    json_t *arr = json_loads(o.out, 0, NULL), *e, *deps = NULL;
    size_t i;
    json_array_foreach(arr, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "queue")), "deps") == 0)
            deps = e;
    }
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(deps, "waiting")), 3);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(deps, "pending")), 1);
    json_decref(arr);
    harness_output_free(&o);

    /* The table, oldest first: b waits for a, c for a and b, the gone one's row says so. */
    o = cli_run("list", "deps", "--state", "waiting", NULL);
    CU_ASSERT_EQUAL(cli_row(&o, "ID ", line, sizeof(line), w), 6);
    CU_ASSERT_STRING_EQUAL(w[3], "WAITING_SINCE");
    CU_ASSERT_STRING_EQUAL(w[4], "DEPS");
    const char *bid = spindle_handle_id(b), *cid = spindle_handle_id(c);
    const char *gid = spindle_handle_id(gone);
    char *pb = strstr(o.out, bid), *pc = strstr(o.out, cid), *pg = strstr(o.out, gid);
    CU_ASSERT_TRUE(pb && pc && pg && pb < pc && pc < pg);
    int n = cli_row(&o, cid, line, sizeof(line), w);
    CU_ASSERT_TRUE(n >= 6 && strcmp(w[2], "waiting") == 0 && strcmp(w[n - 2], "2") == 0);
    n = cli_row(&o, gid, line, sizeof(line), w);
    CU_ASSERT_TRUE(n >= 3 && strcmp(w[2], "(gone)") == 0);
    harness_output_free(&o);

    /* JSON, one per page: the cursor walks the index by score. */
    o = cli_run("list", "deps", "--state", "waiting", "--limit", "1", "--cursor", "1", "--json",
                NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *j = json_loads(o.out, 0, NULL);
    json_t *t = json_array_get(json_object_get(j, "tasks"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "id")), cid);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "state")), "waiting");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "deps")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "waiting_since")),
                    fleet_num(c, "enqueued_at", -2));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "next")), "2");
    json_decref(j);
    harness_output_free(&o);
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 3); /* the listing did not write */

    /* inspect says what c waits for: the task refs of its args, decoded. */
    o = cli_run("inspect", cid, "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    j = json_loads(o.out, 0, NULL);
    json_t *args = json_object_get(j, "args");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(args, 0), "$task")),
                           spindle_handle_id(a));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(args, 1), "$task")),
                           bid);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(args, 1), "queue")),
                           "deps");
    json_decref(j);
    harness_output_free(&o);

    /* a ends: b is released (c still waits for b), and the stale entry is dropped. */
    const char *const q[] = {"deps"};
    spindle_worker_options wo;
    fleet_options(&wo, q, 1);
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &wo) > 0);
    expect_int(client, c, 1 + 11);
    CU_ASSERT_EQUAL(fleet_zcard("deps", "waiting"), 0);
    o = cli_run("list", "deps", "--state", "waiting", "--json", NULL);
    j = json_loads(o.out, 0, NULL);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
    harness_output_free(&o);
    o = cli_run("queues", NULL);
    CU_ASSERT_EQUAL_FATAL(cli_row(&o, "deps ", line, sizeof(line), w), 7);
    CU_ASSERT_STRING_EQUAL(w[2], "0");
    harness_output_free(&o);
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(c);
    spindle_handle_free(gone);
}

/* The consistency audit leaves a waiting task alone (it is in no list on purpose), and puts it
 * back in the waiting index if it is missing there. */
static void test_audit_keeps_waiting(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *a = enq("deps-idle", "add", (arg[]){{1, NULL}}, 1);
    spindle_handle *b = enq("deps", "add", (arg[]){{0, a}}, 1);
    CU_ASSERT_FATAL(a && b);
    /* Out of the index (by hand, or enqueued before the index existed): the audit puts it
     * back, scored by its enqueued_at. */
    char key[512];
    CU_ASSERT_EQUAL(harness_int("ZREM %s %s", harness_key(key, sizeof(key), "deps", "waiting"),
                                spindle_handle_id(b)),
                    1);
    spindle_worker_options o;
    fleet_options(&o, served, 2);
    o.sweep_interval_ms = 20; /* audits every 20th sweep: every 0.4 s */
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);
    harness_sleep_ms(harness_scaled_ms(1200));
    CU_ASSERT_TRUE(state_is(b, "waiting"));
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), "deps", "pending")), 0);
    CU_ASSERT_EQUAL(waiting_since("deps", b), fleet_num(b, "enqueued_at", -1));
    spindle_handle_free(a);
    spindle_handle_free(b);
}

/* A synchronous client: dependencies have always ended at enqueue, so the refs are replaced
 * at once; a failed one ends the dependent at once; an unknown one is refused. */
static void test_sync(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL_FATAL(fixture_register_tasks(reg), SPINDLE_OK);
    spindle_client *c = spindle_client_new_sync(reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    spindle_handle *a = enq_on(c, "deps", "add", (arg[]){{1, NULL}, {2, NULL}}, 2, 0, -1);
    spindle_handle *b = enq_on(c, "deps", "add", (arg[]){{0, a}, {10, NULL}}, 2, 0, -1);
    CU_ASSERT_FATAL(a && b);
    expect_int(c, b, 13);
    spindle_handle *f = enq_on(c, "deps", "fail", NULL, 0, 0, -1);
    spindle_handle *x = enq_on(c, "deps", "add", (arg[]){{0, f}}, 1, 0, -1);
    spindle_handle *y = enq_on(c, "deps", "dep_errors", (arg[]){{0, f}, {0, a}}, 2, 1, -1);
    CU_ASSERT_FATAL(f && x && y);
    expect_error(c, x, SPINDLE_ERR_TASK_FAILED, spindle_handle_id(f), "asked to fail");
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, y, 0, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_FATAL(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2);
    CU_ASSERT_EQUAL(v->via.array.ptr[0].type, MSGPACK_OBJECT_STR);
    CU_ASSERT_EQUAL(v->via.array.ptr[1].via.u64, 3);
    spindle_result_free(r);
    /* A handle of another client is unknown here. */
    spindle_handle *ghost = enq("deps-idle", "add", (arg[]){{1, NULL}}, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ghost);
    CU_ASSERT_PTR_NULL(enq_on(c, "deps", "add", (arg[]){{0, ghost}}, 1, 0, -1));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), spindle_handle_id(ghost)));
    spindle_handle_free(ghost);
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(f);
    spindle_handle_free(x);
    spindle_handle_free(y);
    spindle_client_free(c);
    spindle_registry_free(reg);
}

/* Without a server: refs found by the args check and collected, and the substitution. */
static void test_pure(void)
{
    const char *id = "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87";
    char ref[64];
    snprintf(ref, sizeof(ref), "%sq", id);
    /* [1, {"k": REF}] packed by hand. */
    char buf[128];
    size_t n = 0;
    buf[n++] = (char)0x92;
    buf[n++] = 1;
    buf[n++] = (char)0x81;
    buf[n++] = (char)0xa1;
    buf[n++] = 'k';
    buf[n++] = (char)0xc7;
    buf[n++] = 37;
    buf[n++] = SPINDLE_EXT_TASK_REF;
    memcpy(buf + n, ref, 37);
    n += 37;
    int refs = -1;
    CU_ASSERT_PTR_NULL(spindle_msgpack_check_refs(buf, n, SPINDLE_MSGPACK_MAX_DEPTH, &refs));
    CU_ASSERT_EQUAL(refs, 1);
    CU_ASSERT_PTR_NULL(spindle_msgpack_check_refs("\x92\x01\x02", 3, 8, &refs));
    CU_ASSERT_EQUAL(refs, 0);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 1024);
    msgpack_object o, out;
    size_t off = 0;
    CU_ASSERT_EQUAL_FATAL(msgpack_unpack(buf, n, &off, &zone, &o), MSGPACK_UNPACK_SUCCESS);
    spindle_dep_ref *list = NULL;
    size_t nrefs = 0;
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_deps_collect(&o, &list, &nrefs, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(nrefs, 1);
    CU_ASSERT_STRING_EQUAL(list[0].id, id);
    CU_ASSERT_STRING_EQUAL(list[0].queue, "q");
    spindle_dep_outcome oc = {'s', "\x2a", 1};
    CU_ASSERT_EQUAL(spindle_deps_substitute(&o, list, &oc, 1, 0, &zone, &out, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(out.via.array.ptr[1].via.map.ptr[0].val.via.u64, 42);
    /* The input is unchanged. */
    CU_ASSERT_EQUAL(o.via.array.ptr[1].via.map.ptr[0].val.type, MSGPACK_OBJECT_EXT);
    oc = (spindle_dep_outcome){'f', "bad", 3};
    CU_ASSERT_EQUAL(spindle_deps_substitute(&o, list, &oc, 1, 0, &zone, &out, &err),
                    SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "failed: bad"));
    CU_ASSERT_EQUAL(spindle_deps_substitute(&o, list, &oc, 1, 1, &zone, &out, &err), SPINDLE_OK);
    const char *msg = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(spindle_arg_dep_error(&out.via.array.ptr[1].via.map.ptr[0].val, &msg, &len), 1);
    CU_ASSERT_TRUE(len == 3 && memcmp(msg, "bad", 3) == 0);
    CU_ASSERT_EQUAL(spindle_arg_dep_error(&out.via.array.ptr[0], &msg, &len), 0);
    oc = (spindle_dep_outcome){0, NULL, 0};
    CU_ASSERT_EQUAL(spindle_deps_substitute(&o, list, &oc, 1, 1, &zone, &out, &err),
                    SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "has not ended"));
    free(list);
    /* A ref with a bad queue name. */
    buf[n - 1] = '{';
    off = 0;
    CU_ASSERT_EQUAL_FATAL(msgpack_unpack(buf, n, &off, &zone, &o), MSGPACK_UNPACK_SUCCESS);
    CU_ASSERT_EQUAL(spindle_deps_collect(&o, &list, &nrefs, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(list);
    msgpack_zone_destroy(&zone);
}

int register_deps_tests(void)
{
    static const test_case tests[] = {
        {"refs found by the args check, collected and replaced (no server)", test_pure},
        {"a chain of three, enqueued before any worker", test_chain},
        {"fan-in: ten results as an array of handles", test_fan_in},
        {"a diamond", test_diamond},
        {"a failed dependency, without and with run_anyway", test_failed_dependency},
        {"a cancelled dependency", test_cancelled_dependency},
        {"dependencies that ended before the enqueue", test_ended_before},
        {"a TTL-0 dependency still hands its result over", test_ttl0_dependency},
        {"unknown and expired dependencies are refused", test_refused},
        {"cancel of a waiting task", test_cancel_waiting},
        {"another queue; pending at once with no worker of its queue", test_other_queue_release},
        {"the audit leaves waiting tasks alone", test_audit_keeps_waiting},
        {"waiting tasks in spindle queues and list --state waiting", test_waiting_listed},
        {"synchronous client", test_sync},
        {NULL, NULL},
    };
    return add_suite("dependencies", suite_init, suite_cleanup, tests);
}
