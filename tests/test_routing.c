/* Routing through a client (include/spindle/routing.h), against Redis: enqueues by function
 * name land on the routed queue (read back with plain Redis commands), an explicit queue
 * wins, a bulk enqueue across routed queues keeps each queue's order and the caller's order
 * of handles, and a route change sends new work to another queue, where a worker serving only
 * that queue runs it. Also $SPINDLE_ROUTES, the CLI's --routes, and a synchronous client,
 * which records the routed queue too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "harness.h"
#include "spindle/routing.h"
#include "spindle/sync.h"
#include "cli_run.h"
#include "suites.h"

static spindle_client *client;
static char bin[512];

static int suite_init(void)
{
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    spindle_client_set_routes(client, NULL);
    return harness_suite_cleanup_client(&client);
}

/* A table from text (asserted to parse). Caller frees. */
static spindle_routes *table(const char *text)
{
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    int rc = spindle_routes_parse(t, text, strlen(text), "test");
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  %s\n", spindle_routes_errstr(t));
    return t;
}

/* Writes text to a file in the run's dir; returns its path (static buffer per name). */
static const char *write_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", harness_dir(), name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* 1 if the task hash of id exists on queue. */
static int task_on(const char *queue, const char *id)
{
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), queue, suffix);
    return harness_int("EXISTS %s", key) == 1;
}

static spindle_handle *enqueue_add(spindle_client *c, const char *queue, long a, long b)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_args_int(args, b);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(c, "add", args, &o, &h);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  enqueue add: %s\n", spindle_errstr(c));
    spindle_args_free(args);
    return h;
}

static void test_routed_and_explicit(void)
{
    spindle_routes *t = table("add r.math\nech* r.text\n");
    spindle_client_set_routes(client, t);
    spindle_handle *h = enqueue_add(client, NULL, 1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "r.math");
    CU_ASSERT(task_on("r.math", spindle_handle_id(h)));
    spindle_handle_free(h);

    h = enqueue_add(client, "r.explicit", 1, 2); /* an explicit queue wins over the table */
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "r.explicit");
    CU_ASSERT(task_on("r.explicit", spindle_handle_id(h)));
    spindle_handle_free(h);

    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(client, "echo", "\x91\x01", 2, NULL, &h), SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "r.text");
    CU_ASSERT(task_on("r.text", spindle_handle_id(h)));
    spindle_handle_free(h);

    CU_ASSERT_EQUAL(spindle_enqueue(client, "sleep_ms", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "default"); /* no route */
    spindle_handle_free(h);
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s:queues r.math", harness_ns()), 1);
    spindle_client_set_routes(client, NULL);
    spindle_routes_free(t);
}

/* The ids of NS:{queue}:pending in the order they will run (LPUSH: the oldest at the right). */
static size_t pending_ids(const char *queue, char ids[][SPINDLE_ID_LEN + 1], size_t cap)
{
    char key[256];
    harness_key(key, sizeof(key), queue, "pending");
    redisReply *r = harness_cmd("LRANGE %s 0 -1", key);
    size_t n = 0;
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = r->elements; i-- > 0 && n < cap;)
            snprintf(ids[n++], SPINDLE_ID_LEN + 1, "%s", r->element[i]->str);
    if (r)
        freeReplyObject(r);
    return n;
}

