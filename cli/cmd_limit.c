/* `spindle limit`: set, remove and list the fleet-wide rate limits of queues and of functions
 * on a queue (limits.h), and declare single-file queues (single_file.h). Rates are written as
 * people write them (50/s, 100/m, 10/500ms) and listed the same way. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "spindle/limits.h"
#include "spindle/single_file.h"

/* Writes count per interval as "50/s", "100/m", "10/500ms" or "3/2h" into buf. */
static const char *format_rate(char *buf, size_t cap, long count, long interval_ms)
{
    static const struct {
        const char *name;
        long ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t i = 0;
    while (interval_ms % units[i].ms != 0)
        i++;
    long k = interval_ms / units[i].ms;
    if (k == 1)
        snprintf(buf, cap, "%ld/%s", count, units[i].name);
    else
        snprintf(buf, cap, "%ld/%ld%s", count, k, units[i].name);
    return buf;
}

static int print_table(const spindle_rate_limit *list, size_t n)
{
    static const char *const headers[] = {"QUEUE", "FUNCTION", "RATE", "BURST"};
    spindle_cli_table *t = spindle_cli_table_new(4, headers, "llrr");
    for (size_t i = 0; t && i < n; i++) {
        char rate[64], burst[24];
        format_rate(rate, sizeof(rate), list[i].count, list[i].interval_ms);
        snprintf(burst, sizeof(burst), "%ld", list[i].burst);
        if (list[i].single_file) {
            snprintf(rate, sizeof(rate), "single-file");
            snprintf(burst, sizeof(burst), "-");
        }
        const char *const row[] = {list[i].queue, list[i].func[0] ? list[i].func : "-", rate,
                                   burst};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* [{"queue", "func" (null for the queue's own), "count", "interval_ms", "burst"}...]; a
 * single-file queue: {"queue", "func": null, "single_file": true}. */
static int print_json(const spindle_rate_limit *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const spindle_rate_limit *l = &list[i];
        json_t *obj =
            l->single_file
                ? json_pack("{s:s, s:n, s:b}", "queue", l->queue, "func", "single_file", 1)
                : json_pack("{s:s, s:o, s:I, s:I, s:I}", "queue", l->queue, "func",
                            l->func[0] ? json_string(l->func) : json_null(), "count",
                            (json_int_t)l->count, "interval_ms", (json_int_t)l->interval_ms,
                            "burst", (json_int_t)l->burst);
        if (json_array_append_new(arr, obj) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return spindle_cli_print_json(arr);
}

/* limit set QUEUE [FUNC] RATE [--burst N] */
static int limit_set(spindle_cli *cli, int argc, char **argv)
{
    long burst = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--burst", .num = &burst, .min = 1, .max = SPINDLE_LIMIT_MAX_COUNT},
        {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 2, 3);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    const char *queue = argv[0], *func = argc == 3 ? argv[1] : NULL, *rate = argv[argc - 1];
    code = spindle_cli_check_name(queue, "queue");
    if (code == SPINDLE_CLI_CONTINUE && func)
        code = spindle_cli_check_name(func, "function");
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    long count = 0, interval_ms = 0;
    char why[256];
    if (spindle_limit_parse(rate, &count, &interval_ms, why, sizeof(why)) != SPINDLE_OK)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "limit set: %s", why);
    code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_limit_set(cli->client, queue, func, count, interval_ms, burst);
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

/* limit remove QUEUE [FUNC] */
static int limit_remove(spindle_cli *cli, int argc, char **argv)
{
    const spindle_cli_opt opts[] = {{.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 2);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_check_name(argv[0], "queue");
    if (code == SPINDLE_CLI_CONTINUE && argc == 2)
        code = spindle_cli_check_name(argv[1], "function");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_limit_remove(cli->client, argv[0], argc == 2 ? argv[1] : NULL);
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

/* limit list [QUEUE] [--json] */
static int limit_list(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    const spindle_cli_opt opts[] = {{.name = "--json", .flag = &json}, {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, 1);
    if (code == SPINDLE_CLI_CONTINUE && argc == 1)
        code = spindle_cli_check_name(argv[0], "queue");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_rate_limit *list = NULL;
    size_t n = 0;
    int rc = spindle_limit_list(cli->client, argc == 1 ? argv[0] : NULL, &list, &n);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    code = json ? print_json(list, n) : print_table(list, n);
    spindle_limit_list_free(list);
    return code;
}

/* limit single-file QUEUE [on|off]: declares, or without on/off shows, whether QUEUE runs
 * one task at a time fleet-wide (single_file.h). */
static int limit_single_file(spindle_cli *cli, int argc, char **argv)
{
    const spindle_cli_opt opts[] = {{.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 2);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_check_name(argv[0], "queue");
    if (code == SPINDLE_CLI_CONTINUE && argc == 2 && strcmp(argv[1], "on") != 0 &&
        strcmp(argv[1], "off") != 0)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "limit single-file: '%s' is not on or off",
                                 argv[1]);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    if (argc == 2) {
        int rc = spindle_queue_single_file(cli->client, argv[0], strcmp(argv[1], "on") == 0);
        return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
    }
    spindle_single_file_status st;
    int rc = spindle_queue_single_file_status(cli->client, argv[0], &st);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    printf("%s: single-file %s", argv[0], st.on ? "on" : "off");
    if (st.holder[0])
        printf("; lease held by task %s (%ld ms left)", st.holder, st.lease_ms);
    printf("\n");
    return SPINDLE_EXIT_OK;
}

/* limit ACTION ... */
int spindle_cli_cmd_limit(spindle_cli *cli, int argc, char **argv)
{
    static const spindle_cli_action actions[] = {{"set", limit_set},
                                                 {"remove", limit_remove},
                                                 {"list", limit_list},
                                                 {"single-file", limit_single_file}};
    return spindle_cli_dispatch(cli, actions, sizeof(actions) / sizeof(actions[0]), argc, argv);
}
