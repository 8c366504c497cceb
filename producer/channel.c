/* Channels from the caller's side (channel.h): names checked and options validated here,
 * before anything is sent; the steps themselves are in store/channel.c, or, for a
 * synchronous client, in its in-memory table (common/sync_channel.h), after the same checks. */
#include <stdlib.h>
#include <string.h>

#include "common/channel_check.h"
#include "common/sync_channel.h"
#include "producer/client_impl.h"
#include "store/channel.h"

spindle_channel spindle_channel_of_task(const spindle_handle *h)
{
    spindle_channel ch = {.scope = SPINDLE_SCOPE_TASK, .task = h, .group = NULL};
    return ch;
}

spindle_channel spindle_channel_of_group(const char *group)
{
    spindle_channel ch = {.scope = SPINDLE_SCOPE_GROUP, .task = NULL, .group = group};
    return ch;
}

spindle_channel spindle_channel_global(void)
{
    spindle_channel ch = {.scope = SPINDLE_SCOPE_GLOBAL, .task = NULL, .group = NULL};
    return ch;
}

/* Checks ch and turns it into the store's form. */
static int resolve(spindle_client *c, spindle_channel ch, spindle_chan_id *id)
{
    memset(id, 0, sizeof(*id));
    id->scope = ch.scope;
    switch (ch.scope) {
    case SPINDLE_SCOPE_TASK:
        if (ch.task == NULL)
            return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                     "task channel without a task handle");
        id->queue = ch.task->queue;
        id->id = ch.task->id;
        return SPINDLE_OK;
    case SPINDLE_SCOPE_GROUP:
        id->group = ch.group;
        return spindle_name_check(ch.group, "group", &c->err);
    case SPINDLE_SCOPE_GLOBAL:
        return SPINDLE_OK;
    }
    return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "channel scope %d is not a scope",
                             (int)ch.scope);
}

/* The name a synchronous client's table knows the channel by (sync_channel.h). */
static const char *sync_name(const spindle_chan_id *id)
{
    return id->scope == SPINDLE_SCOPE_TASK ? id->id : id->group;
}

/* A task's channel in a synchronous client needs its task, as in Redis. */
static int sync_create(spindle_client *c, const spindle_chan_id *id,
                       const spindle_channel_options *opts)
{
    if (id->scope == SPINDLE_SCOPE_TASK && spindle_sync_record(c, id->id, id->queue) == NULL)
        return spindle_error_wrap(&c->err, "channel of task %s: ", id->id);
    return spindle_sync_chan_create(spindle_sync_channels(c), id->scope, sync_name(id),
                                    opts->capacity_in, opts->capacity_out, &c->err);
}

