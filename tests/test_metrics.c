/* The worker's Prometheus endpoint and JSON logs, watched from outside: the real
 * spindle-worker binary runs with --metrics-addr on a free loopback port; known numbers of
 * tasks succeed, fail for good and are retried; the endpoint is scraped with a plain socket,
 * its text format parsed, and the counters, the cumulative histogram and the sampled queue
 * depths checked. Its stderr with --log-format json is parsed line by line with jansson.
 * The table and the address parser are also tested without a server. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "common/log.h"
#include "fleet.h"
#include "store/ops.h"
#include "suites.h"
#include "worker/metrics.h"

static spindle_client *client;
static const char *const queue = "metrics";

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* GET /metrics on 127.0.0.1:port with a plain socket (every step bounded): the body as a
 * malloc'd string, or NULL if the server did not answer 200. */
static char *scrape(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    const char *req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    ssize_t w = write(fd, req, strlen(req));
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (w > 0 && buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *more = realloc(buf, cap *= 2);
            if (more == NULL)
                break;
            buf = more;
        }
    }
    close(fd);
    if (buf == NULL)
        return NULL;
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0 || body == NULL) {
        free(buf);
        return NULL;
    }
    memmove(buf, body + 4, strlen(body + 4) + 1);
    return buf;
}

/* The value of the sample whose name and labels are exactly `series` (e.g.
 * `spindle_tasks_started_total{queue="q",func="add"}`); -1 if absent or malformed. Checks
 * on the way that every non-comment line is `SERIES VALUE`. */
static double sample_of(const char *body, const char *series)
{
    size_t sl = strlen(series);
    for (const char *line = body; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (line[0] != '#' && ll > sl && strncmp(line, series, sl) == 0 && line[sl] == ' ') {
            char *end = NULL;
            double v = strtod(line + sl + 1, &end);
            return end == line + ll ? v : -1;
        }
        line = eol ? eol + 1 : NULL;
    }
    return -1;
}

static double counter(const char *body, const char *name, const char *func)
{
    char series[256];
    snprintf(series, sizeof(series), "%s{queue=\"%s\",func=\"%s\"}", name, queue, func);
    return sample_of(body, series);
}

/* The histogram of func: buckets cumulative (never decreasing), +Inf equal to _count, which
 * must be count. */
static void check_histogram(const char *body, const char *func, double count)
{
    char series[256];
    double prev = 0;
    for (int k = 0; k < SPINDLE_METRICS_BUCKETS; k++) {
        snprintf(series, sizeof(series),
                 "spindle_task_duration_seconds_bucket{queue=\"%s\",func=\"%s\",le=\"%g\"}", queue,
                 func, spindle_metrics_bounds[k]);
        double v = sample_of(body, series);
        CU_ASSERT(v >= prev);
        prev = v;
    }
    snprintf(series, sizeof(series),
             "spindle_task_duration_seconds_bucket{queue=\"%s\",func=\"%s\",le=\"+Inf\"}", queue,
             func);
    double inf = sample_of(body, series);
    CU_ASSERT(inf >= prev);
    CU_ASSERT_EQUAL(inf, count);
    snprintf(series, sizeof(series),
             "spindle_task_duration_seconds_count{queue=\"%s\",func=\"%s\"}", queue, func);
    CU_ASSERT_EQUAL(sample_of(body, series), count);
    snprintf(series, sizeof(series), "spindle_task_duration_seconds_sum{queue=\"%s\",func=\"%s\"}",
             queue, func);
    CU_ASSERT(sample_of(body, series) >= 0);
}

static spindle_handle *enqueue(const char *func, int retries)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    o.max_retries = retries;
    o.backoff_ms = 10;
    o.backoff_max_ms = 10;
    spindle_args *a = spindle_args_new();
    if (strcmp(func, "add") == 0) {
        spindle_args_int(a, 1);
        spindle_args_int(a, 2);
    } else if (strcmp(func, "infer_double") == 0) {
        spindle_args_int(a, 21);
    }
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, func, a, &o, &h);
    spindle_args_free(a);
    return rc == SPINDLE_OK ? h : NULL;
}

