/* Worker middleware (include/spindle/middleware.h).
 *
 * A forked worker runs a registry built here with two tracing middlewares, "one" and "two":
 * every hook and every function appends a line to DIR/trace-ID, so a test reads back the
 * exact order of events of one task (the hooks run before the settlement, so the trace is
 * complete once the wait returns). Then the three example middlewares of
 * build/lib/spindle-example-middleware.so, loaded by the real spindle-worker: the log lines,
 * the timing summary, and the rate limiter's spacing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "spindle/middleware.h"
#include "suites.h"

#define QUEUE "mw.q"
#define EXAMPLE_QUEUE "mw-example.q"

static spindle_client *client;
static char fn_userdata[] = "fn-ud";
static char one_ud[] = "one", two_ud[] = "two";

/* ---- the forked worker's side ------------------------------------------------------------ */

static void trace(const spindle_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void trace(const spindle_task_ctx *ctx, const char *fmt, ...)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/trace-%s", harness_dir(), spindle_task_id(ctx));
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

/* Records what a hook sees: its name, the task's attempt and function userdata. */
static int mw_before(spindle_task_ctx *ctx, void *userdata)
{
    const char *me = userdata;
    const char *fud = spindle_task_userdata(ctx);
    trace(ctx, "before:%s attempt=%ld func=%s ud=%s", me, spindle_task_attempt(ctx),
          spindle_task_func(ctx), fud ? fud : "-");
    /* "two" refuses the function named "refused", with a message. */
    if (strcmp(me, "two") == 0 && strcmp(spindle_task_func(ctx), "refused") == 0)
        return spindle_task_fail(ctx, "two refuses '%s' on attempt %ld", spindle_task_func(ctx),
                                 spindle_task_attempt(ctx));
    /* "two" refuses "refused_bare" with a bare code: the chain names it. */
    if (strcmp(me, "two") == 0 && strcmp(spindle_task_func(ctx), "refused_bare") == 0)
        return SPINDLE_ERR_FULL;
    return SPINDLE_OK;
}

static void mw_after(spindle_task_ctx *ctx, const char *result, size_t len, double ms,
                     void *userdata)
{
    (void)result;
    /* An after cannot change the outcome: this failure must be ignored. */
    spindle_task_fail(ctx, "after of %s tried to fail the task", (const char *)userdata);
    if (strcmp(spindle_task_func(ctx), "sleepy") == 0)
        trace(ctx, "after:%s bytes=%zu ms=%.0f", (const char *)userdata, len, ms);
    else
        trace(ctx, "after:%s bytes=%zu", (const char *)userdata, len);
}

static void mw_error(spindle_task_ctx *ctx, const char *error, double ms, void *userdata)
{
    trace(ctx, "error:%s ms%s msg=%s", (const char *)userdata, ms == 0 ? "=0" : ">0", error);
}

static int fn_traced(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    trace(ctx, "fn");
    return msgpack_pack_int(result, 42);
}

static int fn_sleepy(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    (void)result;
    trace(ctx, "fn");
    harness_sleep_ms(30);
    return SPINDLE_OK;
}

static int fn_fails(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    (void)result;
    trace(ctx, "fn");
    return spindle_task_fail(ctx, "boom");
}

static int fill_registry(spindle_registry *reg)
{
    spindle_middleware one = {.name = "one",
                              .before = mw_before,
                              .after = mw_after,
                              .on_error = mw_error,
                              .userdata = one_ud};
    spindle_middleware two = one;
    two.name = "two";
    two.userdata = two_ud;
    int rc = spindle_registry_use(reg, &one);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_use(reg, &two);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "traced", fn_traced, fn_userdata);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "sleepy", fn_sleepy, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "fails", fn_fails, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "refused", fn_traced, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "refused_bare", fn_traced, NULL);
    return rc;
}

/* ---- the test side ----------------------------------------------------------------------- */

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    return client && harness_worker_fork_with(fill_registry, QUEUE, 0) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Enqueues func on queue (retries as given, 1 ms back-off) and waits; returns the wait status,
 * the handle and result in *hout and *out (caller frees). */
static int run(const char *queue, const char *func, int retries, spindle_handle **hout,
               spindle_result **out)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    o.max_retries = retries;
    o.backoff_ms = 1;
    o.backoff_max_ms = 1;
    *hout = NULL;
    *out = NULL;
    int rc = spindle_enqueue(client, func, NULL, &o, hout);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    return rc == SPINDLE_OK ? spindle_wait(client, *hout, HARNESS_WAIT_MS, out) : rc;
}

/* The trace of a task, lines joined by '|' (malloc'd; "" if none). */
static char *read_trace(const spindle_handle *h)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/trace-%s", harness_dir(), spindle_handle_id(h));
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 8192);
    if (f == NULL || buf == NULL) {
        if (f)
            fclose(f);
        return buf;
    }
    size_t n = fread(buf, 1, 8191, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            buf[i] = '|';
    return buf;
}

