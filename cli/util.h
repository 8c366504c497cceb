/* What every subcommand of `spindle` shares: the exit codes, the type of a command-table
 * entry, the run context (global options, the running command, the client), an option
 * parser driven by a small table, and helpers that print their own error on stderr and
 * return the exit code, so that a handler's failure path is a single `return`. */
#ifndef SPINDLE_CLI_UTIL_H
#define SPINDLE_CLI_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "spindle/client.h"

/* The process exit codes of `spindle` (also listed in `spindle --help`). */
enum spindle_cli_exit {
    SPINDLE_EXIT_OK = 0,
    SPINDLE_EXIT_ERROR = 1,      /* runtime error: Redis unreachable, or it answered an error */
    SPINDLE_EXIT_USAGE = 2,      /* bad option, invalid name or id, bad number, or a task
                                    whose state the command cannot act on */
    SPINDLE_EXIT_NOT_FOUND = 3,  /* unknown or expired task */
    SPINDLE_EXIT_FAILED = 4,     /* the task failed */
    SPINDLE_EXIT_CANCELLED = 5,  /* the task was cancelled */
    SPINDLE_EXIT_UNFINISHED = 6, /* the task has not finished */
};

/* Returned by the helpers below when the handler should go on. Never an exit code. */
#define SPINDLE_CLI_CONTINUE (-1)

/* The largest number of seconds an option accepts: 2^31 - 1, which Redis (EXPIRE), the Lua
 * scripts (tonumber) and a C int all hold exactly, and about 68 years. */
#define SPINDLE_CLI_MAX_SECONDS 2147483647L

typedef struct spindle_cli spindle_cli;

/* A subcommand: argv[0..argc) are the words after its name (argv belongs to main() and may
 * be reordered). Returns a process exit code. */
typedef int (*spindle_cli_handler)(spindle_cli *cli, int argc, char **argv);

/* One entry of the command table in main.c. */
typedef struct spindle_cli_command {
    const char *name;
    spindle_cli_handler handler;
    const char *usage;   /* the synopsis after "spindle ", e.g. "status ID [--queue Q]" */
    const char *summary; /* one line for the command list of `spindle --help` */
    const char *help;    /* options and details for `spindle NAME --help`, or NULL */
} spindle_cli_command;

/* The run context: filled by main() from the global options, handed to the handler. */
struct spindle_cli {
    const char *url;                /* --redis (borrowed from argv), or NULL for the default */
    const char *ns;                 /* --namespace (borrowed from argv), or NULL */
    const char *routes;             /* --routes FILE (borrowed from argv), or NULL */
    const spindle_cli_command *cmd; /* the running command (borrowed from the table) */
    spindle_client *client;         /* NULL until spindle_cli_connect(); owned */
};

/* One option of a command for spindle_cli_parse(). Set exactly one destination; which one
 * decides what the option takes:
 *   flag  no value; sets *flag to 1
 *   str   any text; *str borrows it from argv
 *   num   a whole number in [min, max]
 *   ms    a number of seconds in [min, max], fractions allowed; *ms gets milliseconds,
 *         rounded up so that a positive value never becomes 0
 * A value follows the option as the next word or after '=' ("--queue q", "--queue=q"). */
typedef struct spindle_cli_opt {
    const char *name; /* with its dashes: "--queue" */
    int *flag;
    const char **str;
    long *num;
    long *ms;
    long min, max;
} spindle_cli_opt;

/* spindle_cli_parse() flag: options end at the first positional argument, so what follows
 * it is passed on as is (`spindle enqueue add -5 3`). Without it, options may appear
 * anywhere among the positional arguments. */
#define SPINDLE_CLI_OPTS_FIRST 1

/* Parses argv[0..*argc) against opts (an array ended by an entry whose name is NULL; borrowed
 * during the call). The positional arguments are moved, in order, to the front of argv and
 * *argc becomes their count, which must be in [min_pos, max_pos] (max_pos < 0: no limit).
 * "--" ends the options; "--help" or "-h" where an option may be prints the command's help.
 * Returns SPINDLE_CLI_CONTINUE, SPINDLE_EXIT_OK after printing the help, or
 * SPINDLE_EXIT_USAGE after reporting what was wrong. */
