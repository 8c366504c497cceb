/* Shared helpers of the `spindle` subcommands (see util.h): option parsing, error reports,
 * name checks, connecting, JSON output. Usage errors are all reported here, in one format:
 *     spindle: CMD: what was wrong, quoting the input */
#include "cli/util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/names.h"
#include "spindle/routing.h"
#include "spindle/status.h"

int spindle_cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("spindle: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int spindle_cli_dispatch(spindle_cli *cli, const spindle_cli_action *actions, size_t n, int argc,
                         char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        spindle_cli_print_help(cli->cmd, stdout);
        return SPINDLE_EXIT_OK;
    }
    for (size_t i = 0; argc >= 1 && i < n; i++)
        if (strcmp(argv[0], actions[i].name) == 0)
            return actions[i].fn(cli, argc - 1, argv + 1);
    char names[256] = "";
    for (size_t i = 0, len = 0; i < n && len < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                i == 0       ? ""
                                : i + 1 == n ? " or "
                                             : ", ",
                                actions[i].name);
    return spindle_cli_error(SPINDLE_EXIT_USAGE, "%s: %s%s%s; give %s (see 'spindle %s --help')",
                             cli->cmd->name, argc ? "unknown action '" : "no action given",
                             argc ? argv[0] : "", argc ? "'" : "", names, cli->cmd->name);
}

int spindle_cli_exit_code(int status)
{
    switch (status) {
    case SPINDLE_OK:
        return SPINDLE_EXIT_OK;
    case SPINDLE_ERR_INVALID:
    case SPINDLE_ERR_TOO_LARGE:
        return SPINDLE_EXIT_USAGE;
    case SPINDLE_ERR_NOT_FOUND:
        return SPINDLE_EXIT_NOT_FOUND;
    case SPINDLE_ERR_TASK_FAILED:
        return SPINDLE_EXIT_FAILED;
    case SPINDLE_ERR_CANCELLED:
        return SPINDLE_EXIT_CANCELLED;
    case SPINDLE_ERR_TIMEOUT:
        return SPINDLE_EXIT_UNFINISHED;
    default:
        return SPINDLE_EXIT_ERROR;
    }
}

int spindle_cli_fail(spindle_cli *cli, int status)
{
    const char *msg = cli->client ? spindle_errstr(cli->client) : "";
    return spindle_cli_error(spindle_cli_exit_code(status), "%s",
                             msg[0] ? msg : spindle_status_name(status));
}

void spindle_cli_print_help(const spindle_cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: spindle %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->help)
        fprintf(out, "\n%s", cmd->help);
}

/* Reports a usage error of the running command, with its synopsis when asked. */
static int usage_error(spindle_cli *cli, int with_usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int usage_error(spindle_cli *cli, int with_usage, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (with_usage)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "%s: %s (usage: spindle %s)", cli->cmd->name,
                                 msg, cli->cmd->usage);
    return spindle_cli_error(SPINDLE_EXIT_USAGE, "%s: %s (see 'spindle %s --help')", cli->cmd->name,
                             msg, cli->cmd->name);
}

