/* Task groups (docs/PROTOCOL.md, "Groups"), end to end with forked workers.
 *
 * A 1,000-task map is gathered by name with every value checked; wait-first returns the first
 * member to end and the rest; wait-all runs out and lists the unfinished; results so far
 * exclude what runs; a failing member reports its error; cancel-all ends pending and running
 * members `cancelled` and sets the group's cancel event; the `spindle` binary, another
 * process, shows the same members and states; progress adds up; destroy leaves no key behind
 * (checked with SCAN); the group's keys carry a TTL; names are unique and validated; garbage
 * written into the group's keys by hand gives a clear error; a name whose task was never
 * enqueued is reported "lost at enqueue". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "fleet.h"
#include "spindle/callbacks.h"
#include "spindle/channel.h"
#include "spindle/group.h"
#include "spindle/sync.h"
#include "cli_run.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"groups"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* A worker on the suite's queue with concurrency slots. */
static pid_t worker(int concurrency)
{
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.concurrency = concurrency;
    return harness_worker_fork_opts(NULL, &o);
}

static spindle_enqueue_options on(const char *q)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = q;
    return o;
}

/* Submits func(arg) (arg < 0: no argument) as member name on q; 0 on success. */
static int submit(spindle_group *g, const char *name, const char *q, const char *func, long arg)
{
    spindle_args *a = spindle_args_new();
    if (arg >= 0)
        spindle_args_int(a, arg);
    spindle_enqueue_options o = on(q);
    int rc = spindle_group_submit(client, g, name, func, a, &o, NULL);
    spindle_args_free(a);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  submit %s: %s\n", name, spindle_errstr(client));
    return rc;
}

/* The number of keys matching the pattern (SCAN, so that a big database is not blocked). */
static long count_keys(const char *pattern)
{
    long n = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = harness_cmd("SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r)
                freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        n += (long)r->element[1]->elements;
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return n;
}

/* "NS:{g:NAME}:part" */
static char *gkey(char *buf, size_t cap, const char *g, const char *part)
{
    snprintf(buf, cap, "%s:{g:%s}:%s", harness_ns(), g, part);
    return buf;
}

static int has_name(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* ---- names, TTL, refusals ------------------------------------------------------------- */

static void test_names(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL, *h = NULL;
    const char *const bad[] = {"", "a b", "x{y}", "semi;colon", NULL};
    for (size_t i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(spindle_group_create(client, bad[i], 0, &g), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_group_create(client, "ok", -5, &g), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_group_open(client, "nobody", &g), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "nobody"));

    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, NULL, 0, &g), SPINDLE_OK);
    CU_ASSERT_EQUAL(strlen(spindle_group_name(g)), 36);
    spindle_group_free(g);

    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "crawl-7", 120, &g), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_group_create(client, "crawl-7", 0, &h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "already exists"));
    char key[512];
    long long ttl = harness_int("TTL %s", gkey(key, sizeof(key), "crawl-7", "meta"));
    CU_ASSERT_TRUE(ttl > 100 && ttl <= 120);

    /* Members: unique names, valid names, no TTL 0, no unique key; the check agrees. */
    int avail = 0;
    CU_ASSERT_EQUAL(spindle_group_name_available(client, g, "a", &avail), SPINDLE_OK);
    CU_ASSERT_EQUAL(avail, 1);
    CU_ASSERT_EQUAL(submit(g, "a", "nowhere", "add", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_group_name_available(client, g, "a", &avail), SPINDLE_OK);
    CU_ASSERT_EQUAL(avail, 0);
    spindle_enqueue_options o = on("nowhere");
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "a", "add", NULL, &o, NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "'a' is taken"));
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "b c", "add", NULL, &o, NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_group_name_available(client, g, "{x}", &avail), SPINDLE_ERR_INVALID);
    o.result_ttl_s = 0;
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "z", "add", NULL, &o, NULL),
                    SPINDLE_ERR_INVALID);
    o = on("nowhere");
    o.unique_key = "k";
    o.unique_ttl_s = 10;
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "z", "add", NULL, &o, NULL),
                    SPINDLE_ERR_INVALID);
    /* A map refuses a taken name as a whole: nothing of that chunk is submitted. */
    spindle_args *args[3] = {NULL, NULL, NULL};
    o = on("nowhere");
    CU_ASSERT_EQUAL(spindle_group_map(client, g, "", "add", args, 3, &o), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_group_map(client, g, "", "add", args, 3, &o), SPINDLE_ERR_INVALID);
    char **names = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_group_names(client, g, &names, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 4);
    if (n == 4) {
        CU_ASSERT_STRING_EQUAL(names[0], "a");
        CU_ASSERT_STRING_EQUAL(names[3], "2");
    }
    spindle_group_names_free(names, n);
    /* Every use refreshed the TTL of every key of the group. */
    CU_ASSERT_TRUE(harness_int("TTL %s", gkey(key, sizeof(key), "crawl-7", "names")) > 100);
    CU_ASSERT_TRUE(harness_int("TTL %s", gkey(key, sizeof(key), "crawl-7", "order")) > 100);
    /* The member's task carries the group's name. */
    spindle_handle *m = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_handle(client, g, "a", &m), SPINDLE_OK);
    char *field = fleet_field(m, "group");
    CU_ASSERT_STRING_EQUAL(field ? field : "", "crawl-7");
    free(field);
    spindle_handle_free(m);
    CU_ASSERT_EQUAL(spindle_group_handle(client, g, "nope", &m), SPINDLE_ERR_NOT_FOUND);
    spindle_group_free(g);

    /* A synchronous client has no groups. */
    spindle_registry *reg = spindle_registry_new();
    spindle_client *sc = reg ? spindle_client_new_sync(reg) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(spindle_group_create(sc, "s", 0, &g), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(sc), "groups need Redis"));
    spindle_client_free(sc);
    spindle_registry_free(reg);
}

