/* The operator listings of admin.h over keys written by hand with plain Redis commands, as
 * docs/PROTOCOL.md lays them out (no worker runs in this suite): dead letters newest first
 * with a limit, an id whose task hash is gone or is not a hash still listed, a member that is
 * no task id skipped; live workers sorted by id from their heartbeat hashes, garbage values
 * read as 0 or cut to fit, ids without a heartbeat (or with a key of another type, or too
 * long for a key) left out; the scheduled and dead counts of spindle_queue_list(); and a key
 * of the wrong type for a whole listing reported as SPINDLE_ERR_PROTOCOL. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "harness.h"
#include "spindle/admin.h"
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

/* Runs a command for its effect; asserts Redis did not answer an error. */
static void cmd(const char *fmt, const char *a, const char *b, const char *c)
{
    redisReply *r = harness_cmd(fmt, a, b, c);
    CU_ASSERT_TRUE(r && r->type != REDIS_REPLY_ERROR);
    if (r && r->type == REDIS_REPLY_ERROR)
        fprintf(stderr, "\n  %s: %s\n", fmt, r->str);
    if (r)
        freeReplyObject(r);
}

/* NS:{queue}:task:ID */
static char *task_key(char *buf, size_t cap, const char *queue, const char *id)
{
    char suffix[256];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    return harness_key(buf, cap, queue, suffix);
}

