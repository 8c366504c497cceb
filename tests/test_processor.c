/* Processor pairs (include/spindle/processor.h) with a forked worker: the pre-function makes
 * the task's args and its static info, the worker runs the plain function, the post-function
 * combines the raw result with the static info; the fields `proc` and `pinfo` are read back
 * with plain Redis commands; a second process opens the task by id and post-processes it;
 * static info over the limit is refused (and exactly the limit accepted); every failure of a
 * pre- or post-function names the processor. The same pair also runs on a synchronous
 * client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "spindle/processor.h"
#include "spindle/routing.h"
#include "spindle/sync.h"
#include "suites.h"

static spindle_client *client;
static spindle_routes *routes;

static int is_str(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* add's pre-function. inputs: [LABEL, A, B] -> args [A, B], info LABEL. Labels steer the
 * failure cases: "fail-pre" fails with a message, "bare" returns a code without one, "two"
 * packs two arrays as args. */
static int add_pre(spindle_proc_call *call, const msgpack_object *in, msgpack_packer *args,
                   msgpack_packer *info, void *ud)
{
    (void)ud;
    if (in->via.array.size != 3 || in->via.array.ptr[0].type != MSGPACK_OBJECT_STR)
        return spindle_proc_fail(call, "%s wants [label, a, b]", spindle_proc_name(call));
    const msgpack_object *label = &in->via.array.ptr[0];
    if (is_str(label, "fail-pre"))
        return spindle_proc_fail(call, "label '%s' refused", "fail-pre");
    if (is_str(label, "bare"))
        return SPINDLE_ERR_INVALID;
    msgpack_pack_array(args, 2);
    msgpack_pack_object(args, in->via.array.ptr[1]);
    msgpack_pack_object(args, in->via.array.ptr[2]);
    if (is_str(label, "two"))
        msgpack_pack_array(args, 0);
    return msgpack_pack_object(info, *label);
}

/* add's post-function: [LABEL, SUM]; the label "fail-post" makes it fail. */
static int add_post(spindle_proc_call *call, const msgpack_object *result,
                    const msgpack_object *info, msgpack_packer *out, void *ud)
{
    if (is_str(info, "fail-post"))
        return spindle_proc_fail(call, "cannot label %lld", (long long)result->via.i64);
    CU_ASSERT_PTR_EQUAL(ud, &client);
    msgpack_pack_array(out, 2);
    msgpack_pack_object(out, *info);
    return msgpack_pack_object(out, *result);
}

/* echo's pair: inputs [N] -> no args, info a bin of N bytes; post -> the bin's size. */
static int big_pre(spindle_proc_call *call, const msgpack_object *in, msgpack_packer *args,
                   msgpack_packer *info, void *ud)
{
    (void)call;
    (void)args;
    (void)ud;
    uint32_t n = (uint32_t)in->via.array.ptr[0].via.u64;
    char *zeros = calloc(1, n ? n : 1);
    msgpack_pack_bin(info, n);
    int rc = msgpack_pack_bin_body(info, zeros, n);
    free(zeros);
    return rc;
}

static int big_post(spindle_proc_call *call, const msgpack_object *result,
                    const msgpack_object *info, msgpack_packer *out, void *ud)
{
    (void)call;
    (void)result;
    (void)ud;
    return msgpack_pack_uint32(out, info->type == MSGPACK_OBJECT_BIN ? info->via.bin.size : 0);
}