int spindle_channel_create(spindle_client *c, spindle_channel ch,
                           const spindle_channel_options *opts)
{
    spindle_channel_options dflt;
    if (opts == NULL) {
        spindle_channel_options_init(&dflt);
        opts = &dflt;
    }
    spindle_chan_id id;
    int rc = resolve(c, ch, &id);
    if (rc == SPINDLE_OK)
        rc = spindle_channel_options_check(opts, &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        return sync_create(c, &id, opts);
    return spindle_store_chan_create(&c->store, &id, opts->capacity_in, opts->capacity_out,
                                     opts->ttl_s * 1000);
}

/* How a channel message bound is named in errors: the option once it was set. */
static const char *whose(const spindle_client *c)
{
    return c->max_chan ? "the client's max_channel_msg_bytes" : "the limit";
}

/* A message received over the client's bound was taken out of the channel (the pop is
 * atomic, and leaving it would block the channel for this reader forever): it is dropped and
 * the call answers SPINDLE_ERR_TOO_LARGE naming its size and the bound. */
static int received(spindle_client *c, int rc, spindle_message *m)
{
    if (rc != SPINDLE_OK || m->len <= CLIENT_MAX_CHAN(c))
        return rc;
    size_t len = m->len;
    free(m->data);
    memset(m, 0, sizeof(*m));
    return spindle_error_set(&c->err, SPINDLE_ERR_TOO_LARGE,
                             "received a channel message of %zu bytes, larger than %s of %zu "
                             "bytes: it was taken out of the channel and dropped",
                             len, whose(c), CLIENT_MAX_CHAN(c));
}

int spindle_channel_send(spindle_client *c, spindle_channel ch, const void *data, size_t len)
{
    spindle_chan_id id;
    int rc = resolve(c, ch, &id);
    if (rc == SPINDLE_OK)
        rc = spindle_channel_message_bound(data, len, (long)CLIENT_MAX_CHAN(c), whose(c), &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        return spindle_sync_chan_push(spindle_sync_channels(c), id.scope, sync_name(&id),
                                      SPINDLE_SYNC_IN, data, len, &c->err);
    return spindle_store_chan_push(&c->store, &id, SPINDLE_CHAN_IN, data, len);
}

int spindle_channel_recv(spindle_client *c, spindle_channel ch, long timeout_ms,
                         spindle_message *out)
{
    memset(out, 0, sizeof(*out));
    spindle_chan_id id;
    int rc = resolve(c, ch, &id);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        rc = spindle_sync_chan_pop(spindle_sync_channels(c), id.scope, sync_name(&id),
                                   SPINDLE_SYNC_OUT, timeout_ms, out, &c->err);
    else
        rc = spindle_store_chan_pop(&c->store, &id, SPINDLE_CHAN_OUT, timeout_ms, out);
    return received(c, rc, out);
}

int spindle_channel_recv_all(spindle_client *c, spindle_channel ch, spindle_message **msgs,
                             size_t *n)
{
    *msgs = NULL;
    *n = 0;
    spindle_chan_id id;
    int rc = resolve(c, ch, &id);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        rc = spindle_sync_chan_pop_all(spindle_sync_channels(c), id.scope, sync_name(&id),
                                       SPINDLE_SYNC_OUT, msgs, n, &c->err);
    else
        rc = spindle_store_chan_pop_all(&c->store, &id, SPINDLE_CHAN_OUT, msgs, n);
    /* Messages over the bound are dropped; the others are kept, in order, and returned. */
    size_t kept = 0;
    int over = SPINDLE_OK;
    for (size_t i = 0; i < *n; i++) {
        int r = received(c, SPINDLE_OK, &(*msgs)[i]);
        if (r != SPINDLE_OK)
            over = r;
        else
            (*msgs)[kept++] = (*msgs)[i];
    }
    *n = kept;
    if (kept == 0) {
        free(*msgs);
        *msgs = NULL;
    }
    return rc != SPINDLE_OK ? rc : over;
}

static int event(spindle_client *c, spindle_channel ch, int op, int *set)
{
    spindle_chan_id id;
    int rc = resolve(c, ch, &id);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        return spindle_sync_chan_event(spindle_sync_channels(c), id.scope, sync_name(&id), op, set,
                                       &c->err);
    return spindle_store_chan_event(&c->store, &id, op, set);
}

int spindle_channel_set_event(spindle_client *c, spindle_channel ch)
{
    return event(c, ch, 1, NULL);
}

int spindle_channel_clear_event(spindle_client *c, spindle_channel ch)
{
    return event(c, ch, -1, NULL);
}

int spindle_channel_event(spindle_client *c, spindle_channel ch, int *set)
{
    *set = 0;
    return event(c, ch, 0, set);
}

int spindle_channel_delete(spindle_client *c, spindle_channel ch, int *existed)
{
    if (existed)
        *existed = 0;
    spindle_chan_id id;
    int rc = resolve(c, ch, &id);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync) {
        spindle_sync_chan_delete(spindle_sync_channels(c), id.scope, sync_name(&id), existed);
        return SPINDLE_OK;
    }
    return spindle_store_chan_delete(&c->store, &id, existed);
}
