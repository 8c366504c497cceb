/* What a worker does with tasks it cannot run, all written the way a buggy producer or an
 * operator with redis-cli could write them: an unregistered function; args that are not
 * msgpack, truncated, a map instead of an array, or followed by junk; a hash without `func`;
 * an id in pending with no hash; a task key that is not a hash; a queue whose pending key is
 * not a list. Each bad task ends `failed` with a message saying what was wrong, bad ids are
 * dropped, and the forked worker keeps serving: every test ends with a good task succeeding
 * and the worker process alive. The worker serves "broken,default": a broken queue of higher
 * priority must not starve the other. And a dead-letter key that turns into a string while a
 * task runs, so that Redis refuses the settlement: the task is put back, not stranded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "harness.h"
#include "suites.h"

static spindle_client *client;
static pid_t worker;

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    worker = harness_worker_fork("broken,default", 0);
    return client && worker > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    spindle_client_free(client);
    client = NULL;
    return harness_suite_cleanup();
}

/* add(20, 22) must still give 42, and the worker must still be running. */
static void assert_worker_serves(void)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 20);
    spindle_args_int(a, 22);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "add", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    spindle_result *r = NULL;
    int rc = h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : SPINDLE_ERR_INVALID;
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 42);
    spindle_result_free(r);
    spindle_handle_free(h);
    CU_ASSERT_TRUE(harness_child_alive(worker));
}

/* Writes a task hash by hand (func omitted if NULL) and pushes its id onto the default queue
 * with a wake token, as docs/PROTOCOL.md tells producers in other languages to do. The id is
 * written into id. Returns 0 if Redis accepted it all. */
static int inject(char id[SPINDLE_ID_LEN + 1], const char *func, const char *args, size_t len)
{
    spindle_id_new(id);
    char key[512], pending[512], wake[512], now[32], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    harness_key(pending, sizeof(pending), "default", "pending");
    harness_key(wake, sizeof(wake), "default", "wake");
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL) * 1000);
    const char *argv[12] = {"HSET", key, "args", args, "state", "pending", "enqueued_at", now};
    size_t lens[12] = {4, strlen(key), 4, len, 5, 7, 11, strlen(now)};
    int argc = 8;
    if (func) {
        argv[argc] = "func";
        lens[argc++] = 4;
        argv[argc] = func;
        lens[argc++] = strlen(func);
    }
    int ok = 1;
    redisReply *r = harness_cmdargv(argc, argv, lens);
    ok = ok && r && r->type == REDIS_REPLY_INTEGER;
    if (r)
        freeReplyObject(r);
    ok = ok && harness_int("LPUSH %s %s", pending, id) > 0;
    ok = ok && harness_int("LPUSH %s 1", wake) > 0;
    return ok ? 0 : -1;
}

/* Waits for the hand-written task and asserts it failed with a message containing want. */
static void assert_fails_with(const char *id, const char *want)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_handle_open(client, id, "default", &h), SPINDLE_OK);
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(err);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, want) : NULL);
    if (err == NULL || strstr(err, want) == NULL)
        fprintf(stderr, "\n  task %s: rc %d, error '%s', expected '%s'\n", id, rc,
                err ? err : "(none)", want);
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_FAILED);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_unknown_function(void)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 1);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "no_such_function", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "'no_such_function'") : NULL);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "not registered") : NULL);
    spindle_result_free(r);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *state = harness_hget(key, "state", NULL);
    CU_ASSERT_STRING_EQUAL(state ? state : "", "failed");
    free(state);
    spindle_handle_free(h);
    assert_worker_serves();
}

static void test_args_not_msgpack(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "\xc1", 1), 0);
    assert_fails_with(id, "args of 'echo' are not valid msgpack");
    assert_worker_serves();
}

