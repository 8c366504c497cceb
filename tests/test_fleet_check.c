/* Liveness as the fleet sees it: the heartbeat hashes NS:worker:ID (their fields, their TTL,
 * kept alive without gaps while a slot idles), and `spindle-worker --check`, which exits 0
 * while a worker on this host has a fresh heartbeat, 1 once it stopped (at once for a
 * graceful stop, one TTL after a kill -9) and when Redis cannot be reached. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queues[] = {"beat", "beat2"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Runs spindle-worker --check against url (NULL: the harness's) with the fleet TTL; the exit
 * code, and stdout or stderr in msg when it says something. */
static int run_check(const char *url, char *msg, size_t cap)
{
    char bin[512], ttl[32];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(ttl, sizeof(ttl), "%.3f", (double)harness_scaled_ms(FLEET_TTL_MS) / 1000.0);
    const char *argv[] = {bin,           "--check",    "--redis",         url ? url : harness_url(),
                          "--namespace", harness_ns(), "--heartbeat-ttl", ttl,
                          NULL};
    harness_output out;
    if (harness_run((char *const *)argv, HARNESS_WAIT_MS, &out) != 0)
        return -1;
    if (msg)
        snprintf(msg, cap, "%s%s", out.out, out.err);
    int code = out.code;
    harness_output_free(&out);
    return code;
}

static long long field_num(const redisReply *hash, const char *name)
{
    const redisReply *v = harness_field(hash, name);
    return v && v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : -1;
}

static const char *field_str(const redisReply *hash, const char *name)
{
    const redisReply *v = harness_field(hash, name);
    return v && v->type == REDIS_REPLY_STRING ? v->str : "(absent)";
}

/* Every field of docs/PROTOCOL.md, for a slot running a task and an idle one. */
static void test_heartbeat_fields(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queues, 2);
    o.concurrency = 2;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_beats(sup, 2, HARNESS_WAIT_MS), 0);
    spindle_handle *h = fleet_enqueue(client, queues[0], "sleep_first", 1500, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t slot = fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0);
    long long task_started = fleet_num(h, "started_at", -1);
    /* The supervisor's next beat carries the task. */
    harness_sleep_ms(harness_scaled_ms(FLEET_BEAT_MS) + 100);

    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    fleet_beat b[4];
    CU_ASSERT_EQUAL_FATAL(fleet_beats(sup, b, 4), 2);
    int running = 0;
    for (int i = 0; i < 2; i++) {
        char key[512];
        fleet_beat_key(key, sizeof(key), b[i].id);
        redisReply *hash = harness_cmd("HGETALL %s", key);
        long long pttl = harness_int("PTTL %s", key);
        CU_ASSERT_PTR_NOT_NULL_FATAL(hash);
        CU_ASSERT_STRING_EQUAL(field_str(hash, "host"), host);
        CU_ASSERT_EQUAL(field_num(hash, "supervisor"), sup);
        CU_ASSERT_NOT_EQUAL(field_num(hash, "pid"), sup);
        CU_ASSERT_EQUAL(field_num(hash, "pid"), harness_worker_id_pid(b[i].id));
        CU_ASSERT_STRING_EQUAL(field_str(hash, "pool"), "process");
        CU_ASSERT_STRING_EQUAL(field_str(hash, "queues"), "beat,beat2");
        CU_ASSERT_TRUE(field_num(hash, "started_at") > 0);
        CU_ASSERT_TRUE(field_num(hash, "beat_at") >= field_num(hash, "started_at"));
        CU_ASSERT_TRUE(pttl > 0 && pttl <= harness_scaled_ms(FLEET_TTL_MS));
        if (strcmp(b[i].id, id) == 0) {
            running++;
            CU_ASSERT_STRING_EQUAL(field_str(hash, "task"), spindle_handle_id(h));
            CU_ASSERT_STRING_EQUAL(field_str(hash, "task_queue"), "beat");
            /* The worker's clock and Redis's: the same host. */
            long long at = field_num(hash, "task_started_at");
            CU_ASSERT_TRUE(at >= task_started - 50 && at <= task_started + 50);
        } else {
            CU_ASSERT_STRING_EQUAL(field_str(hash, "task"), "");
            CU_ASSERT_STRING_EQUAL(field_str(hash, "task_queue"), "");
        }
        CU_ASSERT_STRING_EQUAL(field_str(hash, "processed"), "0");
        CU_ASSERT_STRING_EQUAL(field_str(hash, "failed"), "0");
        freeReplyObject(hash);
    }
    CU_ASSERT_EQUAL(running, 1);

    /* Done: the slot's counts go up, its task fields are cleared. */
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    char key[512];
    fleet_beat_key(key, sizeof(key), id);
    CU_ASSERT_EQUAL(harness_wait_hfield(key, "processed", "1", HARNESS_WAIT_MS), 0);
    char *task = harness_hget(key, "task", NULL);
    CU_ASSERT_STRING_EQUAL(task ? task : "(absent)", "");
    free(task);
    spindle_handle_free(h);
}

