/* The least-privilege Redis users of deploy/acl/users.acl (docs/ACL.md), loaded from that very
 * file into the test server with ACL SETUSER (namespace and passwords swapped for the test's):
 * a real spindle-worker runs as spindle-worker and a producer (the spindle CLI) as
 * spindle-producer, and tasks complete; the producer cannot run what only workers do
 * (RPOP/LREM on a pending list: NOPERM); the operator can read (`spindle queues`, `status`)
 * but not enqueue, cancel or purge. Why from the shipped file: a rule missing there fails here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "cli_run.h"
#include "suites.h"

#define ACL_FILE "deploy/acl/users.acl"
#define ACL_PW "acl-test-pw"
#define MAX_USERS 8

static spindle_client *client;
static char users[MAX_USERS][64];
static int nusers;

/* Swaps "spindle:" for "NS:" in one rule word (the file's namespace is spindle). */
static void rule_for_ns(const char *word, char *out, size_t cap)
{
    const char *colon = strstr(word, "spindle:");
    if (colon == NULL)
        snprintf(out, cap, "%s", word[0] == '>' ? ">" ACL_PW : word);
    else
        snprintf(out, cap, "%.*s%s:%s", (int)(colon - word), word, harness_ns(), colon + 8);
}

/* ACL SETUSER for every "user NAME RULES..." line of ACL_FILE; 0 or -1. */
static int load_users(void)
{
    FILE *f = fopen(ACL_FILE, "r");
    if (f == NULL)
        return -1;
    char line[2048];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        const char *argv[64];
        size_t lens[64];
        char words[64][160];
        int argc = 0;
        char *save = NULL;
        char *w = strtok_r(line, " \t\n", &save);
        if (w == NULL || strcmp(w, "user") != 0)
            continue;
        argv[argc++] = "ACL";
        argv[argc++] = "SETUSER";
        argv[argc++] = "reset";
        while ((w = strtok_r(NULL, " \t\n", &save)) && argc < 64) {
            if (argc == 3) { /* the name comes first: SETUSER NAME reset RULES... */
                snprintf(words[argc], sizeof(words[0]), "%s", w);
                argv[2] = words[argc];
                argv[argc++] = "reset";
                if (nusers < MAX_USERS)
                    snprintf(users[nusers++], sizeof(users[0]), "%s", w);
                continue;
            }
            rule_for_ns(w, words[argc], sizeof(words[0]));
            argv[argc] = words[argc];
            argc++;
        }
        for (int i = 0; i < argc; i++)
            lens[i] = strlen(argv[i]);
        redisReply *r = harness_cmdargv(argc, argv, lens);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "test_acl: ACL SETUSER %s: %s\n", argv[2], r ? r->str : "no reply");
            rc = -1;
        }
        freeReplyObject(r);
    }
    fclose(f);
    return rc == 0 && nusers >= 3 ? 0 : -1;
}

static int suite_init(void)
{
    if (harness_suite_init_client(&client) != 0)
        return -1;
    return load_users();
}

static int suite_cleanup(void)
{
    for (int i = 0; i < nusers; i++)
        freeReplyObject(harness_cmd("ACL DELUSER %s", users[i]));
    nusers = 0;
    return harness_suite_cleanup_client(&client);
}

/* The harness's URL with user and the test password. */
static void user_url(const char *user, char *out, size_t cap)
{
    const char *url = harness_url();
    if (strncmp(url, "unix://", 7) == 0)
        snprintf(out, cap, "%s?user=%s&password=%s", url, user, ACL_PW);
    else
        snprintf(out, cap, "redis://%s:%s@%s", user, ACL_PW, url + strlen("redis://"));
}

/* Runs `spindle --redis URL-of-user --namespace NS A1...A6` (trailing NULLs end the list). */
static harness_output cli_as6(const char *user, const char *a1, const char *a2, const char *a3,
                              const char *a4, const char *a5, const char *a6)
{
    char url[512], bin[512];
    user_url(user, url, sizeof(url));
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    const char *argv[] = {bin, "--redis", url, "--namespace", harness_ns(), a1, a2, a3,
                          a4,  a5,        a6,  NULL};
    harness_output out = {0};
    CU_ASSERT_EQUAL(harness_run((char *const *)argv, HARNESS_WAIT_MS, &out), 0);
    if (out.out == NULL) {
        out.out = strdup("");
        out.err = strdup("");
    }
    return out;
}

/* A command sent by user over its own connection; the reply (caller frees) or NULL. */
static harness_output cli_as(const char *user, const char *a1, const char *a2, const char *a3,
                             const char *a4)
{
    return cli_as6(user, a1, a2, a3, a4, NULL, NULL);
}

static redisReply *cmd_as(const char *user, const char *fmt, const char *arg)
{
    char url[512];
    user_url(user, url, sizeof(url));
    const char *u = harness_url();
    redisContext *c = strncmp(u, "unix://", 7) == 0
                          ? redisConnectUnix(u + 7)
                          : redisConnect("127.0.0.1", atoi(strrchr(u, ':') + 1));
    if (c == NULL || c->err) {
        redisFree(c);
        return NULL;
    }
    redisReply *r = redisCommand(c, "AUTH %s %s", user, ACL_PW);
    int ok = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    r = ok ? redisCommand(c, fmt, arg) : NULL;
    redisFree(c);
    return r;
}

