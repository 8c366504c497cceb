/* `spindle inspect` and `spindle list` against a Redis whose contents the test writes by
 * hand (no worker), so every expected line is known: inspect prints every field with args
 * and result decoded (text and JSON) and exits 3 for an unknown id; list pages of 250
 * pending, scheduled and dead tasks chained by their cursors give every id once, in run,
 * due and failure order; running tasks come from the workers' in-flight lists; and a page of
 * 5 on a queue of 100,000 pending reads only its window (checked in the slow log, which
 * records every command with its arguments when its threshold is 0); retry --all-dead puts
 * the dead letters back on pending in pages, says why some stayed, and honours --limit;
 * purge refuses without a terminal unless --yes, deletes by state and never a running task;
 * on a terminal (tmux on a private socket) it deletes only when the queue name is typed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "harness.h"
#include "cli_run.h"
#include "suites.h"

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    return 0;
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup();
}

/* The id of task i of a batch: a lowercase UUID made of the batch number and i. */
static void batch_id(char id[37], int batch, int i)
{
    snprintf(id, 37, "%08x-0000-4000-8000-%012x", batch, i);
}

/* Writes n tasks of queue in state (pending: LPUSH in order i = 0..n-1, so task 0 runs
 * first; scheduled and dead: ZADD scored 1000000 + i), each with a hash unless bare. */
static const char *fill_lua =
    "local n, batch, state, bare = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]\n"
    "for i = 0, n - 1 do\n"
    "  local id = string.format('%08x-0000-4000-8000-%012x', batch, i)\n"
    "  if state == 'pending' then redis.call('LPUSH', KEYS[1], id)\n"
    "  else redis.call('ZADD', KEYS[1], 1000000 + i, id) end\n"
    "  if bare == '0' then redis.call('HSET', KEYS[2] .. id, 'func', 'f' .. i, 'state',\n"
    "    state == 'dead' and 'failed' or state,\n"
    "    'enqueued_at', 1700000000000 + i, 'attempts', i % 3, 'error', 'err ' .. i) end\n"
    "end\n"
    "return n\n";

static void fill(const char *queue, const char *state, int batch, int n, int bare)
{
    char key[256], prefix[256];
    const char *suffix = strcmp(state, "pending") == 0 ? "pending"
                         : strcmp(state, "dead") == 0  ? "dead"
                                                       : "scheduled";
    harness_key(key, sizeof(key), queue, suffix);
    harness_key(prefix, sizeof(prefix), queue, "task:");
    char ns[16], nb[16];
    snprintf(ns, sizeof(ns), "%d", n);
    snprintf(nb, sizeof(nb), "%d", batch);
    const char *argv[] = {"EVAL", fill_lua, "2", key, prefix, ns, nb, state, bare ? "1" : "0"};
    redisReply *r = harness_cmdargv(9, argv, NULL);
    CU_ASSERT_TRUE_FATAL(r && r->type == REDIS_REPLY_INTEGER && r->integer == n);
    freeReplyObject(r);
}

/* ---- inspect ---------------------------------------------------------------------------- */