/* Waits for every handle to end; how many ended as expected (succeeded for add). */
static int wait_all(spindle_handle **hs, size_t n)
{
    int ended = 0;
    for (size_t i = 0; i < n; i++) {
        spindle_result *r = NULL;
        int rc = spindle_wait(client, hs[i], harness_scaled_ms(HARNESS_WAIT_MS), &r);
        ended += rc == SPINDLE_OK || rc == SPINDLE_ERR_TASK_FAILED;
        spindle_result_free(r);
        spindle_handle_free(hs[i]);
    }
    return ended;
}

static void test_counters(void)
{
    enum { OK = 5, FAIL = 3, RETRY = 2, BATCHED = 3 };
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    int port = harness_free_port();
    CU_ASSERT_FATAL(port > 0);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *extra[] = {
        "--metrics-addr", addr, "--concurrency", "2", "--sweep-interval", "0.2", NULL};
    pid_t pid = harness_worker_exec_args(queue, extra);
    CU_ASSERT_FATAL(pid > 0);

    spindle_handle *hs[OK + FAIL + RETRY + BATCHED];
    size_t n = 0;
    for (int i = 0; i < OK; i++)
        hs[n++] = enqueue("add", -1);
    for (int i = 0; i < FAIL; i++)
        hs[n++] = enqueue("fail", -1);
    for (int i = 0; i < RETRY; i++)
        hs[n++] = enqueue("fail", 1); /* one retry, then failed for good */
    for (int i = 0; i < BATCHED; i++)
        hs[n++] = enqueue("infer_double", -1); /* a batch function (examples/tasks.c) */
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_PTR_NOT_NULL_FATAL(hs[i]);
    CU_ASSERT_EQUAL(wait_all(hs, n), (int)n);

    /* A slot counts an outcome right after Redis answers its settlement, which is also when
     * a waiter learns of it, and depths are sampled every sweep interval (0.2 s): the scrape
     * is retried until they settle. */
    char *body = NULL;
    int64_t deadline = harness_ms() + harness_scaled_ms(5000);
    do {
        free(body);
        harness_sleep_ms(50);
        body = scrape(port);
    } while ((body == NULL || counter(body, "spindle_tasks_failed_total", "fail") != FAIL + RETRY ||
              counter(body, "spindle_tasks_succeeded_total", "add") != OK ||
              counter(body, "spindle_tasks_succeeded_total", "infer_double") != BATCHED ||
              sample_of(body, "spindle_queue_depth{queue=\"metrics\",state=\"dead\"}") !=
                  FAIL + RETRY) &&
             harness_ms() < deadline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_started_total", "add"), OK);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_succeeded_total", "add"), OK);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_failed_total", "add"), 0);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_retried_total", "add"), 0);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_started_total", "fail"), FAIL + 2 * RETRY);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_succeeded_total", "fail"), 0);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_failed_total", "fail"), FAIL + RETRY);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_retried_total", "fail"), RETRY);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_started_total", "infer_double"), BATCHED);
    CU_ASSERT_EQUAL(counter(body, "spindle_tasks_succeeded_total", "infer_double"), BATCHED);
    check_histogram(body, "infer_double", BATCHED);
    check_histogram(body, "add", OK);
    check_histogram(body, "fail", FAIL + 2 * RETRY);
    CU_ASSERT_EQUAL(sample_of(body, "spindle_tasks_in_flight"), 0);
    CU_ASSERT_EQUAL(sample_of(body, "spindle_redis_errors_total"), 0);
    /* The only worker holds the sampler lock, so it exports the depths. */
    CU_ASSERT_EQUAL(sample_of(body, "spindle_queue_depth{queue=\"metrics\",state=\"dead\"}"),
                    FAIL + RETRY);
    CU_ASSERT_EQUAL(sample_of(body, "spindle_queue_depth{queue=\"metrics\",state=\"pending\"}"), 0);
    CU_ASSERT_EQUAL(sample_of(body, "spindle_queue_depth{queue=\"metrics\",state=\"running\"}"), 0);
    CU_ASSERT(strstr(body, "# TYPE spindle_task_duration_seconds histogram\n") != NULL);
    free(body);
    char key[256];
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", harness_key(key, sizeof(key), NULL, "sampler")), 1);
    CU_ASSERT_EQUAL(harness_worker_stop(pid, harness_scaled_ms(HARNESS_WAIT_MS), NULL), 0);
}

