/* `spindle stats` and `spindle watch` against the harness's server and namespace, with the
 * real spindle-worker serving default. stats: after 4 tasks that succeed and 2 that fail for
 * good (one of them after a retry, which is not counted), every window reads 4 ok and 2
 * failed, in the table and in JSON; a task failed for good by the claim (garbled) or by the
 * sweep (lost a sixth time) counts once; a queue never used reads zeros; the buckets carry their
 * TTLs (2 h per minute, 26 h per hour); a bucket overwritten with another type is reported
 * with its key (exit 1), not summed; the read gives each minute bucket of the last hour (what
 * watch's rate is derived from). watch: refused (exit 2) when stdout is not a terminal; under
 * tmux (a private server on a socket in the run's temp dir, killed by that socket) it draws the
 * queue with its counts, the worker line and the progress bar of a running task, and q or Ctrl-C
 * ends it with exit 0. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "common/names.h"
#include "spindle/admin.h"
#include "fleet.h"
#include "harness.h"
#include "cli_run.h"
#include "suites.h"

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
    return harness_worker_exec(NULL) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup();
}

/* Enqueues FUNC ARG (with extra options first, may be NULL) and waits for its end. */
static void run_task(const char *opt1, const char *opt2, const char *func, const char *arg,
                     int want_code)
{
    harness_output o = opt1 ? cli_run("enqueue", opt1, opt2, func, arg, NULL)
                            : cli_run("enqueue", func, arg, NULL);
    CU_ASSERT_EQUAL_FATAL(o.code, 0);
    char id[SPINDLE_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", o.out);
    harness_output_free(&o);
    o = cli_run("result", id, "--wait", "10", NULL);
    CU_ASSERT_EQUAL(o.code, want_code);
    harness_output_free(&o);
}

static long long jint(const json_t *o, const char *window, const char *field)
{
    return json_integer_value(json_object_get(json_object_get(o, window), field));
}

static void test_stats_counts(void)
{
    for (int i = 0; i < 4; i++)
        run_task(NULL, NULL, "add", "1", 0);
    run_task(NULL, NULL, "fail", "boom", 4);
    run_task("--retries", "1", "fail", "again", 4); /* fails twice, counted once */

    harness_output o = cli_run("stats", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    char line[512], *w[10];
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli_line_starting(o.out, "QUEUE ", line, sizeof(line)));
    CU_ASSERT_EQUAL(cli_split_words(line, w, 10), 7);
    CU_ASSERT_STRING_EQUAL(w[1], "OK_1M");
    CU_ASSERT_STRING_EQUAL(w[6], "FAILED_1D");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cli_line_starting(o.out, "default ", line, sizeof(line)));
    CU_ASSERT_EQUAL_FATAL(cli_split_words(line, w, 10), 7);
    for (int i = 1; i < 7; i += 2) {
        CU_ASSERT_STRING_EQUAL(w[i], "4");
        CU_ASSERT_STRING_EQUAL(w[i + 1], "2");
    }
    harness_output_free(&o);

    o = cli_run("stats", "default", "never-used", "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *arr = json_loads(o.out, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(json_array_size(arr), 2);
    json_t *def = json_array_get(arr, 0), *never = json_array_get(arr, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(def, "queue")), "default");
    static const char *const windows[] = {"minute", "hour", "day"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(jint(def, windows[i], "ok"), 4);
        CU_ASSERT_EQUAL(jint(def, windows[i], "failed"), 2);
        CU_ASSERT_EQUAL(jint(never, windows[i], "ok"), 0);
        CU_ASSERT_TRUE(
            json_is_integer(json_object_get(json_object_get(never, windows[i]), "failed")));
    }
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(never, "queue")), "never-used");
    json_decref(arr);
    harness_output_free(&o);

    o = cli_run("stats", "bad queue!", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* The day's failures of default, from `spindle stats --json`. */
static long long failed_today(void)
{
    harness_output o = cli_run("stats", "default", "--json", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    json_t *arr = json_loads(o.out, 0, NULL);
    long long n = arr ? jint(json_array_get(arr, 0), "day", "failed") : -1;
    json_decref(arr);
    harness_output_free(&o);
    return n;
}

/* Waits (up to HARNESS_WAIT_MS) for task ID of default to be in state WANT. */
static int wait_state(const char *id, const char *want)
{
    char k[512], suffix[128];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(k, sizeof(k), "default", suffix);
    return harness_wait_hfield(k, "state", want, HARNESS_WAIT_MS) == 0;
}

/* A task that fails for good outside a settlement is counted too: one the claim finds garbled
 * (attempts "x") and one whose worker was lost a sixth time (the sweep recovers a worker
 * with no heartbeat). Both are counted by finish(), once each. */
static void test_stats_count_failures_outside_settle(void)
{
    long long before = failed_today();
    char k[512], pending[512], wake[512];
    harness_key(pending, sizeof(pending), "default", "pending");
    harness_key(wake, sizeof(wake), "default", "wake");

    const char *garbled = "00000000-0000-4000-8000-00000000a77e";
    harness_key(k, sizeof(k), "default", "task:");
    strncat(k, garbled, sizeof(k) - strlen(k) - 1);
    CU_ASSERT_EQUAL(harness_int("HSET %s func add args %b state pending attempts x", k,
                                "\x92\x01\x02", (size_t)3),
                    4);
    CU_ASSERT_TRUE(harness_int("LPUSH %s %s", pending, garbled) > 0);
    CU_ASSERT_TRUE(harness_int("LPUSH %s 1", wake) > 0);
    CU_ASSERT_TRUE_FATAL(wait_state(garbled, "failed"));
    CU_ASSERT_EQUAL(failed_today(), before + 1);

    /* A worker that never beat, holding a task already lost 5 times. */
    const char *lost = "00000000-0000-4000-8000-0000000010e7";
    CU_ASSERT_EQUAL(fleet_plant_running("default", "ghost-host:1:deadbeef", lost, 6, 5), 0);
    CU_ASSERT_TRUE_FATAL(wait_state(lost, "failed"));
    CU_ASSERT_EQUAL(failed_today(), before + 2);
}

/* Every bucket of default has its TTL: a minute one at most 2 h, an hour one above that and
 * at most 26 h. Then a bucket of another queue written as a string is an error naming it
 * (exit 1). */
static void test_stats_ttls_and_bad_bucket(void)
{
    char pattern[512];
    harness_key(pattern, sizeof(pattern), "default", "stats:*");
    redisReply *keys = harness_cmd("KEYS %s", pattern);
    CU_ASSERT_PTR_NOT_NULL_FATAL(keys);
    int minutes = 0, hours = 0;
    char first_minute[512] = "";
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        long long ttl = harness_int("TTL %s", k);
        if (strstr(k, ":stats:m:")) {
            minutes++;
            CU_ASSERT_TRUE(ttl > 0 && ttl <= 7200);
            snprintf(first_minute, sizeof(first_minute), "%s", k);
        } else if (strstr(k, ":stats:h:")) {
            hours++;
            CU_ASSERT_TRUE(ttl > 7200 && ttl <= 93600);
        } else {
            CU_FAIL("unexpected stats key");
        }
    }
    freeReplyObject(keys);
    CU_ASSERT_TRUE(minutes >= 1 && minutes <= 2);
    CU_ASSERT_TRUE(hours >= 1 && hours <= 2);

    /* The same minute bucket of another queue, written as a string by hand. */
    char bad[600];
    const char *brace = strstr(first_minute, "{default}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(brace);
    snprintf(bad, sizeof(bad), "%.*s{garbageq}%s", (int)(brace - first_minute), first_minute,
             brace + strlen("{default}"));
    redisReply *r = harness_cmd("SET %s garbage", bad);
    if (r)
        freeReplyObject(r);
    harness_output o = cli_run("stats", "garbageq", NULL);
    CU_ASSERT_EQUAL(o.code, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "is not a hash"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, bad));
    harness_output_free(&o);
    /* spindle queues still shows every queue's depths: only the failures column is lost. */
    char all[256];
    snprintf(all, sizeof(all), "%s:queues", harness_ns());
    CU_ASSERT_TRUE(harness_int("SADD %s garbageq", all) >= 0);
    o = cli_run("queues", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "garbageq"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "failures of the last hour not shown"));
    harness_output_free(&o);
    CU_ASSERT_EQUAL(harness_int("SREM %s garbageq", all), 1);
    CU_ASSERT_EQUAL(harness_int("DEL %s", bad), 1);
}

