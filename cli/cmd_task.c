/* The task commands of `spindle`: enqueue a task, read its state, read its result. Each
 * handler parses its words with spindle_cli_parse(), checks names and ids before it touches
 * Redis (so bad input is a usage error even when Redis is down), then makes one or two
 * client calls. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/argtype.h"
#include "cli/commands.h"
#include "cli/json.h"
#include "cli/progress_view.h"
#include "cli/timearg.h"
#include "spindle/client.h"
#include "spindle/progress.h"

/* The unique-key TTL of `enqueue --unique` without --unique-ttl: a day, long enough for any
 * task that runs at all, since the key is freed when the task ends anyway. */
#define SPINDLE_CLI_UNIQUE_TTL_S 86400L

/* Appends the typed words argv[0..argc) to args. */
static int build_args(spindle_args *args, int argc, char **argv, const char *func)
{
    for (int i = 0; i < argc; i++) {
        int rc = spindle_cli_type_arg(args, argv[i]);
        if (rc != SPINDLE_OK)
            return spindle_cli_error(spindle_cli_exit_code(rc),
                                     "enqueue '%s': argument %d ('%.40s'): %s", func, i + 1,
                                     argv[i], spindle_status_name(rc));
    }
    return SPINDLE_CLI_CONTINUE;
}

/* The scheduling options of enqueue (--delay, --at, --expires-in, --unique, --unique-ttl)
 * into eo; --at is parsed here. Returns SPINDLE_CLI_CONTINUE or a usage exit code. */
static int schedule_options(spindle_enqueue_options *eo, const char *at, long delay, long expires,
                            long unique_ttl)
{
    if (at && spindle_cli_parse_time(at, &eo->run_at_ms) != 0)
        return spindle_cli_error(SPINDLE_EXIT_USAGE,
                                 "--at '%.40s': not a time (ms since the epoch, or UTC as "
                                 "2026-01-31T12:00:00Z)",
                                 at);
    eo->delay_ms = delay;
    eo->expires_in_ms = expires;
    eo->unique_ttl_s = unique_ttl;
    if (eo->unique_key && unique_ttl == 0)
        eo->unique_ttl_s = SPINDLE_CLI_UNIQUE_TTL_S;
    return SPINDLE_CLI_CONTINUE;
}

/* enqueue [--queue Q] [--ttl SECONDS] [--timeout SECONDS] [--retries N] [--backoff MS]
 *         [--backoff-max MS] [--delay MS | --at TIME] [--expires-in MS]
 *         [--unique KEY [--unique-ttl SECONDS]] FUNC [ARG...] */
int spindle_cli_cmd_enqueue(spindle_cli *cli, int argc, char **argv)
{
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    long retries = -1, delay = 0, expires = 0, unique_ttl = 0;
    const char *at = NULL;
    const spindle_cli_opt opts[] = {
        {.name = "--queue", .str = &eo.queue},
        {.name = "--ttl", .num = &eo.result_ttl_s, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--timeout", .num = &eo.timeout_s, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--retries", .num = &retries, .max = SPINDLE_MAX_RETRIES},
        {.name = "--backoff", .num = &eo.backoff_ms, .max = SPINDLE_MAX_BACKOFF_MS},
        {.name = "--backoff-max", .num = &eo.backoff_max_ms, .max = SPINDLE_MAX_BACKOFF_MS},
        {.name = "--delay", .num = &delay, .max = SPINDLE_MAX_TIME_MS},
        {.name = "--at", .str = &at},
        {.name = "--expires-in", .num = &expires, .min = 1, .max = SPINDLE_MAX_TIME_MS},
        {.name = "--unique", .str = &eo.unique_key},
        {.name = "--unique-ttl", .num = &unique_ttl, .min = 1, .max = SPINDLE_MAX_UNIQUE_TTL_S},
        {.name = NULL},
    };
    int code = spindle_cli_parse(cli, &argc, argv, opts, SPINDLE_CLI_OPTS_FIRST, 1, -1);
    if (code == SPINDLE_CLI_CONTINUE)
        code = schedule_options(&eo, at, delay, expires, unique_ttl);
    if (code == SPINDLE_CLI_CONTINUE && eo.unique_key)
        code = spindle_cli_check_name(eo.unique_key, "unique key");
    if (code == SPINDLE_CLI_CONTINUE && eo.queue)
        code = spindle_cli_check_name(eo.queue, "queue");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_check_name(argv[0], "function");
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    eo.max_retries = (int)retries;
    const char *func = argv[0];
    spindle_args *args = spindle_args_new();
    if (args == NULL)
        return spindle_cli_error(SPINDLE_EXIT_ERROR, "enqueue '%s': out of memory", func);
    spindle_handle *h = NULL;
    code = build_args(args, argc - 1, argv + 1, func);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code == SPINDLE_CLI_CONTINUE) {
        int rc = spindle_enqueue(cli->client, func, args, &eo, &h);
        if (rc == SPINDLE_OK) {
            printf("%s\n", spindle_handle_id(h));
            if (spindle_handle_deduplicated(h))
                fprintf(stderr,
                        "spindle: unique key '%s' is held by task %s, which has not ended: "
                        "nothing enqueued\n",
                        eo.unique_key, spindle_handle_id(h));
            code = SPINDLE_EXIT_OK;
        } else {
            code = spindle_cli_fail(cli, rc);
        }
    }
    spindle_handle_free(h);
    spindle_args_free(args);
    return code;
}

/* The lines of `status --verbose` after the state: "field: value" for each field that is
 * set, named as in the task hash (docs/PROTOCOL.md), times in UTC. The error comes last,
 * since it may span lines. */
