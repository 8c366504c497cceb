/* `spindle stats [QUEUE...] [--json]`: how many tasks of each queue succeeded and failed for
 * good over the last minute, hour and day, from the counters the settle step keeps in Redis
 * (spindle_queue_throughput_list(), admin.h). Why a command of its own: `queues` answers "how
 * much is waiting", this answers "how much got done". */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "cli/table.h"
#include "spindle/admin.h"

static int print_table(const spindle_queue_throughput *list, size_t n)
{
    static const char *const headers[] = {"QUEUE",     "OK_1M", "FAILED_1M", "OK_1H",
                                          "FAILED_1H", "OK_1D", "FAILED_1D"};
    spindle_cli_table *t = spindle_cli_table_new(7, headers, "lrrrrrr");
    for (size_t i = 0; t && i < n; i++) {
        char num[6][24];
        for (size_t w = 0; w < 3; w++) {
            snprintf(num[2 * w], sizeof(num[0]), "%lld", list[i].ok[w]);
            snprintf(num[2 * w + 1], sizeof(num[0]), "%lld", list[i].failed[w]);
        }
        const char *const row[] = {list[i].name, num[0], num[1], num[2], num[3], num[4], num[5]};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* {"ok": N, "failed": N} for window w, or NULL if out of memory. */
static json_t *window_json(const spindle_queue_throughput *q, int w)
{
    return json_pack("{s:I,s:I}", "ok", (json_int_t)q->ok[w], "failed", (json_int_t)q->failed[w]);
}

/* {"queue": NAME, "minute": {...}, "hour": {...}, "day": {...}}, or NULL if out of memory. */
static json_t *queue_json(const spindle_queue_throughput *q)
{
    json_t *obj = json_object();
    if (obj == NULL ||
        json_object_set_new(obj, "queue", spindle_json_text(q->name, strlen(q->name))) != 0 ||
        json_object_set_new(obj, "minute", window_json(q, 0)) != 0 ||
        json_object_set_new(obj, "hour", window_json(q, 1)) != 0 ||
        json_object_set_new(obj, "day", window_json(q, 2)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static int print_json(const spindle_queue_throughput *list, size_t n)
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

/* stats [QUEUE...] [--json] */
int spindle_cli_cmd_stats(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    const spindle_cli_opt opts[] = {{.name = "--json", .flag = &json}, {0}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, -1);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    for (int i = 0; i < argc; i++)
        if ((code = spindle_cli_check_name(argv[i], "queue")) != SPINDLE_CLI_CONTINUE)
            return code;
    if ((code = spindle_cli_connect(cli)) != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_queue_throughput *list = NULL;
    size_t n = 0;
    int rc = spindle_queue_throughput_list(cli->client, (const char *const *)argv, (size_t)argc,
                                           &list, &n);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    code = json ? print_json(list, n) : print_table(list, n);
    spindle_queue_throughput_free(list);
    return code;
}