static void test_inspect(void)
{
    char key[256], id[37];
    batch_id(id, 0x1a, 1);
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "insp", suffix);
    /* args [2, "hi"], result {"sum": 5}, a progress report and a field this tool does not
     * know: all must show. */
    const char *argv[] = {"HSET",         key,
                          "func",         "add",
                          "state",        "succeeded",
                          "args",         "\x92\x02\xa2hi",
                          "result",       "\x81\xa3sum\x05",
                          "enqueued_at",  "1700000000000",
                          "finished_at",  "1700000001500",
                          "attempts",     "2",
                          "error",        "first try: boom",
                          "progress_msg", "halfway",
                          "custom",       "x"};
    size_t lens[22];
    for (int i = 0; i < 22; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = harness_cmdargv(22, argv, lens);
    CU_ASSERT_TRUE_FATAL(r && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    CU_ASSERT_EQUAL(harness_int("EXPIRE %s 3600", key), 1);
    char queues[256];
    harness_key(queues, sizeof(queues), NULL, "queues");
    CU_ASSERT_EQUAL(harness_int("SADD %s insp", queues), 1);

    harness_output o = cli_run("inspect", id, NULL); /* found through NS:queues */
    CU_ASSERT_EQUAL(o.code, 0);
    char line[128];
    snprintf(line, sizeof(line), "id: %s\nqueue: insp\nstate: succeeded\n", id);
    CU_ASSERT_EQUAL(strncmp(o.out, line, strlen(line)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nargs: [2,\"hi\"]\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nresult: {\"sum\":5}\n"));
    const char *fin = strstr(o.out, "\nfinished_at: 2023-11-14T22:13:21.500Z (");
    CU_ASSERT_TRUE(fin && strstr(fin, "h ago)\n") && strchr(fin + 1, '\n') > strstr(fin, "d"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nattempts: 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nprogress_msg: halfway\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\ncustom: x\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nexpires in: "));
    const char *err = strstr(o.out, "\nerror: first try: boom\n");
    CU_ASSERT_TRUE(err && err[strlen("\nerror: first try: boom\n")] == '\0'); /* last */
    harness_output_free(&o);

    o = cli_run("inspect", id, "--queue", "insp", "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *j = json_loads(o.out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "id")), id);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "queue")), "insp");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "state")), "succeeded");
    json_t *args = json_object_get(j, "args");
    CU_ASSERT_TRUE(json_is_array(args) && json_array_size(args) == 2 &&
                   json_integer_value(json_array_get(args, 0)) == 2 &&
                   strcmp(json_string_value(json_array_get(args, 1)), "hi") == 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(j, "result"), "sum")), 5);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "finished_at")), 1700000001500LL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "attempts")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "error")), "first try: boom");
    json_int_t ttl = json_integer_value(json_object_get(j, "expires_in"));
    CU_ASSERT_TRUE(ttl > 3500 && ttl <= 3600);
    json_decref(j);
    harness_output_free(&o);

    /* Unknown (or expired: the hash is gone) → 3 with a message naming the id. */
    CU_ASSERT_EQUAL(harness_int("DEL %s", key), 1);
    o = cli_run("inspect", id, "--queue", "insp", NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, id));
    CU_ASSERT_STRING_EQUAL(o.out, "");
    harness_output_free(&o);
    o = cli_run("inspect", "not-an-id", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* ---- list ------------------------------------------------------------------------------- */

/* Pages through queue in state with --json --limit limit; returns the ids in order
 * (n of them, at most cap), checking each page's size. */
static int page_all(const char *queue, const char *state, const char *limit, char (*ids)[37],
                    int cap)
{
    int n = 0, pages = 0;
    char cursor[32] = "";
    for (;;) {
        harness_output o =
            cursor[0] ? cli_run("list", queue, "--state", state, "--limit", limit, "--cursor",
                                cursor, "--json", NULL)
                      : cli_run("list", queue, "--state", state, "--limit", limit, "--json", NULL);
        CU_ASSERT_EQUAL(o.code, 0);
        json_t *j = json_loads(o.out, 0, NULL);
        harness_output_free(&o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(j);
        json_t *tasks = json_object_get(j, "tasks"), *next = json_object_get(j, "next");
        size_t i;
        json_t *t;
        json_array_foreach(tasks, i, t)
        {
            if (n < cap)
                snprintf(ids[n], 37, "%s", json_string_value(json_object_get(t, "id")));
            n++;
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "state")),
                                   strcmp(state, "dead") == 0 ? "failed" : state);
        }
        pages++;
        int last = json_is_null(next);
        if (!last) {
            CU_ASSERT_EQUAL(json_array_size(tasks), (size_t)atoi(limit));
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        }
        json_decref(j);
        if (last || pages > 100)
            break;
    }
    return n;
}

