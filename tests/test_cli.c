/* The `spindle` command (BUILD/bin/spindle) against the harness's server and namespace,
 * with the real spindle-worker serving: enqueue prints an id, `result --wait` prints the
 * value as JSON, `status` prints the state, a failed task exits 4 with its error on stderr,
 * an unknown id exits 3 (a malformed one 2), an unfinished task exits 6, typed arguments
 * reach the task as msgpack (checked in the raw task hash), and `queues` lists the queue with
 * its SCHEDULED and DEAD columns. The fleet commands: a task enqueued with --retries and
 * --backoff fails twice, shows its retry fields in `status --verbose`, is listed by `dead`
 * (table and JSON), and `retry` runs it again (exit 2 for a succeeded task, 3 for an unknown
 * one); `workers` prints a heartbeat written by hand and leaves out an id without one.
 * Progress and items: `status` shows the progress line, `items` prints partial results.
 * Every run has --redis and --namespace and no SPINDLE_REDIS_URL in its environment. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "common/names.h"
#include "fleet.h"
#include "harness.h"
#include "cli_run.h"
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
    harness_output o = cli_run("enqueue", func, a1, a2, a3, a4, a5, NULL);
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

    harness_output o = cli_run("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "5");
    harness_output_free(&o);

    o = cli_run("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "succeeded");
    harness_output_free(&o);

    o = cli_run("status", id, "--queue", "default", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "succeeded");
    harness_output_free(&o);
}

static void test_failed_task_exits_4(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "fail", "boom", NULL, NULL, NULL, NULL), 0);
    harness_output o = cli_run("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "boom"));
    CU_ASSERT_STRING_EQUAL(o.out, "");
    harness_output_free(&o);

    o = cli_run("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "failed");
    harness_output_free(&o);
}

static void test_unknown_id_exits_3(void)
{
    char id[SPINDLE_ID_LEN + 1];
    spindle_id_new(id);
    harness_output o = cli_run("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    CU_ASSERT_STRING_EQUAL(o.out, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, id));
    harness_output_free(&o);

    o = cli_run("result", id, NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    harness_output_free(&o);

    o = cli_run("result", id, "--wait", "1", NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    harness_output_free(&o);

    /* Malformed: a usage error. */
    o = cli_run("status", "not-an-id", NULL);
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
    harness_output o = cli_run("status", spindle_handle_id(h), NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "pending");
    harness_output_free(&o);
    o = cli_run("result", spindle_handle_id(h), NULL);
    CU_ASSERT_EQUAL(o.code, 6);
    harness_output_free(&o);
    int64_t t0 = harness_ms();
    o = cli_run("result", spindle_handle_id(h), "--wait", "0.2", NULL);
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

    harness_output o = cli_run("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "[1,2.5,true,null,\"hello\"]");
    harness_output_free(&o);
}

static void test_negative_number(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "add", "-5", "3", NULL, NULL, NULL), 0);
    harness_output o = cli_run("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "-2");
    harness_output_free(&o);
}

static void test_queues_lists_default(void)
{
    harness_output o = cli_run("queues", NULL);
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

/* Parses o.out as JSON; asserts it is an array. Caller frees with json_decref(). */
static json_t *json_out(const harness_output *o)
{
    json_error_t err;
    json_t *v = json_loads(o->out, 0, &err);
    CU_ASSERT_TRUE(json_is_array(v));
    if (!json_is_array(v))
        fprintf(stderr, "\n  not a JSON array: '%s' (%s)\n", o->out, err.text);
    return v;
}

/* The string value of key in object o, or "" (a missing object or key, or not a string). */
static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* The object of array arr whose "id" is id, or NULL. Borrowed from arr. */
static json_t *json_by_id(json_t *arr, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (strcmp(jstr(e, "id"), id) == 0)
            return e;
    }
    return NULL;
}

