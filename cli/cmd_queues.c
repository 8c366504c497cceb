/* `spindle queues`: the queues of the namespace with their counts (pending, running,
 * scheduled for a retry, dead letters), as a table for people or as JSON for scripts. The
 * reads are spindle_queue_list() (admin.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "cli/table.h"
#include "spindle/admin.h"

static int print_table(const spindle_queue_stat *list, size_t n)
{
    static const char *const headers[] = {"QUEUE", "PENDING", "RUNNING", "SCHEDULED", "DEAD"};
    spindle_cli_table *t = spindle_cli_table_new(5, headers, "lrrrr");
    for (size_t i = 0; t && i < n; i++) {
        char num[4][24];
        snprintf(num[0], sizeof(num[0]), "%lld", list[i].pending);
        snprintf(num[1], sizeof(num[1]), "%lld", list[i].running);
        snprintf(num[2], sizeof(num[2]), "%lld", list[i].scheduled);
        snprintf(num[3], sizeof(num[3]), "%lld", list[i].dead);
        const char *const row[] = {list[i].name, num[0], num[1], num[2], num[3]};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* {"queue": NAME, "pending": N, "running": N, "scheduled": N, "dead": N}, or NULL if out of
 * memory. */
static json_t *queue_json(const spindle_queue_stat *q)
{
    json_t *obj = json_object();
    if (obj == NULL ||
        json_object_set_new(obj, "queue", spindle_json_text(q->name, strlen(q->name))) != 0 ||
        json_object_set_new(obj, "pending", json_integer(q->pending)) != 0 ||
        json_object_set_new(obj, "running", json_integer(q->running)) != 0 ||
        json_object_set_new(obj, "scheduled", json_integer(q->scheduled)) != 0 ||
        json_object_set_new(obj, "dead", json_integer(q->dead)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static int print_json(const spindle_queue_stat *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (json_array_append_new(arr, queue_json(&list[i])) != 0) {
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
    code = json ? print_json(list, n) : print_table(list, n);
    spindle_queue_list_free(list);
    return code;
}
