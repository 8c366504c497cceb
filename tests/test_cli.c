/* The `spindle` command (BUILD/bin/spindle) against the harness's server and namespace,
 * with the real spindle-worker serving: enqueue prints an id, `result --wait` prints the
 * value as JSON, `status` prints the state, a failed task exits 4 with its error on stderr,
 * an unknown id exits 3 (a malformed one 2), an unfinished task exits 6, typed arguments
 * reach the task as msgpack (checked in the raw task hash), and `queues` lists the queue.
 * Every run has --redis and --namespace and no SPINDLE_REDIS_URL in its environment. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "harness.h"
#include "suites.h"

static spindle_client *client;
static char bin[512];

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "\n  %s is missing: build it first (make all)\n", bin);
        return -1;
    }
    client = harness_client();
    return client && harness_worker_exec(NULL) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    spindle_client_free(client);
    client = NULL;
    return harness_suite_cleanup();
}

/* Runs `spindle --redis URL --namespace NS ARGS…` (NULL-terminated). */
static harness_output cli(const char *first, ...)
{
    const char *argv[32] = {bin, "--redis", harness_url(), "--namespace", harness_ns()};
    int argc = 5;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    harness_output out;
    if (harness_run((char *const *)argv, HARNESS_WAIT_MS, &out) != 0)
        CU_FAIL("could not run spindle");
    if (out.out == NULL)
        out.out = strdup("");
    if (out.err == NULL)
        out.err = strdup("");
    return out;
}

/* Removes one trailing newline. */
static char *chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n && s[n - 1] == '\n')
        s[n - 1] = '\0';
    return s;
}

/* `spindle enqueue ARGS…` → the printed id copied into id (asserted to be one). */
static int enqueue(char id[SPINDLE_ID_LEN + 1], const char *func, const char *a1, const char *a2,
                   const char *a3, const char *a4, const char *a5)
{
    harness_output o = cli("enqueue", func, a1, a2, a3, a4, a5, NULL);
    chomp(o.out);
    spindle_error err = {0};
    int ok = o.code == 0 && spindle_id_check(o.out, &err) == SPINDLE_OK;
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_EQUAL(strlen(o.out), SPINDLE_ID_LEN);
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr, "\n  spindle enqueue %s: exit %d, stdout '%s', stderr '%s'\n", func, o.code,
                o.out, o.err);
    snprintf(id, SPINDLE_ID_LEN + 1, "%s", ok ? o.out : "");
    harness_output_free(&o);
    return ok ? 0 : -1;
}

static void test_enqueue_result_status(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "add", "2", "3", NULL, NULL, NULL), 0);

    /* Written under the harness's namespace, args typed as integers. */
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    size_t len = 0;
    char *args = harness_hget(key, "args", &len);
    CU_ASSERT_TRUE(args && len == 3 && memcmp(args, "\x92\x02\x03", 3) == 0);
    free(args);

    harness_output o = cli("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "5");
    harness_output_free(&o);

    o = cli("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "succeeded");
    harness_output_free(&o);

    o = cli("status", id, "--queue", "default", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "succeeded");
    harness_output_free(&o);
}

static void test_failed_task_exits_4(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "fail", "boom", NULL, NULL, NULL, NULL), 0);
    harness_output o = cli("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "boom"));
    CU_ASSERT_STRING_EQUAL(o.out, "");
    harness_output_free(&o);

    o = cli("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "failed");
    harness_output_free(&o);
}

static void test_unknown_id_exits_3(void)
{
    char id[SPINDLE_ID_LEN + 1];
    spindle_id_new(id);
    harness_output o = cli("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    CU_ASSERT_STRING_EQUAL(o.out, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, id));
    harness_output_free(&o);

    o = cli("result", id, NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    harness_output_free(&o);

    o = cli("result", id, "--wait", "1", NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    harness_output_free(&o);

    /* Malformed: a usage error. */
    o = cli("status", "not-an-id", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "not-an-id"));
    harness_output_free(&o);
}

static void test_unfinished_exits_6(void)
{
    /* On a queue no worker serves: it stays pending. */
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = "nobody-serves";
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", NULL, &eo, &h), SPINDLE_OK);
    harness_output o = cli("status", spindle_handle_id(h), NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "pending");
    harness_output_free(&o);
    o = cli("result", spindle_handle_id(h), NULL);
    CU_ASSERT_EQUAL(o.code, 6);
    harness_output_free(&o);
    int64_t t0 = harness_ms();
    o = cli("result", spindle_handle_id(h), "--wait", "0.2", NULL);
    CU_ASSERT_EQUAL(o.code, 6);
    CU_ASSERT_TRUE(harness_ms() - t0 >= 150);
    harness_output_free(&o);
    spindle_handle_free(h);
}

static void test_typed_args_json_result(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "echo", "1", "2.5", "true", "null", "hello"), 0);
    /* [1, 2.5, true, nil, "hello"] in msgpack. */
    static const char want[] = "\x95\x01\xcb\x40\x04\x00\x00\x00\x00\x00\x00\xc3\xc0\xa5"
                               "hello";
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    size_t len = 0;
    char *args = harness_hget(key, "args", &len);
    CU_ASSERT_EQUAL(len, sizeof(want) - 1);
    CU_ASSERT_TRUE(args && len == sizeof(want) - 1 && memcmp(args, want, len) == 0);
    free(args);

    harness_output o = cli("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "[1,2.5,true,null,\"hello\"]");
    harness_output_free(&o);
}

static void test_negative_number(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "add", "-5", "3", NULL, NULL, NULL), 0);
    harness_output o = cli("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "-2");
    harness_output_free(&o);
}

static void test_queues_lists_default(void)
{
    harness_output o = cli("queues", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    int found = 0;
    for (char *save = NULL, *line = strtok_r(o.out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t n = strcspn(line, " \t");
        if (n == 7 && strncmp(line, "default", 7) == 0)
            found = 1;
    }
    CU_ASSERT_TRUE(found);
    harness_output_free(&o);
}

int register_cli_tests(void)
{
    static const test_case tests[] = {
        {"enqueue add 2 3 / result --wait 5 / status", test_enqueue_result_status},
        {"result of a failed task: exit 4, error on stderr", test_failed_task_exits_4},
        {"unknown id: exit 3; malformed: exit 2", test_unknown_id_exits_3},
        {"unfinished task: exit 6", test_unfinished_exits_6},
        {"echo 1 2.5 true null hello -> JSON", test_typed_args_json_result},
        {"negative number argument", test_negative_number},
        {"queues lists default", test_queues_lists_default},
        {NULL, NULL},
    };
    return add_suite("cli (spindle binary)", suite_init, suite_cleanup, tests);
}
