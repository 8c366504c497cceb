/* `spindle items`: prints a task's partial results (progress.h, items) as JSON lines, in the
 * order the task emitted them, now or as they come (--follow). */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "common/clock.h"
#include "spindle/progress.h"

/* Prints one item as a JSON line and flushes, so that a follower downstream of a pipe gets
 * each item as it comes. */
static int print_item(const spindle_item *it)
{
    int code = spindle_cli_print_json(spindle_msgpack_to_json(spindle_item_value(it)));
    fflush(stdout);
    return code;
}

/* items ID [--follow] [--timeout SECONDS] [--queue Q] */
int spindle_cli_cmd_items(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    int follow = 0;
    long timeout_ms = -1; /* with --follow: until the task ends */
    const spindle_cli_opt opts[] = {
        {.name = "--follow", .flag = &follow},
        {.name = "--timeout", .ms = &timeout_ms, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--queue", .str = &queue},
        {.name = NULL},
    };
    spindle_handle *h = NULL;
    int code = spindle_cli_parse_task(cli, argc, argv, opts, &queue, &h);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    if (timeout_ms >= 0)
        follow = 1; /* --timeout implies --follow */
    spindle_items_reader *rd = NULL;
    int rc = spindle_items_open(cli->client, h, &rd);
    int64_t deadline = spindle_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int skipped = 0;
    code = SPINDLE_CLI_CONTINUE;
    while (rc == SPINDLE_OK && code == SPINDLE_CLI_CONTINUE) {
        long wait = 0;
        if (follow && timeout_ms < 0)
            wait = -1;
        else if (follow)
            wait = deadline > spindle_mono_ms() ? (long)(deadline - spindle_mono_ms()) : 0;
        spindle_item *it = NULL;
        rc = spindle_items_next(cli->client, rd, wait, &it);
        if (rc == SPINDLE_ERR_PROTOCOL) {
            /* An entry written by hand: say so, skip it, go on. */
            spindle_cli_error(SPINDLE_EXIT_ERROR, "%s", spindle_errstr(cli->client));
            skipped++;
            rc = SPINDLE_OK;
            continue;
        }
        if (rc != SPINDLE_OK)
            break;
        if (it == NULL)
            code = skipped ? SPINDLE_EXIT_ERROR : SPINDLE_EXIT_OK;
        else if (print_item(it) != SPINDLE_EXIT_OK)
            code = SPINDLE_EXIT_ERROR;
        spindle_item_free(it);
    }
    if (rc == SPINDLE_ERR_TIMEOUT)
        code = spindle_cli_error(SPINDLE_EXIT_UNFINISHED,
                                 "task %s has not ended: more items may come%s",
                                 spindle_handle_id(h), follow ? "" : " (--follow waits for them)");
    else if (rc != SPINDLE_OK)
        code = spindle_cli_fail(cli, rc);
    spindle_items_close(rd);
    spindle_handle_free(h);
    return code;
}
