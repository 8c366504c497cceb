/* `spindle group`: task groups from the shell (group.h): create one, show its members and
 * their states, wait for them, cancel them, destroy the group. Any process sees the same
 * group, so `show` is also how an operator looks at a group a program is running. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "spindle/callbacks.h"
#include "spindle/group.h"

/* Checks NAME (argv[0]), connects and opens the group. */
static int open_group(spindle_cli *cli, const char *name, spindle_group **g)
{
    int code = spindle_cli_check_name(name, "group");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_group_open(cli->client, name, g);
    return rc == SPINDLE_OK ? SPINDLE_CLI_CONTINUE : spindle_cli_fail(cli, rc);
}

/* group create [NAME] [--ttl S]: prints the name. */
static int group_create(spindle_cli *cli, int argc, char **argv)
{
    long ttl = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--ttl", .num = &ttl, .min = 1, .max = SPINDLE_GROUP_MAX_TTL_S}, {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, 1);
    if (code == SPINDLE_CLI_CONTINUE && argc == 1)
        code = spindle_cli_check_name(argv[0], "group");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_group *g = NULL;
    int rc = spindle_group_create(cli->client, argc == 1 ? argv[0] : NULL, ttl, &g);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    printf("%s\n", spindle_group_name(g));
    spindle_group_free(g);
    return SPINDLE_EXIT_OK;
}

static int print_table(const spindle_group_result *r, size_t n)
{
    static const char *const headers[] = {"NAME", "STATE", "ID", "QUEUE", "ERROR"};
    spindle_cli_table *t = spindle_cli_table_new(5, headers, "lllll");
    for (size_t i = 0; t && i < n; i++) {
        const char *const row[] = {r[i].name, spindle_state_name(r[i].state), r[i].id, r[i].queue,
                                   r[i].error ? r[i].error : ""};
        spindle_cli_table_add(t, row);
    }
    int code = spindle_cli_table_print(t);
    spindle_cli_table_free(t);
    return code;
}

/* [{"name", "state", "id", "queue", "ok", "error"}...] */
static int print_json(const spindle_group_result *r, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *obj =
            json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "name", r[i].name, "state",
                      spindle_state_name(r[i].state), "id", r[i].id, "queue", r[i].queue, "ok",
                      r[i].ok, "error", r[i].error ? json_string(r[i].error) : json_null());
        if (json_array_append_new(arr, obj) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return spindle_cli_print_json(arr);
}

/* group show NAME [--json] */
static int group_show(spindle_cli *cli, int argc, char **argv)
{
    int json = 0;
    const spindle_cli_opt opts[] = {{.name = "--json", .flag = &json}, {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    spindle_group *g = NULL;
    if (code == SPINDLE_CLI_CONTINUE)
        code = open_group(cli, argv[0], &g);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_group_result *r = NULL;
    size_t n = 0;
    int rc = spindle_group_results(cli->client, g, 0, &r, &n);
    spindle_group_free(g);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    code = json ? print_json(r, n) : print_table(r, n);
    spindle_group_results_free(r, n);
    return code;
}

/* group wait NAME [--first] [--timeout S]: prints the finished names, then exits 0, or 6
 * when the wait ran out. */
static int group_wait(spindle_cli *cli, int argc, char **argv)
{
    int first = 0;
    long ms = -1;
    const spindle_cli_opt opts[] = {
        {.name = "--first", .flag = &first},
        {.name = "--timeout", .ms = &ms, .min = 0, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    spindle_group *g = NULL;
    if (code == SPINDLE_CLI_CONTINUE)
        code = open_group(cli, argv[0], &g);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_group_wait_result w;
    int rc =
        spindle_group_wait(cli->client, g, first ? SPINDLE_WAIT_ANY : SPINDLE_WAIT_ALL, ms, &w);
    spindle_group_free(g);
    if (rc != SPINDLE_OK && rc != SPINDLE_ERR_TIMEOUT)
        return spindle_cli_fail(cli, rc);
    for (size_t i = 0; i < w.nfinished; i++)
        printf("%s\n", w.finished[i]);
    if (rc == SPINDLE_ERR_TIMEOUT)
        fprintf(stderr, "spindle: %zu members not finished\n", w.nunfinished);
    spindle_group_wait_clear(&w);
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : SPINDLE_EXIT_UNFINISHED;
}

/* group cancel NAME [--grace MS] [--event] */
static int group_cancel(spindle_cli *cli, int argc, char **argv)
{
    long grace = -1;
    int event = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--grace", .num = &grace, .min = 0, .max = SPINDLE_MAX_CANCEL_GRACE_MS},
        {.name = "--event", .flag = &event},
        {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    spindle_group *g = NULL;
    if (code == SPINDLE_CLI_CONTINUE)
        code = open_group(cli, argv[0], &g);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    size_t cancelled = 0, requested = 0;
    int rc = spindle_group_cancel(cli->client, g, grace, event, &cancelled, &requested);
    spindle_group_free(g);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    printf("cancelled %zu, asked %zu running to stop\n", cancelled, requested);
    return SPINDLE_EXIT_OK;
}

/* group destroy NAME */
static int group_destroy(spindle_cli *cli, int argc, char **argv)
{
    const spindle_cli_opt opts[] = {{.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    spindle_group *g = NULL;
    if (code == SPINDLE_CLI_CONTINUE)
        code = open_group(cli, argv[0], &g);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_group_destroy(cli->client, g);
    spindle_group_free(g);
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

/* group ACTION ... */
int spindle_cli_cmd_group(spindle_cli *cli, int argc, char **argv)
{
    static const spindle_cli_action actions[] = {{"create", group_create},
                                                 {"show", group_show},
                                                 {"wait", group_wait},
                                                 {"cancel", group_cancel},
                                                 {"destroy", group_destroy}};
    return spindle_cli_dispatch(cli, actions, sizeof(actions) / sizeof(actions[0]), argc, argv);
}