static void test_order(void)
{
    spindle_handle *h;
    spindle_result *r;
    CU_ASSERT_EQUAL(run(QUEUE, "traced", -1, &h, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 42);
    char *t = h ? read_trace(h) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "before:one attempt=1 func=traced ud=fn-ud|"
                              "before:two attempt=1 func=traced ud=fn-ud|"
                              "fn|"
                              "after:two bytes=1|"
                              "after:one bytes=1|");
    free(t);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* The after hooks see the function's time (it sleeps 30 ms) and its result (nil: 1 byte). */
static void test_after_sees_elapsed(void)
{
    spindle_handle *h;
    spindle_result *r;
    CU_ASSERT_EQUAL(run(QUEUE, "sleepy", -1, &h, &r), SPINDLE_OK);
    char *t = h ? read_trace(h) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    double ms = -1;
    const char *a = strstr(t, "after:two bytes=1 ms=");
    CU_ASSERT_PTR_NOT_NULL(a);
    if (a)
        ms = atof(a + strlen("after:two bytes=1 ms="));
    CU_ASSERT_TRUE(ms >= 29);
    free(t);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* A refusing before fails the task with its message, goes through the retry policy, skips the
 * function and the later befores, and the on_errors of the middlewares entered still run. */
static void test_refusal(void)
{
    spindle_handle *h;
    spindle_result *r;
    CU_ASSERT_EQUAL(run(QUEUE, "refused", 1, &h, &r), SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_TRUE(err && strcmp(err, "two refuses 'refused' on attempt 2") == 0);
    char *t = h ? read_trace(h) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "before:one attempt=1 func=refused ud=-|"
                              "before:two attempt=1 func=refused ud=-|"
                              "error:two ms=0 msg=two refuses 'refused' on attempt 1|"
                              "error:one ms=0 msg=two refuses 'refused' on attempt 1|"
                              "before:one attempt=2 func=refused ud=-|"
                              "before:two attempt=2 func=refused ud=-|"
                              "error:two ms=0 msg=two refuses 'refused' on attempt 2|"
                              "error:one ms=0 msg=two refuses 'refused' on attempt 2|");
    free(t);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *attempts = harness_hget(key, "attempts", NULL);
    CU_ASSERT_TRUE(attempts && strcmp(attempts, "2") == 0);
    free(attempts);
    spindle_result_free(r);
    spindle_handle_free(h);

    /* A bare code without a message: the chain names the middleware and the code. */
    CU_ASSERT_EQUAL(run(QUEUE, "refused_bare", -1, &h, &r), SPINDLE_ERR_TASK_FAILED);
    err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "middleware 'two' refused the task with code -11")
                               : NULL);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* A failing function: on_error in reverse order with the error text; after never runs. An
 * unknown function goes through the chain too. */
static void test_on_error(void)
{
    spindle_handle *h;
    spindle_result *r;
    CU_ASSERT_EQUAL(run(QUEUE, "fails", -1, &h, &r), SPINDLE_ERR_TASK_FAILED);
    char *t = h ? read_trace(h) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "before:one attempt=1 func=fails ud=-|"
                              "before:two attempt=1 func=fails ud=-|"
                              "fn|"
                              "error:two ms>0 msg=boom|"
                              "error:one ms>0 msg=boom|");
    free(t);
    spindle_result_free(r);
    spindle_handle_free(h);

    CU_ASSERT_EQUAL(run(QUEUE, "nowhere", -1, &h, &r), SPINDLE_ERR_TASK_FAILED);
    t = h ? read_trace(h) : NULL;
    /* The lookup alone may take under the clock's microsecond: its time can be 0. */
    const char *e1 = t ? strstr(t, "error:one ms") : NULL;
    CU_ASSERT_PTR_NOT_NULL(e1 ? strstr(e1, " msg=unknown function 'nowhere'") : NULL);
    free(t);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static int mw_noop_before(spindle_task_ctx *ctx, void *userdata)
{
    (void)ctx;
    (void)userdata;
    return SPINDLE_OK;
}

static void test_registry_use_checks(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    spindle_middleware m = {.name = "m", .before = mw_noop_before};
    CU_ASSERT_EQUAL(spindle_registry_use(reg, &m), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_registry_use(reg, &m), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "'m' is already registered"));
    spindle_middleware none = {.name = "none"};
    CU_ASSERT_EQUAL(spindle_registry_use(reg, &none), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "'none' has no hook"));
    spindle_middleware bad = {.name = "bad name", .before = mw_noop_before};
    CU_ASSERT_EQUAL(spindle_registry_use(reg, &bad), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "middleware name 'bad name'"));
    CU_ASSERT_EQUAL(spindle_registry_use(reg, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_registry_middleware_count(reg), 1);
    CU_ASSERT_EQUAL(spindle_registry_count(reg), 0);
    spindle_registry_free(reg);
}

/* Counts the lines of log that contain every one of the NULL-terminated needles. */
static int count_lines(const char *log, ...)
{
    int n = 0;
    for (const char *line = log; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[4096];
        snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
        va_list ap;
        va_start(ap, log);
        int all = 1;
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
            all = all && strstr(buf, s) != NULL;
        va_end(ap);
        n += all;
        line = end ? end + 1 : line + len;
    }
    return n;
}