int spindle_cli_parse(spindle_cli *cli, int *argc, char **argv, const spindle_cli_opt *opts,
                      int flags, int min_pos, int max_pos);

/* Prints "usage: spindle USAGE", the summary and the help of cmd (borrowed) to out. */
void spindle_cli_print_help(const spindle_cli_command *cmd, FILE *out);

/* Prints "spindle: " and the printf-style message as one line on stderr; returns code. */
int spindle_cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One action of a command with actions (`spindle group create`, `spindle limit set`). */
typedef struct spindle_cli_action {
    const char *name;
    int (*fn)(spindle_cli *cli, int argc, char **argv);
} spindle_cli_action;

/* Runs the action argv[0] names among actions[0..n) with the arguments after it; "--help"
 * prints cli->cmd's help; anything else is a usage error listing the actions. Returns the
 * action's exit code. */
int spindle_cli_dispatch(spindle_cli *cli, const spindle_cli_action *actions, size_t n, int argc,
                         char **argv);

/* The exit code for a spindle status: SPINDLE_OK 0, SPINDLE_ERR_INVALID and
 * SPINDLE_ERR_TOO_LARGE 2 (the input was bad), SPINDLE_ERR_NOT_FOUND 3,
 * SPINDLE_ERR_TASK_FAILED 4, SPINDLE_ERR_CANCELLED 5, SPINDLE_ERR_TIMEOUT 6, anything else 1. */
int spindle_cli_exit_code(int status);

/* Reports the failed client call that returned status: prints "spindle: " and
 * spindle_errstr(cli->client) on stderr, and returns spindle_cli_exit_code(status). */
int spindle_cli_fail(spindle_cli *cli, int status);

/* Checks a queue or function name (kind: "queue", "function") or a task id, so that bad input
 * is a usage error even when Redis is down. Returns SPINDLE_CLI_CONTINUE, or
 * SPINDLE_EXIT_USAGE after reporting it. */
int spindle_cli_check_name(const char *name, const char *kind);
int spindle_cli_check_id(const char *id);

/* Creates cli->client and connects it with the global options (once; later calls return at
 * once). Returns SPINDLE_CLI_CONTINUE, or the exit code after reporting the failure
 * (SPINDLE_EXIT_USAGE for a malformed URL or namespace, SPINDLE_EXIT_ERROR otherwise). */
int spindle_cli_connect(spindle_cli *cli);

/* Checks id and queue (NULL: search every queue), connects, and opens the task's handle into
 * *h, which the caller frees with spindle_handle_free(). Returns SPINDLE_CLI_CONTINUE, or
 * the exit code after reporting the failure (3 for an unknown task). */
int spindle_cli_open_task(spindle_cli *cli, const char *id, const char *queue, spindle_handle **h);

/* The start of every listing without arguments (`CMD [--json]`): parses --json into *json,
 * then connects. Returns SPINDLE_CLI_CONTINUE, or an exit code. */
int spindle_cli_parse_listing(spindle_cli *cli, int argc, char **argv, int *json);

/* The start of every command about one task (`CMD ID [options]`): parses opts, which fill
 * *queue from --queue, with exactly one positional argument, the id, then opens its handle
 * as spindle_cli_open_task() does. Returns SPINDLE_CLI_CONTINUE with *h set, or an exit code. */
int spindle_cli_parse_task(spindle_cli *cli, int argc, char **argv, const spindle_cli_opt *opts,
                           const char *const *queue, spindle_handle **h);

/* Frees cli->client, if any. */
void spindle_cli_close(spindle_cli *cli);

/* Writes ms since the epoch as UTC ISO 8601 text with milliseconds into buf
 * ("2026-11-23T11:25:50.123Z"; SPINDLE_CLI_TIME_MAX bytes with the NUL), "-" for 0 or a time
 * that cannot be shown. Returns buf. */
#define SPINDLE_CLI_TIME_MAX 32
char *spindle_cli_format_time(int64_t ms, char buf[SPINDLE_CLI_TIME_MAX]);

/* Prints v as compact JSON and a newline on stdout, and frees v (takes ownership; NULL,
 * from a failed allocation, is reported as out of memory). Returns the exit code. */
int spindle_cli_print_json(json_t *v);

#endif