/* 250 tasks of each listed state: pages of 40 chained by cursor give each id once, in the
 * order the state lists them. */
static void test_list_pages(void)
{
    static const char *const states[] = {"pending", "scheduled", "dead"};
    static char ids[300][37];
    for (int s = 0; s < 3; s++) {
        char queue[16];
        snprintf(queue, sizeof(queue), "l%d", s);
        fill(queue, states[s], 0x100 + s, 250, 0);
        int n = page_all(queue, states[s], "40", ids, 300);
        CU_ASSERT_EQUAL(n, 250);
        for (int i = 0; i < 250 && i < n; i++) {
            char want[37];
            /* pending: task 0 runs first; scheduled: lowest score first; dead: latest. */
            batch_id(want, 0x100 + s, s == 2 ? 249 - i : i);
            if (strcmp(ids[i], want) != 0) {
                CU_FAIL("list: page order");
                fprintf(stderr, "\n  %s #%d: %s, expected %s\n", states[s], i, ids[i], want);
                break;
            }
        }
    }
    /* Text: a table, and the command of the next page as the last line, none on the last. */
    harness_output o = cli_run("list", "l0", "--state", "pending", "--limit", "3", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    char id[37];
    batch_id(id, 0x100, 0);
    CU_ASSERT_EQUAL(strncmp(o.out, "ID ", 3), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, id));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "err 0"));
    const char *next =
        strstr(o.out, "\nnext: spindle list l0 --state pending --limit 3 --cursor 3\n");
    CU_ASSERT_TRUE(next && next[strlen("\nnext: spindle list l0 --state pending --limit 3 "
                                       "--cursor 3\n")] == '\0');
    harness_output_free(&o);
    o = cli_run("list", "l0", "--state", "pending", "--limit", "3", "--cursor", "248", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NULL(strstr(o.out, "next:"));
    batch_id(id, 0x100, 249);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, id));
    harness_output_free(&o);
    /* Bad state or cursor: usage errors. */
    o = cli_run("list", "l0", "--state", "finished", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
    o = cli_run("list", "l0", "--state", "dead", "--cursor", "x1", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* Running tasks: the in-flight lists of the queue's workers, with the worker of each. */
static void test_list_running(void)
{
    char key[256], suffix[128], id[37];
    harness_key(key, sizeof(key), "lrun", "workers");
    CU_ASSERT_EQUAL(harness_int("SADD %s wb wa idle", key), 3);
    for (int i = 0; i < 5; i++) {
        batch_id(id, 0x200, i);
        snprintf(suffix, sizeof(suffix), "inflight:%s", i < 3 ? "wa" : "wb");
        harness_key(key, sizeof(key), "lrun", suffix);
        CU_ASSERT_TRUE(harness_int("RPUSH %s %s", key, id) > 0);
        snprintf(suffix, sizeof(suffix), "task:%s", id);
        harness_key(key, sizeof(key), "lrun", suffix);
        CU_ASSERT_EQUAL(
            harness_int("HSET %s func slow state running started_at 1700000000000", key), 3);
    }
    static char ids[8][37];
    CU_ASSERT_EQUAL(page_all("lrun", "running", "2", ids, 8), 5);
    for (int i = 0; i < 5; i++) {
        batch_id(id, 0x200, i);
        CU_ASSERT_STRING_EQUAL(ids[i], id);
    }
    harness_output o = cli_run("list", "lrun", "--state", "running", "--json", NULL);
    json_t *j = json_loads(o.out, 0, NULL);
    json_t *tasks = json_object_get(j, "tasks");
    CU_ASSERT_EQUAL(json_array_size(tasks), 5);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(tasks, 0), "worker")),
                           "wa");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(tasks, 4), "worker")),
                           "wb");
    CU_ASSERT_TRUE(json_is_null(json_object_get(j, "next")));
    json_decref(j);
    harness_output_free(&o);
}

