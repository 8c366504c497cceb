/* `spindle queues`: the queues of the namespace with their pending and running counts, as a
 * table for people or as JSON for scripts. The reads are spindle_queue_list() (admin.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "spindle/admin.h"

/* Width of the decimal text of v. */
static int digits(long long v)
{
    return snprintf(NULL, 0, "%lld", v);
}

static int print_table(const spindle_queue_stat *list, size_t n)
{
    int wq = (int)strlen("QUEUE"), wp = (int)strlen("PENDING"), wr = (int)strlen("RUNNING");
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(list[i].name);
        wq = len > wq ? len : wq;
        wp = digits(list[i].pending) > wp ? digits(list[i].pending) : wp;
        wr = digits(list[i].running) > wr ? digits(list[i].running) : wr;
    }
    printf("%-*s  %*s  %*s\n", wq, "QUEUE", wp, "PENDING", wr, "RUNNING");
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %*lld  %*lld\n", wq, list[i].name, wp, list[i].pending, wr, list[i].running);
    return SPINDLE_EXIT_OK;
}

/* {"queue": NAME, "pending": N, "running": N}, or NULL if out of memory. */
static json_t *queue_json(const spindle_queue_stat *q)
{
    /* Through the msgpack conversion so that a name written into Redis by hand that is not
     * UTF-8 still prints (as {"$base64": …}) instead of failing. */
    msgpack_object name = {.type = MSGPACK_OBJECT_STR};
    name.via.str.ptr = q->name;
    name.via.str.size = (uint32_t)strlen(q->name);
    json_t *obj = json_object();
    if (obj == NULL || json_object_set_new(obj, "queue", spindle_msgpack_to_json(&name)) != 0 ||
        json_object_set_new(obj, "pending", json_integer(q->pending)) != 0 ||
        json_object_set_new(obj, "running", json_integer(q->running)) != 0) {
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
    const spindle_cli_opt opts[] = {{.name = "--json", .flag = &json}, {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, 0);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
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
