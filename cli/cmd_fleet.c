/* The fleet commands of `spindle`: run a task again (retry), list a queue's dead letters
 * (dead), list the live workers (workers). The listings print a table for people or, with
 * --json, one JSON array for scripts; the JSON keeps every field whole (times in ms since the
 * epoch), while the table shortens what would not fit on a line. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "cli/table.h"
#include "common/clock.h"
#include "spindle/admin.h"
#include "spindle/inspect.h"

/* Longest error text a `dead` table row shows; the whole text is in --json and in
 * `spindle status ID --verbose`. */
#define ERROR_CELL_MAX 100

/* The largest --limit: far above the 10,000 entries a dead set keeps, so it means "all". */
#define DEAD_LIMIT_MAX 2147483647L

/* retry --all-dead QUEUE [--limit N]: prints the outcome counts. */
static int retry_all_dead(spindle_cli *cli, const char *queue, long limit)
{
    int code = spindle_cli_check_name(queue, "queue");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_retry_tally t;
    int rc = spindle_retry_all_dead(cli->client, queue, (size_t)limit, &t);
    size_t left = t.held + t.bad_state + t.gone + t.errors;
    printf("retried %zu; not retried %zu", t.retried, left);
    if (left)
        printf(" (%zu unique key held, %zu state not retryable, %zu expired, %zu bad entries)",
               t.held, t.bad_state, t.gone, t.errors);
    printf("\n");
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

/* retry ID [--queue Q] | retry --all-dead QUEUE [--limit N] */
int spindle_cli_cmd_retry(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    int all_dead = 0;
    long limit = 0;
    const spindle_cli_opt opts[] = {{.name = "--queue", .str = &queue},
                                    {.name = "--all-dead", .flag = &all_dead},
                                    {.name = "--limit", .num = &limit, .max = DEAD_LIMIT_MAX},
                                    {.name = NULL}};
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--all-dead") == 0) {
            int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
            if (code != SPINDLE_CLI_CONTINUE)
                return code;
            if (queue)
                return spindle_cli_error(SPINDLE_EXIT_USAGE,
                                         "retry --all-dead QUEUE: the queue is the argument, "
                                         "not --queue");
            return retry_all_dead(cli, argv[0], limit);
        }
    const spindle_cli_opt one[] = {{.name = "--queue", .str = &queue}, {.name = NULL}};
    spindle_handle *h = NULL;
    int code = spindle_cli_parse_task(cli, argc, argv, one, &queue, &h);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_retry(cli->client, h);
    spindle_handle_free(h);
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

/* cancel ID [--queue Q] [--grace MS] */
int spindle_cli_cmd_cancel(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    long grace = -1;
    const spindle_cli_opt opts[] = {
        {.name = "--queue", .str = &queue},
        {.name = "--grace", .num = &grace, .max = SPINDLE_MAX_CANCEL_GRACE_MS},
        {.name = NULL},
    };
    spindle_handle *h = NULL;
    int code = spindle_cli_parse_task(cli, argc, argv, opts, &queue, &h);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_state st;
    int rc = spindle_cancel(cli->client, h, grace, &st);
    spindle_handle_free(h);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    if (st == SPINDLE_STATE_CANCELLED)
        printf("cancelled\n");
    else if (st == SPINDLE_STATE_RUNNING)
        printf("cancel requested; it will end cancelled\n");
    else
        printf("already %s\n", spindle_state_name(st));
    return SPINDLE_EXIT_OK;
}

/* ---- dead ------------------------------------------------------------------------------- */

/* text cut to at most ERROR_CELL_MAX bytes, on a UTF-8 character boundary, with "..." when
 * cut, into buf. */
static const char *shorten(const char *text, char buf[ERROR_CELL_MAX + 4])
{
    size_t len = strlen(text);
    if (len <= ERROR_CELL_MAX)
        return text;
    len = ERROR_CELL_MAX;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
        len--; /* text[len] continues a character: cut before that character */
    snprintf(buf, ERROR_CELL_MAX + 4, "%.*s...", (int)len, text);
    return buf;
}

static int dead_table(const spindle_dead_letter *list, size_t n)
{
    static const char *const headers[] = {"ID", "FAILED_AT", "ATTEMPTS", "FUNC", "ERROR"};
    spindle_cli_table *t = spindle_cli_table_new(5, headers, "llrll");
    for (size_t i = 0; t && i < n; i++) {
        char when[SPINDLE_CLI_TIME_MAX], attempts[24], err[ERROR_CELL_MAX + 4];
        snprintf(attempts, sizeof(attempts), "%ld", list[i].attempts);
        const char *const row[] = {list[i].id, spindle_cli_format_time(list[i].failed_at_ms, when),
                                   attempts, list[i].func[0] ? list[i].func : "-",
                                   shorten(list[i].error, err)};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* {"id", "func", "failed_at", "attempts", "error"}, or NULL if out of memory. */
static json_t *dead_json(const spindle_dead_letter *d)
{
    json_t *o = json_object();
    if (o == NULL || json_object_set_new(o, "id", json_string(d->id)) != 0 ||
        json_object_set_new(o, "func", spindle_json_text(d->func, strlen(d->func))) != 0 ||
        json_object_set_new(o, "failed_at", json_integer(d->failed_at_ms)) != 0 ||
        json_object_set_new(o, "attempts", json_integer(d->attempts)) != 0 ||
        json_object_set_new(o, "error", spindle_json_text(d->error, strlen(d->error))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* dead QUEUE [--limit N] [--json] */
int spindle_cli_cmd_dead(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    long limit = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--limit", .num = &limit, .max = DEAD_LIMIT_MAX},
        {.name = "--json", .flag = &json},
        {.name = NULL},
    };
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_check_name(argv[0], "queue");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_dead_letter *list = NULL;
    size_t n = 0;
    int rc = spindle_dead_list(cli->client, argv[0], (size_t)limit, &list, &n);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, dead_json(&list[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        code = spindle_cli_print_json(arr);
    } else {
        code = dead_table(list, n);
    }
    spindle_dead_list_free(list, n);
    return code;
}

/* ---- workers ---------------------------------------------------------------------------- */

/* How long ago the heartbeat was, by this host's clock (the beat is by the worker's): "4.2s",
 * "3m05s", "2h10m"; "-" without a beat time. A beat from the future (clock skew) is 0. */
/* A duration as "1.5s", "3m07s" or "2h05m". */
static const char *age_text(int64_t ms, char buf[32])
{
    if (ms < 0)
        ms = 0;
    if (ms < 60000)
        snprintf(buf, 32, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(buf, 32, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
    else
        snprintf(buf, 32, "%lldh%02lldm", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
    return buf;
}

static const char *beat_age(const spindle_worker_info *w, char buf[32])
{
    return w->beat_at_ms <= 0 ? "-" : age_text(w->beat_age_ms, buf);
}

/* How long ago `at` was by Redis's clock (the heartbeat's time plus its age), or "-". */
static const char *since(const spindle_worker_info *w, int64_t at, char buf[32])
{
    if (at <= 0 || w->beat_at_ms <= 0)
        return "-";
    return age_text(w->beat_at_ms - at + w->beat_age_ms, buf);
}

static int workers_table(const spindle_worker_info *list, size_t n)
{
    static const char *const headers[] = {"ID",     "POOL",        "PID",       "QUEUES",
                                          "TASK",   "RUNNING_FOR", "PROCESSED", "FAILED",
                                          "UPTIME", "BEAT_AGE"};
    spindle_cli_table *t = spindle_cli_table_new(10, headers, "llrllrrrrr");
    for (size_t i = 0; t && i < n; i++) {
        const spindle_worker_info *w = &list[i];
        char pid[24], processed[24], failed[24], age[32], running[32], uptime[32];
        snprintf(pid, sizeof(pid), "%ld", w->pid);
        snprintf(processed, sizeof(processed), "%lu", w->processed);
        snprintf(failed, sizeof(failed), "%lu", w->failed);
        const char *const row[] = {w->id,
                                   w->pool[0] ? w->pool : "-",
                                   pid,
                                   w->queues[0] ? w->queues : "-",
                                   w->task[0] ? w->task : "-",
                                   w->task[0] ? since(w, w->task_started_at_ms, running) : "-",
                                   processed,
                                   failed,
                                   since(w, w->started_at_ms, uptime),
                                   beat_age(w, age)};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* The comma-separated queues as a JSON array of names (empty parts skipped). */
static json_t *queues_json(const char *queues)
{
    json_t *arr = json_array();
    for (const char *p = queues; arr && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && json_array_append_new(arr, spindle_json_text(p, len)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
        p += len + (p[len] == ',');
    }
    return arr;
}

/* {"id", "queue", "started_at"} of the running task, or JSON null when idle. */
static json_t *task_json(const spindle_worker_info *w)
{
    if (w->task[0] == '\0')
        return json_null();
    json_t *o = json_object();
    if (o == NULL ||
        json_object_set_new(o, "id", spindle_json_text(w->task, strlen(w->task))) != 0 ||
        json_object_set_new(o, "queue", spindle_json_text(w->task_queue, strlen(w->task_queue))) !=
            0 ||
        json_object_set_new(o, "started_at", json_integer(w->task_started_at_ms)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *worker_json(const spindle_worker_info *w)
{
    json_t *o = json_object();
    if (o == NULL || json_object_set_new(o, "id", spindle_json_text(w->id, strlen(w->id))) != 0 ||
        json_object_set_new(o, "host", spindle_json_text(w->host, strlen(w->host))) != 0 ||
        json_object_set_new(o, "pid", json_integer(w->pid)) != 0 ||
        json_object_set_new(o, "supervisor", json_integer(w->supervisor)) != 0 ||
        json_object_set_new(o, "pool", spindle_json_text(w->pool, strlen(w->pool))) != 0 ||
        json_object_set_new(o, "queues", queues_json(w->queues)) != 0 ||
        json_object_set_new(o, "started_at", json_integer(w->started_at_ms)) != 0 ||
        json_object_set_new(o, "beat_at", json_integer(w->beat_at_ms)) != 0 ||
        json_object_set_new(o, "beat_age_ms", json_integer(w->beat_age_ms)) != 0 ||
        json_object_set_new(o, "task", task_json(w)) != 0 ||
        json_object_set_new(o, "processed", json_integer((json_int_t)w->processed)) != 0 ||
        json_object_set_new(o, "failed", json_integer((json_int_t)w->failed)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* workers [--json] */
int spindle_cli_cmd_workers(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    int code = spindle_cli_parse_listing(cli, argc, argv, &json);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_worker_info *list = NULL;
    size_t n = 0;
    int rc = spindle_worker_list(cli->client, &list, &n);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, worker_json(&list[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        code = spindle_cli_print_json(arr);
    } else {
        code = workers_table(list, n);
    }
    spindle_worker_list_free(list, n);
    return code;
}