static int register_pairs(spindle_client *c)
{
    int rc = spindle_processor_register(c, "add", add_pre, add_post, &client);
    if (rc == SPINDLE_OK)
        rc = spindle_processor_register(c, "echo", big_pre, big_post, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_processor_register(c, "fail", NULL, add_post, &client);
    return rc;
}

static int suite_init(void)
{
    if (harness_suite_init() != 0 || (client = harness_client()) == NULL)
        return -1;
    routes = spindle_routes_new();
    if (routes == NULL || spindle_routes_add(routes, "add", "p.add") != SPINDLE_OK)
        return -1;
    spindle_client_set_routes(client, routes);
    if (register_pairs(client) != SPINDLE_OK)
        return -1;
    return harness_worker_fork("default,p.add", 0) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    spindle_client_free(client);
    client = NULL;
    spindle_routes_free(routes);
    routes = NULL;
    return harness_suite_cleanup();
}

static spindle_args *inputs(const char *label, long a, long b)
{
    spindle_args *in = spindle_args_new();
    spindle_args_str(in, label);
    spindle_args_int(in, a);
    spindle_args_int(in, b);
    return in;
}

/* Checks that r is [label, sum]. */
static void check_labelled(const spindle_result *r, const char *label, long sum)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const msgpack_object *v = spindle_result_value(r);
    CU_ASSERT_EQUAL_FATAL(v->type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL_FATAL(v->via.array.size, 2);
    CU_ASSERT(is_str(&v->via.array.ptr[0], label));
    CU_ASSERT_EQUAL(v->via.array.ptr[1].via.i64, sum);
}

static void test_round_trip(void)
{
    spindle_args *in = inputs("sum", 2, 3);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "add", in, NULL, &h), SPINDLE_OK);
    spindle_args_free(in);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "p.add"); /* routed like any enqueue */
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_OK);
    check_labelled(r, "sum", 5);
    spindle_result_free(r);
    /* Plain spindle_wait() reads the raw result. */
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_OK);
    CU_ASSERT(r && spindle_result_value(r)->via.i64 == 5);
    spindle_result_free(r);
    /* In Redis: the worker's args, the processor's name and its static info ("sum"). */
    char key[512];
    harness_task_key(key, sizeof(key), h);
    size_t len = 0;
    char *v = harness_hget(key, "args", &len);
    CU_ASSERT(v && len == 3 && memcmp(v, "\x92\x02\x03", 3) == 0);
    free(v);
    v = harness_hget(key, "proc", NULL);
    CU_ASSERT(v && strcmp(v, "add") == 0);
    free(v);
    v = harness_hget(key, "pinfo", &len);
    CU_ASSERT(v && len == 4 && memcmp(v, "\xa3sum", 4) == 0);
    free(v);
    spindle_handle_free(h);
}

/* A processed task that also takes the options script (a delay and a deadline) keeps its
 * processor fields, and is post-processed once it has run. */
static void test_with_schedule_options(void)
{
    spindle_args *in = inputs("later", 4, 5);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.delay_ms = 50;
    o.expires_in_ms = 600000;
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "add", in, &o, &h), SPINDLE_OK);
    spindle_args_free(in);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    size_t len = 0;
    char *v = harness_hget(key, "proc", NULL);
    CU_ASSERT(v && strcmp(v, "add") == 0);
    free(v);
    v = harness_hget(key, "pinfo", &len);
    CU_ASSERT(v && len == 6 && memcmp(v, "\xa5later", 6) == 0);
    free(v);
    v = harness_hget(key, "deadline", NULL);
    CU_ASSERT(v && atoll(v) > 0);
    free(v);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_OK);
    check_labelled(r, "later", 9);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* In a forked process: a new client with the same pair opens task id and post-processes it.
 * Exit 0 if it read [label, sum], else 1..5 saying what went wrong. */
static int second_process(const char *id, const char *label, long sum)
{
    spindle_client *c = harness_client();
    if (c == NULL || register_pairs(c) != SPINDLE_OK)
        return 1;
    spindle_handle *h = NULL;
    if (spindle_handle_open(c, id, NULL, &h) != SPINDLE_OK)
        return 2;
    spindle_result *r = NULL;
    int rc = spindle_wait_processed(c, h, harness_scaled_ms(HARNESS_WAIT_MS), &r);
    if (rc != SPINDLE_OK) {
        fprintf(stderr, "second process: %s\n", spindle_errstr(c));
        return 3;
    }
    const msgpack_object *v = spindle_result_value(r);
    int ok = v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2 &&
             is_str(&v->via.array.ptr[0], label) && v->via.array.ptr[1].via.i64 == sum;
    spindle_result_free(r);
    spindle_handle_free(h);
    spindle_client_free(c);
    return ok ? 0 : 4;
}

static void test_second_process(void)
{
    spindle_args *in = inputs("elsewhere", 40, 2);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "add", in, NULL, &h), SPINDLE_OK);
    spindle_args_free(in);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        _exit(second_process(spindle_handle_id(h), "elsewhere", 42));
    int status = -1;
    int64_t deadline = harness_ms() + harness_scaled_ms(2L * HARNESS_WAIT_MS);
    pid_t got = 0;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && harness_ms() < deadline)
        harness_sleep_ms(10);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CU_FAIL("the second process did not finish in time");
    }
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* A client without the pair is told which processor it lacks. */
    spindle_client *bare = harness_client();
    CU_ASSERT_PTR_NOT_NULL_FATAL(bare);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_processed(bare, h, 0, &r), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(bare), "processor 'add' of task"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(bare), "not registered on this client"));
    spindle_client_free(bare);
    spindle_handle_free(h);
}

