/* The producer's private structures, shared by the files of producer/. Users see them only
 * as opaque types (include/spindle/client.h). */
#ifndef SPINDLE_PRODUCER_CLIENT_IMPL_H
#define SPINDLE_PRODUCER_CLIENT_IMPL_H

#include <msgpack.h>

#include "common/error.h"
#include "common/names.h"
#include "spindle/client.h"
#include "spindle/progress.h"
#include "store/conn.h"

/* Queues this client has added to NS:queues: a small cache so steady-state enqueues cost one
 * round trip. 16 covers real producers; beyond that the oldest entry is replaced. */
#define CLIENT_QUEUE_CACHE 16

/* Largest args payload accepted (bytes): the client option max_args_bytes, by default
 * SPINDLE_ARGS_MAX_DEFAULT (spindle/bounds.h), so an accidental giant buffer is refused with a
 * clear error before it is sent. */
#define CLIENT_MAX_DEPTH(c) ((c)->max_depth ? (c)->max_depth : SPINDLE_MSGPACK_MAX_DEPTH)
#define CLIENT_MAX_CHAN(c) ((c)->max_chan ? (c)->max_chan : (size_t)SPINDLE_CHANNEL_MSG_MAX)
#define CLIENT_MAX_ARGS(c) ((c)->max_args ? (c)->max_args : (size_t)SPINDLE_ARGS_MAX_DEFAULT)

struct spindle_sync;
struct spindle_routes;
struct spindle_processors;

struct spindle_client {
    spindle_store store;
    struct spindle_sync *sync; /* non-NULL: a synchronous client (producer/sync.c), no Redis */
    spindle_error err;
    int opened; /* spindle_client_connect() validated the options once */
    char registered[CLIENT_QUEUE_CACHE][SPINDLE_NAME_MAX + 1];
    unsigned nregistered;
    /* Routing (producer/routing.c): the table in use (borrowed, or routes_owned), and whether
     * it was chosen (set or loaded), so that $SPINDLE_ROUTES is no longer read. */
    const struct spindle_routes *routes;
    struct spindle_routes *routes_owned;
    int routes_chosen;
    struct spindle_processors *procs; /* processor pairs (producer/processor.c), or NULL */
    size_t max_args;                  /* spindle_client_options.max_args_bytes; 0: the default */
    int max_depth;                    /* spindle_client_options.max_depth; 0: the default */
    size_t max_chan;                  /* max_channel_msg_bytes; 0: the default */
};

struct spindle_handle {
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
    int deduplicated; /* see spindle_handle_deduplicated() */
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

/* The processor fields a task is enqueued with (processor.h); pinfo NULL: none. */
typedef struct spindle_proc_fields {
    const char *proc;
    const char *pinfo;
    size_t pinfo_len;
} spindle_proc_fields;

/* The single enqueue behind spindle_enqueue() and spindle_enqueue_msgpack(): args[0..len) is
 * one msgpack array, already checked; pf (may be NULL) adds the processor fields; refs: 1 if
 * args hold task refs (dependencies), 0 if not, -1 to look. Validates the options and func,
 * routes, then enqueues (or runs, on a synchronous client). */
int spindle_enqueue_task(spindle_client *c, const char *func, const char *args, size_t len,
                         const spindle_enqueue_options *opts, const spindle_proc_fields *pf,
                         int refs, spindle_handle **out);
struct spindle_task_opts;
/* A task whose args hold task refs (producer/deps.c): as spindle_enqueue_task() past its
 * checks and routing. anyway: the option run_anyway; id: the new task's id (a group reserves
 * it first), NULL for a new one. */
int spindle_enqueue_deps(spindle_client *c, const char *queue, const char *func, const char *args,
                         size_t len, const struct spindle_task_opts *to, int anyway, const char *id,
                         spindle_handle **out);

struct spindle_task_opts;
/* Validates enqueue options (NULL: the defaults) and fills the store's view of them in *to;
 * *queue is the explicit queue, or NULL when the task is routed (routing.h). */
int spindle_enqueue_check_options(spindle_client *c, const spindle_enqueue_options *opts,
                                  const char **queue, struct spindle_task_opts *to);

/* The queue func goes to: explicit if not NULL, else the route table's (reading
 * $SPINDLE_ROUTES first if no table was chosen), else "default". *queue is borrowed until the
 * table changes. Fails only when $SPINDLE_ROUTES names a bad file (c->err says why). */
int spindle_client_route(spindle_client *c, const char *func, const char *explicit_queue,
                         const char **queue);
/* Frees what routing and processors own (spindle_client_free()). */
void spindle_client_routing_free(spindle_client *c);
/* Frees a client's processor pairs (producer/processor.c). NULL is a no-op. */
void spindle_processors_free(struct spindle_processors *p);

/* Synchronous clients (producer/sync.c): the public calls branch here when c->sync is set,
 * after their own argument checks. Each sets c->err on failure like its Redis twin. */
int spindle_sync_enqueue(spindle_client *c, const char *queue, const char *func, const char *args,
                         size_t len, const struct spindle_task_opts *to, spindle_handle **out);
/* Adds a task that ended at once (state, error why) without running: a dependent whose
 * dependency had failed or was cancelled (producer/deps.c). */
int spindle_sync_enqueue_ended(spindle_client *c, const char *queue, const char *func,
                               const char *args, size_t len, const struct spindle_task_opts *to,
                               spindle_state state, const char *why, spindle_handle **out);
int spindle_sync_open(spindle_client *c, const char *id, const char *queue, spindle_handle **out);
int spindle_sync_status(spindle_client *c, const spindle_handle *h, spindle_state *state);
int spindle_sync_info(spindle_client *c, const spindle_handle *h, spindle_task_info *info);
int spindle_sync_wait(spindle_client *c, const spindle_handle *h, spindle_result **out);
int spindle_sync_retry(spindle_client *c, const spindle_handle *h);
int spindle_sync_progress(spindle_client *c, const spindle_handle *h, spindle_progress *out);
/* The record of task id (in queue, unless queue is NULL), borrowed for the client's life
 * (records are never moved or freed before it), or NULL with c->err set (NOT_FOUND). */
struct spindle_sync_task;
const struct spindle_sync_task *spindle_sync_record(spindle_client *c, const char *id,
                                                    const char *queue);
/* The client's in-memory channels (common/sync_channel.h), borrowed for its life. */
struct spindle_sync_chans;
struct spindle_sync_chans *spindle_sync_channels(spindle_client *c);
/* SPINDLE_ERR_INVALID: what (a call's name) needs Redis and c is synchronous. */
int spindle_sync_refuse(spindle_client *c, const char *what);
void spindle_sync_free(struct spindle_sync *s);

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