/* ---- a map of 1,000 ------------------------------------------------------------------- */

static void test_map(void)
{
    enum { N = 1000 };
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "squares", 0, &g), SPINDLE_OK);
    spindle_args **args = calloc(N, sizeof(*args));
    CU_ASSERT_PTR_NOT_NULL_FATAL(args);
    for (long i = 0; i < N; i++) {
        args[i] = spindle_args_new();
        spindle_args_int(args[i], i);
        spindle_args_int(args[i], i * i);
    }
    spindle_enqueue_options o = on(queue[0]);
    CU_ASSERT_EQUAL(spindle_group_map(client, g, "sq", "add", args, N, &o), SPINDLE_OK);
    for (long i = 0; i < N; i++)
        spindle_args_free(args[i]);
    free(args);
    pid_t w = worker(2);
    CU_ASSERT_FATAL(w > 0);
    spindle_group_wait_result wr;
    int rc =
        spindle_group_wait(client, g, SPINDLE_WAIT_ALL, harness_scaled_ms(HARNESS_WAIT_MS), &wr);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_EQUAL(wr.nfinished, N);
    CU_ASSERT_EQUAL(wr.nunfinished, 0);
    spindle_group_wait_clear(&wr);

    spindle_group_result *r = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, N);
    int good = 0;
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof(want), "sq%zu", i);
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        long long v = -1;
        if (r[i].ok && r[i].value &&
            msgpack_unpack_next(&u, r[i].value, r[i].value_len, NULL) == MSGPACK_UNPACK_SUCCESS &&
            u.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            v = (long long)u.data.via.u64;
        msgpack_unpacked_destroy(&u);
        good += strcmp(r[i].name, want) == 0 && r[i].state == SPINDLE_STATE_SUCCEEDED &&
                v == (long long)i + (long long)i * (long long)i && r[i].error == NULL;
    }
    CU_ASSERT_EQUAL(good, N);
    spindle_group_results_free(r, n);
    spindle_group_free(g);
}

/* ---- wait first, wait all, results so far, failures, cancel --------------------------- */