static void test_retry_dead_verbose(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "--retries", "1", "--backoff", "20", "fail", "cli-boom"), 0);
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    char *v = harness_hget(key, "backoff", NULL);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "20");
    free(v);

    harness_output o = cli_run("result", id, "--wait", "8", NULL);
    CU_ASSERT_EQUAL(o.code, 4);
    harness_output_free(&o);

    char line[512];
    o = cli_run("status", id, "--verbose", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_EQUAL(strncmp(o.out, "failed\n", 7), 0);
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "attempts: 2\n", line, sizeof(line)));
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "retries: 1\n", line, sizeof(line)));
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "retried: 1\n", line, sizeof(line)));
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "backoff: 20 ms\n", line, sizeof(line)));
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "func: fail\n", line, sizeof(line)));
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "error: cli-boom\n", line, sizeof(line)));
    CU_ASSERT_PTR_NULL(cli_line_starting(o.out, "retry_at:", line, sizeof(line)));
    CU_ASSERT_PTR_NULL(cli_line_starting(o.out, "lost:", line, sizeof(line)));
    harness_output_free(&o);

    /* The newest dead letter of default: a header, then our row. */
    o = cli_run("dead", "default", "--limit", "1", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    char *words[8];
    char *nl = strchr(o.out, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
    *nl = '\0';
    CU_ASSERT_EQUAL(cli_split_words(o.out, words, 8), 5);
    CU_ASSERT_STRING_EQUAL(words[0], "ID");
    CU_ASSERT_STRING_EQUAL(words[4], "ERROR");
    CU_ASSERT_EQUAL(cli_split_words(nl + 1, words, 8), 5);
    CU_ASSERT_STRING_EQUAL(words[0], id);
    CU_ASSERT_STRING_EQUAL(words[2], "2");
    CU_ASSERT_STRING_EQUAL(words[3], "fail");
    CU_ASSERT_STRING_EQUAL(words[4], "cli-boom");
    harness_output_free(&o);

    o = cli_run("dead", "default", "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *arr = json_out(&o);
    json_t *e = json_by_id(arr, id);
    CU_ASSERT_PTR_NOT_NULL(e);
    CU_ASSERT_STRING_EQUAL(jstr(e, "error"), "cli-boom");
    CU_ASSERT_STRING_EQUAL(jstr(e, "func"), "fail");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "attempts")), 2);
    CU_ASSERT_TRUE(json_integer_value(json_object_get(e, "failed_at")) > 1600000000000LL);
    json_decref(arr);
    harness_output_free(&o);

    /* Retried: prints nothing, leaves the dead letters, fails again after its retry. */
    o = cli_run("retry", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "");
    CU_ASSERT_STRING_EQUAL(o.err, "");
    harness_output_free(&o);
    o = cli_run("result", id, "--wait", "8", NULL);
    CU_ASSERT_EQUAL(o.code, 4);
    harness_output_free(&o);
    o = cli_run("status", id, "--verbose", "--queue", "default", NULL);
    CU_ASSERT_PTR_NOT_NULL(cli_line_starting(o.out, "attempts: 4\n", line, sizeof(line)));
    harness_output_free(&o);
}

static void test_retry_exit_codes(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "add", "1", "1", NULL, NULL, NULL), 0);
    harness_output o = cli_run("result", id, "--wait", "5", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    harness_output_free(&o);
    /* Succeeded: not retryable. */
    o = cli_run("retry", id, NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "succeeded"));
    harness_output_free(&o);
    /* Unknown, malformed, missing. */
    spindle_id_new(id);
    o = cli_run("retry", id, NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    harness_output_free(&o);
    o = cli_run("retry", "not-an-id", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
    o = cli_run("retry", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
    o = cli_run("dead", "no queue", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
    o = cli_run("dead", "default", "--limit", "-1", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* Keys whose name mentions `queue`, plus 1 if NS:queues lists it: what an enqueue to it wrote.
 * DBSIZE would not do: the suite's worker sets and expires keys of its own (the sweep lock,
 * completion tokens, wake tokens) at any moment. */
static long long keys_of_queue(const char *queue)
{
    char pattern[256];
    snprintf(pattern, sizeof(pattern), "*%s*", queue);
    redisReply *r = harness_cmd("KEYS %s", pattern);
    long long n = r && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;
    freeReplyObject(r);
    long long listed = harness_int("SISMEMBER %s:queues %s", harness_ns(), queue);
    return n < 0 || listed < 0 ? -1 : n + listed;
}

static void test_enqueue_retry_options(void)
{
    static const char *const bad[][2] = {
        {"--backoff", "-1"}, {"--backoff-max", "-5"}, {"--retries", "1001"}, {"--retries", "-1"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        harness_output o =
            cli_run("enqueue", "--queue", "cli.refused", bad[i][0], bad[i][1], "add", NULL);
        CU_ASSERT_EQUAL(o.code, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, bad[i][0]));
        CU_ASSERT_STRING_EQUAL(o.out, "");
        harness_output_free(&o);
    }
    CU_ASSERT_EQUAL(keys_of_queue("cli.refused"), 0);

    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "--queue", "cli.idle", "--backoff-max", "9000", "add", NULL),
                          0);
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "cli.idle", suffix);
    char *v = harness_hget(key, "backoff_max", NULL);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "9000");
    free(v);

    /* The help no longer says the worker ignores --retries. */
    harness_output o = cli_run("enqueue", "--help", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "--backoff-max MS"));
    CU_ASSERT_PTR_NULL(strstr(o.out, "does not act"));
    harness_output_free(&o);
}