static void print_details(const spindle_task_info *in)
{
    char t[SPINDLE_CLI_TIME_MAX];
    printf("func: %s\n", in->func);
    printf("enqueued_at: %s\n", spindle_cli_format_time(in->enqueued_at_ms, t));
    if (in->started_at_ms)
        printf("started_at: %s\n", spindle_cli_format_time(in->started_at_ms, t));
    if (in->finished_at_ms)
        printf("finished_at: %s\n", spindle_cli_format_time(in->finished_at_ms, t));
    if (in->worker[0])
        printf("worker: %s\n", in->worker);
    printf("attempts: %ld\n", in->attempts);
    if (in->max_retries >= 0)
        printf("retries: %ld\n", in->max_retries);
    if (in->retried)
        printf("retried: %ld\n", in->retried);
    if (in->retry_at_ms)
        printf("retry_at: %s\n", spindle_cli_format_time(in->retry_at_ms, t));
    if (in->backoff_ms)
        printf("backoff: %ld ms\n", in->backoff_ms);
    if (in->backoff_max_ms)
        printf("backoff_max: %ld ms\n", in->backoff_max_ms);
    if (in->run_at_ms)
        printf("run_at: %s\n", spindle_cli_format_time(in->run_at_ms, t));
    if (in->deadline_ms)
        printf("deadline: %s\n", spindle_cli_format_time(in->deadline_ms, t));
    if (in->unique_key[0])
        printf("unique: %s\n", in->unique_key);
    if (in->deps_waiting)
        printf("deps: %ld\n", in->deps_waiting);
    if (in->run_anyway)
        printf("dep_anyway: 1\n");
    if (in->lost)
        printf("lost: %ld\n", in->lost);
    if (in->timeout_s)
        printf("timeout: %ld s\n", in->timeout_s);
    if (in->result_ttl_s >= 0)
        printf("ttl: %ld s\n", in->result_ttl_s);
    if (in->expires_in_s >= 0)
        printf("expires_in: %ld s\n", in->expires_in_s);
    if (in->cancel_requested_at_ms)
        printf("cancel_requested_at: %s\n", spindle_cli_format_time(in->cancel_requested_at_ms, t));
    if (in->cancel_grace_ms >= 0)
        printf("cancel_grace: %ld ms\n", in->cancel_grace_ms);
    if (in->error)
        printf("error: %s\n", in->error);
}

/* status ID [--queue Q] [--verbose] */
int spindle_cli_cmd_status(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    int verbose = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--queue", .str = &queue},
        {.name = "--verbose", .flag = &verbose},
        {.name = NULL},
    };
    spindle_handle *h = NULL;
    int code = spindle_cli_parse_task(cli, argc, argv, opts, &queue, &h);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    /* Without --verbose only the state (HGET) and the progress (HMGET) are read, as scripts
     * poll this. */
    spindle_task_info info = {.error = NULL};
    spindle_progress prog;
    int rc =
        verbose ? spindle_info(cli->client, h, &info) : spindle_status(cli->client, h, &info.state);
    if (rc == SPINDLE_OK)
        rc = spindle_progress_get(cli->client, h, &prog);
    /* A running task may have a cancel request pending: worth a second read to say so. */
    if (rc == SPINDLE_OK && !verbose && info.state == SPINDLE_STATE_RUNNING)
        rc = spindle_info(cli->client, h, &info);
    spindle_handle_free(h);
    if (rc != SPINDLE_OK) {
        spindle_task_info_clear(&info);
        return spindle_cli_fail(cli, rc);
    }
    printf("%s\n", spindle_state_name(info.state));
    if (prog.seq > 0) {
        char line[SPINDLE_PROGRESS_MSG_MAX + 128];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        spindle_cli_progress_text(&prog, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, line,
                                  sizeof(line));
        printf("progress: %s\n", line);
    }
    if (!verbose && info.state == SPINDLE_STATE_RUNNING && info.cancel_requested_at_ms) {
        char t[SPINDLE_CLI_TIME_MAX];
        printf("cancel requested at %s\n", spindle_cli_format_time(info.cancel_requested_at_ms, t));
    }
    if (verbose)
        print_details(&info);
    spindle_task_info_clear(&info);
    return SPINDLE_EXIT_OK;
}

/* result ID [--wait SECONDS] [--queue Q] */
int spindle_cli_cmd_result(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    long wait_ms = 0; /* 0: spindle_wait() only looks */
    const spindle_cli_opt opts[] = {
        {.name = "--wait", .ms = &wait_ms, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--queue", .str = &queue},
        {.name = NULL},
    };
    spindle_handle *h = NULL;
    int code = spindle_cli_parse_task(cli, argc, argv, opts, &queue, &h);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_result *r = NULL;
    /* A progress bar while waiting, for people: only on a terminal, never in a pipe or log. */
    int bar = wait_ms != 0 && isatty(STDERR_FILENO);
    int rc = bar ? spindle_wait_progress(cli->client, h, wait_ms, spindle_cli_progress_bar_draw,
                                         NULL, &r)
                 : spindle_wait(cli->client, h, wait_ms, &r);
    if (bar)
        spindle_cli_progress_bar_clear();
    if (rc == SPINDLE_OK)
        code = spindle_cli_print_json(spindle_msgpack_to_json(spindle_result_value(r)));
    else if ((rc == SPINDLE_ERR_TASK_FAILED || rc == SPINDLE_ERR_CANCELLED) && r)
        /* The full text from the result: the client's message is cut at 512 bytes. */
        code = spindle_cli_error(spindle_cli_exit_code(rc), "task %s %s: %s", spindle_handle_id(h),
                                 rc == SPINDLE_ERR_TASK_FAILED ? "failed" : "was cancelled",
                                 spindle_result_error(r));
    else
        code = spindle_cli_fail(cli, rc);
    spindle_result_free(r);
    spindle_handle_free(h);
    return code;
}