static void test_wait_first_and_cancel(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "race", 0, &g), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "slow", queue[0], "sleep_ms", 60000), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "fast", queue[0], "sleep_ms", 10), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "idle", "unserved", "sleep_ms", 10), SPINDLE_OK);
    spindle_group_wait_result w;
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ANY, 0, &w), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(w.nfinished, 0);
    CU_ASSERT_EQUAL(w.nunfinished, 3);
    spindle_group_wait_clear(&w);
    CU_ASSERT_FATAL(worker(2) > 0);

    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(
        spindle_group_wait(client, g, SPINDLE_WAIT_ANY, harness_scaled_ms(HARNESS_WAIT_MS), &w),
        SPINDLE_OK);
    CU_ASSERT_EQUAL(w.nfinished, 1);
    CU_ASSERT_TRUE(w.nfinished == 1 && strcmp(w.finished[0], "fast") == 0);
    CU_ASSERT_EQUAL(w.nunfinished, 2);
    CU_ASSERT_TRUE(w.nunfinished == 2 && strcmp(w.unfinished[0], "slow") == 0 &&
                   strcmp(w.unfinished[1], "idle") == 0);
    spindle_group_wait_clear(&w);
    CU_ASSERT_TRUE(harness_ms() - t0 < harness_scaled_ms(5000));

    t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, 300, &w), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_TRUE(harness_ms() - t0 >= 290);
    CU_ASSERT_EQUAL(w.nfinished, 1);
    CU_ASSERT_TRUE(w.nunfinished == 2 && has_name(w.unfinished, 2, "slow") &&
                   has_name(w.unfinished, 2, "idle"));
    spindle_group_wait_clear(&w);

    spindle_group_result *r = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 1, &r, &n), SPINDLE_OK);
    CU_ASSERT_TRUE(n == 1 && strcmp(r[0].name, "fast") == 0 && r[0].ok);
    spindle_group_results_free(r, n);
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_OK);
    CU_ASSERT_TRUE(n == 3 && !r[0].ok && r[0].value == NULL && r[0].error == NULL);
    spindle_group_results_free(r, n);

    /* Cancel all: the pending one at once, the running one asked; the event is set. */
    spindle_handle *slow = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_handle(client, g, "slow", &slow), SPINDLE_OK);
    CU_ASSERT_EQUAL(fleet_wait_state(slow, "running", HARNESS_WAIT_MS), 0);
    size_t cancelled = 0, requested = 0;
    CU_ASSERT_EQUAL(spindle_group_cancel(client, g, -1, 1, &cancelled, &requested), SPINDLE_OK);
    CU_ASSERT_EQUAL(cancelled, 1);
    CU_ASSERT_EQUAL(requested, 1);
    int set = 0;
    CU_ASSERT_EQUAL(spindle_channel_event(client, spindle_channel_of_group("race"), &set),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 1);
    CU_ASSERT_EQUAL(
        spindle_group_wait(client, g, SPINDLE_WAIT_ALL, harness_scaled_ms(HARNESS_WAIT_MS), &w),
        SPINDLE_OK);
    spindle_group_wait_clear(&w);
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 1, &r, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 3);
    for (size_t i = 0; n == 3 && i < 3; i += 2) {
        CU_ASSERT_EQUAL(r[i].state, SPINDLE_STATE_CANCELLED);
        CU_ASSERT_FALSE(r[i].ok);
    }
    if (n == 3) {
        CU_ASSERT_STRING_EQUAL(r[0].name, "slow");
        CU_ASSERT_TRUE(r[0].error && strstr(r[0].error, "cancelled while running"));
        CU_ASSERT_STRING_EQUAL(r[2].error ? r[2].error : "", "cancelled before it started");
    }
    spindle_group_results_free(r, n);
    spindle_handle_free(slow);
    spindle_group_free(g);
}