static void test_bulk_across_queues(void)
{
    spindle_routes *t = table("add b.math\necho b.text\n");
    spindle_client_set_routes(client, t);
    enum { N = 12 };
    static const char *const funcs[] = {"add", "echo", "sleep_ms"};
    spindle_task_spec specs[N];
    char args[N][2];
    for (int i = 0; i < N; i++) {
        args[i][0] = (char)0x91; /* [i] */
        args[i][1] = (char)i;
        specs[i] = (spindle_task_spec){.func = funcs[i % 3], .args = args[i], .args_len = 2};
    }
    spindle_handle *h[N];
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, specs, N, NULL, h), SPINDLE_OK);
    static const char *const queues[] = {"b.math", "b.text", "default"};
    for (int i = 0; i < N; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
        CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h[i]), queues[i % 3]);
        char key[512], suffix[64];
        snprintf(suffix, sizeof(suffix), "task:%s", spindle_handle_id(h[i]));
        harness_key(key, sizeof(key), queues[i % 3], suffix);
        char *a = harness_hget(key, "args", NULL);
        CU_ASSERT(a && (unsigned char)a[0] == 0x91 && a[1] == (char)i); /* handle i is task i */
        free(a);
    }
    /* Each queue got its tasks in the caller's order. */
    for (int q = 0; q < 2; q++) {
        char ids[N][SPINDLE_ID_LEN + 1];
        size_t n = pending_ids(queues[q], ids, N);
        CU_ASSERT_EQUAL(n, N / 3);
        for (size_t k = 0; k < n; k++)
            CU_ASSERT_STRING_EQUAL(ids[k], spindle_handle_id(h[q + 3 * (int)k]));
    }
    /* An explicit queue puts them all on one queue, in order. */
    spindle_handle *g[N];
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "b.one";
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, specs, N, &o, g), SPINDLE_OK);
    char ids[N][SPINDLE_ID_LEN + 1];
    CU_ASSERT_EQUAL(pending_ids("b.one", ids, N), N);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_STRING_EQUAL(spindle_handle_queue(g[i]), "b.one");
        CU_ASSERT_STRING_EQUAL(ids[i], spindle_handle_id(g[i]));
        spindle_handle_free(g[i]);
        spindle_handle_free(h[i]);
    }
    spindle_client_set_routes(client, NULL);
    spindle_routes_free(t);
}