static void test_dead_list(void)
{
    const char *q = "dl.q";
    char dead[512], key[512], ids[6][SPINDLE_ID_LEN + 1];
    harness_key(dead, sizeof(dead), q, "dead");
    /* ids[0..3]: whole dead letters failed at 1000..1003 ms; ids[4]: the newest, its hash
     * gone; ids[5]: the oldest, its task key a string. */
    for (int i = 0; i < 6; i++)
        spindle_id_new(ids[i]);
    for (int i = 0; i < 4; i++) {
        char func[16], err[16], attempts[16], score[16];
        snprintf(func, sizeof(func), "f%d", i);
        snprintf(err, sizeof(err), "err %d", i);
        snprintf(attempts, sizeof(attempts), "%d", i + 1);
        snprintf(score, sizeof(score), "%d", 1000 + i);
        redisReply *r = harness_cmd("HSET %s func %s error %s attempts %s state failed",
                                    task_key(key, sizeof(key), q, ids[i]), func, err, attempts);
        CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
        if (r)
            freeReplyObject(r);
        cmd("ZADD %s %s %s", dead, score, ids[i]);
    }
    cmd("ZADD %s %s %s", dead, "2000", ids[4]);
    cmd("SET %s %s%s", task_key(key, sizeof(key), q, ids[5]), "not a hash", "");
    cmd("ZADD %s %s %s", dead, "500", ids[5]);
    cmd("ZADD %s %s %s", dead, "1500", "not-a-task-id");

    spindle_dead_letter *list = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_dead_list(client, q, 0, &list, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(list);
    /* Newest first; the member that is no id is not listed. */
    static const int order[] = {4, 3, 2, 1, 0, 5};
    for (int i = 0; i < 6; i++)
        CU_ASSERT_STRING_EQUAL(list[i].id, ids[order[i]]);
    CU_ASSERT_EQUAL(list[0].failed_at_ms, 2000);
    CU_ASSERT_STRING_EQUAL(list[0].func, "");
    CU_ASSERT_STRING_EQUAL(list[0].error, "");
    CU_ASSERT_EQUAL(list[0].attempts, 0);
    CU_ASSERT_EQUAL(list[1].failed_at_ms, 1003);
    CU_ASSERT_STRING_EQUAL(list[1].func, "f3");
    CU_ASSERT_STRING_EQUAL(list[1].error, "err 3");
    CU_ASSERT_EQUAL(list[1].attempts, 4);
    CU_ASSERT_EQUAL(list[4].attempts, 1);
    CU_ASSERT_EQUAL(list[5].failed_at_ms, 500);
    CU_ASSERT_STRING_EQUAL(list[5].func, "");
    CU_ASSERT_STRING_EQUAL(list[5].error, "");
    spindle_dead_list_free(list, n);

    /* A limit takes the newest members of the set; the odd one (at 1500) counts against it. */
    CU_ASSERT_EQUAL_FATAL(spindle_dead_list(client, q, 1, &list, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(list[0].id, ids[4]);
    spindle_dead_list_free(list, n);
    CU_ASSERT_EQUAL_FATAL(spindle_dead_list(client, q, 3, &list, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(list[0].id, ids[4]);
    CU_ASSERT_STRING_EQUAL(list[1].id, ids[3]);
    spindle_dead_list_free(list, n);

    /* A queue without dead letters. */
    static spindle_dead_letter sentinel;
    list = &sentinel; /* must be overwritten */
    CU_ASSERT_EQUAL(spindle_dead_list(client, "dl.none", 0, &list, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(list);
    spindle_dead_list_free(NULL, 0);

    /* Bad input, and a dead "set" that is a string. */
    CU_ASSERT_EQUAL(spindle_dead_list(client, "no queue", 0, &list, &n), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "no queue"));
    CU_ASSERT_PTR_NULL(list);
    harness_key(dead, sizeof(dead), "dl.bad", "dead");
    cmd("SET %s %s%s", dead, "oops", "");
    CU_ASSERT_EQUAL(spindle_dead_list(client, "dl.bad", 0, &list, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), dead));
    CU_ASSERT_PTR_NULL(list);
    CU_ASSERT_EQUAL(n, 0);
}

/* HSET of a heartbeat hash: pairs is "field value field value …" split on spaces. */
static void beat(const char *id, const char *pairs)
{
    char key[512], suffix[256];
    snprintf(suffix, sizeof(suffix), "worker:%s", id);
    harness_key(key, sizeof(key), NULL, suffix);
    const char *argv[40] = {"HSET", key};
    size_t lens[40] = {4, strlen(key)};
    int argc = 2;
    char *copy = strdup(pairs);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w && argc < 40;
         w = strtok_r(NULL, " ", &save)) {
        argv[argc] = w;
        lens[argc++] = strlen(w);
    }
    redisReply *r = harness_cmdargv(argc, argv, lens);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
    if (r)
        freeReplyObject(r);
    free(copy);
}

static void test_worker_list(void)
{
    char all[512], key[512], long_id[201], long_host[301];
    harness_key(all, sizeof(all), NULL, "workers");
    memset(long_id, 'i', 200);
    long_id[200] = '\0';
    memset(long_host, 'h', 300);
    long_host[300] = '\0';

    beat("w-b:20:bb", "host hb pid 20 supervisor 19 pool process queues high,default "
                      "started_at 1700000000000 beat_at 1700000001000 "
                      "task 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 task_queue high "
                      "task_started_at 1700000000500 processed 7 failed 1 future-field x");
    char garbage[600];
    snprintf(garbage, sizeof(garbage),
             "pid abc supervisor -0x5 processed -3 failed 1e9 beat_at soon started_at "
             "99999999999999999999999 pool a-pool-name-far-too-long host %s "
             "task not-a-task-id-but-much-longer-than-36-characters",
             long_host);
    beat("w-a:10:aa", garbage);
    beat("w-e:50:ee", "host he pid 50"); /* a hash, but not registered in NS:workers */
    beat(long_id, "host hl pid 60");     /* registered, but too long an id for a key */
    harness_key(key, sizeof(key), NULL, "worker:w-d:40:dd");
    cmd("SET %s %s%s", key, "not a hash", "");
    cmd("SADD %s %s %s", all, "w-b:20:bb", "w-a:10:aa");
    cmd("SADD %s %s %s", all, "w-c:30:cc", "w-d:40:dd"); /* no heartbeat; wrong type */
    cmd("SADD %s %s%s", all, long_id, "");

    spindle_worker_info *list = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_worker_list(client, &list, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(list);
    /* Sorted by id. */
    const spindle_worker_info *a = &list[0], *b = &list[1];
    CU_ASSERT_STRING_EQUAL(a->id, "w-a:10:aa");
    CU_ASSERT_STRING_EQUAL(b->id, "w-b:20:bb");

    CU_ASSERT_STRING_EQUAL(b->host, "hb");
    CU_ASSERT_EQUAL(b->pid, 20);
    CU_ASSERT_EQUAL(b->supervisor, 19);
    CU_ASSERT_STRING_EQUAL(b->pool, "process");
    CU_ASSERT_STRING_EQUAL(b->queues, "high,default");
    CU_ASSERT_EQUAL(b->started_at_ms, 1700000000000LL);
    CU_ASSERT_EQUAL(b->beat_at_ms, 1700000001000LL);
    CU_ASSERT_STRING_EQUAL(b->task, "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87");
    CU_ASSERT_STRING_EQUAL(b->task_queue, "high");
    CU_ASSERT_EQUAL(b->task_started_at_ms, 1700000000500LL);
    CU_ASSERT_EQUAL(b->processed, 7);
    CU_ASSERT_EQUAL(b->failed, 1);

    /* Garbage reads as 0, long text is cut to fit, absent text is "". */
    CU_ASSERT_EQUAL(a->pid, 0);
    CU_ASSERT_EQUAL(a->supervisor, 0);
    CU_ASSERT_EQUAL(a->processed, 0);
    CU_ASSERT_EQUAL(a->failed, 0);
    CU_ASSERT_EQUAL(a->beat_at_ms, 0);
    CU_ASSERT_EQUAL(a->started_at_ms, 0);
    CU_ASSERT_EQUAL(strlen(a->host), sizeof(a->host) - 1);
    CU_ASSERT_EQUAL(strncmp(a->host, long_host, sizeof(a->host) - 1), 0);
    CU_ASSERT_STRING_EQUAL(a->pool, "a-pool-name-far");
    CU_ASSERT_EQUAL(strlen(a->task), sizeof(a->task) - 1);
    CU_ASSERT_STRING_EQUAL(a->task_queue, "");
    CU_ASSERT_PTR_NOT_NULL(a->queues);
    CU_ASSERT_STRING_EQUAL(a->queues ? a->queues : "?", "");
    spindle_worker_list_free(list, n);
    spindle_worker_list_free(NULL, 0);

    /* No index: nobody. An index that is not a set: an error naming it. */
    CU_ASSERT_EQUAL(harness_int("DEL %s", all), 1);
    static spindle_worker_info sentinel;
    list = &sentinel; /* must be overwritten */
    CU_ASSERT_EQUAL(spindle_worker_list(client, &list, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(list);
    cmd("SET %s %s%s", all, "oops", "");
    CU_ASSERT_EQUAL(spindle_worker_list(client, &list, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), all));
    CU_ASSERT_PTR_NULL(list);
    CU_ASSERT_EQUAL(harness_int("DEL %s", all), 1);
}

/* The entry of spindle_queue_list() for name, copied into *out; 1 if found. */
static int queue_stat(const char *name, spindle_queue_stat *out)
{
    spindle_queue_stat *list = NULL;
    size_t n = 0;
    int found = 0;
    CU_ASSERT_EQUAL(spindle_queue_list(client, &list, &n), SPINDLE_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0) {
            *out = list[i];
            found = 1;
        }
    spindle_queue_list_free(list);
    return found;
}

static void test_queue_counts(void)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "qc.q";
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", NULL, &o, NULL), SPINDLE_OK);
    spindle_queue_stat st;
    CU_ASSERT_TRUE_FATAL(queue_stat("qc.q", &st));
    CU_ASSERT_EQUAL(st.pending, 1);
    CU_ASSERT_EQUAL(st.running, 0);
    CU_ASSERT_EQUAL(st.scheduled, 0);
    CU_ASSERT_EQUAL(st.dead, 0);

    char sched[512], dead[512];
    harness_key(sched, sizeof(sched), "qc.q", "scheduled");
    harness_key(dead, sizeof(dead), "qc.q", "dead");
    char id[5][SPINDLE_ID_LEN + 1];
    for (int i = 0; i < 5; i++)
        spindle_id_new(id[i]);
    cmd("ZADD %s 1 %s 2 %s", sched, id[0], id[1]);
    cmd("ZADD %s 1 %s 2 %s", dead, id[2], id[3]);
    cmd("ZADD %s 3 %s%s", dead, id[4], "");
    CU_ASSERT_TRUE_FATAL(queue_stat("qc.q", &st));
    CU_ASSERT_EQUAL(st.pending, 1);
    CU_ASSERT_EQUAL(st.scheduled, 2);
    CU_ASSERT_EQUAL(st.dead, 3);

    /* A scheduled "set" that is a list: the listing fails and names it. */
    CU_ASSERT_EQUAL(harness_int("DEL %s", sched), 1);
    CU_ASSERT_EQUAL(harness_int("RPUSH %s x", sched), 1);
    spindle_queue_stat *list = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_queue_list(client, &list, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), sched));
    CU_ASSERT_PTR_NULL(list);
    CU_ASSERT_EQUAL(harness_int("DEL %s", sched), 1);
}

int register_listing_tests(void)
{
    static const test_case tests[] = {
        {"dead letters: newest first, limit, gone hash, odd members", test_dead_list},
        {"workers: sorted, garbage tolerated, dead ids left out", test_worker_list},
        {"queue list: scheduled and dead counts", test_queue_counts},
        {NULL, NULL},
    };
    return add_suite("listings: dead letters, workers, queue counts", suite_init, suite_cleanup,
                     tests);
}
