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

/* Adds queue to NS:queues unless this client already did. */
int spindle_client_register_queue(spindle_client *c, const char *queue);
/* A handle for (id, queue), or NULL with c->err set to SPINDLE_ERR_NOMEM. */
spindle_handle *spindle_handle_make(spindle_client *c, const char *id, const char *queue);

/* Results (producer/wait.c), shared by the waits. spindle_result_make() builds *out from a
 * final state and its payload (result bytes or error text) and returns SPINDLE_OK,
 * SPINDLE_ERR_TASK_FAILED or SPINDLE_ERR_CANCELLED as spindle_wait() would. */
int spindle_result_make(spindle_client *c, const spindle_handle *h, spindle_state st,
                        const char *payload, size_t len, spindle_result **out);
/* Interprets a wait-script reply: returns 1 with *rc set (and *out when final) if the wait is
 * over (final state, missing task, bad state), 0 if the task is still going. */
int spindle_result_from_step(spindle_client *c, const spindle_handle *h, redisReply *r, int *rc,
                             spindle_result **out);
/* Interprets a done token "STATE:PAYLOAD" as spindle_result_make() does. */
int spindle_result_from_token(spindle_client *c, const spindle_handle *h, const char *tok,
                              size_t len, spindle_result **out);

#endif
