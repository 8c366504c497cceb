/* `spindle inspect ID`: every field of one task, for the operator asking "why is this one
 * stuck, since when". The raw hash is shown whole (a field this tool does not know still
 * appears), with the msgpack fields (args, result, pinfo, dep:*) decoded to JSON and the
 * times in UTC with their age by Redis's clock, so no other command is needed to read a
 * task. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/json.h"
#include "spindle/inspect.h"

/* Fields holding ms since the epoch. */
static int is_time(const char *f)
{
    static const char *const names[] = {"enqueued_at", "started_at", "finished_at",
                                        "retry_at",    "run_at",     "deadline",
                                        "progress_at", "cancel",     "throttle_until"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(f, names[i]) == 0)
            return 1;
    return 0;
}

/* Fields holding one msgpack value. */
static int is_msgpack(const char *f)
{
    return strcmp(f, "args") == 0 || strcmp(f, "result") == 0 || strcmp(f, "pinfo") == 0;
}

/* p[0..len) as JSON: its msgpack value, or the text itself if it is not one whole value. */
static json_t *msgpack_json(const char *p, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    json_t *v = NULL;
    if (msgpack_unpack_next(&u, p, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len)
        v = spindle_msgpack_to_json(&u.data);
    msgpack_unpacked_destroy(&u);
    return v ? v : spindle_json_text(p, len);
}

/* A field's value as JSON: decoded msgpack, a number for times and counts, else text. A
 * dep:DEPID outcome is {"outcome": "s"|"f"|"c", "value": ...}. */
static json_t *field_json(const spindle_task_field *f)
{
    if (is_msgpack(f->name))
        return msgpack_json(f->value, f->len);
    if (strncmp(f->name, "dep:", 4) == 0 && f->len > 0) {
        json_t *v = f->value[0] == 's' ? msgpack_json(f->value + 1, f->len - 1)
                                       : spindle_json_text(f->value + 1, f->len - 1);
        return json_pack("{s:s#,s:o*}", "outcome", f->value, (size_t)1, "value", v);
    }
    char *end = NULL;
    long long x = f->len ? strtoll(f->value, &end, 10) : 0;
    if (f->len && end == f->value + f->len && strcmp(f->name, "unique") != 0 &&
        strcmp(f->name, "progress_msg") != 0 && strcmp(f->name, "error") != 0)
        return json_integer(x);
    return spindle_json_text(f->value, f->len);
}

static int inspect_json(const spindle_handle *h, const spindle_task_dump *d)
{
    json_t *o = json_pack("{s:s,s:s,s:I}", "id", spindle_handle_id(h), "queue",
                          spindle_handle_queue(h), "now", (json_int_t)d->now_ms);
    if (o && json_object_set_new(o, "expires_in",
                                 d->ttl_s >= 0 ? json_integer(d->ttl_s) : json_null()) != 0) {
        json_decref(o);
        o = NULL;
    }
    for (size_t i = 0; o && i < d->n; i++)
        if (json_object_set_new(o, d->fields[i].name, field_json(&d->fields[i])) != 0) {
            json_decref(o);
            o = NULL;
        }
    return spindle_cli_print_json(o);
}

/* "12.3s", "4m05s", "3h10m", "2d04h" for a duration in ms (>= 0). */
static const char *span(int64_t ms, char buf[32])
{
    if (ms < 60000)
        snprintf(buf, 32, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(buf, 32, "%" PRId64 "m%02" PRId64 "s", ms / 60000, ms / 1000 % 60);
    else if (ms < 86400000)
        snprintf(buf, 32, "%" PRId64 "h%02" PRId64 "m", ms / 3600000, ms / 60000 % 60);
    else
        snprintf(buf, 32, "%" PRId64 "d%02" PRId64 "h", ms / 86400000, ms / 3600000 % 24);
    return buf;
}

/* One "name: value" line; a time gets its age ("(12.3s ago)" or "(in 4.0s)"). */
static void print_field(const spindle_task_field *f, int64_t now)
{
    if (is_time(f->name)) {
        char *end = NULL;
        long long ms = strtoll(f->value, &end, 10);
        if (f->len && end == f->value + f->len && ms > 0) {
            char t[SPINDLE_CLI_TIME_MAX], a[32];
            printf("%s: %s (%s %s)\n", f->name, spindle_cli_format_time(ms, t),
                   now >= ms ? span(now - ms, a) : "in", now >= ms ? "ago" : span(ms - now, a));
            return;
        }
    }
    if (is_msgpack(f->name) || strncmp(f->name, "dep:", 4) == 0) {
        json_t *v = field_json(f);
        char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        printf("%s: %s\n", f->name, text ? text : "(out of memory)");
        free(text);
        json_decref(v);
        return;
    }
    printf("%s: %.*s\n", f->name, (int)f->len, f->value);
}

/* Text: id, queue, state first, then every other field by name, the error last (it may span
 * lines), then how long the task hash is kept. */
static int inspect_text(const spindle_handle *h, const spindle_task_dump *d)
{
    printf("id: %s\nqueue: %s\n", spindle_handle_id(h), spindle_handle_queue(h));
    const spindle_task_field *error = NULL;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->fields[i].name, "state") == 0)
            print_field(&d->fields[i], d->now_ms);
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->fields[i].name, "error") == 0)
            error = &d->fields[i];
        else if (strcmp(d->fields[i].name, "state") != 0)
            print_field(&d->fields[i], d->now_ms);
    }
    if (d->ttl_s >= 0) {
        char a[32];
        printf("expires in: %s\n", span((int64_t)d->ttl_s * 1000, a));
    } else
        printf("expires in: never (until it ends)\n");
    if (error)
        print_field(error, d->now_ms);
    return SPINDLE_EXIT_OK;
}

/* inspect ID [--queue Q] [--json] */
int spindle_cli_cmd_inspect(spindle_cli *cli, int argc, char **argv)
{
    const char *queue = NULL;
    int json = 0;
    const spindle_cli_opt opts[] = {
        {.name = "--queue", .str = &queue},
        {.name = "--json", .flag = &json},
        {.name = NULL},
    };
    spindle_handle *h = NULL;
    int code = spindle_cli_parse_task(cli, argc, argv, opts, &queue, &h);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    spindle_task_dump d;
    int rc = spindle_task_dump_read(cli->client, h, &d);
    if (rc != SPINDLE_OK)
        code = spindle_cli_fail(cli, rc);
    else
        code = json ? inspect_json(h, &d) : inspect_text(h, &d);
    spindle_task_dump_clear(&d);
    spindle_handle_free(h);
    return code;
}