/* A worker that does not hold the sampler lock exports no depth. */
static void test_sampler_held_elsewhere(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char key[256];
    harness_key(key, sizeof(key), NULL, "sampler");
    redisReply *r = harness_cmd("SET %s someone-else PX 60000", key);
    freeReplyObject(r);
    int port = harness_free_port();
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *extra[] = {"--metrics-addr", addr, "--sweep-interval", "0.1", NULL};
    pid_t pid = harness_worker_exec_args(queue, extra);
    CU_ASSERT_FATAL(pid > 0);
    char *body = NULL;
    int64_t deadline = harness_ms() + harness_scaled_ms(5000);
    while (body == NULL && harness_ms() < deadline) {
        harness_sleep_ms(50);
        body = scrape(port);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    harness_sleep_ms(harness_scaled_ms(300)); /* a few sample rounds */
    free(body);
    body = scrape(port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT(strstr(body, "spindle_queue_depth") == NULL);
    CU_ASSERT(strstr(body, "spindle_tasks_in_flight 0\n") != NULL);
    free(body);
    r = harness_cmd("GET %s", key);
    CU_ASSERT(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "someone-else") == 0);
    freeReplyObject(r);
    CU_ASSERT_EQUAL(harness_worker_stop(pid, harness_scaled_ms(HARNESS_WAIT_MS), NULL), 0);
}

static int run_worker(const char *addr, harness_output *out)
{
    char bin[512], lib[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", harness_build());
    char *argv[] = {bin, "--redis", (char *)harness_url(), "--metrics-addr", (char *)addr, "--load",
                    lib, NULL};
    return harness_run(argv, harness_scaled_ms(HARNESS_WAIT_MS), out);
}

static void test_bad_address(void)
{
    const char *bad[] = {"nonsense",         "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                         "example.com:9464", "[::1:9464", ":9464"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        harness_output out;
        CU_ASSERT_EQUAL_FATAL(run_worker(bad[i], &out), 0);
        CU_ASSERT_EQUAL(out.code, 2);
        CU_ASSERT(strstr(out.err, "--metrics-addr") != NULL);
        harness_output_free(&out);
    }
}

/* An address already listened on: a runtime failure at start (exit 1), saying which. */
static void test_address_in_use(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                    listen(fd, 1) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(a.sin_port));
    harness_output out;
    CU_ASSERT_EQUAL(run_worker(addr, &out), 0);
    close(fd);
    CU_ASSERT_EQUAL(out.code, 1);
    CU_ASSERT(strstr(out.err, "metrics: cannot serve on") != NULL);
    CU_ASSERT(strstr(out.err, addr) != NULL);
    harness_output_free(&out);
}

/* The pure parts: the address parser and the bounded table. */
static void test_parse_and_table(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    spindle_error err;
    CU_ASSERT_EQUAL(spindle_metrics_addr_parse("127.0.0.1:9464", &a, &len, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(a.ss_family, AF_INET);
    CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in *)&a)->sin_port), 9464);
    CU_ASSERT_EQUAL(spindle_metrics_addr_parse("[::1]:80", &a, &len, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(a.ss_family, AF_INET6);
    CU_ASSERT_EQUAL(spindle_metrics_addr_parse("localhost:1", &a, &len, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_metrics_addr_parse("1.2.3:80", &a, &len, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT(strstr(err.msg, "1.2.3:80") != NULL);
    CU_ASSERT_EQUAL(spindle_metrics_addr_parse("1.2.3.4:80x", &a, &len, &err), SPINDLE_ERR_INVALID);

    spindle_metrics *m = spindle_metrics_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NULL(spindle_metrics_row_of(NULL, "q", "f"));
    spindle_metrics_row *r1 = spindle_metrics_row_of(m, "q", "f");
    CU_ASSERT_PTR_EQUAL(spindle_metrics_row_of(m, "q", "f"), r1);
    CU_ASSERT_PTR_NOT_EQUAL(spindle_metrics_row_of(m, "q", "g"), r1);
    char func[32];
    for (int i = 0; i < SPINDLE_METRICS_ROWS + 10; i++) {
        snprintf(func, sizeof(func), "f%d", i);
        spindle_metrics_started(spindle_metrics_row_of(m, "many", func));
    }
    CU_ASSERT_PTR_EQUAL(spindle_metrics_row_of(m, "many", "f-new"), &m->overflow);
    /* A row left half-claimed (its claimer killed between its two stores) is waited for once,
     * then marked abandoned and stepped over: the pair gets another row, found at once. */
    spindle_metrics *m2 = spindle_metrics_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    spindle_metrics_row *stuck = spindle_metrics_row_of(m2, "q", "stuck");
    atomic_store(&stuck->state, 1);
    spindle_metrics_row *again = spindle_metrics_row_of(m2, "q", "stuck");
    CU_ASSERT_PTR_NOT_EQUAL(again, stuck);
    CU_ASSERT_PTR_NOT_EQUAL(again, &m2->overflow);
    CU_ASSERT_EQUAL(atomic_load(&stuck->state), 3);
    CU_ASSERT_PTR_EQUAL(spindle_metrics_row_of(m2, "q", "stuck"), again);
    spindle_metrics_free(m2, 0);
    spindle_metrics_ran(r1, 3000);    /* 3 ms: first bucket */
    spindle_metrics_ran(r1, 2000000); /* 2 s */
    spindle_metrics_outcome(r1, SPINDLE_OUTCOME_SCHEDULED);
    char *body = spindle_metrics_render(m, 3, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL(sample_of(body, "spindle_tasks_retried_total{queue=\"q\",func=\"f\"}"), 1);
    CU_ASSERT_EQUAL(
        sample_of(body,
                  "spindle_task_duration_seconds_bucket{queue=\"q\",func=\"f\",le=\"0.005\"}"),
        1);
    CU_ASSERT_EQUAL(
        sample_of(body, "spindle_task_duration_seconds_bucket{queue=\"q\",func=\"f\",le=\"1\"}"),
        1);
    CU_ASSERT_EQUAL(
        sample_of(body, "spindle_task_duration_seconds_bucket{queue=\"q\",func=\"f\",le=\"2.5\"}"),
        2);
    CU_ASSERT_EQUAL(sample_of(body, "spindle_tasks_in_flight"), 3);
    /* Pairs past the table are counted, under one overflow label. */
    CU_ASSERT(
        sample_of(body, "spindle_tasks_started_total{queue=\"_overflow\",func=\"_overflow\"}") >=
        10);
    CU_ASSERT(strstr(body, "spindle_queue_depth") == NULL);
    free(body);
    spindle_metrics_free(m, 0);
}

/* --log-format json: every line of stderr is one JSON object with the fields; a task's
 * lines carry its func, queue and duration. */
static void test_json_logs(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    const char *extra[] = {"--log-format", "json", "--log-level", "debug", NULL};
    pid_t pid = harness_worker_exec_args(queue, extra);
    CU_ASSERT_FATAL(pid > 0);
    spindle_handle *hs[2] = {enqueue("add", -1), enqueue("fail", -1)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(hs[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hs[1]);
    char fail_id[64];
    snprintf(fail_id, sizeof(fail_id), "%s", spindle_handle_id(hs[1]));
    CU_ASSERT_EQUAL(wait_all(hs, 2), 2);
    CU_ASSERT_EQUAL(harness_worker_stop(pid, harness_scaled_ms(HARNESS_WAIT_MS), NULL), 0);
    char *log = harness_worker_log(pid);
    int lines = 0, bad = 0, fail_line = 0, add_line = 0, plain_lines = 0;
    for (char *save = NULL, *line = strtok_r(log, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lines++;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const char *time = json_string_value(json_object_get(o, "time"));
        const char *level = json_string_value(json_object_get(o, "level"));
        const char *worker = json_string_value(json_object_get(o, "worker"));
        const char *msg = json_string_value(json_object_get(o, "message"));
        json_t *task = json_object_get(o, "task"), *func = json_object_get(o, "func");
        json_t *q = json_object_get(o, "queue"), *dur = json_object_get(o, "duration_ms");
        /* 2026-01-02T03:04:05.678Z */
        int time_ok =
            time && strlen(time) == 24 && time[10] == 'T' && time[19] == '.' && time[23] == 'Z';
        if (!json_is_object(o) || !time_ok || !level || !worker || !msg || !task || !func || !q ||
            !dur || json_object_size(o) != 8) {
            bad++;
            fprintf(stderr, "bad JSON log line: %s\n", line);
        } else if (json_is_null(func)) {
            plain_lines += json_is_null(q) && json_is_null(dur);
        } else if (strcmp(json_string_value(func), "fail") == 0 &&
                   strcmp(json_string_value(task), fail_id) == 0 && strcmp(level, "warn") == 0) {
            fail_line = json_is_number(dur) && json_number_value(dur) >= 0 &&
                        strcmp(json_string_value(q), queue) == 0 &&
                        strstr(msg, "fail failed (attempt 1)") != NULL;
        } else if (strcmp(json_string_value(func), "add") == 0 && strcmp(level, "debug") == 0) {
            add_line = json_is_number(dur) && strcmp(json_string_value(q), queue) == 0;
        }
        json_decref(o);
    }
    CU_ASSERT(lines >= 4);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(fail_line);
    CU_ASSERT_TRUE(add_line);
    CU_ASSERT(plain_lines >= 2); /* "loading task library", "serving", "stopped" */
    free(log);
}

/* A long message of multi-byte text: the JSON line stays one valid object of less than
 * PIPE_BUF bytes (one atomic write in a pipe), its message a shortened valid prefix. */
static void test_json_log_long_message(void)
{
    char msg[2100];
    size_t n = 0;
    while (n + 3 < sizeof(msg) - 1) { /* U+4E2D, three bytes in UTF-8 */
        msg[n++] = (char)0xE4;
        msg[n++] = (char)0xB8;
        msg[n++] = (char)0xAD;
    }
    msg[n] = '\0';
    char path[] = "/tmp/spindle-log-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    spindle_log_set_format(SPINDLE_LOG_FORMAT_JSON);
    spindle_log(SPINDLE_LOG_ERROR, NULL, "%s", msg);
    spindle_log_set_format(SPINDLE_LOG_FORMAT_TEXT);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char line[8192];
    ssize_t got = pread(fd, line, sizeof(line) - 1, 0);
    close(fd);
    unlink(path);
    CU_ASSERT_FATAL(got > 0);
    line[got] = '\0';
    CU_ASSERT_TRUE(got <= PIPE_BUF);
    CU_ASSERT_EQUAL(strchr(line, '\n'), line + got - 1); /* one line */
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    const char *m = json_string_value(json_object_get(o, "message"));
    CU_ASSERT_TRUE(m && strlen(m) > 300 && strncmp(m, msg, strlen(m)) == 0);
    json_decref(o);
}

int register_metrics_tests(void)
{
    static const test_case tests[] = {
        {"address parser and bounded table, without a server", test_parse_and_table},
        {"scrape: counters, histogram and queue depths", test_counters},
        {"no depth gauges while another worker holds the sampler lock",
         test_sampler_held_elsewhere},
        {"a bad --metrics-addr is a usage error (exit 2)", test_bad_address},
        {"an address in use: exit 1 at start", test_address_in_use},
        {"--log-format json: one object per line with task fields", test_json_logs},
        {"--log-format json: a long multi-byte message stays one short line",
         test_json_log_long_message},
        {NULL, NULL},
    };
    return add_suite("metrics", suite_init, suite_cleanup, tests);
}