/* The examples, loaded by the real worker: 6 adds limited to 10/s take at least 500 ms; every
 * task logs start and ok (or error) lines; the timing summary after 7 tasks counts them. */
static void test_example_middlewares(void)
{
    char lib[512];
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-middleware.so", harness_build());
    const char *extra[] = {"--load", lib, NULL};
    setenv("SPINDLE_RATE_LIMIT", "add=10/s,echo=1000/s:5", 1);
    setenv("SPINDLE_TIMING_EVERY", "7", 1);
    pid_t pid = harness_worker_exec_args(EXAMPLE_QUEUE, extra);
    unsetenv("SPINDLE_RATE_LIMIT");
    unsetenv("SPINDLE_TIMING_EVERY");
    CU_ASSERT_TRUE_FATAL(pid > 0);
    CU_ASSERT_EQUAL_FATAL(harness_wait_idle_workers(1, HARNESS_WAIT_MS), 0);

    enum { N = 6 };
    static const char two_ints[] = "\x92\x01\x02"; /* [1, 2] */
    spindle_task_spec specs[N];
    for (int i = 0; i < N; i++)
        specs[i] = (spindle_task_spec){.func = "add", .args = two_ints, .args_len = 3};
    spindle_handle *hs[N] = {0};
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = EXAMPLE_QUEUE;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, specs, N, &o, hs), SPINDLE_OK);
    for (int i = 0; i < N; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, hs[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 3);
        spindle_result_free(r);
    }
    int64_t took = harness_ms() - t0;
    /* One token at once, then one every 100 ms: 5 waits. Rounding allowance only. */
    CU_ASSERT_TRUE(took >= (N - 1) * 100 - 2);

    spindle_handle *hf = NULL;
    spindle_result *rf = NULL;
    spindle_args *a = spindle_args_new();
    spindle_args_str(a, "bad \"luck\"");
    CU_ASSERT_EQUAL(spindle_enqueue(client, "fail", a, &o, &hf), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_wait(client, hf, HARNESS_WAIT_MS, &rf), SPINDLE_ERR_TASK_FAILED);
    spindle_args_free(a);
    spindle_result_free(rf);

    char *log = harness_worker_log(pid);
    CU_ASSERT_EQUAL(count_lines(log, "event=start", "func=add", "attempt=1", NULL), N);
    CU_ASSERT_EQUAL(count_lines(log, "event=ok", "func=add", "bytes=1", " ms=", NULL), N);
    CU_ASSERT_EQUAL(count_lines(log, "event=start", "func=fail", NULL), 1);
    char id_field[64];
    snprintf(id_field, sizeof(id_field), "id=%s", hf ? spindle_handle_id(hf) : "?");
    CU_ASSERT_EQUAL(count_lines(log, "event=error", id_field, "error=\"bad \\\"luck\\\"\"", NULL),
                    1);
    CU_ASSERT_EQUAL(count_lines(log, "timing pid=", "tasks=7", "functions=2", NULL), 1);
    CU_ASSERT_EQUAL(count_lines(log, "timing pid=", "func=add count=6 errors=0", NULL), 1);
    CU_ASSERT_EQUAL(count_lines(log, "timing pid=", "func=fail count=1 errors=1", NULL), 1);
    if (count_lines(log, "timing pid=", "tasks=7", NULL) != 1)
        fprintf(stderr, "\nworker log:\n%s\n", log ? log : "(none)");
    free(log);
    spindle_handle_free(hf);
    for (int i = 0; i < N; i++)
        spindle_handle_free(hs[i]);
    harness_worker_stop(pid, HARNESS_WAIT_MS, NULL);
}

/* A malformed SPINDLE_RATE_LIMIT fails the library's loading: exit 2 with a message. */
static void test_ratelimit_bad_spec(void)
{
    char bin[512], lib[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-middleware.so", harness_build());
    char *argv[] = {bin, "--redis", (char *)harness_url(), "--load", lib, NULL};
    setenv("SPINDLE_RATE_LIMIT", "add=10/s,echo=fast", 1);
    harness_output out;
    int rc = harness_run(argv, HARNESS_WAIT_MS, &out);
    unsetenv("SPINDLE_RATE_LIMIT");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "SPINDLE_RATE_LIMIT entry 'echo=fast'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "spindle_register_tasks() of"));
    harness_output_free(&out);
}

int register_middleware_tests(void)
{
    static const test_case tests[] = {
        {"order: before 1, before 2, function, after 2, after 1", test_order},
        {"after sees the result and the function's time", test_after_sees_elapsed},
        {"a refusing before fails the task, retried, function skipped", test_refusal},
        {"on_error in reverse order, unknown functions included", test_on_error},
        {"registry: duplicate, hookless, bad name, NULL", test_registry_use_checks},
        {"examples: log lines, timing summary, rate limiter spacing", test_example_middlewares},
        {"examples: a malformed SPINDLE_RATE_LIMIT stops the worker", test_ratelimit_bad_spec},
        {NULL, NULL},
    };
    return add_suite("middleware", suite_init, suite_cleanup, tests);
}
