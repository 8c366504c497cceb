/* `spindle list QUEUE --state S`: one page of a queue's tasks in one state, and the command
 * for the next page. Paged so that a queue of a million tasks answers as fast as a small
 * one: only the page's window is read (spindle_task_page()). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "cli/table.h"
#include "spindle/inspect.h"

#define LIST_LIMIT_DEFAULT 20
#define LIST_LIMIT_MAX 1000

/* A time as JSON: ms since the epoch, null for 0. */
static json_t *time_json(int64_t ms)
{
    return ms ? json_integer((json_int_t)ms) : json_null();
}

static json_t *row_json(const spindle_task_row *r, spindle_list_state st)
{
    json_t *o =
        json_pack("{s:s,s:o,s:s,s:o,s:o,s:I,s:o}", "id", r->id, "func",
                  spindle_json_text(r->func, strlen(r->func)), "state", r->state, "enqueued_at",
                  time_json(r->enqueued_at_ms), "started_at", time_json(r->started_at_ms),
                  "attempts", (json_int_t)r->attempts, "error",
                  r->error[0] ? spindle_json_text(r->error, strlen(r->error)) : json_null());
    if (o && st == SPINDLE_LIST_SCHEDULED)
        json_object_set_new(o, "due_at", time_json(r->at_ms));
    if (o && st == SPINDLE_LIST_DEAD)
        json_object_set_new(o, "failed_at", time_json(r->at_ms));
    if (o && st == SPINDLE_LIST_RUNNING)
        json_object_set_new(o, "worker", json_string(r->worker));
    if (o && st == SPINDLE_LIST_WAITING) {
        json_object_set_new(o, "waiting_since", time_json(r->at_ms));
        json_object_set_new(o, "deps", json_integer((json_int_t)r->deps));
    }
    return o;
}

static int list_json(const spindle_task_row *rows, size_t n, spindle_list_state st, uint64_t next)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, row_json(&rows[i], st)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    json_t *o = arr ? json_pack("{s:o}", "tasks", arr) : NULL;
    if (o && json_object_set_new(o, "next", next ? json_sprintf("%" PRIu64, next) : json_null())) {
        json_decref(o);
        o = NULL;
    }
    return spindle_cli_print_json(o);
}

/* The first line of an error, cut at 60 bytes, for a table cell. */
static void error_cell(const char *e, char buf[64])
{
    size_t len = strcspn(e, "\r\n");
    snprintf(buf, 64, "%.*s", (int)(len < 60 ? len : 60), e);
}

static int list_table(const spindle_task_row *rows, size_t n, spindle_list_state st)
{
    const char *when = st == SPINDLE_LIST_SCHEDULED ? "DUE_AT"
                       : st == SPINDLE_LIST_DEAD    ? "FAILED_AT"
                       : st == SPINDLE_LIST_RUNNING ? "STARTED_AT"
                       : st == SPINDLE_LIST_WAITING ? "WAITING_SINCE"
                                                    : "ENQUEUED_AT";
    /* A waiting task has never run: what it waits for (open dependencies) says more. */
    const char *count = st == SPINDLE_LIST_WAITING ? "DEPS" : "ATTEMPTS";
    const char *headers[] = {"ID", "FUNC", "STATE", when, count, "ERROR"};
    spindle_cli_table *t = spindle_cli_table_new(6, headers, "llllrl");
    for (size_t i = 0; t && i < n; i++) {
        const spindle_task_row *r = &rows[i];
        int64_t at =
            st == SPINDLE_LIST_SCHEDULED || st == SPINDLE_LIST_DEAD || st == SPINDLE_LIST_WAITING
                ? r->at_ms
            : st == SPINDLE_LIST_RUNNING ? r->started_at_ms
                                         : r->enqueued_at_ms;
        char tm[SPINDLE_CLI_TIME_MAX], attempts[24], err[64];
        snprintf(attempts, sizeof(attempts), "%ld",
                 st == SPINDLE_LIST_WAITING ? r->deps : r->attempts);
        error_cell(r->error, err);
        const char *cells[] = {r->id,
                               r->func[0] ? r->func : "-",
                               r->state[0] ? r->state : "(gone)",
                               spindle_cli_format_time(at, tm),
                               attempts,
                               err[0] ? err : "-"};
        spindle_cli_table_add(t, cells);
    }
    int code = t ? spindle_cli_table_print(t)
                 : spindle_cli_error(SPINDLE_EXIT_ERROR, "list: out of memory");
    spindle_cli_table_free(t);
    return code;
}

/* list QUEUE --state S [--limit N] [--cursor C] [--json] */
int spindle_cli_cmd_list(spindle_cli *cli, int argc, char **argv)
{
    const char *state = NULL, *cursor_text = NULL;
    long limit = LIST_LIMIT_DEFAULT;
    int json = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--state", .str = &state},
        {.name = "--limit", .num = &limit, .min = 1, .max = LIST_LIMIT_MAX},
        {.name = "--cursor", .str = &cursor_text},
        {.name = "--json", .flag = &json},
        {.name = NULL},
    };
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_check_name(argv[0], "queue");
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_list_state st;
    if (state == NULL || spindle_list_state_parse(state, &st) != 0)
        return spindle_cli_error(
            SPINDLE_EXIT_USAGE,
            "list: --state must be pending, waiting, scheduled, running or dead%s%s",
            state ? ", not " : "", state ? state : "");
    uint64_t cursor = 0;
    if (cursor_text) {
        char *end = NULL;
        errno = 0;
        unsigned long long c = strtoull(cursor_text, &end, 10);
        if (errno || end == cursor_text || *end || cursor_text[0] == '-' || c > (1ULL << 62))
            return spindle_cli_error(SPINDLE_EXIT_USAGE,
                                     "list: --cursor '%.40s': not a cursor printed by list",
                                     cursor_text);
        cursor = c;
    }
    code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_task_row *rows = NULL;
    size_t n = 0;
    uint64_t next = 0;
    int rc = spindle_task_page(cli->client, argv[0], st, cursor, (size_t)limit, &rows, &n, &next);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    if (json) {
        code = list_json(rows, n, st, next);
    } else {
        code = list_table(rows, n, st);
        if (code == SPINDLE_EXIT_OK && next)
            printf("next: spindle list %s --state %s --limit %ld --cursor %" PRIu64 "\n", argv[0],
                   state, limit, next);
    }
    free(rows);
    return code;
}
