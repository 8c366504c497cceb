/* `spindle queues`: the queues of the namespace with their counts (pending, waiting for
 * dependencies, running, scheduled for a retry, dead letters, and the tasks that failed for
 * good in the last hour), as a table for people or as JSON for scripts. The reads are
 * spindle_queue_list() and spindle_queue_throughput_list() (admin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "cli/table.h"
#include "spindle/admin.h"

static int print_table(const spindle_queue_stat *list, const spindle_queue_throughput *tp, size_t n)
{
    static const char *const headers[] = {"QUEUE",     "PENDING", "WAITING",  "RUNNING",
                                          "SCHEDULED", "DEAD",    "FAILED_1H"};
    spindle_cli_table *t = spindle_cli_table_new(7, headers, "lrrrrrr");
    for (size_t i = 0; t && i < n; i++) {
        char num[6][24];
        snprintf(num[0], sizeof(num[0]), "%lld", list[i].pending);
        snprintf(num[1], sizeof(num[1]), "%lld", list[i].waiting);
        snprintf(num[2], sizeof(num[2]), "%lld", list[i].running);
        snprintf(num[3], sizeof(num[3]), "%lld", list[i].scheduled);
        snprintf(num[4], sizeof(num[4]), "%lld", list[i].dead);
        if (tp)
            snprintf(num[5], sizeof(num[5]), "%lld", tp[i].failed[1]);
        else
            snprintf(num[5], sizeof(num[5]), "-");
        const char *const row[] = {list[i].name, num[0], num[1], num[2], num[3], num[4], num[5]};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* {"queue": NAME, "pending": N, "waiting": N, "running": N, "scheduled": N, "dead": N, "failed_1h":
 * N}, or NULL if out of memory. */
static json_t *queue_json(const spindle_queue_stat *q, const spindle_queue_throughput *tp)
{
    json_t *obj = json_object();
    if (obj == NULL ||
        json_object_set_new(obj, "queue", spindle_json_text(q->name, strlen(q->name))) != 0 ||
        json_object_set_new(obj, "pending", json_integer(q->pending)) != 0 ||
        json_object_set_new(obj, "waiting", json_integer(q->waiting)) != 0 ||
        json_object_set_new(obj, "running", json_integer(q->running)) != 0 ||
        json_object_set_new(obj, "scheduled", json_integer(q->scheduled)) != 0 ||
        json_object_set_new(obj, "dead", json_integer(q->dead)) != 0 ||
        json_object_set_new(obj, "failed_1h", tp ? json_integer(tp->failed[1]) : json_null()) !=
            0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static int print_json(const spindle_queue_stat *list, const spindle_queue_throughput *tp, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (json_array_append_new(arr, queue_json(&list[i], tp ? &tp[i] : NULL)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return spindle_cli_print_json(arr);
}

/* queues [--json] */
int spindle_cli_cmd_queues(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    int code = spindle_cli_parse_listing(cli, argc, argv, &json);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_queue_stat *list = NULL;
    size_t n = 0;
    int rc = spindle_queue_list(cli->client, &list, &n);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    /* The failures of the last hour, from the same queues in the same order. */
    const char **names = malloc((n ? n : 1) * sizeof(*names));
    spindle_queue_throughput *tp = NULL;
    size_t ntp = 0;
    for (size_t i = 0; names && i < n; i++)
        names[i] = list[i].name;
    if (names && n > 0)
        rc = spindle_queue_throughput_list(cli->client, names, n, &tp, &ntp);
    if (rc != SPINDLE_OK || ntp != n) {
        /* The depths are what this command is for: a stats bucket overwritten by hand, or
         * the like, costs only the FAILED_1H column. */
        fprintf(stderr, "spindle: queues: failures of the last hour not shown: %s\n",
                rc != SPINDLE_OK ? spindle_errstr(cli->client) : "out of memory");
        spindle_queue_throughput_free(tp);
        tp = NULL;
    }
    code = json ? print_json(list, tp, n) : print_table(list, tp, n);
    free(names);
    spindle_queue_throughput_free(tp);
    spindle_queue_list_free(list);
    return code;
}
