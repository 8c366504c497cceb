/* The handlers of the `spindle` subcommands, listed in main.c's command table. Each takes
 * the words after its name and returns a process exit code (util.h). */
#ifndef SPINDLE_CLI_COMMANDS_H
#define SPINDLE_CLI_COMMANDS_H

#include "cli/util.h"

/* cmd_task.c */
int spindle_cli_cmd_enqueue(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_status(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_result(spindle_cli *cli, int argc, char **argv);

/* cmd_items.c */
int spindle_cli_cmd_items(spindle_cli *cli, int argc, char **argv);

/* cmd_queues.c */
int spindle_cli_cmd_queues(spindle_cli *cli, int argc, char **argv);

/* cmd_stats.c */
int spindle_cli_cmd_stats(spindle_cli *cli, int argc, char **argv);

/* cmd_watch.c */
int spindle_cli_cmd_watch(spindle_cli *cli, int argc, char **argv);

/* cmd_fleet.c */
int spindle_cli_cmd_retry(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_cancel(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_dead(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_inspect(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_list(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_purge(spindle_cli *cli, int argc, char **argv);
int spindle_cli_cmd_workers(spindle_cli *cli, int argc, char **argv);

/* cmd_cron.c */
int spindle_cli_cmd_cron(spindle_cli *cli, int argc, char **argv);
/* cmd_limit.c */
int spindle_cli_cmd_limit(spindle_cli *cli, int argc, char **argv);

/* cmd_group.c */
int spindle_cli_cmd_group(spindle_cli *cli, int argc, char **argv);

/* cmd_channel.c */
int spindle_cli_cmd_channel(spindle_cli *cli, int argc, char **argv);

#endif