static void test_args_truncated(void)
{
    char id[SPINDLE_ID_LEN + 1];
    /* An array of 3 with one element; a str8 of 5 bytes with 2. */
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "\x93\x01", 2), 0);
    assert_fails_with(id, "args of 'echo' are truncated");
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "\x91\xd9\x05hi", 5), 0);
    assert_fails_with(id, "truncated");
    /* Six bytes declaring a 268-million-element array inside an array: msgpack-c would
     * allocate gigabytes for it before noticing; the bounds check refuses it first. */
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "\x91\xdd\x0f\xff\xff\xff", 6), 0);
    assert_fails_with(id, "declares more elements than there are bytes");
    /* Present but empty. */
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "", 0), 0);
    assert_fails_with(id, "args of 'echo'");
    assert_worker_serves();
}

static void test_args_map(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "\x81\xa1k\x01", 4), 0);
    assert_fails_with(id, "args of 'echo' must be a msgpack array");
    CU_ASSERT_EQUAL_FATAL(inject(id, "add", "\x05", 1), 0);
    assert_fails_with(id, "args of 'add' must be a msgpack array");
    assert_worker_serves();
}

static void test_args_trailing_junk(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(inject(id, "echo", "\x91\x01\x02\x03", 4), 0);
    assert_fails_with(id, "args of 'echo' are followed by junk bytes");
    assert_worker_serves();
}

static void test_no_func_field(void)
{
    char id[SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL_FATAL(inject(id, NULL, "\x90", 1), 0);
    assert_fails_with(id, "no 'func' field");
    assert_worker_serves();
}

/* A failure message far over the 1 KiB limit is truncated, not refused. */
static void test_long_error(void)
{
    enum { LEN = 5000 };
    char *msg = malloc(LEN + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    memset(msg, 'x', LEN);
    msg[LEN] = '\0';
    spindle_args *a = spindle_args_new();
    spindle_args_str(a, msg);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "fail", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err) {
        CU_ASSERT_TRUE(strlen(err) >= 500);
        CU_ASSERT_TRUE(strlen(err) < 1024);
        CU_ASSERT_EQUAL(strncmp(err, msg, strlen(err)), 0);
    }
    spindle_result_free(r);
    spindle_handle_free(h);
    free(msg);
    assert_worker_serves();
}

/* A state no version of the protocol has: reported as SPINDLE_ERR_PROTOCOL, naming it. */
static void test_unknown_state(void)
{
    char id[SPINDLE_ID_LEN + 1], key[512], suffix[64];
    spindle_id_new(id);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    redisReply *r = harness_cmd("HSET %s func add args %b state exploded", key, "\x90", (size_t)1);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
    if (r)
        freeReplyObject(r);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_handle_open(client, id, "default", &h), SPINDLE_OK);
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "exploded"));
    spindle_result *res = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &res), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NULL(res);
    spindle_task_info info;
    CU_ASSERT_EQUAL(spindle_info(client, h, &info), SPINDLE_ERR_PROTOCOL);
    spindle_handle_free(h);
}

/* An id in pending with no hash behind it: dropped, nothing created for it. */
static void test_id_without_hash(void)
{
    char id[SPINDLE_ID_LEN + 1], pending[512], key[512], suffix[64];
    spindle_id_new(id);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    harness_key(pending, sizeof(pending), "default", "pending");
    CU_ASSERT_EQUAL(harness_int("LPUSH %s %s", pending, id), 1);
    assert_worker_serves();
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
}

/* A task key that is a string: dropped and left as it was. */
static void test_task_key_wrong_type(void)
{
    char id[SPINDLE_ID_LEN + 1], pending[512], key[512], suffix[64];
    spindle_id_new(id);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    harness_key(pending, sizeof(pending), "default", "pending");
    redisReply *r = harness_cmd("SET %s not-a-hash", key);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL(harness_int("LPUSH %s %s", pending, id), 1);
    assert_worker_serves();
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
    char *v = NULL;
    r = harness_cmd("GET %s", key);
    if (r && r->type == REDIS_REPLY_STRING)
        v = strdup(r->str);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "not-a-hash");
    free(v);

    /* Asking about it through the API is an error, not a crash. */
    spindle_handle *h = NULL;
    CU_ASSERT_NOT_EQUAL(spindle_handle_open(client, id, "default", &h), SPINDLE_OK);
    spindle_handle_free(h);
}