static void test_failing_member(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "mixed", 0, &g), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "good", queue[0], "sleep_ms", 5), SPINDLE_OK);
    spindle_args *a = spindle_args_new();
    spindle_args_str(a, "boom at step 3");
    spindle_enqueue_options o = on(queue[0]);
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "bad", "fail", a, &o, NULL), SPINDLE_OK);
    spindle_args_free(a);
    CU_ASSERT_FATAL(worker(1) > 0);
    spindle_group_wait_result w;
    CU_ASSERT_EQUAL(
        spindle_group_wait(client, g, SPINDLE_WAIT_ALL, harness_scaled_ms(HARNESS_WAIT_MS), &w),
        SPINDLE_OK);
    spindle_group_wait_clear(&w);
    spindle_group_result *r = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_TRUE(r[0].ok && r[0].value_len == 1 && (unsigned char)r[0].value[0] == 5);
    CU_ASSERT_FALSE(r[1].ok);
    CU_ASSERT_EQUAL(r[1].state, SPINDLE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(r[1].error ? r[1].error : "", "boom at step 3");
    CU_ASSERT_PTR_NULL(r[1].value);
    spindle_group_results_free(r, n);
    spindle_group_free(g);
}

/* ---- another process, progress ----------------------------------------------------------- */

static void test_other_process_and_progress(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "shared", 0, &g), SPINDLE_OK);
    long a4[] = {4, 10}, a6[] = {6, 10};
    spindle_args *x = spindle_args_new(), *y = spindle_args_new();
    spindle_args_int(x, a4[0]);
    spindle_args_int(x, a4[1]);
    spindle_args_int(y, a6[0]);
    spindle_args_int(y, a6[1]);
    spindle_enqueue_options o = on(queue[0]);
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "four", "progress_steps", x, &o, NULL),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "six", "progress_steps", y, &o, NULL),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "parked", "unserved", "add", 1), SPINDLE_OK);
    spindle_args_free(x);
    spindle_args_free(y);
    spindle_progress p;
    CU_ASSERT_EQUAL(spindle_group_progress(client, g, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 0);
    CU_ASSERT_FATAL(worker(2) > 0);
    spindle_handle *h4 = NULL, *h6 = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_handle(client, g, "four", &h4), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(spindle_group_handle(client, g, "six", &h6), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h4, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(spindle_wait(client, h6, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(spindle_group_progress(client, g, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 10);
    CU_ASSERT_EQUAL(p.total, 10);
    CU_ASSERT_TRUE(p.seq >= 2 && p.updated_at_ms > 0);

    /* The spindle binary opens the group by name and sees the same members and states. */
    harness_output out = cli_run("group", "show", "shared", NULL);
    CU_ASSERT_EQUAL(out.code, 0);
    const char *four = strstr(out.out, "four"), *six = strstr(out.out, "six"),
               *parked = strstr(out.out, "parked");
    CU_ASSERT_TRUE(four && six && parked && four < six && six < parked);
    CU_ASSERT_EQUAL(fleet_count(out.out, "succeeded"), 2);
    CU_ASSERT_EQUAL(fleet_count(out.out, "pending"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, spindle_handle_id(h6)));
    harness_output_free(&out);
    out = cli_run("group", "show", "shared", "--json", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "\"name\":\"parked\",\"state\":\"pending\""));
    harness_output_free(&out);
    out = cli_run("group", "wait", "shared", "--timeout", "0.2", NULL);
    CU_ASSERT_EQUAL(out.code, 6);
    CU_ASSERT_STRING_EQUAL(out.out, "four\nsix\n");
    harness_output_free(&out);
    out = cli_run("group", "show", "absent", NULL);
    CU_ASSERT_EQUAL(out.code, 3);
    harness_output_free(&out);
    out = cli_run("group", "show", "a{b}", NULL);
    CU_ASSERT_EQUAL(out.code, 2);
    harness_output_free(&out);
    out = cli_run("group", "cancel", "shared", NULL);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_STRING_EQUAL(out.out, "cancelled 1, asked 0 running to stop\n");
    harness_output_free(&out);
    out = cli_run("group", "destroy", "shared", NULL);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL(spindle_group_open(client, "shared", &g) == SPINDLE_ERR_NOT_FOUND, 1);
    spindle_handle_free(h4);
    spindle_handle_free(h6);
    spindle_group_free(g);
}

/* ---- destroy ------------------------------------------------------------------------------- */

static void test_destroy(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "gone", 0, &g), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "done1", queue[0], "add", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "done2", queue[0], "add", 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "waiting", "unserved", "add", 3), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_create(client, spindle_channel_of_group("gone"), NULL),
                    SPINDLE_OK);
    /* A task outside the group on the same queue stays. */
    spindle_handle *other = fleet_enqueue(client, queue[0], "add", 7, -1, 0);
    CU_ASSERT_FATAL(worker(1) > 0);
    const char *const served[] = {"done1", "done2"};
    for (int i = 0; i < 2; i++) { /* the two served members end (however slow the machine) */
        spindle_handle *h = NULL;
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_group_handle(client, g, served[i], &h), SPINDLE_OK);
        CU_ASSERT_EQUAL(h ? spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r) : -1,
                        SPINDLE_OK);
        spindle_result_free(r);
        spindle_handle_free(h);
    }
    spindle_group_wait_result w;
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, 100, &w), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(w.nfinished, 2);
    spindle_group_wait_clear(&w);
    char pattern[256];
    snprintf(pattern, sizeof(pattern), "%s:{g:gone}:*", harness_ns());
    CU_ASSERT_EQUAL(count_keys(pattern), 4); /* meta, names, order and the channel's meta */
    snprintf(pattern, sizeof(pattern), "%s:*gdone:gone", harness_ns());
    CU_ASSERT_EQUAL(count_keys(pattern), 1);

    CU_ASSERT_EQUAL(spindle_group_destroy(client, g), SPINDLE_OK);
    snprintf(pattern, sizeof(pattern), "%s:{g:gone}*", harness_ns());
    CU_ASSERT_EQUAL(count_keys(pattern), 0);
    snprintf(pattern, sizeof(pattern), "%s:*gdone*", harness_ns());
    CU_ASSERT_EQUAL(count_keys(pattern), 0);
    snprintf(pattern, sizeof(pattern), "%s:{*}:task:*", harness_ns());
    CU_ASSERT_EQUAL(count_keys(pattern), 1); /* only the task outside the group */
    char *st = other ? fleet_field(other, "state") : NULL;
    CU_ASSERT_STRING_EQUAL(st ? st : "", "succeeded");
    free(st);
    CU_ASSERT_EQUAL(spindle_group_destroy(client, g), SPINDLE_ERR_NOT_FOUND);
    spindle_group_wait_result w2;
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, 0, &w2), SPINDLE_ERR_NOT_FOUND);
    spindle_handle_free(other);
    spindle_group_free(g);
}

