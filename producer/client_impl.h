/* The producer's private structures, shared by the files of producer/. Users see them only
 * as opaque types (include/spindle/client.h). */
#ifndef SPINDLE_PRODUCER_CLIENT_IMPL_H
#define SPINDLE_PRODUCER_CLIENT_IMPL_H

#include <msgpack.h>

#include "common/error.h"
#include "common/names.h"
#include "spindle/client.h"
#include "store/conn.h"

/* Queues this client has added to NS:queues: a small cache so steady-state enqueues cost one
 * round trip. 16 covers real producers; beyond that the oldest entry is replaced. */
#define CLIENT_QUEUE_CACHE 16

/* Largest args payload accepted: far above any sane argument list, far below Redis's 512 MB
 * bulk limit, so an accidental giant buffer is refused with a clear error. */
#define CLIENT_MAX_ARGS (64u << 20)

struct spindle_client {
    spindle_store store;
    spindle_error err;
    int opened; /* spindle_client_connect() validated the options once */
    char registered[CLIENT_QUEUE_CACHE][SPINDLE_NAME_MAX + 1];
    unsigned nregistered;
};

struct spindle_handle {
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
};

struct spindle_result {
    spindle_state state;
    char *raw; /* result msgpack bytes (succeeded) */
    size_t raw_len;
    msgpack_unpacked unpacked; /* value decoded from raw */
    msgpack_object nil;
    char *error; /* failed / cancelled */
};

/* Called by spindle_wait_sliced() before each blocking slice; a status other than SPINDLE_OK
 * ends the wait with it. */
typedef int (*spindle_wait_hook)(spindle_client *c, const spindle_handle *h, void *arg);

/* spindle_wait() with the blocking cut into slices of at most slice_ms, and hook (if not
 * NULL) called before each: for waits that watch the task while they block
 * (spindle_wait_progress()). Same returns as spindle_wait(). */
int spindle_wait_sliced(spindle_client *c, const spindle_handle *h, long timeout_ms, long slice_ms,
                        spindle_wait_hook hook, void *arg, spindle_result **out);

/* Adds queue to NS:queues unless this client already did. */
int spindle_client_register_queue(spindle_client *c, const char *queue);
/* A handle for (id, queue), or NULL with c->err set to SPINDLE_ERR_NOMEM. */
spindle_handle *spindle_handle_make(spindle_client *c, const char *id, const char *queue);

#endif