/* The calls count of a command in INFO commandstats (-1 if not listed). */
static long long command_calls(const char *cmd)
{
    redisReply *r = harness_cmd("INFO commandstats");
    long long calls = -1;
    char pat[64];
    snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", cmd);
    const char *p = r && r->type == REDIS_REPLY_STRING ? r->str : NULL; /* RESP2 */
    p = p ? strstr(p, pat) : NULL;
    if (p)
        calls = atoll(p + strlen(pat));
    freeReplyObject(r);
    return calls;
}

/* A page of 5 on 100,000 pending tasks: one LRANGE of positions -6..-1, five HMGETs. */
static void test_list_big_queue_reads_window(void)
{
    fill("big", "pending", 0x300, 100000, 1);
    redisReply *r = harness_cmd("CONFIG GET slowlog-log-slower-than");
    char old[32] = "10000";
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        snprintf(old, sizeof(old), "%s", r->element[1]->str);
    freeReplyObject(r);
    freeReplyObject(harness_cmd("CONFIG SET slowlog-log-slower-than 0"));
    freeReplyObject(harness_cmd("SLOWLOG RESET"));
    freeReplyObject(harness_cmd("CONFIG RESETSTAT"));
    int64_t t0 = harness_ms();
    harness_output o = cli_run("list", "big", "--state", "pending", "--limit", "5", "--json", NULL);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *j = json_loads(o.out, 0, NULL);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "tasks")), 5);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "next")), "5");
    json_decref(j);
    harness_output_free(&o);
    CU_ASSERT_EQUAL(command_calls("lrange"), 1);
    CU_ASSERT_EQUAL(command_calls("hmget"), 5);
    /* The one LRANGE asked for positions -6..-1 only. */
    r = harness_cmd("SLOWLOG GET 128");
    int seen = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *e = r->element[i], *args = e->elements > 3 ? e->element[3] : NULL;
        if (args && args->elements == 4 && strcasecmp(args->element[0]->str, "LRANGE") == 0) {
            seen++;
            CU_ASSERT_STRING_EQUAL(args->element[2]->str, "-6");
            CU_ASSERT_STRING_EQUAL(args->element[3]->str, "-1");
        }
    }
    CU_ASSERT_EQUAL(seen, 1);
    freeReplyObject(r);
    freeReplyObject(harness_cmd("CONFIG SET slowlog-log-slower-than %s", old));
    CU_ASSERT_TRUE(took < harness_scaled_ms(3000));
    char key[256];
    harness_key(key, sizeof(key), "big", "pending");
    CU_ASSERT_EQUAL(harness_int("DEL %s", key), 1);
}

/* ---- retry --all-dead ------------------------------------------------------------------ */

/* 150 dead letters (more than one page of 100) and, apart, one whose unique key another task
 * holds and one whose hash expired: --limit 120 retries 120, then the rest go back but those
 * two, which are counted with their reason. */
