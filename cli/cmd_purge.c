/* `spindle purge QUEUE`: deletes a queue's pending, scheduled or dead tasks. Why the
 * confirmation: it cannot be undone, so on a terminal the operator types the queue name,
 * and without a terminal (a script, a pipe) it is refused unless --yes says it is meant. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "spindle/inspect.h"

/* Asks on the terminal for the queue name; 1 if typed exactly. */
static int confirmed(const char *queue, const char *state)
{
    fprintf(stderr,
            "This deletes the %s tasks of queue '%s' for good.\n"
            "Type the queue name to confirm: ",
            state, queue);
    fflush(stderr);
    char line[256];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, queue) == 0;
}

/* purge QUEUE [--state pending|scheduled|dead|all] [--yes] */
int spindle_cli_cmd_purge(spindle_cli *cli, int argc, char **argv)
{
    const char *state = "all";
    int yes = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--state", .str = &state},
        {.name = "--yes", .flag = &yes},
        {.name = NULL},
    };
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_check_name(argv[0], "queue");
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    const char *queue = argv[0];
    spindle_list_state st = SPINDLE_LIST_PENDING;
    int all = strcmp(state, "all") == 0;
    if (!all && (spindle_list_state_parse(state, &st) != 0 || st == SPINDLE_LIST_RUNNING ||
                 st == SPINDLE_LIST_WAITING))
        return spindle_cli_error(
            SPINDLE_EXIT_USAGE,
            "purge: --state must be pending, scheduled, dead or all, not "
            "'%.40s' (running and waiting tasks are never purged: cancel them)",
            state);
    if (!yes && !isatty(STDIN_FILENO))
        return spindle_cli_error(SPINDLE_EXIT_USAGE,
                                 "purge: no terminal to confirm on: pass --yes to purge queue "
                                 "'%s' without confirmation",
                                 queue);
    if (!yes && !confirmed(queue, state))
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "purge: not confirmed: nothing deleted");
    code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    static const spindle_list_state states[] = {SPINDLE_LIST_PENDING, SPINDLE_LIST_SCHEDULED,
                                                SPINDLE_LIST_DEAD};
    static const char *const names[] = {"pending", "scheduled", "dead"};
    size_t stale_all = 0;
    int first = 1;
    for (int i = 0; i < 3; i++) {
        if (!all && states[i] != st)
            continue;
        size_t deleted = 0, stale = 0;
        int rc = spindle_purge(cli->client, queue, states[i], &deleted, &stale);
        printf("%s%zu %s", first ? "purged " : ", ", deleted, names[i]);
        first = 0;
        stale_all += stale;
        if (rc != SPINDLE_OK) {
            printf("\n");
            return spindle_cli_fail(cli, rc);
        }
    }
    if (stale_all)
        printf("; removed %zu stale entries (task gone or in another state, left alone)",
               stale_all);
    printf("\n");
    return SPINDLE_EXIT_OK;
}