static int is_noperm(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOPERM") != NULL;
}

/* A real worker as spindle-worker, tasks enqueued as spindle-producer: all complete. */
static void test_worker_and_producer_users(void)
{
    char url[512];
    user_url("spindle-worker", url, sizeof(url));
    const char *extra[] = {"--redis", url, NULL};
    pid_t w = harness_worker_exec_args("acl", extra);
    CU_ASSERT_FATAL(w > 0);
    char ids[5][64];
    for (int i = 0; i < 5; i++) {
        char a[16];
        snprintf(a, sizeof(a), "%d", i);
        harness_output o = cli_as6("spindle-producer", "enqueue", "--queue", "acl", "add", a, "10");
        CU_ASSERT_EQUAL(o.code, 0);
        snprintf(ids[i], sizeof(ids[i]), "%.*s", (int)strcspn(o.out, "\n"), o.out);
        harness_output_free(&o);
    }
    for (int i = 0; i < 5; i++) {
        char a[8], want[16];
        snprintf(a, sizeof(a), "%d", harness_slowdown() * 5);
        snprintf(want, sizeof(want), "%d\n", i + 10);
        harness_output o =
            cli_as6("spindle-producer", "result", ids[i], "--wait", a, "--queue", "acl");
        CU_ASSERT_STRING_EQUAL(o.out, want);
        harness_output_free(&o);
    }
    /* The worker's connections are the spindle-worker user's (its --redis came last). */
    redisReply *cl = harness_cmd("CLIENT LIST");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
    CU_ASSERT_PTR_NOT_NULL(strstr(cl->str, "user=spindle-worker"));
    freeReplyObject(cl);
    char *log = harness_worker_log(w);
    CU_ASSERT_PTR_NULL(strstr(log, "can't run this command"));
    CU_ASSERT_PTR_NULL(strstr(log, "NOPERM this user has no permissions to run the 'eval"));
    free(log);
    CU_ASSERT_EQUAL(harness_worker_stop(w, HARNESS_WAIT_MS, NULL), 0);
}

/* What only workers do is refused to the producer and the operator. */
static void test_producer_cannot_claim(void)
{
    char pending[512];
    harness_key(pending, sizeof(pending), "acl", "pending");
    const char *who[] = {"spindle-producer", "spindle-operator"};
    for (int i = 0; i < 2; i++) {
        redisReply *r = cmd_as(who[i], "RPOP %s", pending);
        CU_ASSERT_TRUE(is_noperm(r));
        freeReplyObject(r);
        r = cmd_as(who[i], "BRPOP %s 1", pending);
        CU_ASSERT_TRUE(is_noperm(r));
        freeReplyObject(r);
    }
    redisReply *r = cmd_as("spindle-producer", "LREM %s 0 x", pending);
    CU_ASSERT_TRUE(is_noperm(r));
    freeReplyObject(r);
    /* Keys outside the namespace: refused even to the worker. */
    r = cmd_as("spindle-worker", "GET %s", "not-spindle:key");
    CU_ASSERT_TRUE(is_noperm(r));
    freeReplyObject(r);
}

/* The operator reads queues and a task's status, but cannot enqueue, cancel or purge. */
static void test_operator_reads_only(void)
{
    harness_output o = cli_as("spindle-producer", "enqueue", "--queue", "acl-idle", "add");
    CU_ASSERT_EQUAL(o.code, 0);
    char id[64];
    snprintf(id, sizeof(id), "%.*s", (int)strcspn(o.out, "\n"), o.out);
    harness_output_free(&o);

    o = cli_as("spindle-operator", "queues", NULL, NULL, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "acl-idle"));
    harness_output_free(&o);
    o = cli_as("spindle-operator", "status", id, "--queue", "acl-idle");
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "pending\n");
    harness_output_free(&o);

    char pending[512];
    harness_key(pending, sizeof(pending), "acl-idle", "pending");
    long long before = harness_int("LLEN %s", pending);
    o = cli_as("spindle-operator", "enqueue", "--queue", "acl-idle", "add");
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    harness_output_free(&o);
    o = cli_as("spindle-operator", "cancel", id, "--queue", "acl-idle");
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    harness_output_free(&o);
    o = cli_as("spindle-operator", "purge", "acl-idle", "--yes", NULL);
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    harness_output_free(&o);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), before);
    o = cli_as("spindle-operator", "status", id, "--queue", "acl-idle");
    CU_ASSERT_STRING_EQUAL(o.out, "pending\n");
    harness_output_free(&o);
}

int register_acl_tests(void)
{
    static const test_case tests[] = {
        {"worker and producer run as their ACL users", test_worker_and_producer_users},
        {"producer and operator cannot claim", test_producer_cannot_claim},
        {"operator reads only", test_operator_reads_only},
        {NULL, NULL},
    };
    return add_suite("acl", suite_init, suite_cleanup, tests);
}