static void test_route_change_moves_work(void)
{
    pid_t w = harness_worker_fork("r.new", 0);
    CU_ASSERT_FATAL(w > 0);
    char path[512];
    write_file("change.routes", "add r.old\n", path, sizeof(path));
    CU_ASSERT_EQUAL_FATAL(spindle_client_load_routes(client, path), SPINDLE_OK);
    spindle_handle *before = enqueue_add(client, NULL, 1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(before), "r.old");

    /* The operator changes one line; the producer reloads it. */
    write_file("change.routes", "add r.new\n", path, sizeof(path));
    CU_ASSERT_EQUAL_FATAL(spindle_client_load_routes(client, path), SPINDLE_OK);
    spindle_handle *after = enqueue_add(client, NULL, 2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(after), "r.new");
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, after, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_OK);
    CU_ASSERT(r && spindle_result_value(r)->via.i64 == 5);
    spindle_result_free(r);
    /* The worker serves only r.new: the task routed before the change still waits. */
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, before, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_PENDING);

    /* A bad file is refused with its line, and the client keeps its table. */
    write_file("change.routes", "add r.new\nadd\n", path, sizeof(path));
    CU_ASSERT_EQUAL(spindle_client_load_routes(client, path), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "change.routes, line 2"));
    spindle_handle *again = enqueue_add(client, NULL, 3, 4);
    CU_ASSERT(again && strcmp(spindle_handle_queue(again), "r.new") == 0);
    CU_ASSERT_EQUAL(spindle_wait(client, again, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(again);
    spindle_handle_free(before);
    spindle_handle_free(after);
    spindle_client_set_routes(client, NULL);
    harness_worker_stop(w, HARNESS_WAIT_MS, NULL);
}

static void test_env_routes(void)
{
    char path[512];
    write_file("env.routes", "add r.env # from the environment\n", path, sizeof(path));
    setenv(SPINDLE_ROUTES_ENV, path, 1);
    spindle_client *c = harness_client();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    spindle_handle *h = enqueue_add(c, NULL, 1, 1);
    CU_ASSERT(h && strcmp(spindle_handle_queue(h), "r.env") == 0);
    spindle_handle_free(h);
    spindle_client_free(c);

    write_file("env-bad.routes", "add r.env\n\nadd{ q\n", path, sizeof(path));
    setenv(SPINDLE_ROUTES_ENV, path, 1);
    c = harness_client();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "add", NULL, NULL, &h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(h);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "$SPINDLE_ROUTES: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "env-bad.routes, line 3"));
    /* An explicit choice of no table stops the client reading the variable. */
    spindle_client_set_routes(c, NULL);
    CU_ASSERT_EQUAL(spindle_enqueue(c, "add", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT(h && strcmp(spindle_handle_queue(h), "default") == 0);
    spindle_handle_free(h);
    spindle_client_free(c);
    unsetenv(SPINDLE_ROUTES_ENV);
}

/* The queue of the task whose id the CLI printed, "" if none. */
static void queue_of_printed(const harness_output *o, char *queue, size_t cap)
{
    char id[SPINDLE_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", o->out ? o->out : "");
    spindle_handle *h = NULL;
    snprintf(queue, cap, "%s",
             spindle_handle_open(client, id, NULL, &h) == SPINDLE_OK ? spindle_handle_queue(h)
                                                                     : "");
    spindle_handle_free(h);
}

static void test_cli_routes(void)
{
    if (access(bin, X_OK) != 0) {
        CU_FAIL("build/bin/spindle is missing: build it first (make all)");
        return;
    }
    char path[512], queue[160];
    write_file("cli.routes", "a* r.cli\n", path, sizeof(path));
    harness_output o =
        cli_run_argv((const char *[]){"--routes", path, "enqueue", "add", "1", "2", NULL});
    CU_ASSERT_EQUAL(o.code, 0);
    queue_of_printed(&o, queue, sizeof(queue));
    CU_ASSERT_STRING_EQUAL(queue, "r.cli");
    harness_output_free(&o);

    o = cli_run_argv(
        (const char *[]){"--routes", path, "enqueue", "--queue", "r.flag", "add", "1", NULL});
    queue_of_printed(&o, queue, sizeof(queue));
    CU_ASSERT_STRING_EQUAL(queue, "r.flag"); /* --queue wins */
    harness_output_free(&o);

    setenv(SPINDLE_ROUTES_ENV, path, 1);
    o = cli_run_argv((const char *[]){"enqueue", "add", "5", NULL});
    unsetenv(SPINDLE_ROUTES_ENV);
    CU_ASSERT_EQUAL(o.code, 0);
    queue_of_printed(&o, queue, sizeof(queue));
    CU_ASSERT_STRING_EQUAL(queue, "r.cli");
    harness_output_free(&o);

    write_file("cli-bad.routes", "a* r.cli\nb* r.cli extra\n", path, sizeof(path));
    o = cli_run_argv((const char *[]){"--routes", path, "enqueue", "add", "1", NULL});
    CU_ASSERT_EQUAL(o.code, 2);
    CU_ASSERT(o.err && strstr(o.err, "cli-bad.routes, line 2: expected 'PATTERN QUEUE'"));
    harness_output_free(&o);
}

static void test_sync_client_routes(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_EQUAL_FATAL(fixture_register_tasks(reg), SPINDLE_OK);
    spindle_client *c = spindle_client_new_sync(reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    spindle_routes *t = table("add s.math\necho s.text\n");
    spindle_client_set_routes(c, t);
    spindle_handle *h = enqueue_add(c, NULL, 2, 3);
    CU_ASSERT(h && strcmp(spindle_handle_queue(h), "s.math") == 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    CU_ASSERT(r && spindle_result_value(r)->via.i64 == 5);
    spindle_result_free(r);
    /* The record keeps the routed queue: reopening by id finds it there. */
    spindle_handle *again = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(c, spindle_handle_id(h), "s.math", &again), SPINDLE_OK);
    spindle_handle_free(again);
    CU_ASSERT_EQUAL(spindle_handle_open(c, spindle_handle_id(h), "default", &again),
                    SPINDLE_ERR_NOT_FOUND);
    spindle_handle_free(h);

    spindle_task_spec specs[4] = {{.func = "echo"},
                                  {.func = "add"},
                                  {.func = "echo"},
                                  {.func = "sleep_ms", .args = "\x91\x00", .args_len = 2}};
    spindle_handle *hs[4];
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(c, specs, 4, NULL, hs), SPINDLE_OK);
    static const char *const want[] = {"s.text", "s.math", "s.text", "default"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_STRING_EQUAL(spindle_handle_queue(hs[i]), want[i]);
        spindle_handle_free(hs[i]);
    }
    spindle_client_free(c);
    spindle_routes_free(t);
    spindle_registry_free(reg);
}

int register_routing_tests(void)
{
    static const test_case tests[] = {
        {"routed by name; an explicit queue wins", test_routed_and_explicit},
        {"bulk across routed queues keeps order and handles", test_bulk_across_queues},
        {"a route change moves work to another queue", test_route_change_moves_work},
        {"SPINDLE_ROUTES", test_env_routes},
        {"the CLI's --routes and SPINDLE_ROUTES", test_cli_routes},
        {"a synchronous client records the routed queue", test_sync_client_routes},
        {NULL, NULL},
    };
    return add_suite("routing", suite_init, suite_cleanup, tests);
}