static void test_static_info_limit(void)
{
    char pending[256];
    harness_key(pending, sizeof(pending), "default", "pending");
    long long before = harness_int("LLEN %s", pending);
    spindle_args *in = spindle_args_new();
    spindle_args_int(in, SPINDLE_PINFO_MAX - 3 + 1); /* bin 16: 3 bytes of header */
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue_processed(client, "echo", in, NULL, &h), SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NULL(h);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "processor 'echo': the static info is "
                                                          "65537 bytes, more than the 65536"));
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), before); /* nothing enqueued */
    spindle_args_free(in);

    in = spindle_args_new();
    spindle_args_int(in, SPINDLE_PINFO_MAX - 3); /* exactly the limit */
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "echo", in, NULL, &h), SPINDLE_OK);
    spindle_args_free(in);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_OK);
    CU_ASSERT(r && spindle_result_value(r)->via.u64 == SPINDLE_PINFO_MAX - 3);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* Expects spindle_enqueue_processed() of add with label to fail with code and a message
 * containing want. */
static void expect_enqueue_error(const char *label, int code, const char *want)
{
    spindle_args *in = inputs(label, 1, 2);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue_processed(client, "add", in, NULL, &h), code);
    CU_ASSERT_PTR_NULL(h);
    if (strstr(spindle_errstr(client), want) == NULL)
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", spindle_errstr(client), want);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), want));
    spindle_args_free(in);
}

static void test_errors_name_the_processor(void)
{
    expect_enqueue_error("fail-pre", SPINDLE_ERR_INVALID,
                         "processor 'add': pre-function failed: label 'fail-pre' refused");
    expect_enqueue_error("bare", SPINDLE_ERR_INVALID,
                         "processor 'add': pre-function failed: invalid");
    expect_enqueue_error(
        "two", SPINDLE_ERR_INVALID,
        "processor 'add': the pre-function's args must be exactly one msgpack array");
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue_processed(client, "resize", NULL, NULL, &h),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "no processor 'resize' is registered"));
    CU_ASSERT_EQUAL(spindle_processor_register(client, "add", add_pre, NULL, NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_processor_register(client, "x", NULL, NULL, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_processor_register(client, "bad name", add_pre, NULL, NULL),
                    SPINDLE_ERR_INVALID);

    /* The post-function fails: the task succeeded, the caller is told why it got nothing. */
    spindle_args *in = inputs("fail-post", 1, 2);
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "add", in, NULL, &h), SPINDLE_OK);
    spindle_args_free(in);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(r);
    char want[200];
    snprintf(want, sizeof(want), "processor 'add', task %s: post-function failed: cannot label 3",
             spindle_handle_id(h));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), want));
    spindle_handle_free(h);

    /* A failed task is returned as it failed: no post-function. */
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "fail", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT(r && strstr(spindle_result_error(r), "asked to fail"));
    spindle_result_free(r);
    spindle_handle_free(h);

    /* A task enqueued without a processor. */
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "echo", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, 0, &r), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "was enqueued without a processor"));
    spindle_handle_free(h);

    /* Static info written by hand that is not msgpack. */
    in = inputs("hand", 1, 1);
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(client, "add", in, NULL, &h), SPINDLE_OK);
    spindle_args_free(in);
    CU_ASSERT_EQUAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r), SPINDLE_OK);
    spindle_result_free(r);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    freeReplyObject(harness_cmd("HSET %s pinfo %b", key, "\xc1", (size_t)1));
    CU_ASSERT_EQUAL(spindle_wait_processed(client, h, 0, &r), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "static info in Redis is not one"));
    spindle_handle_free(h);
}

static void test_sync_client(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_EQUAL_FATAL(fixture_register_tasks(reg), SPINDLE_OK);
    spindle_client *c = spindle_client_new_sync(reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(register_pairs(c), SPINDLE_OK);
    spindle_client_set_routes(c, routes);
    spindle_args *in = inputs("sync", 20, 22);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_processed(c, "add", in, NULL, &h), SPINDLE_OK);
    spindle_args_free(in);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "p.add");
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_processed(c, h, 0, &r), SPINDLE_OK);
    check_labelled(r, "sync", 42);
    spindle_result_free(r);
    spindle_handle_free(h);
    in = spindle_args_new();
    spindle_args_int(in, SPINDLE_PINFO_MAX);
    CU_ASSERT_EQUAL(spindle_enqueue_processed(c, "echo", in, NULL, &h), SPINDLE_ERR_TOO_LARGE);
    spindle_args_free(in);
    spindle_client_free(c);
    spindle_registry_free(reg);
}

int register_processor_tests(void)
{
    static const test_case tests[] = {
        {"round trip: pre, worker, post", test_round_trip},
        {"with a delay and a deadline: processor fields kept", test_with_schedule_options},
        {"a second process post-processes by id", test_second_process},
        {"static info over the limit is refused", test_static_info_limit},
        {"failures name the processor", test_errors_name_the_processor},
        {"a synchronous client", test_sync_client},
        {NULL, NULL},
    };
    return add_suite("processor pairs", suite_init, suite_cleanup, tests);
}