/* ---- damage -------------------------------------------------------------------------------- */

static void test_garbage(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "junk", 0, &g), SPINDLE_OK);
    char names[512], order[512], meta[512], ghost[SPINDLE_ID_LEN + 1];
    gkey(names, sizeof(names), "junk", "names");
    gkey(order, sizeof(order), "junk", "order");
    gkey(meta, sizeof(meta), "junk", "meta");

    /* A name whose task never existed: lost at enqueue. */
    spindle_id_new(ghost);
    char ref[256];
    snprintf(ref, sizeof(ref), "%sgroups", ghost);
    freeReplyObject(harness_cmd("HSET %s ghost %s", names, ref));
    freeReplyObject(harness_cmd("RPUSH %s ghost", order));
    /* It may be a submit between its two steps: not ended at first sight, nor "done"... */
    spindle_group_wait_result w;
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, 300, &w), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(w.nunfinished, 1);
    spindle_group_wait_clear(&w);
    spindle_group_result *r = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 1, &r, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 0);
    spindle_group_results_free(r, n);
    /* ...but still missing 2 s later it has ended, failed. */
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, harness_scaled_ms(6000), &w),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(w.nfinished, 1);
    CU_ASSERT_TRUE(harness_ms() - t0 >= 1900);
    spindle_group_wait_clear(&w);
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_OK);
    CU_ASSERT_TRUE(n == 1 && !r[0].ok && r[0].state == SPINDLE_STATE_FAILED && r[0].error &&
                   strstr(r[0].error, "lost at enqueue"));
    spindle_group_results_free(r, n);

    /* A malformed ref, a name without a ref, a bad ttl, keys of the wrong type. */
    freeReplyObject(harness_cmd("HSET %s ghost not-a-ref", names));
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "malformed task ref"));
    freeReplyObject(harness_cmd("HDEL %s ghost", names));
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, 0, &w), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "has no task ref"));
    freeReplyObject(harness_cmd("DEL %s", order));
    freeReplyObject(harness_cmd("HSET %s ttl soon", meta));
    spindle_group *again = NULL;
    CU_ASSERT_EQUAL(spindle_group_open(client, "junk", &again), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "field ttl"));
    freeReplyObject(harness_cmd("HSET %s ttl 100", meta));
    freeReplyObject(harness_cmd("DEL %s", names));
    freeReplyObject(harness_cmd("SET %s x", names));
    int avail = 0;
    CU_ASSERT_EQUAL(spindle_group_name_available(client, g, "x", &avail), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "holds a string, not a hash"));
    CU_ASSERT_EQUAL(submit(g, "x", queue[0], "add", 1), SPINDLE_ERR_REDIS);
    CU_ASSERT_EQUAL(harness_int("LLEN %s:{%s}:pending", harness_ns(), queue[0]), 0);
    freeReplyObject(harness_cmd("DEL %s", names));
    /* A member's task key of the wrong type, and an end stream of the wrong type. */
    CU_ASSERT_EQUAL(submit(g, "m", queue[0], "add", 1), SPINDLE_OK);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_handle(client, g, "m", &h), SPINDLE_OK);
    char tk[512];
    freeReplyObject(harness_cmd("DEL %s", harness_task_key(tk, sizeof(tk), h)));
    freeReplyObject(harness_cmd("SET %s x", tk));
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "is not a hash"));
    freeReplyObject(harness_cmd("DEL %s", tk));
    freeReplyObject(harness_cmd("SET %s:{%s}:gdone:junk x", harness_ns(), queue[0]));
    CU_ASSERT_EQUAL(spindle_group_wait(client, g, SPINDLE_WAIT_ALL, 0, &w), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "gdone:junk"));
    spindle_handle_free(h);
    spindle_group_free(g);
}