/* An idle worker keeps its heartbeat without a gap, even with a TTL (0.6 s) shorter than a
 * slot's idle poll (1 s), and stays in the NS:workers index. */
static void test_idle_heartbeat_steady(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queues, 1);
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_beats(sup, 1, HARNESS_WAIT_MS), 0);
    fleet_beat b;
    CU_ASSERT_EQUAL_FATAL(fleet_beats(sup, &b, 1), 1);
    char key[512], all[512];
    fleet_beat_key(key, sizeof(key), b.id);
    harness_key(all, sizeof(all), NULL, "workers");
    int gaps = 0, unlisted = 0;
    long long first_beat = -1, last_beat = -1;
    for (int64_t end = harness_ms() + 3 * harness_scaled_ms(1000); harness_ms() < end;) {
        char *at = harness_hget(key, "beat_at", NULL);
        if (at == NULL)
            gaps++;
        else if (first_beat < 0)
            first_beat = atoll(at);
        else
            last_beat = atoll(at);
        free(at);
        unlisted += harness_int("SISMEMBER %s %s", all, b.id) != 1;
        harness_sleep_ms(10);
    }
    CU_ASSERT_EQUAL(gaps, 0);
    CU_ASSERT_EQUAL(unlisted, 0);
    CU_ASSERT_TRUE(last_beat > first_beat);
    if (gaps || unlisted)
        fprintf(stderr, "\n  idle heartbeat missing %d times, unlisted %d times\n", gaps, unlisted);
}

/* --check: 0 while a worker runs here; 1 at once after a graceful stop. */
static void test_check_running_and_stopped(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char msg[1024];
    CU_ASSERT_EQUAL(run_check(NULL, msg, sizeof(msg)), 1); /* nobody yet */
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no worker on host"));
    spindle_worker_options o;
    fleet_options(&o, queues, 1);
    o.concurrency = 2;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_beats(sup, 2, HARNESS_WAIT_MS), 0);
    CU_ASSERT_EQUAL(run_check(NULL, msg, sizeof(msg)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "ok: 2 worker slot(s)"));
    if (strstr(msg, "ok: 2 worker slot(s)") == NULL)
        fprintf(stderr, "\n  --check said: %s\n", msg);
    CU_ASSERT_EQUAL(harness_worker_stop(sup, 5000, NULL), 0);
    CU_ASSERT_EQUAL(run_check(NULL, msg, sizeof(msg)), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no worker on host"));
}

/* --check after kill -9: the heartbeat outlives the worker for up to one TTL, and so does
 * the probe's success; then it fails, when the fleet's sweep would take the tasks back. */
static void test_check_after_kill(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queues, 1);
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_beats(sup, 1, HARNESS_WAIT_MS), 0);
    CU_ASSERT_EQUAL(harness_worker_signal(sup, SIGKILL), 0);
    int64_t t0 = harness_ms();
    harness_worker_stop(sup, 1000, NULL);
    int code = 0;
    while (code == 0 && harness_ms() - t0 < HARNESS_WAIT_MS)
        code = run_check(NULL, NULL, 0);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_EQUAL(code, 1);
    CU_ASSERT_TRUE(took <= harness_scaled_ms(FLEET_TTL_MS) + 500);
}

/* --check with Redis out of reach: nonzero, with the reason on stderr. */
static void test_check_unreachable(void)
{
    char url[300], msg[1024];
    if (strncmp(harness_url(), "unix://", 7) == 0)
        snprintf(url, sizeof(url), "unix://%s/no-such.sock", harness_dir());
    else
        snprintf(url, sizeof(url), "redis://127.0.0.1:1");
    int64_t t0 = harness_ms();
    int code = run_check(url, msg, sizeof(msg));
    CU_ASSERT_NOT_EQUAL(code, 0);
    CU_ASSERT_NOT_EQUAL(code, -1); /* exited, not killed by the harness's timeout */
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "cannot connect"));
    CU_ASSERT_TRUE(harness_ms() - t0 < 3000);
}

int register_fleet_check_tests(void)
{
    static const test_case tests[] = {
        {"heartbeat fields of a running and an idle slot", test_heartbeat_fields},
        {"idle heartbeat with a 0.6 s TTL has no gaps", test_idle_heartbeat_steady},
        {"--check: 0 while running, 1 after a graceful stop", test_check_running_and_stopped},
        {"--check after kill -9: fails within one TTL", test_check_after_kill},
        {"--check with Redis unreachable: nonzero", test_check_unreachable},
        {NULL, NULL},
    };
    return add_suite("fleet: heartbeats and --check", suite_init, suite_cleanup, tests);
}