/* Writes (ok, fail) into the minute buckets MINUTE - back[i] of queue, or deletes them
 * (write 0). */
static void minute_buckets(const char *queue, long long minute, int write)
{
    static const struct {
        int back;
        long long ok, fail;
    } b[] = {{0, 3, 1}, {5, 7, 0}, {60, 0, 2}, {61, 100, 100} /* older than the last hour */};
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        char suffix[64], k[512];
        snprintf(suffix, sizeof(suffix), "stats:m:%lld", minute - b[i].back);
        harness_key(k, sizeof(k), queue, suffix);
        long long r = write ? harness_int("HSET %s ok %lld fail %lld", k, b[i].ok, b[i].fail)
                            : harness_int("DEL %s", k);
        CU_ASSERT_EQUAL(r, write ? 2 : 1);
    }
}

/* What watch's RATE/s is derived from: the throughput read gives ok + fail of each minute
 * bucket of the last hour, MINUTE - i at ended_by_minute[i], and nothing older. Buckets of a
 * queue of its own written by hand around Redis's minute (again if the minute turned
 * between the writes and the read). */
static void test_stats_minute_buckets(void)
{
    spindle_client *c = harness_client();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const char *q[] = {"minutesq"};
    spindle_queue_throughput *t = NULL;
    for (int attempt = 0; attempt < 3 && t == NULL; attempt++) {
        redisReply *now = harness_cmd("TIME");
        CU_ASSERT_PTR_NOT_NULL_FATAL(now);
        long long minute = strtoll(now->element[0]->str, NULL, 10) / 60;
        freeReplyObject(now);
        minute_buckets(q[0], minute, 1);
        size_t n = 0;
        CU_ASSERT_EQUAL_FATAL(spindle_queue_throughput_list(c, q, 1, &t, &n), SPINDLE_OK);
        CU_ASSERT_EQUAL_FATAL(n, 1);
        minute_buckets(q[0], minute, 0);
        if (t[0].read_at_ms / 60000 != minute) {
            spindle_queue_throughput_free(t);
            t = NULL;
        }
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (int i = 0; i < SPINDLE_THROUGHPUT_MINUTES; i++) {
        long long want = i == 0 ? 4 : i == 5 ? 7 : i == 60 ? 2 : 0;
        CU_ASSERT_EQUAL(t[0].ended_by_minute[i], want);
    }
    CU_ASSERT_EQUAL(t[0].ok[1], 10);
    CU_ASSERT_EQUAL(t[0].failed[1], 3);
    spindle_queue_throughput_free(t);
    spindle_client_free(c);
}

static void test_watch_needs_terminal(void)
{
    harness_output o = cli_run("watch", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "terminal"));
    harness_output_free(&o);
    o = cli_run("watch", "--interval", "0.01", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
}

/* Starts `spindle watch --interval 0.2` in a detached tmux session on the private socket
 * sock; the shell writes its exit code to rc_file when it ends. 0 if tmux started it. */
static int start_watch(const char *sock, const char *rc_file)
{
    char cmd[2048];
    unlink(rc_file);
    snprintf(cmd, sizeof(cmd),
             "TERM=xterm '%s' --redis '%s' --namespace '%s' watch --interval 0.2; "
             "echo $? > '%s'",
             bin, harness_url(), harness_ns(), rc_file);
    return cli_tmux(sock, NULL, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40",
                    cmd, NULL);
}

/* The screen once it shows the queue, the worker and the progress bar (or the last one seen
 * after a few seconds); caller frees. */
static char *wait_screen(const char *sock)
{
    char *screen = NULL;
    int seen = 0;
    for (int64_t end = harness_ms() + harness_scaled_ms(5000); harness_ms() < end && !seen;) {
        harness_sleep_ms(100);
        free(screen);
        screen = NULL;
        if (cli_tmux(sock, &screen, "capture-pane", "-p", NULL) != 0)
            continue;
        seen =
            strstr(screen, "WORKERS 1") && strstr(screen, "sleeping") && strstr(screen, "default ");
    }
    CU_ASSERT_TRUE(seen);
    if (!seen)
        fprintf(stderr, "\n  watch screen:\n%s\n", screen ? screen : "(none)");
    return screen;
}

/* Sends key to the session and returns what the shell wrote to rc_file ("0\n" for exit 0),
 * or "(not exited)" if nothing came within a few seconds; caller frees. */
static char *quit_with(const char *sock, const char *rc_file, const char *key)
{
    CU_ASSERT_EQUAL(cli_tmux(sock, NULL, "send-keys", key, NULL), 0);
    return cli_wait_line(rc_file, 3000);
}

static void test_watch_under_tmux(void)
{
    if (access("/usr/bin/tmux", X_OK) != 0) {
        CU_FAIL("tmux is missing (make deps)");
        return;
    }
    /* A task that reports progress while the view is up. */
    harness_output o = cli_run("enqueue", "sleep_ms", "8000", NULL);
    CU_ASSERT_EQUAL_FATAL(o.code, 0);
    harness_output_free(&o);

    char sock[512], sock2[512], rc_file[512];
    snprintf(sock, sizeof(sock), "%s/tmux.sock", harness_dir());
    snprintf(sock2, sizeof(sock2), "%s/tmux2.sock", harness_dir());
    snprintf(rc_file, sizeof(rc_file), "%s/watch.rc", harness_dir());
    CU_ASSERT_EQUAL_FATAL(start_watch(sock, rc_file), 0);
    char *screen = wait_screen(sock);
    char line[512], *w[12];
    if (screen && cli_line_starting(screen, "QUEUE ", line, sizeof(line))) {
        CU_ASSERT_EQUAL(cli_split_words(line, w, 12), 10);
        CU_ASSERT_STRING_EQUAL(w[1], "PENDING");
        CU_ASSERT_STRING_EQUAL(w[5], "RATE/s");
    } else {
        CU_FAIL("no QUEUE header");
    }
    /* default: 1 running, 2 dead; 4 ok and 2 failed in the last hour (the last minute may
     * have moved on under valgrind). */
    if (screen && cli_line_starting(screen, "default ", line, sizeof(line))) {
        CU_ASSERT_EQUAL_FATAL(cli_split_words(line, w, 12), 10);
        CU_ASSERT_STRING_EQUAL(w[3], "1");
        CU_ASSERT_STRING_EQUAL(w[4], "2");
        /* The rate: "-" on the first screen, then a number (nothing ends meanwhile: 0.0). */
        CU_ASSERT_TRUE(strcmp(w[5], "-") == 0 || strspn(w[5], "0123456789.") == strlen(w[5]));
        CU_ASSERT_TRUE(atoi(w[6]) <= 4 && atoi(w[7]) <= 2);
        CU_ASSERT_STRING_EQUAL(w[8], "4");
        CU_ASSERT_STRING_EQUAL(w[9], "2");
    } else {
        CU_FAIL("no line for default");
    }
    free(screen);
    char *rc = quit_with(sock, rc_file, "q");
    CU_ASSERT_STRING_EQUAL(rc, "0\n");
    free(rc);

    /* Ctrl-C ends it the same way. On a tmux server of its own: the first one exits with
     * its last session, and a new session on its socket could meet it still exiting (seen
     * under ASan on a loaded CI host). */
    CU_ASSERT_EQUAL_FATAL(start_watch(sock2, rc_file), 0);
    free(wait_screen(sock2));
    rc = quit_with(sock2, rc_file, "C-c");
    CU_ASSERT_STRING_EQUAL(rc, "0\n");
    free(rc);
    /* Each session ends with its command; kill-server by our sockets in case one did not. */
    cli_tmux(sock, NULL, "kill-server", NULL);
    cli_tmux(sock2, NULL, "kill-server", NULL);
    unlink(sock);
    unlink(sock2);
}

int register_cli_stats_tests(void)
{
    static const test_case tests[] = {
        {"stats: 4 ok and 2 failed in every window, table and JSON", test_stats_counts},
        {"stats: buckets have TTLs; a garbage bucket is an error", test_stats_ttls_and_bad_bucket},
        {"stats: each minute bucket of the last hour, for watch's rate", test_stats_minute_buckets},
        {"watch: refuses without a terminal", test_watch_needs_terminal},
        {"watch under tmux: queues, worker, progress bar; q, Ctrl-C exit 0", test_watch_under_tmux},
        /* Last: it adds failures the counts above do not expect. */
        {"stats: failures for good outside a settlement are counted",
         test_stats_count_failures_outside_settle},
        {NULL, NULL},
    };
    return add_suite("cli stats and watch", suite_init, suite_cleanup, tests);
}