/* ---- members that take other tasks' handles (dependencies) ------------------------------ */

static void test_members_with_handles(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "chained", 0, &g), SPINDLE_OK);
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 1);
    spindle_args_int(a, 2);
    spindle_enqueue_options o = on(queue[0]);
    spindle_handle *first = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_submit(client, g, "first", "add", a, &o, &first),
                          SPINDLE_OK);
    spindle_args_free(a);
    /* post0..post2 = add(first's result, i): they wait for "first" */
    spindle_args *args[3];
    for (int i = 0; i < 3; i++) {
        args[i] = spindle_args_new();
        spindle_args_handle(args[i], first);
        spindle_args_int(args[i], i);
    }
    CU_ASSERT_EQUAL(spindle_group_map(client, g, "post", "add", args, 3, &o), SPINDLE_OK);
    for (int i = 0; i < 3; i++)
        spindle_args_free(args[i]);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_group_handle(client, g, "post1", &h), SPINDLE_OK);
    spindle_task_info info;
    CU_ASSERT_EQUAL(h ? spindle_info(client, h, &info) : -1, SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_WAITING);
    spindle_handle_free(h);

    /* a member depending on an unknown task is refused, and its name is free again */
    spindle_handle *ghost = NULL;
    spindle_enqueue_options elsewhere = on("ghosts");
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", NULL, &elsewhere, &ghost), SPINDLE_OK);
    freeReplyObject(harness_cmd("DEL %s:{ghosts}:task:%s", harness_ns(), spindle_handle_id(ghost)));
    a = spindle_args_new();
    spindle_args_handle(a, ghost);
    CU_ASSERT_EQUAL(spindle_group_submit(client, g, "orphan", "add", a, &o, NULL),
                    SPINDLE_ERR_NOT_FOUND);
    spindle_args_free(a);
    spindle_handle_free(ghost);
    int available = 0;
    CU_ASSERT_EQUAL(spindle_group_name_available(client, g, "orphan", &available), SPINDLE_OK);
    CU_ASSERT_EQUAL(available, 1);

    pid_t w = worker(1);
    CU_ASSERT_FATAL(w > 0);
    spindle_group_wait_result wr;
    CU_ASSERT_EQUAL(
        spindle_group_wait(client, g, SPINDLE_WAIT_ALL, harness_scaled_ms(HARNESS_WAIT_MS), &wr),
        SPINDLE_OK);
    CU_ASSERT_EQUAL(wr.nfinished, 4);
    spindle_group_wait_clear(&wr);
    spindle_group_result *r = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    int good = 0;
    for (size_t i = 1; i < n; i++) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        long long v = -1;
        if (r[i].ok && r[i].value &&
            msgpack_unpack_next(&u, r[i].value, r[i].value_len, NULL) == MSGPACK_UNPACK_SUCCESS &&
            u.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            v = (long long)u.data.via.u64;
        msgpack_unpacked_destroy(&u);
        char want[32];
        snprintf(want, sizeof(want), "post%zu", i - 1);
        good += strcmp(r[i].name, want) == 0 && v == 3 + (long long)(i - 1);
    }
    CU_ASSERT_EQUAL(good, 3);
    spindle_group_results_free(r, n);
    spindle_handle_free(first);
    spindle_group_free(g);
}