static void test_workers(void)
{
    char key[512], all[512];
    harness_key(key, sizeof(key), NULL, "worker:cli-host:4242:feed");
    harness_key(all, sizeof(all), NULL, "workers");
    char beat[24];
    snprintf(beat, sizeof(beat), "%lld", (long long)time(NULL) * 1000 - 2000);
    redisReply *r = harness_cmd("HSET %s host cli-host pid 4242 supervisor 4241 pool process "
                                "queues high,default started_at 1700000000000 beat_at %s "
                                "task 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 task_queue high "
                                "task_started_at %s processed 12 failed 3",
                                key, beat, beat);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_TRUE(harness_int("SADD %s cli-host:4242:feed cli-host:1:gone", all) >= 0);

    harness_output o = cli_run("workers", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    char line[1024], *words[10];
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli_line_starting(o.out, "ID ", line, sizeof(line)));
    CU_ASSERT_EQUAL(cli_split_words(line, words, 12), 10);
    CU_ASSERT_STRING_EQUAL(words[3], "QUEUES");
    CU_ASSERT_STRING_EQUAL(words[4], "TASK");
    CU_ASSERT_STRING_EQUAL(words[5], "RUNNING_FOR");
    CU_ASSERT_STRING_EQUAL(words[8], "UPTIME");
    CU_ASSERT_STRING_EQUAL(words[9], "BEAT_AGE");
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        cli_line_starting(o.out, "cli-host:4242:feed ", line, sizeof(line)));
    CU_ASSERT_EQUAL_FATAL(cli_split_words(line, words, 12), 10);
    CU_ASSERT_STRING_EQUAL(words[1], "process");
    CU_ASSERT_STRING_EQUAL(words[2], "4242");
    CU_ASSERT_STRING_EQUAL(words[3], "high,default");
    CU_ASSERT_STRING_EQUAL(words[4], "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87");
    CU_ASSERT_STRING_EQUAL(words[6], "12");
    CU_ASSERT_STRING_EQUAL(words[7], "3");
    /* The task started with the beat, about 2 s ago, by two clocks of the same host; the
     * worker started in 2023 (started_at 1700000000000): hours. */
    double running = atof(words[5]);
    CU_ASSERT_TRUE(running >= 1.0 && running < 60.0 && words[5][strlen(words[5]) - 1] == 's');
    CU_ASSERT_TRUE(words[8][strlen(words[8]) - 1] == 'm' && strchr(words[8], 'h') != NULL);
    double age = atof(words[9]);
    CU_ASSERT_TRUE(age >= 1.0 && age < 60.0 && words[9][strlen(words[9]) - 1] == 's');
    CU_ASSERT_PTR_NULL(strstr(o.out, "cli-host:1:gone"));
    harness_output_free(&o);

    o = cli_run("workers", "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *arr = json_out(&o);
    json_t *w = json_by_id(arr, "cli-host:4242:feed");
    CU_ASSERT_PTR_NOT_NULL(w);
    CU_ASSERT_PTR_NULL(json_by_id(arr, "cli-host:1:gone"));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "pid")), 4242);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "supervisor")), 4241);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "processed")), 12);
    json_t *queues = json_object_get(w, "queues");
    CU_ASSERT_EQUAL(json_array_size(queues), 2);
    const char *first = json_string_value(json_array_get(queues, 0));
    CU_ASSERT_STRING_EQUAL(first ? first : "", "high");
    json_t *task = json_object_get(w, "task");
    CU_ASSERT_STRING_EQUAL(jstr(task, "queue"), "high");
    json_decref(arr);
    harness_output_free(&o);
}

