/* spindle: the command-line tool for Spindle's producers and operators. Enqueues tasks,
 * reads their state and results, retries them, lists the queues, the dead letters and the
 * live workers.
 *
 *   spindle [--redis URL] [--namespace NS] COMMAND [ARGS...]
 *
 * This file owns the global options, the command table and the dispatch; the handlers live
 * in cmd_*.c and share the helpers of util.c. A command is added by writing its handler and
 * one table entry: `spindle --help` and `spindle CMD --help` are generated from the table.
 *
 * Exit codes (enum spindle_cli_exit in util.h, listed in `spindle --help`):
 *   0  ok
 *   1  runtime error: Redis unreachable, or Redis answered an error
 *   2  usage error: bad option, invalid name or id, bad number; or a task whose state the
 *      command cannot act on (retry of a running task)
 *   3  unknown or expired task
 *   4  the task failed (its error is printed on stderr)
 *   5  the task was cancelled
 *   6  the task has not finished (no --wait, or the wait ran out) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/util.h"
#include "spindle/version.h"

static int cmd_help(spindle_cli *cli, int argc, char **argv);

static const spindle_cli_command commands[] = {
    {"enqueue", spindle_cli_cmd_enqueue,
     "enqueue [--queue Q] [--ttl SECONDS] [--timeout SECONDS] [--retries N] [--backoff MS] "
     "[--backoff-max MS] [--delay MS | --at TIME] [--expires-in MS] [--unique KEY "
     "[--unique-ttl SECONDS]] FUNC [ARG...]",
     "Enqueue a call of FUNC with the arguments ARG...; print the task id.",
     "Options, recognized only before FUNC (so 'spindle enqueue add -5 3' passes -5):\n"
     "  --queue Q           queue to enqueue on (default: the queue the route table\n"
     "                      gives FUNC, else default; see --routes)\n"
     "  --ttl SECONDS       keep the task and its result this long after it ends\n"
     "                      (default 3600; 0 deletes it as soon as it succeeds)\n"
     "  --timeout SECONDS   hard time limit for one run (default: none)\n"
     "  --retries N         most retries after a failure, 0-1000 (default 0); a task\n"
     "                      that fails for good is kept as a dead letter ('spindle dead')\n"
     "  --backoff MS        wait before the first retry (default 1000): retry n waits\n"
     "                      between d/2 and d, d = MS x 2^n\n"
     "  --backoff-max MS    the most d can grow to (default 600000)\n"
     "  --delay MS          run no earlier than MS ms from now (Redis's clock)\n"
     "  --at TIME           run no earlier than TIME: ms since the epoch, or UTC as\n"
     "                      2026-01-31T12:00:00Z (fractions allowed)\n"
     "  --expires-in MS     if not started within MS ms, end 'cancelled' (\"expired\")\n"
     "  --unique KEY        if a task enqueued with KEY on this queue has not ended,\n"
     "                      enqueue nothing and print that task's id (a note on stderr)\n"
     "  --unique-ttl SECONDS  the longest KEY is held (default 86400); it is freed as\n"
     "                      soon as its task ends\n"
     "  --                  end of options, for a FUNC that starts with '-'\n"
     "\n"
     "Each ARG is typed from its text:\n"
     "  integer  decimal digits with an optional sign: 42, -5, +7 (int64, or uint64 above)\n"
     "  float    a decimal with '.', 'e' or 'E': 2.5, -.5, 1e3 (nan and inf stay strings)\n"
     "  boolean  true, false\n"
     "  nil      null\n"
     "  string   anything else: hello, '', 0x1f, 99999999999999999999\n"},
    {"status", spindle_cli_cmd_status, "status ID [--queue Q] [--verbose]",
     "Print the state of task ID: pending, scheduled, running, succeeded, failed...",
     "When the task has reported progress, a second line says how far it got:\n"
     "'progress: DONE/TOTAL (PCT%), MESSAGE, AGE s ago' (TOTAL unknown: 'DONE (total\n"
     "unknown)'); the age is by this host's clock against Redis's.\n"
     "\n"
     "Options:\n"
     "  --queue Q   the queue the task is on (default: look in every queue)\n"
     "  --verbose   after the state, one 'field: value' line per field of the task that\n"
     "              is set, named as in the task hash: func, enqueued_at, started_at,\n"
     "              finished_at, worker, attempts, retries, retried, retry_at, backoff,\n"
     "              backoff_max, run_at, deadline, unique, lost, timeout, ttl, expires_in,\n"
     "              cancel_requested_at,\n"
     "              cancel_grace, and last error (which may span lines). Times are UTC.\n"
     "\n"
     "A running task with a cancel request prints a second line, 'cancel requested at\n"
     "TIME'.\n"},
    {"result", spindle_cli_cmd_result, "result ID [--wait SECONDS] [--queue Q]",
     "Print the result of task ID as JSON.",
     "Options:\n"
     "  --wait SECONDS   wait up to this long for the task to end (fractions allowed;\n"
     "                   default: do not wait)\n"
     "  --queue Q        the queue the task is on (default: look in every queue)\n"
     "\n"
     "While it waits, a progress bar is drawn on stderr if stderr is a terminal.\n"
     "A failed task prints its error on stderr and exits 4, a cancelled one exits 5, and a\n"
     "task that has not finished exits 6. Values JSON cannot hold are tagged objects:\n"
     "bytes and non-UTF-8 text {\"$base64\": ...}, msgpack extensions {\"$ext\": TYPE,\n"
     "\"$base64\": ...}, NaN and infinities {\"$float\": \"NaN\"}.\n"},
    {"items", spindle_cli_cmd_items, "items ID [--follow] [--timeout SECONDS] [--queue Q]",
     "Print the partial results task ID emitted, one JSON line each, in order.",
     "Options:\n"
     "  --follow           wait for more items until the task ends\n"
     "  --timeout SECONDS  wait at most this long (fractions allowed; implies --follow)\n"
     "  --queue Q          the queue the task is on (default: look in every queue)\n"
     "\n"
     "Exits 0 once the task has ended and every item was printed, and 6 when it has not\n"
     "ended (no --follow, or the timeout ran out): more items may come. Items are JSON as\n"
     "in 'spindle result'; a retried task's items of every attempt are printed.\n"},
    {"retry", spindle_cli_cmd_retry, "retry ID [--queue Q] | retry --all-dead QUEUE [--limit N]",
     "Run a failed, cancelled or scheduled task again now, with a fresh retry budget.",
     "Options:\n"
     "  --queue Q   the queue the task is on (default: look in every queue)\n"
     "  --all-dead QUEUE\n"
     "              instead of one task: every dead letter of QUEUE, oldest first (--limit\n"
     "              N: at most N); prints 'retried N; not retried M' with why (unique key\n"
     "              held by a task that has not ended, state, expired). Exits 0 unless\n"
     "              Redis failed\n"
     "\n"
     "Prints nothing. The task goes back on pending (out of the dead letters, or ahead of\n"
     "its scheduled retry) and keeps its attempts count. Exits 3 for an unknown or expired\n"
     "task, and 2 for a task whose state cannot be retried (pending, running, succeeded).\n"},
    {"cancel", spindle_cli_cmd_cancel, "cancel ID [--queue Q] [--grace MS]",
     "Cancel task ID: at once if it has not started, else ask its worker to stop it.",
     "Options:\n"
     "  --queue Q    the queue the task is on (default: look in every queue)\n"
     "  --grace MS   if the task still runs MS ms after the request, its process is\n"
     "               killed (0: at once); default: the worker's --cancel-grace\n"
     "\n"
     "Prints what happened: 'cancelled' (it had not started, or was cancelled before),\n"
     "'cancel requested; it will end cancelled' (it is running: it ends cancelled however\n"
     "it ends), or 'already succeeded' / 'already failed' (it had ended; left as it was).\n"
     "Exits 0 in all those cases, 3 for an unknown or expired task.\n"},
    {"dead", spindle_cli_cmd_dead, "dead QUEUE [--limit N] [--json]",
     "List the dead letters of QUEUE (tasks that failed for good), newest first.",
     "Options:\n"
     "  --limit N   at most N of them (default 0: all; a queue keeps at most 10,000 for\n"
     "              7 days)\n"
     "  --json      one JSON array of {\"id\", \"func\", \"failed_at\", \"attempts\",\n"
     "              \"error\"} objects, failed_at in ms since the epoch\n"
     "\n"
     "The table shows FAILED_AT in UTC and the start of each error; 'spindle status ID\n"
     "--verbose' shows a whole task. 'spindle retry ID' runs one again.\n"},
    {"inspect", spindle_cli_cmd_inspect, "inspect ID [--queue Q] [--json]",
     "Print every field of task ID: args and result as JSON, times with their age.",
     "One 'field: value' line per field of the task hash (docs/PROTOCOL.md), id, queue and\n"
     "state first and the error last: args, result, pinfo and dep:* decoded from msgpack to\n"
     "JSON, times in UTC with their age by Redis's clock ('(4.2s ago)', '(in 3.0s)'), and\n"
     "how long the task is kept ('expires in').\n"
     "\n"
     "Options:\n"
     "  --queue Q   the queue the task is on (default: look in every queue)\n"
     "  --json      one JSON object: \"id\", \"queue\", \"now\" (ms), \"expires_in\" (s or\n"
     "              null) and every field by name: msgpack fields decoded, numbers as\n"
     "              numbers (times in ms), dep:* as {\"outcome\", \"value\"}\n"
     "\n"
     "Exits 3 for an unknown or expired task.\n"},
    {"list", spindle_cli_cmd_list,
     "list QUEUE --state pending|waiting|scheduled|running|dead [--limit N] [--cursor C] [--json]",
     "List one page of the tasks of QUEUE in a state; print the command for the next page.",
     "Order: pending next to run first, waiting (for dependencies) longest waiting first,\n"
     "scheduled soonest due first, running by worker, dead latest failure first. Only the\n"
     "page's window is read, so a page costs the same on a queue of any size. Waiting rows\n"
     "show WAITING_SINCE and DEPS (dependencies not yet ended) in place of ATTEMPTS.\n"
     "\n"
     "Options:\n"
     "  --state S    pending, waiting, scheduled, running or dead (required)\n"
     "  --limit N    tasks per page, 1-1000 (default 20)\n"
     "  --cursor C   start at the page a previous list printed (default: the first)\n"
     "  --json       {\"tasks\": [{\"id\", \"func\", \"state\", \"enqueued_at\",\n"
     "               \"started_at\", \"attempts\", \"error\", and \"due_at\", \"failed_at\",\n"
     "               \"worker\" or \"waiting_since\" and \"deps\" by state}], \"next\":\n"
     "               cursor text or null at the end}\n"
     "\n"
     "The table ends with 'next: spindle list ... --cursor C' when more tasks follow. The\n"
     "cursor is a position: tasks that start or end between pages shift it.\n"},
    {"purge", spindle_cli_cmd_purge, "purge QUEUE [--state pending|scheduled|dead|all] [--yes]",
     "Delete the pending, scheduled or dead tasks of QUEUE (never running ones).",
     "Asks on a terminal for the queue name to be typed; without a terminal it refuses\n"
     "(exit 2) unless --yes. Prints 'purged P pending, S scheduled, D dead'.\n"
     "\n"
     "Options:\n"
     "  --state S   pending, scheduled, dead, or all (default: all)\n"
     "  --yes       do not ask\n"
     "\n"
     "Tasks go in pages of 100, each one atomic step: a task claimed meanwhile is left\n"
     "alone. A pending or scheduled task ends 'cancelled' (\"purged\") before it is\n"
     "deleted, so its waiters, unique key, group and dependents hear of it.\n"},
    {"queues", spindle_cli_cmd_queues, "queues [--json]",
     "List the queues of the namespace with their task counts.",
     "Columns: PENDING waiting to run, WAITING for dependencies (see 'spindle list Q\n"
     "--state waiting'), RUNNING claimed by a worker, SCHEDULED waiting for a retry, a\n"
     "delayed start or a rate-limit token, DEAD failed for good (see 'spindle dead'),\n"
     "FAILED_1H tasks that failed for good in the last hour (see 'spindle stats').\n"
     "\n"
     "Options:\n"
     "  --json   one JSON array of {\"queue\", \"pending\", \"waiting\", \"running\",\n"
     "           \"scheduled\", \"dead\", \"failed_1h\"} objects\n"},
    {"stats", spindle_cli_cmd_stats, "stats [QUEUE...] [--json]",
     "Count the tasks of each queue that succeeded and failed over the last minute, hour, day.",
     "With no QUEUE, every queue of the namespace. Failed means failed for good (dead\n"
     "letter); a failed attempt that is retried is not counted. Each window counts whole\n"
     "clock minutes (hours for the day) plus the current one, so it may reach up to 2\n"
     "minutes, 61 minutes, 25 hours back. The counts are kept in Redis by the workers.\n"
     "\n"
     "Options:\n"
     "  --json   one JSON array of {\"queue\", \"minute\": {\"ok\", \"failed\"}, \"hour\": {...},\n"
     "           \"day\": {...}} objects\n"},
    {"watch", spindle_cli_cmd_watch, "watch [--interval SECONDS] [--queues Q1,Q2,...]",
     "Show queues, throughput, workers and running tasks live, like top; q quits.",
     "Redraws in place every --interval seconds (default 1, fractions allowed) until q or\n"
     "Ctrl-C. Shows each queue's PENDING, SCHEDULED, RUNNING and DEAD counts and the tasks\n"
     "that succeeded and failed over the last minute and hour ('spindle stats'), then each\n"
     "live worker (host, pid, current task and for how long, processed/failed, uptime)\n"
     "with a progress bar for a running task that reports progress.\n"
     "\n"
     "Options:\n"
     "  --interval SECONDS   time between redraws, 0.1-3600 (default 1)\n"
     "  --queues Q1,Q2       only these queues (default: every queue)\n"
     "\n"
     "Needs a terminal on stdout (exits 2 otherwise); no colours when NO_COLOR is set.\n"},
    {"workers", spindle_cli_cmd_workers, "workers [--json]",
     "List the live workers of the namespace (those whose heartbeat has not expired).",
     "Columns: ID (HOST:PID:RANDOM), POOL (process or thread), PID, QUEUES in priority\n"
     "order, TASK it is running (- when idle) and for how long (RUNNING_FOR), PROCESSED and\n"
     "FAILED tasks since it started, UPTIME, BEAT_AGE since its last heartbeat (all by\n"
     "Redis's clock).\n"
     "\n"
     "Options:\n"
     "  --json   one JSON array of {\"id\", \"host\", \"pid\", \"supervisor\", \"pool\",\n"
     "           \"queues\": [...], \"started_at\", \"beat_at\", \"task\": null or {\"id\",\n"
     "           \"queue\", \"started_at\"}, \"processed\", \"failed\"} objects, times in ms\n"
     "           since the epoch\n"},
    {"channel", spindle_cli_cmd_channel,
     "channel ACTION [--task ID [--queue Q] | --group NAME] [OPTIONS] [VALUE...]",
     "Talk to running tasks: send input, read output, set the cancel event.",
     "The channel: --task ID (that task's own), --group NAME, or neither (the global one).\n"
     "Actions:\n"
     "  create [--capacity-in N] [--capacity-out N] [--ttl SECONDS]\n"
     "                  create it (defaults 1000, 1000, 3600), or change an existing one\n"
     "  send VALUE...   one input message per VALUE, typed as 'enqueue' types arguments\n"
     "                  and sent as msgpack; exits 1 when the queue is full\n"
     "  recv [--wait SECONDS] [--all]\n"
     "                  print the oldest output message as JSON (--all: every one, one\n"
     "                  per line); exits 6 when none came within the wait\n"
     "  set-event, clear-event, event\n"
     "                  set or clear the cancel event, or print 'set' or 'clear'\n"
     "  delete          delete it with its messages\n"
     "A channel that was not created exits 3.\n"},
    {"cron", spindle_cli_cmd_cron,
     "cron [list] [--json] | cron add NAME SPEC FUNC [ARG...] [OPTIONS] | cron remove NAME",
     "List, add or remove periodic tasks (cron entries fired by the workers).",
     "SPEC is evaluated in UTC: 5 fields 'MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK' (lists,\n"
     "ranges, steps, JAN-DEC and SUN-SAT), @hourly, @daily, @weekly, @monthly, @yearly, or\n"
     "'@every D' (D like 30s, 5m, 1h30m; at least 1 s). Quote it: it is one argument.\n"
     "Each tick enqueues FUNC(ARG...) once, whatever the number of workers; ARGs are\n"
     "typed as by 'enqueue' (put '--' before an ARG that starts with '-').\n"
     "\n"
     "list (the default): NAME, SPEC, FUNC, QUEUE, LAST_RUN and NEXT_RUN in UTC; --json\n"
     "gives an array of {\"name\", \"spec\", \"func\", \"args\", \"queue\", \"catch_up\",\n"
     "\"last_tick\", \"last_run\", \"last_task\", \"next_run\", \"error\"} (times in ms).\n"
     "add: adds the entry or replaces the one of that name; prints 'added NAME' or\n"
     "'replaced NAME'. A bad SPEC exits 2 with the field at fault. Options:\n"
     "  --queue Q       queue of its tasks (default: default)\n"
     "  --catch-up N    after downtime, fire up to N missed ticks late (default 0: skip)\n"
     "  --ttl S, --timeout S, --retries N   as for 'enqueue'\n"
     "remove: deletes the entry (exits 3 if there is none).\n"},
    {"group", spindle_cli_cmd_group,
     "group create [NAME] [--ttl S] | show NAME [--json] | wait NAME [--first] [--timeout S]"
     " | cancel NAME [--grace MS] [--event] | destroy NAME",
     "Create, show, wait for, cancel or destroy a task group (named tasks, group.h).",
     "Actions:\n"
     "  create [NAME] [--ttl S]\n"
     "                  create a group (no NAME: a random uuid) and print its name; its keys\n"
     "                  expire S seconds after their last use (default 3600)\n"
     "  show NAME [--json]\n"
     "                  its members in submission order: NAME, STATE, ID, QUEUE, ERROR;\n"
     "                  --json: [{\"name\", \"state\", \"id\", \"queue\", \"ok\", \"error\"}]\n"
     "  wait NAME [--first] [--timeout S]\n"
     "                  wait until every member (--first: one) has ended and print the\n"
     "                  names of those that have; exits 6 if the time ran out\n"
     "  cancel NAME [--grace MS] [--event]\n"
     "                  cancel every member that has not ended (--event: also set the\n"
     "                  group channel's cancel event)\n"
     "  destroy NAME    cancel what runs, delete the group, its ended members and channel\n"
     "A group that does not exist exits 3.\n"},
    {"limit", spindle_cli_cmd_limit,
     "limit set QUEUE [FUNC] RATE [--burst N] | remove QUEUE [FUNC] | list [QUEUE] [--json]"
     " | single-file QUEUE [on|off]",
     "Fleet-wide rate limits of a queue or function; single-file queues.",
     "Actions:\n"
     "  set QUEUE [FUNC] RATE [--burst N]\n"
     "                  at most RATE tasks of QUEUE (or of FUNC on QUEUE) start, across\n"
     "                  all workers; RATE is COUNT/INTERVAL: 50/s, 100/m, 10/500ms, 3/2h\n"
     "                  (units ms, s, m, h, d). --burst N: most tasks started at once after\n"
     "                  a quiet spell (default COUNT). Replaces an existing limit.\n"
     "  remove QUEUE [FUNC]\n"
     "                  remove it; exits 3 if there was none\n"
     "  list [QUEUE] [--json]\n"
     "                  the limits of QUEUE, or of every queue: QUEUE, FUNCTION (- for the\n"
     "                  queue's own), RATE, BURST; --json: [{\"queue\", \"func\" (null for\n"
     "                  the queue's own), \"count\", \"interval_ms\", \"burst\"}]; a\n"
     "                  single-file queue: RATE single-file, {\"single_file\": true}\n"
     "  single-file QUEUE [on|off]\n"
     "                  on: at most one task of QUEUE runs at a time across all workers, in\n"
     "                  enqueue order; off: as many as workers claim. Without on/off: shows\n"
     "                  it, and the task holding the queue's lease\n"
     "\n"
     "A function's limit holds on that queue only. Tasks over a queue's limit stay pending;\n"
     "tasks over their function's limit wait 'scheduled' for their turn (not a retry).\n"},
    {"help", cmd_help, "help [COMMAND]", "Show this help, or the help of COMMAND.", NULL},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "usage: spindle [--redis URL] [--namespace NS] [--routes FILE] COMMAND [ARGS...]\n\n"
            "Enqueue Spindle tasks, read their state and results, retry them; list the\n"
            "queues, the dead letters and the live workers.\n\n"
            "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "Global options (before COMMAND):\n"
                 "  --redis URL      redis://[user:password@]host[:port][/db] or\n"
                 "                   unix:///path/to/socket[?db=N&password=P] or\n"
                 "                   cluster://host:port[,host:port...] (Redis Cluster)\n"
                 "                   sentinel://host:port[,host:port...]/master-name\n"
                 "                   (default: $SPINDLE_REDIS_URL, else redis://127.0.0.1:6379)\n"
                 "  --namespace NS   key namespace (default: spindle)\n"
                 "  --routes FILE    route table for enqueue: 'PATTERN QUEUE' lines sending\n"
                 "                   functions to queues (default: $SPINDLE_ROUTES, if set);\n"
                 "                   --queue wins over it\n"
                 "  --help           this help; 'spindle COMMAND --help' for a command's\n"
                 "  --version        the version of spindle and of the protocol\n"
                 "\n"
                 "Exit codes:\n"
                 "  0  ok\n"
                 "  1  runtime error: Redis unreachable, or Redis answered an error\n"
                 "  2  usage error: bad option, invalid name or id, bad number; or a task\n"
                 "     whose state the command cannot act on (retry of a running task)\n"
                 "  3  unknown or expired task\n"
                 "  4  the task failed (its error is printed on stderr)\n"
                 "  5  the task was cancelled\n"
                 "  6  the task has not finished (no --wait, or the wait ran out)\n");
}

static const spindle_cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* help [COMMAND] */
static int cmd_help(spindle_cli *cli, int argc, char **argv)
{
    const spindle_cli_opt opts[] = {{.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, 1);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    if (argc == 0) {
        usage(stdout);
        return SPINDLE_EXIT_OK;
    }
    const spindle_cli_command *cmd = find_command(argv[0]);
    if (cmd == NULL)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "help: unknown command '%s'", argv[0]);
    spindle_cli_print_help(cmd, stdout);
    return SPINDLE_EXIT_OK;
}