/* Parses a whole number in [min, max]: optional '-', decimal digits, nothing else. */
static int parse_long(const char *text, long min, long max, long *out)
{
    if (!(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

/* Parses seconds in [min, max], fractions allowed, into milliseconds rounded up. */
static int parse_seconds_ms(const char *text, long min, long max, long *out)
{
    /* Plain decimals only: strtod() alone would also take " 5", "1e3", "0x10" and "inf". */
    if (text[0] == '\0' || text[strspn(text, "0123456789.")] != '\0')
        return 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || v < (double)min || v > (double)max ||
        v * 1000.0 >= (double)LONG_MAX)
        return 0;
    /* Rounded up by hand: ceil() would need libm, which the binary does not link. */
    double ms = v * 1000.0;
    *out = (long)ms + ((double)(long)ms < ms);
    return 1;
}

/* Stores the value of option o. */
static int set_value(spindle_cli *cli, const spindle_cli_opt *o, const char *value)
{
    if (o->str) {
        *o->str = value;
        return SPINDLE_CLI_CONTINUE;
    }
    if (o->num && !parse_long(value, o->min, o->max, o->num))
        return usage_error(cli, 0, "%s '%s' is not a whole number in %ld-%ld", o->name, value,
                           o->min, o->max);
    if (o->ms && !parse_seconds_ms(value, o->min, o->max, o->ms))
        return usage_error(cli, 0, "%s '%s' is not a number of seconds in %ld-%ld", o->name, value,
                           o->min, o->max);
    return SPINDLE_CLI_CONTINUE;
}

static const spindle_cli_opt *find_opt(const spindle_cli_opt *opts, const char *arg, size_t len)
{
    for (; opts->name; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, arg, len) == 0)
            return opts;
    return NULL;
}

int spindle_cli_parse(spindle_cli *cli, int *argc, char **argv, const spindle_cli_opt *opts,
                      int flags, int min_pos, int max_pos)
{
    int npos = 0, options_over = 0;
    for (int i = 0; i < *argc; i++) {
        char *arg = argv[i];
        /* "-" alone is an ordinary word, as in most tools. */
        if (options_over || arg[0] != '-' || arg[1] == '\0') {
            argv[npos++] = arg;
            options_over = options_over || (flags & SPINDLE_CLI_OPTS_FIRST);
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_over = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            spindle_cli_print_help(cli->cmd, stdout);
            return SPINDLE_EXIT_OK;
        }
        size_t name_len = strcspn(arg, "=");
        const spindle_cli_opt *o = find_opt(opts, arg, name_len);
        if (o == NULL)
            return usage_error(cli, 0, "unknown option '%.*s'", (int)name_len, arg);
        const char *value = arg[name_len] == '=' ? arg + name_len + 1 : NULL;
        if (o->flag) {
            if (value)
                return usage_error(cli, 0, "option %s takes no value", o->name);
            *o->flag = 1;
            continue;
        }
        if (value == NULL) {
            if (i + 1 == *argc)
                return usage_error(cli, 1, "option %s needs a value", o->name);
            value = argv[++i];
        }
        int code = set_value(cli, o, value);
        if (code != SPINDLE_CLI_CONTINUE)
            return code;
    }
    *argc = npos;
    if (npos < min_pos)
        return usage_error(cli, 1, "missing argument");
    if (max_pos >= 0 && npos > max_pos)
        return usage_error(cli, 1, "unexpected argument '%s'", argv[max_pos]);
    return SPINDLE_CLI_CONTINUE;
}

int spindle_cli_check_name(const char *name, const char *kind)
{
    spindle_error err;
    if (spindle_name_check(name, kind, &err) != SPINDLE_OK)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "%s", err.msg);
    return SPINDLE_CLI_CONTINUE;
}

int spindle_cli_check_id(const char *id)
{
    spindle_error err;
    if (spindle_id_check(id, &err) != SPINDLE_OK)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "%s", err.msg);
    return SPINDLE_CLI_CONTINUE;
}

int spindle_cli_connect(spindle_cli *cli)
{
    if (cli->client)
        return SPINDLE_CLI_CONTINUE;
    cli->client = spindle_client_new();
    if (cli->client == NULL)
        return spindle_cli_error(SPINDLE_EXIT_ERROR, "creating the client: out of memory");
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = cli->url;
    o.ns = cli->ns;
    int rc = spindle_client_connect(cli->client, &o);
    if (rc == SPINDLE_OK && cli->routes)
        rc = spindle_client_load_routes(cli->client, cli->routes);
    return rc == SPINDLE_OK ? SPINDLE_CLI_CONTINUE : spindle_cli_fail(cli, rc);
}

int spindle_cli_open_task(spindle_cli *cli, const char *id, const char *queue, spindle_handle **h)
{
    int code = spindle_cli_check_id(id);
    if (code == SPINDLE_CLI_CONTINUE && queue)
        code = spindle_cli_check_name(queue, "queue");
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_connect(cli);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    int rc = spindle_handle_open(cli->client, id, queue, h);
    return rc == SPINDLE_OK ? SPINDLE_CLI_CONTINUE : spindle_cli_fail(cli, rc);
}

void spindle_cli_close(spindle_cli *cli)
{
    spindle_client_free(cli->client);
    cli->client = NULL;
}

int spindle_cli_print_json(json_t *v)
{
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL)
        return spindle_cli_error(SPINDLE_EXIT_ERROR, "converting the value to JSON: out of memory");
    puts(text);
    free(text);
    return SPINDLE_EXIT_OK;
}

char *spindle_cli_format_time(int64_t ms, char buf[SPINDLE_CLI_TIME_MAX])
{
    struct tm tm;
    /* Before 1970 or past year 9999: a hand-written field, not a time worth formatting. */
    time_t secs = (time_t)(ms / 1000);
    if (ms <= 0 || ms >= 253402300800000LL || gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, SPINDLE_CLI_TIME_MAX, "-");
        return buf;
    }
    size_t n = strftime(buf, SPINDLE_CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, SPINDLE_CLI_TIME_MAX - n, ".%03dZ", (int)(ms % 1000));
    return buf;
}

int spindle_cli_parse_task(spindle_cli *cli, int argc, char **argv, const spindle_cli_opt *opts,
                           const char *const *queue, spindle_handle **h)
{
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, 1);
    if (code == SPINDLE_CLI_CONTINUE)
        code = spindle_cli_open_task(cli, argv[0], *queue, h);
    return code;
}

int spindle_cli_parse_listing(spindle_cli *cli, int argc, char **argv, int *json)
{
    const spindle_cli_opt opts[] = {{.name = "--json", .flag = json}, {.name = NULL}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, 0);
    return code == SPINDLE_CLI_CONTINUE ? spindle_cli_connect(cli) : code;
}