/* The higher-priority queue's pending key is a string: the worker skips that queue and goes
 * on serving the next one. */
static void test_queue_key_wrong_type(void)
{
    char pending[512];
    harness_key(pending, sizeof(pending), "broken", "pending");
    redisReply *r = harness_cmd("SET %s oops", pending);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    harness_sleep_ms(50); /* let the worker run into it */
    assert_worker_serves();
    assert_worker_serves();
    r = harness_cmd("DEL %s", pending);
    if (r)
        freeReplyObject(r);
}

/* 1 if the set at key has a member that the SMEMBERS reply before lacks. */
static int has_new_member(const char *key, const redisReply *before)
{
    redisReply *now = harness_cmd("SMEMBERS %s", key);
    int found = 0;
    for (size_t i = 0; now && now->type == REDIS_REPLY_ARRAY && i < now->elements; i++) {
        int known = 0;
        for (size_t j = 0; before && j < before->elements; j++)
            known |= strcmp(now->element[i]->str, before->element[j]->str) == 0;
        found |= !known;
    }
    if (now)
        freeReplyObject(now);
    return found;
}

/* The queue's dead-letter key becomes a string while a task runs, so Redis refuses the
 * batch's settlement (the script checks key types before it writes). The slot must not go
 * on serving with the task stranded `running` in its in-flight list, where neither its
 * supervisor nor the sweep would ever look: it exits, a new slot takes its place, and once
 * the key is repaired the sweep puts the task back and it succeeds. */
static void test_settle_refused(void)
{
    char workers[512], dead[512], key[512];
    harness_key(workers, sizeof(workers), NULL, "workers");
    harness_key(dead, sizeof(dead), "default", "dead");
    redisReply *slots = harness_cmd("SMEMBERS %s", workers);
    CU_ASSERT_TRUE(slots && slots->type == REDIS_REPLY_ARRAY && slots->elements > 0);
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 300);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "sleep_ms", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    if (h == NULL || slots == NULL) {
        if (slots)
            freeReplyObject(slots);
        return;
    }
    harness_task_key(key, sizeof(key), h);
    int running = 0;
    for (int64_t end = harness_ms() + HARNESS_WAIT_MS; !running && harness_ms() < end;) {
        char *st = harness_hget(key, "state", NULL);
        running = st && strcmp(st, "running") == 0;
        free(st);
        if (!running)
            harness_sleep_ms(5);
    }
    CU_ASSERT_TRUE(running);
    redisReply *r = harness_cmd("SET %s oops", dead);
    if (r)
        freeReplyObject(r);
    int replaced = 0;
    for (int64_t end = harness_ms() + HARNESS_WAIT_MS; !replaced && harness_ms() < end;) {
        replaced = has_new_member(workers, slots);
        if (!replaced)
            harness_sleep_ms(20);
    }
    CU_ASSERT_TRUE(replaced); /* the slot that could not settle exited */
    freeReplyObject(slots);
    r = harness_cmd("DEL %s", dead);
    if (r)
        freeReplyObject(r);
    spindle_result *res = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &res), SPINDLE_OK);
    spindle_result_free(res);
    spindle_handle_free(h);
    assert_worker_serves();
}

int register_bad_tasks_tests(void)
{
    static const test_case tests[] = {
        {"unknown function -> failed, worker serves on", test_unknown_function},
        {"args not msgpack (\\xc1)", test_args_not_msgpack},
        {"args truncated", test_args_truncated},
        {"args a map, not an array", test_args_map},
        {"args with trailing junk", test_args_trailing_junk},
        {"hash without func", test_no_func_field},
        {"failure message over 1 KiB", test_long_error},
        {"unknown state in a hash", test_unknown_state},
        {"id in pending without a hash", test_id_without_hash},
        {"task key of the wrong type", test_task_key_wrong_type},
        {"pending key of the wrong type", test_queue_key_wrong_type},
        {"settlement refused: the slot exits, the task is put back", test_settle_refused},
        {NULL, NULL},
    };
    return add_suite("bad tasks (forked worker)", suite_init, suite_cleanup, tests);
}