/* If arg is the global option name, as "NAME VALUE" or "NAME=VALUE", stores its value and
 * returns 1 (advancing *i past a separate value), 0 if arg is another option, or -1 if the
 * value is missing. */
static int global_value(const char *name, int argc, char **argv, int *i, const char **value)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, len) != 0 || (arg[len] != '\0' && arg[len] != '='))
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (*i + 1 == argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

/* Parses the global options into cli. Returns SPINDLE_CLI_CONTINUE with *i at the command
 * word, or the exit code after --help, --version or a usage error. */
static int parse_globals(spindle_cli *cli, int argc, char **argv, int *i)
{
    for (*i = 1; *i < argc && argv[*i][0] == '-'; ++*i) {
        const char *arg = argv[*i];
        int got = global_value("--redis", argc, argv, i, &cli->url);
        if (got == 0)
            got = global_value("--namespace", argc, argv, i, &cli->ns);
        if (got == 0)
            got = global_value("--routes", argc, argv, i, &cli->routes);
        if (got < 0)
            return spindle_cli_error(SPINDLE_EXIT_USAGE, "option %s needs a value", arg);
        if (got > 0)
            continue;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return SPINDLE_EXIT_OK;
        }
        if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            printf("spindle %s (protocol %d)\n", SPINDLE_VERSION, SPINDLE_PROTOCOL_VERSION);
            return SPINDLE_EXIT_OK;
        }
        return spindle_cli_error(SPINDLE_EXIT_USAGE,
                                 "unknown option '%s' (global options go before the command; "
                                 "see 'spindle --help')",
                                 arg);
    }
    if (*i == argc)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "no command given (see 'spindle --help')");
    return SPINDLE_CLI_CONTINUE;
}

int main(int argc, char **argv)
{
    spindle_cli cli = {0};
    int i;
    int code = parse_globals(&cli, argc, argv, &i);
    if (code == SPINDLE_CLI_CONTINUE) {
        cli.cmd = find_command(argv[i]);
        if (cli.cmd == NULL)
            code = spindle_cli_error(SPINDLE_EXIT_USAGE,
                                     "unknown command '%s' (see 'spindle --help')", argv[i]);
        else
            code = cli.cmd->handler(&cli, argc - i - 1, argv + i + 1);
    }
    spindle_cli_close(&cli);
    /* Output that could not be written (a full disk, a closed pipe) is a failure too. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        spindle_cli_error(SPINDLE_EXIT_ERROR, "writing to stdout: %s", strerror(errno));
        if (code == SPINDLE_EXIT_OK)
            code = SPINDLE_EXIT_ERROR;
    }
    return code;
}
