/* The producer's client: options, connect, reconnect, error string (client.h). */
#include <stdlib.h>
#include <string.h>

#include "producer/client_impl.h"
#include "store/ops.h"

void spindle_client_options_init(spindle_client_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->connect_timeout_ms = 2000;
    opts->command_timeout_ms = 5000;
    opts->wait_timeout_ms = 1000;
}

spindle_client *spindle_client_new(void)
{
    return calloc(1, sizeof(spindle_client));
}

int spindle_client_connect(spindle_client *c, const spindle_client_options *opts)
{
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_client_connect");
    spindle_client_options dflt;
    if (opts == NULL) {
        spindle_client_options_init(&dflt);
        opts = &dflt;
    }
    spindle_store_close(&c->store);
    c->max_args = opts->max_args_bytes > 0 ? (size_t)opts->max_args_bytes : 0;
    c->max_depth = opts->max_depth > 0 ? opts->max_depth : 0;
    c->max_chan = opts->max_channel_msg_bytes > 0 ? (size_t)opts->max_channel_msg_bytes : 0;
    c->nregistered = 0;
    c->opened = 0;
    spindle_error_clear(&c->err);
    if (opts->wait_replicas < 0 || opts->wait_replicas > 1000 ||
        (opts->wait_replicas > 0 && (opts->wait_timeout_ms < 1 || opts->wait_timeout_ms > 600000)))
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "connect: wait_replicas %d / wait_timeout_ms %d out of range "
                                 "(0..1000 / 1..600000)",
                                 opts->wait_replicas, opts->wait_timeout_ms);
    if (opts->max_depth < 0 || opts->max_depth > SPINDLE_MSGPACK_MAX_DEPTH)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "connect: max_depth %d out of range (0 for the default, or "
                                 "1..%d)",
                                 opts->max_depth, SPINDLE_MSGPACK_MAX_DEPTH);
    if (opts->max_channel_msg_bytes < 0 || opts->max_channel_msg_bytes > SPINDLE_CHANNEL_MSG_MAX)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "connect: max_channel_msg_bytes %ld out of range (0 for the "
                                 "default, or 1..%ld)",
                                 opts->max_channel_msg_bytes, SPINDLE_CHANNEL_MSG_MAX);
    int rc = spindle_store_open(&c->store, opts->url, opts->ns, opts->connect_timeout_ms,
                                opts->command_timeout_ms, &c->err);
    if (opts->wait_replicas > 0 && c->store.url.is_cluster) {
        /* WAIT counts the replicas of the connection's own writes, and a cluster enqueue
         * writes on the master of its queue's slot, not on the connection WAIT would take. */
        spindle_store_close(&c->store);
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "connect: wait_replicas is not supported with a cluster:// URL "
                                 "(use it with redis:// or sentinel://)");
    }
    c->store.wait_replicas = opts->wait_replicas;
    c->store.wait_timeout_ms = opts->wait_timeout_ms;
    /* Valid options with Redis down still leave a client that reconnects on the next call. */
    c->opened = rc == SPINDLE_OK || c->store.ns[0] != '\0';
    return rc;
}

int spindle_client_reconnect(spindle_client *c)
{
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_client_reconnect");
    if (!c->opened)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "reconnect: the client was never connected");
    return spindle_store_reconnect(&c->store);
}

void spindle_client_free(spindle_client *c)
{
    if (c == NULL)
        return;
    spindle_store_close(&c->store);
    spindle_sync_free(c->sync);
    spindle_client_routing_free(c);
    free(c);
}

const char *spindle_errstr(const spindle_client *c)
{
    return c->err.msg;
}

const char *spindle_client_namespace(const spindle_client *c)
{
    return c->store.ns;
}

int spindle_client_register_queue(spindle_client *c, const char *queue)
{
    unsigned n = c->nregistered < CLIENT_QUEUE_CACHE ? c->nregistered : CLIENT_QUEUE_CACHE;
    // cppcheck-suppress knownConditionTrueFalse ; cppcheck takes nregistered for 0
    for (unsigned i = 0; i < n; i++)
        if (strcmp(c->registered[i], queue) == 0)
            return SPINDLE_OK;
    int rc = spindle_store_register_queues(&c->store, &queue, 1);
    if (rc == SPINDLE_OK) {
        char *slot = c->registered[c->nregistered % CLIENT_QUEUE_CACHE];
        snprintf(slot, sizeof(c->registered[0]), "%s", queue); /* checked: <= SPINDLE_NAME_MAX */
        c->nregistered++;
    }
    return rc;
}
