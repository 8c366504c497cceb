/* `spindle cron`: list, add and remove periodic tasks (include/spindle/cron.h). The table
 * shows what an operator asks first: what runs, where, when it last ran and when it runs
 * next; --json gives every field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/argtype.h"
#include "cli/commands.h"
#include "cli/json.h"
#include "cli/table.h"
#include "spindle/cron.h"

/* The args of an entry as JSON (an array), or the raw text when they do not decode. */
static json_t *args_json(const spindle_cron_info *e)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    json_t *v = NULL;
    if (e->args && msgpack_unpack_next(&u, e->args, e->args_len, NULL) == MSGPACK_UNPACK_SUCCESS)
        v = spindle_msgpack_to_json(&u.data);
    msgpack_unpacked_destroy(&u);
    return v ? v : json_array();
}

static json_t *entry_json(const spindle_cron_info *e)
{
    json_t *o = json_object();
    if (o == NULL ||
        json_object_set_new(o, "name", spindle_json_text(e->name, strlen(e->name))) != 0 ||
        json_object_set_new(o, "spec", spindle_json_text(e->spec, strlen(e->spec))) != 0 ||
        json_object_set_new(o, "func", spindle_json_text(e->func, strlen(e->func))) != 0 ||
        json_object_set_new(o, "args", args_json(e)) != 0 ||
        json_object_set_new(o, "queue", spindle_json_text(e->queue, strlen(e->queue))) != 0 ||
        json_object_set_new(o, "catch_up", json_integer(e->catch_up)) != 0 ||
        json_object_set_new(o, "last_tick",
                            e->last_tick_ms ? json_integer(e->last_tick_ms) : json_null()) != 0 ||
        json_object_set_new(o, "last_run",
                            e->last_run_ms ? json_integer(e->last_run_ms) : json_null()) != 0 ||
        json_object_set_new(o, "last_task",
                            e->last_task[0] ? spindle_json_text(e->last_task, strlen(e->last_task))
                                            : json_null()) != 0 ||
        json_object_set_new(o, "next_run",
                            e->next_ms > 0 ? json_integer(e->next_ms) : json_null()) != 0 ||
        json_object_set_new(o, "error",
                            e->error[0] ? spindle_json_text(e->error, strlen(e->error))
                                        : json_null()) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int entries_table(const spindle_cron_info *list, size_t n)
{
    static const char *const headers[] = {"NAME", "SPEC", "FUNC", "QUEUE", "LAST_RUN", "NEXT_RUN"};
    spindle_cli_table *t = spindle_cli_table_new(6, headers, "llllll");
    for (size_t i = 0; t && i < n; i++) {
        const spindle_cron_info *e = &list[i];
        char last[SPINDLE_CLI_TIME_MAX], next[SPINDLE_CLI_TIME_MAX + 200];
        if (e->error[0])
            snprintf(next, sizeof(next), "(cannot fire: %.150s)", e->error);
        else
            spindle_cli_format_time(e->next_ms > 0 ? e->next_ms : 0, next);
        const char *const row[] = {e->name,
                                   e->spec[0] ? e->spec : "-",
                                   e->func[0] ? e->func : "-",
                                   e->queue[0] ? e->queue : "-",
                                   spindle_cli_format_time(e->last_run_ms, last),
                                   next};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* cron [list] [--json] */
static int cron_list(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    int code = spindle_cli_parse_listing(cli, argc, argv, &json);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_cron_info *list = NULL;
    size_t n = 0;
    int rc = spindle_cron_list(cli->client, &list, &n);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, entry_json(&list[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        code = spindle_cli_print_json(arr);
    } else {
        code = entries_table(list, n);
    }
    spindle_cron_list_free(list, n);
    return code;
}

/* cron add NAME SPEC FUNC [ARG...] [--queue Q] [--catch-up N] [--ttl S] [--timeout S]
 * [--retries N] */
static int cron_add(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    long catch_up = 0, ttl = -1, timeout = 0, retries = -1;
    const spindle_cli_opt opts[] = {
        {.name = "--queue", .str = &queue},
        {.name = "--catch-up", .num = &catch_up, .min = 0, .max = SPINDLE_CRON_MAX_CATCH_UP},
        {.name = "--ttl", .num = &ttl, .min = 0, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--timeout", .num = &timeout, .min = 1, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--retries", .num = &retries, .min = 0, .max = SPINDLE_MAX_RETRIES},
        {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 3, -1);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    char why[512];
    if (spindle_cron_check(argv[1], why, sizeof(why)) != SPINDLE_OK)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "%s", why);
    if ((code = spindle_cli_check_name(argv[2], "function")) != SPINDLE_CLI_CONTINUE ||
        (queue && (code = spindle_cli_check_name(queue, "queue")) != SPINDLE_CLI_CONTINUE) ||
        (code = spindle_cli_connect(cli)) != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_args *a = spindle_args_new();
    for (int i = 3; a && i < argc; i++)
        spindle_cli_type_arg(a, argv[i]);
    spindle_cron_entry e;
    spindle_cron_entry_init(&e);
    const char *data = NULL;
    if (a == NULL || spindle_args_data(a, &data, &e.args_len) != SPINDLE_OK) {
        spindle_args_free(a);
        return spindle_cli_error(SPINDLE_EXIT_ERROR, "cron add: out of memory");
    }
    e.name = argv[0];
    e.spec = argv[1];
    e.func = argv[2];
    e.args = data;
    e.catch_up = (int)catch_up;
    e.opts.queue = queue;
    e.opts.result_ttl_s = ttl;
    e.opts.timeout_s = timeout;
    e.opts.max_retries = (int)retries;
    int replaced = 0;
    int rc = spindle_cron_set(cli->client, &e, &replaced);
    spindle_args_free(a);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    printf("%s %s\n", replaced ? "replaced" : "added", argv[0]);
    return SPINDLE_EXIT_OK;
}

/* cron remove NAME */
static int cron_remove(spindle_cli *cli, int argc, char **argv)
{
    const spindle_cli_opt opts[] = {{.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_cron_remove(cli->client, argv[0]);
    if (rc == SPINDLE_ERR_NOT_FOUND)
        return spindle_cli_error(SPINDLE_EXIT_NOT_FOUND, "%s", spindle_errstr(cli->client));
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

int spindle_cli_cmd_cron(spindle_cli *cli, int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "add") == 0)
        return cron_add(cli, argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "remove") == 0)
        return cron_remove(cli, argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "list") == 0)
        return cron_list(cli, argc - 1, argv + 1);
    if (argc > 0 && argv[0][0] != '-')
        return spindle_cli_error(SPINDLE_EXIT_USAGE,
                                 "cron: unknown action '%s' (list, add or remove)", argv[0]);
    return cron_list(cli, argc, argv);
}
