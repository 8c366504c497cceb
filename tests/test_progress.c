/* Progress reports (include/spindle/progress.h) with a forked worker whose progress interval
 * is PROGRESS_INTERVAL_MS: the last report is stored and read through the handle (and in the
 * raw hash fields of docs/PROTOCOL.md); a task reporting from a tight loop costs Redis at
 * most one write per interval (progress_seq counts them) and its last report is the one
 * stored; spindle_wait_progress() calls back with increasing values and then returns the
 * result, or times out like spindle_wait(); negative values are refused and the task goes on;
 * a write by an attempt that no longer owns its task is refused by the fence and leaves the
 * hash alone; a cancel request in the hash is answered by the next written report, which sets
 * the task's cancel flag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "harness.h"
#include "spindle/progress.h"
#include "suites.h"

#define QUEUE "progress.q"
/* The worker's coalescing interval: short, so that the tests are quick. */
#define PROGRESS_INTERVAL_MS 50

static spindle_client *client;

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    static const char *const queues[] = {QUEUE};
    spindle_worker_options o;
    fleet_options(&o, queues, 1);
    o.progress_interval_ms = PROGRESS_INTERVAL_MS;
    return client && harness_worker_fork_opts(NULL, &o) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static spindle_handle *enqueue(const char *func, const long *args, size_t n)
{
    return fleet_enqueue_args(client, QUEUE, func, args, n, -1, 0);
}

/* Waits for the result of h and returns it as an integer (-1 if the wait failed). */
static long long result_int(const spindle_handle *h)
{
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  wait: %s\n", spindle_errstr(client));
    long long v = rc == SPINDLE_OK ? (long long)spindle_result_value(r)->via.i64 : -1;
    spindle_result_free(r);
    return v;
}

