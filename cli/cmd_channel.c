/* `spindle channel`: a running task's channels from the shell (include/spindle/channel.h).
 * One command with an action word, since the actions share the way a channel is named
 * (--task ID [--queue Q], --group NAME, or nothing for the global channel). Values sent are
 * typed from their text as `spindle enqueue` types arguments and sent as one msgpack value
 * each; messages received print as JSON, one per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/argtype.h"
#include "cli/commands.h"
#include "cli/json.h"
#include "spindle/channel.h"

/* Everything the actions may be given. */
typedef struct channel_args {
    const char *task, *queue, *group;
    long wait_ms, cap_in, cap_out, ttl_s;
    int all;
} channel_args;

/* Names the channel from the options; *h is the task's handle for --task (caller frees). */
static int pick(spindle_cli *cli, const channel_args *a, spindle_channel *ch, spindle_handle **h)
{
    *h = NULL;
    if (a->task && a->group)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "channel: give --task or --group, not both");
    if (a->queue && !a->task)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "channel: --queue goes with --task");
    if (a->group) {
        int code = spindle_cli_check_name(a->group, "group");
        if (code == SPINDLE_CLI_CONTINUE)
            code = spindle_cli_connect(cli);
        *ch = spindle_channel_of_group(a->group);
        return code;
    }
    if (a->task) {
        int code = spindle_cli_open_task(cli, a->task, a->queue, h);
        *ch = spindle_channel_of_task(*h);
        return code;
    }
    *ch = spindle_channel_global();
    return spindle_cli_connect(cli);
}

/* Sends each word of argv[0..argc) as one typed msgpack value. */
static int send_values(spindle_cli *cli, spindle_channel ch, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        spindle_args *v = spindle_args_new();
        const char *data = NULL;
        size_t len = 0;
        int rc = v ? spindle_cli_type_arg(v, argv[i]) : SPINDLE_ERR_NOMEM;
        if (rc == SPINDLE_OK)
            rc = spindle_args_data(v, &data, &len);
        /* A one-element array: its header is one byte (0x91), the value follows. */
        if (rc == SPINDLE_OK)
            rc = spindle_channel_send(cli->client, ch, data + 1, len - 1);
        spindle_args_free(v);
        if (rc != SPINDLE_OK)
            return rc == SPINDLE_ERR_NOMEM
                       ? spindle_cli_error(SPINDLE_EXIT_ERROR, "channel send: out of memory")
                       : spindle_cli_fail(cli, rc);
    }
    return SPINDLE_EXIT_OK;
}

/* Prints one message: its msgpack value as JSON, or its bytes as text when it is not one
 * msgpack value. */
static int print_message(const spindle_message *m)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    json_t *j;
    if (msgpack_unpack_next(&u, m->data, m->len, &off) == MSGPACK_UNPACK_SUCCESS && off == m->len)
        j = spindle_msgpack_to_json(&u.data);
    else
        j = spindle_json_text(m->data, m->len);
    msgpack_unpacked_destroy(&u);
    return spindle_cli_print_json(j);
}

static int recv_messages(spindle_cli *cli, spindle_channel ch, const channel_args *a)
{
    if (a->all) {
        spindle_message *msgs = NULL;
        size_t n = 0;
        int rc = spindle_channel_recv_all(cli->client, ch, &msgs, &n);
        int code = SPINDLE_EXIT_OK;
        for (size_t i = 0; i < n && code == SPINDLE_EXIT_OK; i++)
            code = print_message(&msgs[i]);
        spindle_messages_free(msgs, n);
        return rc != SPINDLE_OK ? spindle_cli_fail(cli, rc) : code;
    }
    spindle_message m;
    int rc = spindle_channel_recv(cli->client, ch, a->wait_ms, &m);
    if (rc != SPINDLE_OK)
        return spindle_cli_fail(cli, rc);
    int code = print_message(&m);
    free(m.data);
    return code;
}

static int act(spindle_cli *cli, const char *action, spindle_channel ch, const channel_args *a,
               int argc, char **argv)
{
    int rc = SPINDLE_OK, set = 0;
    if (strcmp(action, "create") == 0) {
        spindle_channel_options o;
        spindle_channel_options_init(&o);
        if (a->cap_in > 0)
            o.capacity_in = a->cap_in;
        if (a->cap_out > 0)
            o.capacity_out = a->cap_out;
        if (a->ttl_s > 0)
            o.ttl_s = a->ttl_s;
        rc = spindle_channel_create(cli->client, ch, &o);
    } else if (strcmp(action, "send") == 0) {
        return send_values(cli, ch, argc, argv);
    } else if (strcmp(action, "recv") == 0) {
        return recv_messages(cli, ch, a);
    } else if (strcmp(action, "set-event") == 0) {
        rc = spindle_channel_set_event(cli->client, ch);
    } else if (strcmp(action, "clear-event") == 0) {
        rc = spindle_channel_clear_event(cli->client, ch);
    } else if (strcmp(action, "event") == 0) {
        rc = spindle_channel_event(cli->client, ch, &set);
        if (rc == SPINDLE_OK)
            printf("%s\n", set ? "set" : "clear");
    } else {
        rc = spindle_channel_delete(cli->client, ch, NULL);
    }
    return rc == SPINDLE_OK ? SPINDLE_EXIT_OK : spindle_cli_fail(cli, rc);
}

/* channel ACTION [--task ID [--queue Q] | --group NAME] [options] [VALUE...] */
int spindle_cli_cmd_channel(spindle_cli *cli, int argc, char **argv)
{
    static const char *const actions[] = {"create",      "send",  "recv",  "set-event",
                                          "clear-event", "event", "delete"};
    channel_args a = {.task = NULL};
    const spindle_cli_opt opts[] = {
        {.name = "--task", .str = &a.task},
        {.name = "--queue", .str = &a.queue},
        {.name = "--group", .str = &a.group},
        {.name = "--wait", .ms = &a.wait_ms, .max = SPINDLE_CLI_MAX_SECONDS},
        {.name = "--all", .flag = &a.all},
        {.name = "--capacity-in", .num = &a.cap_in, .min = 1, .max = SPINDLE_CHANNEL_CAP_MAX},
        {.name = "--capacity-out", .num = &a.cap_out, .min = 1, .max = SPINDLE_CHANNEL_CAP_MAX},
        {.name = "--ttl", .num = &a.ttl_s, .min = 1, .max = SPINDLE_CHANNEL_TTL_MAX},
        {.name = NULL},
    };
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 1, -1);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    const char *action = argv[0];
    size_t i = 0;
    while (i < sizeof(actions) / sizeof(actions[0]) && strcmp(actions[i], action) != 0)
        i++;
    if (i == sizeof(actions) / sizeof(actions[0]))
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "channel: unknown action '%s'", action);
    int sending = strcmp(action, "send") == 0;
    if (sending != (argc > 1))
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "channel %s: %s", action,
                                 sending ? "give at least one VALUE to send"
                                         : "takes no VALUE (only send does)");
    spindle_channel ch;
    spindle_handle *h = NULL;
    code = pick(cli, &a, &ch, &h);
    if (code == SPINDLE_CLI_CONTINUE)
        code = act(cli, action, ch, &a, argc - 1, argv + 1);
    spindle_handle_free(h);
    return code;
}