/* Redis lost its scripts (SCRIPT FLUSH, a failover): a cancel of many members still ends
 * every one of them, and the connection stays in step for the next call. */
static void test_cancel_after_script_flush(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_group *g = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_group_create(client, "flushed", 0, &g), SPINDLE_OK);
    CU_ASSERT_EQUAL(submit(g, "a", "idle", "add", 1), 0);
    CU_ASSERT_EQUAL(submit(g, "b", "idle", "add", 2), 0);
    CU_ASSERT_EQUAL(submit(g, "c", "idle", "add", 3), 0);
    freeReplyObject(harness_cmd("SCRIPT FLUSH"));
    size_t cancelled = 0, requested = 0;
    CU_ASSERT_EQUAL(spindle_group_cancel(client, g, -1, 0, &cancelled, &requested), SPINDLE_OK);
    CU_ASSERT_EQUAL(cancelled, 3);
    CU_ASSERT_EQUAL(requested, 0);
    spindle_group_result *r = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_group_results(client, g, 0, &r, &n), SPINDLE_OK);
    int ok = n == 3;
    for (size_t i = 0; ok && i < n; i++)
        ok = r[i].state == SPINDLE_STATE_CANCELLED;
    CU_ASSERT_TRUE(ok);
    spindle_group_results_free(r, n);
    spindle_group_free(g);
}

int register_group_tests(void)
{
    static const test_case tests[] = {
        {"names, TTL and refusals", test_names},
        {"a map of 1,000 gathered by name", test_map},
        {"wait first, wait all, results so far, cancel all", test_wait_first_and_cancel},
        {"a failing member: ok flag and error text", test_failing_member},
        {"another process (spindle group) and progress", test_other_process_and_progress},
        {"destroy leaves no key", test_destroy},
        {"garbage in the group's keys", test_garbage},
        {"members that take other tasks' handles", test_members_with_handles},
        {"cancel all after Redis lost its scripts", test_cancel_after_script_flush},
        {NULL, NULL},
    };
    return add_suite("groups", suite_init, suite_cleanup, tests);
}