static void test_final_report_read_by_handle(void)
{
    const long args[] = {5, 10};
    spindle_handle *h = enqueue("progress_steps", args, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(result_int(h), 5);
    spindle_progress p;
    CU_ASSERT_EQUAL_FATAL(spindle_progress_get(client, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 5);
    CU_ASSERT_EQUAL(p.total, 5);
    CU_ASSERT_STRING_EQUAL(p.message, "step 5");
    CU_ASSERT_TRUE(p.seq >= 1 && p.seq <= 5);
    CU_ASSERT_TRUE(p.updated_at_ms > 0);
    /* The layout of docs/PROTOCOL.md, read with plain commands. */
    char *done = fleet_field(h, "progress_done"), *msg = fleet_field(h, "progress_msg");
    CU_ASSERT_STRING_EQUAL(done ? done : "", "5");
    CU_ASSERT_STRING_EQUAL(msg ? msg : "", "step 5");
    CU_ASSERT_EQUAL(fleet_num(h, "progress_seq", 0), p.seq);
    CU_ASSERT_TRUE(fleet_num(h, "progress_at", 0) >= fleet_num(h, "started_at", 0));
    free(done);
    free(msg);
    spindle_handle_free(h);
}

/* The sum over tasks: their final reports added up in one call; a task without reports adds
 * nothing; an unknown task is named. */
static void test_sum_across_tasks(void)
{
    const long a3[] = {3, 5}, a4[] = {4, 5}, a0[] = {0};
    spindle_handle *h[3] = {enqueue("progress_steps", a3, 2), enqueue("progress_steps", a4, 2),
                            enqueue("sleep_ms", a0, 1)};
    CU_ASSERT_FATAL(h[0] && h[1] && h[2]);
    CU_ASSERT_EQUAL(result_int(h[0]), 3);
    CU_ASSERT_EQUAL(result_int(h[1]), 4);
    CU_ASSERT_EQUAL(result_int(h[2]), 0);
    spindle_progress one[2], sum;
    CU_ASSERT_EQUAL_FATAL(spindle_progress_get(client, h[0], &one[0]), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(spindle_progress_get(client, h[1], &one[1]), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(spindle_progress_sum(client, h, 3, &sum), SPINDLE_OK);
    CU_ASSERT_EQUAL(sum.done, 7);
    CU_ASSERT_EQUAL(sum.total, 7);
    CU_ASSERT_EQUAL(sum.seq, one[0].seq + one[1].seq);
    CU_ASSERT_EQUAL(sum.updated_at_ms, one[0].updated_at_ms > one[1].updated_at_ms
                                           ? one[0].updated_at_ms
                                           : one[1].updated_at_ms);
    CU_ASSERT_STRING_EQUAL(sum.message, "");
    CU_ASSERT_EQUAL(spindle_progress_sum(client, h, 0, &sum), SPINDLE_ERR_INVALID);

    char key[256];
    CU_ASSERT_EQUAL(harness_int("DEL %s", harness_task_key(key, sizeof(key), h[1])), 1);
    CU_ASSERT_EQUAL(spindle_progress_sum(client, h, 3, &sum), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), spindle_handle_id(h[1])));
    CU_ASSERT_EQUAL(sum.done, 0);
    for (int i = 0; i < 3; i++)
        spindle_handle_free(h[i]);
}

/* A task that never reported has no progress: zeroes, not an error. */
static void test_no_report(void)
{
    const long args[] = {0};
    spindle_handle *h = enqueue("sleep_ms", args, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(result_int(h), 0);
    spindle_progress p;
    CU_ASSERT_EQUAL(spindle_progress_get(client, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.seq, 0);
    CU_ASSERT_EQUAL(p.done, 0);
    CU_ASSERT_STRING_EQUAL(p.message, "");
    spindle_handle_free(h);
}

/* Reports from a tight loop for SPIN_MS: at most one write per interval, plus the first and
 * the flush of the last; the loop made far more reports than that; the last one is stored. */
static void test_coalescing_bounds_writes(void)
{
    const long spin_ms = 600;
    const long args[] = {spin_ms};
    spindle_handle *h = enqueue("progress_spin", args, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    long long count = result_int(h);
    spindle_progress p;
    CU_ASSERT_EQUAL_FATAL(spindle_progress_get(client, h, &p), SPINDLE_OK);
    CU_ASSERT_TRUE(p.seq >= 1);
    CU_ASSERT_TRUE(p.seq <= spin_ms / PROGRESS_INTERVAL_MS + 3);
    CU_ASSERT_TRUE(count >= 100);
    CU_ASSERT_EQUAL(p.done, count);
    CU_ASSERT_EQUAL(p.total, count);
    CU_ASSERT_STRING_EQUAL(p.message, "spun");
    if (p.seq > spin_ms / PROGRESS_INTERVAL_MS + 3 || count < 100)
        fprintf(stderr, "\n  %lld reports, %ld writes\n", count, p.seq);
    spindle_handle_free(h);
}

typedef struct seen {
    int calls;
    int64_t done[64];
    long seq[64];
    char last_msg[SPINDLE_PROGRESS_MSG_MAX + 1];
} seen;

static void on_progress(const spindle_progress *p, void *userdata)
{
    seen *s = userdata;
    if (s->calls < 64) {
        s->done[s->calls] = p->done;
        s->seq[s->calls] = p->seq;
    }
    s->calls++;
    snprintf(s->last_msg, sizeof(s->last_msg), "%s", p->message);
}

static void test_wait_progress_callback(void)
{
    const long args[] = {8, 60};
    spindle_handle *h = enqueue("progress_steps", args, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    seen s = {0};
    spindle_result *r = NULL;
    int rc =
        spindle_wait_progress(client, h, harness_scaled_ms(HARNESS_WAIT_MS), on_progress, &s, &r);
    CU_ASSERT_EQUAL_FATAL(rc, SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_result_value(r)->via.u64, 8);
    spindle_result_free(r);
    CU_ASSERT_TRUE(s.calls >= 2 && s.calls <= 8);
    for (int i = 1; i < s.calls && i < 64; i++) {
        CU_ASSERT_TRUE(s.done[i] > s.done[i - 1]);
        CU_ASSERT_TRUE(s.seq[i] > s.seq[i - 1]);
    }
    /* The last call saw the final report, stored before the task settled. */
    CU_ASSERT_EQUAL(s.calls > 0 ? s.done[(s.calls < 64 ? s.calls : 64) - 1] : -1, 8);
    CU_ASSERT_STRING_EQUAL(s.last_msg, "step 8");
    spindle_handle_free(h);
}

/* Same returns as spindle_wait(): a timeout, then the result; NULL callback allowed. */
static void test_wait_progress_timeout(void)
{
    const long args[] = {3, 300};
    spindle_handle *h = enqueue("progress_steps", args, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    seen s = {0};
    spindle_result *r = (spindle_result *)1;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_wait_progress(client, h, 150, on_progress, &s, &r),
                    SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_TRUE(harness_ms() - t0 >= 140);
    CU_ASSERT_EQUAL(
        spindle_wait_progress(client, h, harness_scaled_ms(HARNESS_WAIT_MS), NULL, NULL, &r),
        SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static int is_str(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static int has_text(const msgpack_object *o, const char *needle)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return 0;
    char buf[600];
    snprintf(buf, sizeof(buf), "%.*s", (int)o->via.str.size, o->via.str.ptr);
    return strstr(buf, needle) != NULL;
}

/* Negative values are refused with a message; the task goes on and reports after them. */
static void test_negative_refused(void)
{
    spindle_handle *h = enqueue("misuse", NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                          SPINDLE_OK);
    const msgpack_object *v = spindle_result_value(r);
    CU_ASSERT_FATAL(v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 6);
    for (int i = 0; i < 2; i++) {
        const msgpack_object *e = &v->via.array.ptr[i];
        CU_ASSERT_EQUAL(e->via.array.ptr[0].via.i64, SPINDLE_ERR_INVALID);
        CU_ASSERT_TRUE(has_text(&e->via.array.ptr[1], "must not be negative"));
        CU_ASSERT_TRUE(has_text(&e->via.array.ptr[1], spindle_handle_id(h)));
    }
    CU_ASSERT_FALSE(is_str(&v->via.array.ptr[0].via.array.ptr[1], ""));
    spindle_result_free(r);
    spindle_progress p;
    CU_ASSERT_EQUAL(spindle_progress_get(client, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 1);
    CU_ASSERT_STRING_EQUAL(p.message, "after");
    spindle_handle_free(h);
}

static void touch(const char *name, const spindle_handle *h)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/%s-%s", harness_dir(), name, spindle_handle_id(h));
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        fclose(f);
}

/* The probe file a fixture task wrote (malloc'd), waiting up to timeout_ms; NULL if none. */
static char *read_probe(const spindle_handle *h, long timeout_ms)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/probe-%s", harness_dir(), spindle_handle_id(h));
    for (int64_t end = harness_ms() + timeout_ms; harness_ms() < end; harness_sleep_ms(5)) {
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        char *buf = calloc(1, 4096);
        if (buf)
            fread(buf, 1, 4095, f);
        fclose(f);
        return buf;
    }
    return NULL;
}

/* An attempt that no longer owns its task (here: `attempts` moved on, as after a recovery)
 * has its report and its item refused, clearly, and the hash keeps no trace of them; the
 * worker goes on and settles the task once it is its own again. */
static void test_fenced_write_refused(void)
{
    spindle_handle *h = enqueue("fenced_probe", NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char worker[160];
    CU_ASSERT_FATAL(
        fleet_wait_started(h, worker, sizeof(worker), harness_scaled_ms(HARNESS_WAIT_MS)) > 0);
    char key[512], ikey[512];
    harness_task_key(key, sizeof(key), h);
    snprintf(ikey, sizeof(ikey), "%s:{%s}:items:%s", harness_ns(), QUEUE, spindle_handle_id(h));
    CU_ASSERT_EQUAL(harness_int("HSET %s attempts 99", key), 0);
    touch("go", h);
    char *probe = read_probe(h, harness_scaled_ms(HARNESS_WAIT_MS));
    CU_ASSERT_PTR_NOT_NULL_FATAL(probe);
    int prc = 0, erc = 0;
    CU_ASSERT_EQUAL(sscanf(probe, "%d %d", &prc, &erc), 2);
    CU_ASSERT_EQUAL(prc, SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(erc, SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(probe, "progress report of task"));
    CU_ASSERT_PTR_NOT_NULL(strstr(probe, "item of task"));
    CU_ASSERT_PTR_NOT_NULL(strstr(probe, "attempt 1 no longer owns it"));
    CU_ASSERT_PTR_NOT_NULL(strstr(probe, "attempt 99"));
    free(probe);
    CU_ASSERT_TRUE(fleet_absent(h, "progress_seq"));
    CU_ASSERT_TRUE(fleet_absent(h, "items"));
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", ikey), 0);
    /* Give the task back to its attempt: it settles normally. */
    CU_ASSERT_EQUAL(harness_int("HSET %s attempts 1", key), 0);
    touch("end", h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* A cancel request in the hash (the field `cancel`, as spindle_cancel() writes it for a
 * running task) is answered by the next written report: SPINDLE_ERR_CANCELLED, the task's
 * cancel flag set, and an item emitted after it is stored but answered "cancelled" too. */
static void test_cancel_seen_in_reply(void)
{
    spindle_handle *h = enqueue("until_cancel", NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char worker[160];
    CU_ASSERT_FATAL(
        fleet_wait_started(h, worker, sizeof(worker), harness_scaled_ms(HARNESS_WAIT_MS)) > 0);
    char key[512], ikey[512];
    harness_task_key(key, sizeof(key), h);
    snprintf(ikey, sizeof(ikey), "%s:{%s}:items:%s", harness_ns(), QUEUE, spindle_handle_id(h));
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(harness_int("HSET %s cancel 1", key), 1);
    char *probe = read_probe(h, harness_scaled_ms(HARNESS_WAIT_MS));
    int64_t took = harness_ms() - t0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(probe);
    long n = 0;
    int flag = 0, erc = 0;
    CU_ASSERT_EQUAL(sscanf(probe, "%ld %d %d", &n, &flag, &erc), 3);
    free(probe);
    CU_ASSERT_TRUE(n >= 1);
    CU_ASSERT_EQUAL(flag, 1);
    CU_ASSERT_EQUAL(erc, SPINDLE_ERR_CANCELLED);
    /* Seen within about one interval (generous: a loaded machine). */
    CU_ASSERT_TRUE(took < harness_scaled_ms(2000));
    /* The task ends, cancelled or not depending on the cancel rule of the settle script. */
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r);
    CU_ASSERT_TRUE(rc == SPINDLE_OK || rc == SPINDLE_ERR_CANCELLED);
    spindle_result_free(r);
    /* The item emitted after the cancel was stored, then the end entry. */
    CU_ASSERT_EQUAL(harness_int("XLEN %s", ikey), 2);
    redisReply *first = harness_cmd("XRANGE %s - + COUNT 1", ikey);
    CU_ASSERT_TRUE(first && first->type == REDIS_REPLY_ARRAY && first->elements == 1 &&
                   first->element[0]->element[1]->elements == 4 &&
                   strcmp(first->element[0]->element[1]->element[1]->str, "\xa5"
                                                                          "after") == 0);
    freeReplyObject(first);
    spindle_handle_free(h);
}

int register_progress_tests(void)
{
    static const test_case tests[] = {
        {"last report stored and read by the handle", test_final_report_read_by_handle},
        {"no report: zeroes", test_no_report},
        {"sum across tasks: one call, reports added up", test_sum_across_tasks},
        {"tight loop: at most one write per interval", test_coalescing_bounds_writes},
        {"wait_progress: increasing values, then the result", test_wait_progress_callback},
        {"wait_progress: timeout like spindle_wait", test_wait_progress_timeout},
        {"negative values refused, the task goes on", test_negative_refused},
        {"write by an attempt that lost the task: refused", test_fenced_write_refused},
        {"cancel request answered by the next report", test_cancel_seen_in_reply},
        {NULL, NULL},
    };
    return add_suite("progress", suite_init, suite_cleanup, tests);
}