static void test_retry_all_dead(void)
{
    fill("rd", "dead", 0x400, 150, 0);
    char dead[256], pending[256], key[256], suffix[128], held[37], gone[37], holder[37];
    harness_key(dead, sizeof(dead), "rd", "dead");
    harness_key(pending, sizeof(pending), "rd", "pending");
    batch_id(held, 0x401, 1);
    batch_id(gone, 0x401, 2);
    batch_id(holder, 0x401, 3);
    CU_ASSERT_EQUAL(harness_int("ZADD %s 1 %s 2 %s", dead, held, gone), 2);
    snprintf(suffix, sizeof(suffix), "task:%s", held);
    harness_key(key, sizeof(key), "rd", suffix);
    CU_ASSERT_EQUAL(harness_int("HSET %s func f state failed unique K", key), 3);
    snprintf(suffix, sizeof(suffix), "task:%s", holder);
    harness_key(key, sizeof(key), "rd", suffix);
    CU_ASSERT_EQUAL(harness_int("HSET %s func f state pending", key), 2);
    harness_key(key, sizeof(key), "rd", "unique:K");
    freeReplyObject(harness_cmd("SET %s %s", key, holder));

    harness_output o = cli_run("retry", "--all-dead", "rd", "--limit", "120", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    /* Oldest first: the two apart (scores 1, 2) come first, then 118 of the batch. */
    CU_ASSERT_STRING_EQUAL(o.out, "retried 118; not retried 2 (1 unique key held, 0 state not "
                                  "retryable, 1 expired, 0 bad entries)\n");
    harness_output_free(&o);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 118);
    CU_ASSERT_EQUAL(harness_int("ZCARD %s", dead), 34);

    o = cli_run("retry", "--all-dead", "rd", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "retried 32; not retried 2 (1 unique key held, 0 state not "
                                  "retryable, 1 expired, 0 bad entries)\n");
    harness_output_free(&o);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 150);
    CU_ASSERT_EQUAL(harness_int("ZCARD %s", dead), 2);
    char id[37];
    batch_id(id, 0x400, 7);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "rd", suffix);
    char *st = harness_hget(key, "state", NULL);
    CU_ASSERT_STRING_EQUAL(st ? st : "", "pending");
    free(st);

    o = cli_run("retry", "--all-dead", "bad queue!", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
    o = cli_run("retry", "--all-dead", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* ---- purge ----------------------------------------------------------------------------- */

/* 150 pending (two pages), 3 scheduled and 2 dead tasks, a stale pending entry whose task
 * runs, and a running task in a worker's in-flight list: without a terminal and without
 * --yes nothing is deleted (exit 2); --state dead deletes only the dead; then all deletes
 * the rest, and the running task, its in-flight entry and its hash are untouched. */
static void test_purge(void)
{
    fill("pg", "pending", 0x500, 150, 0);
    fill("pg", "scheduled", 0x501, 3, 0);
    fill("pg", "dead", 0x502, 2, 0);
    char run[37], key[256], suffix[128], pending[256], inflight[256], task[256];
    batch_id(run, 0x503, 1);
    snprintf(suffix, sizeof(suffix), "task:%s", run);
    harness_key(task, sizeof(task), "pg", suffix);
    CU_ASSERT_EQUAL(harness_int("HSET %s func slow state running", task), 2);
    harness_key(inflight, sizeof(inflight), "pg", "inflight:w1");
    CU_ASSERT_EQUAL(harness_int("RPUSH %s %s", inflight, run), 1);
    harness_key(pending, sizeof(pending), "pg", "pending");
    CU_ASSERT_EQUAL(harness_int("LPUSH %s %s", pending, run), 151); /* stale: it runs */

    harness_output o = cli_run("purge", "pg", NULL); /* stdin is /dev/null: no terminal */
    CU_ASSERT_EQUAL(o.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--yes"));
    harness_output_free(&o);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 151);

    o = cli_run("purge", "pg", "--state", "dead", "--yes", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "purged 2 dead\n");
    harness_output_free(&o);
    harness_key(key, sizeof(key), "pg", "dead");
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 151);

    o = cli_run("purge", "pg", "--yes", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "purged 150 pending, 3 scheduled, 0 dead; removed 1 stale "
                                  "entries (task gone or in another state, left alone)\n");
    harness_output_free(&o);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
    harness_key(key, sizeof(key), "pg", "scheduled");
    CU_ASSERT_EQUAL(harness_int("ZCARD %s", key), 0);
    char id[37];
    batch_id(id, 0x500, 149);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "pg", suffix);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    /* The running task: untouched. */
    char *st = harness_hget(task, "state", NULL);
    CU_ASSERT_STRING_EQUAL(st ? st : "", "running");
    free(st);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", inflight), 1);

    o = cli_run("purge", "pg", "--state", "running", "--yes", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* Runs `spindle purge QUEUE` in a detached session of its own tmux server on sock, types
 * answer at its prompt, and returns the exit code the shell wrote ("2\n"), or what went
 * wrong; caller frees. */
static char *purge_typing(const char *sock, const char *queue, const char *answer)
{
    char cmd[2048], rc_file[512], bin[512];
    snprintf(rc_file, sizeof(rc_file), "%s/purge.rc", harness_dir());
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    unlink(rc_file);
    snprintf(cmd, sizeof(cmd), "'%s' --redis '%s' --namespace '%s' purge '%s'; echo $? > '%s'", bin,
             harness_url(), harness_ns(), queue, rc_file);
    if (cli_tmux(sock, NULL, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "20", cmd,
                 NULL) != 0)
        return strdup("(tmux did not start)");
    int asked = 0;
    char *screen = NULL;
    for (int64_t end = harness_ms() + harness_scaled_ms(5000); harness_ms() < end && !asked;) {
        harness_sleep_ms(50);
        free(screen);
        screen = NULL;
        asked = cli_tmux(sock, &screen, "capture-pane", "-p", NULL) == 0 &&
                strstr(screen, "Type the queue name to confirm:") != NULL;
    }
    if (!asked)
        fprintf(stderr, "\n  purge screen:\n%s\n", screen ? screen : "(none)");
    free(screen);
    if (!asked)
        return strdup("(no prompt)");
    CU_ASSERT_EQUAL(cli_tmux(sock, NULL, "send-keys", "-l", answer, NULL), 0);
    CU_ASSERT_EQUAL(cli_tmux(sock, NULL, "send-keys", "Enter", NULL), 0);
    return cli_wait_line(rc_file, 3000);
}

/* On a terminal purge asks for the queue name: a wrong one refuses (exit 2, usage) and
 * deletes nothing; the right one purges (exit 0). Each run on a tmux server of its own (a
 * server ends with its last session and could still be exiting when the next one starts). */
static void test_purge_confirm_on_terminal(void)
{
    if (access("/usr/bin/tmux", X_OK) != 0) {
        fprintf(stderr, "\n  skipped: /usr/bin/tmux is missing (make deps) ");
        return;
    }
    fill("pc", "pending", 0x600, 4, 0);
    char pending[256], sock[512], sock2[512];
    harness_key(pending, sizeof(pending), "pc", "pending");
    snprintf(sock, sizeof(sock), "%s/purge-tmux.sock", harness_dir());
    snprintf(sock2, sizeof(sock2), "%s/purge-tmux2.sock", harness_dir());

    char *rc = purge_typing(sock, "pc", "pcx");
    CU_ASSERT_STRING_EQUAL(rc, "2\n");
    free(rc);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 4);

    rc = purge_typing(sock2, "pc", "pc");
    CU_ASSERT_STRING_EQUAL(rc, "0\n");
    free(rc);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
    /* Each session ends with its command; kill-server by our sockets in case one did not. */
    cli_tmux(sock, NULL, "kill-server", NULL);
    cli_tmux(sock2, NULL, "kill-server", NULL);
    unlink(sock);
    unlink(sock2);
}

int register_cli_list_tests(void)
{
    static const test_case tests[] = {
        {"inspect: every field, args and result as JSON, exit 3 when gone", test_inspect},
        {"list: 250 pending/scheduled/dead in pages by cursor, in order", test_list_pages},
        {"list: running from the workers' in-flight lists", test_list_running},
        {"list --limit 5 on 100,000 pending reads only its window",
         test_list_big_queue_reads_window},
        {"retry --all-dead: pages, --limit, reasons for those left", test_retry_all_dead},
        {"purge: refused without a terminal, --yes by state, running left alone", test_purge},
        {"purge on a terminal (tmux): a wrong name refuses, the right one purges",
         test_purge_confirm_on_terminal},
        {NULL, NULL},
    };
    return add_suite("cli list (inspect, list, retry --all-dead, purge)", suite_init, suite_cleanup,
                     tests);
}