static void test_queues_columns(void)
{
    harness_output o = cli_run("queues", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    char line[512], *words[8];
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli_line_starting(o.out, "QUEUE ", line, sizeof(line)));
    CU_ASSERT_EQUAL(cli_split_words(line, words, 8), 7);
    CU_ASSERT_STRING_EQUAL(words[2], "WAITING");
    CU_ASSERT_STRING_EQUAL(words[4], "SCHEDULED");
    CU_ASSERT_STRING_EQUAL(words[5], "DEAD");
    CU_ASSERT_STRING_EQUAL(words[6], "FAILED_1H");
    /* Two tasks of this suite failed for good on default (one of them twice): both are dead
     * letters, and every failure for good counts in the last hour. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli_line_starting(o.out, "default ", line, sizeof(line)));
    CU_ASSERT_EQUAL_FATAL(cli_split_words(line, words, 8), 7);
    CU_ASSERT_STRING_EQUAL(words[5], "2");
    CU_ASSERT_TRUE(atoi(words[6]) >= 2);
    harness_output_free(&o);

    o = cli_run("queues", "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *arr = json_out(&o);
    size_t i;
    json_t *e, *def = NULL;
    json_array_foreach(arr, i, e)
    {
        if (strcmp(jstr(e, "queue"), "default") == 0)
            def = e;
    }
    CU_ASSERT_PTR_NOT_NULL(def);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(def, "dead")), 2);
    CU_ASSERT_TRUE(json_is_integer(json_object_get(def, "scheduled")));
    CU_ASSERT_TRUE(json_integer_value(json_object_get(def, "failed_1h")) >= 2);
    json_decref(arr);
    harness_output_free(&o);
}

/* count_to N (example library): `result --wait` prints N and nothing on stderr (not a
 * terminal: no progress bar); `status` adds the progress line; `items` prints 1..N as JSON
 * lines and exits 0 once the task has ended. */
static void test_status_progress_and_items(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "count_to", "12", NULL, NULL, NULL, NULL), 0);
    harness_output o = cli_run("result", id, "--wait", "8", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(chomp(o.out), "12");
    CU_ASSERT_STRING_EQUAL(o.err, "");
    harness_output_free(&o);

    o = cli_run("status", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "succeeded\nprogress: 12/12 (100%), counting, "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, " s ago\n"));
    harness_output_free(&o);

    o = cli_run("items", id, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n");
    harness_output_free(&o);
}

/* --follow prints items as they come and exits 0 at the task's end; without it, or when
 * --timeout runs out first, a running task exits 6 after the items stored so far. */
static void test_items_follow(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(enqueue(id, "count_to", "30", NULL, NULL, NULL, NULL), 0);
    harness_output o = cli_run("items", id, "--follow", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_EQUAL(fleet_count(o.out, "\n"), 30);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\n30\n"));
    harness_output_free(&o);

    CU_ASSERT_EQUAL_FATAL(enqueue(id, "count_to", "100", NULL, NULL, NULL, NULL), 0);
    o = cli_run("items", id, "--timeout", "0.2", NULL);
    CU_ASSERT_EQUAL(o.code, 6);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "has not ended"));
    harness_output_free(&o);
    o = cli_run("items", id, NULL);
    CU_ASSERT_EQUAL(o.code, 6);
    harness_output_free(&o);
    o = cli_run("result", id, "--wait", "8", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
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
        {"enqueue --retries --backoff, status --verbose, dead, retry", test_retry_dead_verbose},
        {"retry and dead: exit codes", test_retry_exit_codes},
        {"enqueue: retry options checked and written", test_enqueue_retry_options},
        {"workers: table and JSON from a heartbeat", test_workers},
        {"queues: SCHEDULED and DEAD columns", test_queues_columns},
        {"count_to: status shows progress, items prints them", test_status_progress_and_items},
        {"items --follow, --timeout, unfinished: exit 6", test_items_follow},
        {NULL, NULL},
    };
    return add_suite("cli (spindle binary)", suite_init, suite_cleanup, tests);
}
