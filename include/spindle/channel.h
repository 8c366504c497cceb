/* Channels: queues and a cancel event shared by callers and running tasks.
 *
 * A channel has an input queue (caller -> task), an output queue (task -> caller) and a
 * cancel event (a flag the caller sets and tasks check). It exists at one of three scopes:
 *  - SPINDLE_SCOPE_TASK: one task's own channel, named by the task's handle;
 *  - SPINDLE_SCOPE_GROUP: shared by the tasks of a group, named by the group's name;
 *  - SPINDLE_SCOPE_GLOBAL: one per namespace, named by nothing.
 *
 * A channel must be created (spindle_channel_create()) before anything is written to it or
 * read from it: a call on a channel that does not exist answers SPINDLE_ERR_NOT_FOUND, so a
 * typo in a group name cannot leave an unbounded queue behind. Queues are bounded, each
 * direction with its own capacity chosen at creation: a write to a full queue answers
 * SPINDLE_ERR_FULL at once; nothing ever blocks on a write and nothing is dropped. A channel
 * expires, all its keys together, after its TTL without a write (a write to either queue, or
 * setting or clearing the event, refreshes it); reads do not refresh it.
 *
 * Messages are opaque byte strings of at most SPINDLE_CHANNEL_MSG_MAX bytes, delivered in the
 * order written (FIFO), each to exactly one reader. By convention they hold one msgpack
 * value, as task arguments and results do, so that producers in other languages can share
 * them; Spindle does not check it.
 *
 * The caller's side takes a spindle_client (errors in spindle_errstr()); the task's side
 * takes the running task's context (errors in spindle_task_channel_errstr()). Redis layout:
 * docs/PROTOCOL.md, "Channels". A synchronous client (sync.h) keeps its channels in memory,
 * with the differences listed there. */
#ifndef SPINDLE_CHANNEL_H
#define SPINDLE_CHANNEL_H

#include <stddef.h>

#include "spindle/bounds.h"
#include "spindle/client.h"
#include "spindle/worker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SPINDLE_CHANNEL_MSG_MAX, the largest message: spindle/bounds.h. */
/* Largest capacity of one queue, in messages. */
#define SPINDLE_CHANNEL_CAP_MAX 1000000L
/* Longest channel TTL, in seconds (30 days). */
#define SPINDLE_CHANNEL_TTL_MAX (30L * 24 * 3600)

typedef enum spindle_scope {
    SPINDLE_SCOPE_TASK,   /* one task's own channel */
    SPINDLE_SCOPE_GROUP,  /* the channel of a group of tasks */
    SPINDLE_SCOPE_GLOBAL, /* the namespace's one global channel */
} spindle_scope;

/* Names a channel on the caller's side. Build it with one of the three functions below; it
 * borrows the handle or the group name, which must outlive its use. */
typedef struct spindle_channel {
    spindle_scope scope;
    const spindle_handle *task; /* SPINDLE_SCOPE_TASK */
    const char *group;          /* SPINDLE_SCOPE_GROUP: a name like a queue's (1-128 bytes of
                                   [A-Za-z0-9_.:-]) */
} spindle_channel;

/* The channel of the task behind h (borrowed). */
spindle_channel spindle_channel_of_task(const spindle_handle *h);
/* The channel of the group named group (borrowed; validated when used). */
spindle_channel spindle_channel_of_group(const char *group);
/* The namespace's global channel. */
spindle_channel spindle_channel_global(void);

/* Channel options. Initialize with spindle_channel_options_init(). */
typedef struct spindle_channel_options {
    long capacity_in;  /* input queue capacity, 1..SPINDLE_CHANNEL_CAP_MAX; default 1000 */
    long capacity_out; /* output queue capacity, likewise; default 1000 */
    long ttl_s;        /* expiry without writes, 1..SPINDLE_CHANNEL_TTL_MAX; default 3600 */
} spindle_channel_options;

void spindle_channel_options_init(spindle_channel_options *opts);

/* One message read. data is malloc'd (NUL-terminated after len bytes, for convenience). */
typedef struct spindle_message {
    char *data;
    size_t len;
} spindle_message;

/* Frees msgs[0..n) and the array itself (as returned by spindle_channel_recv_all()). NULL is
 * a no-op. */
void spindle_messages_free(spindle_message *msgs, size_t n);

/* ---- the caller's side ------------------------------------------------------------------ */

/* Creates the channel, or updates the capacities and TTL of an existing one (its messages and
 * event are kept; a queue already holding more than its new capacity refuses writes until
 * read below it). opts NULL: the defaults. A task channel can only be created for a task that
 * exists: SPINDLE_ERR_NOT_FOUND otherwise. SPINDLE_ERR_INVALID for a bad scope, group name or
 * option. One round trip. */
int spindle_channel_create(spindle_client *c, spindle_channel ch,
                           const spindle_channel_options *opts);

/* Appends a copy of data[0..len) to the input queue. SPINDLE_ERR_FULL if the queue holds
 * its capacity (nothing written), SPINDLE_ERR_NOT_FOUND if the channel was not created or
 * expired, SPINDLE_ERR_TOO_LARGE above SPINDLE_CHANNEL_MSG_MAX. data is borrowed during the
 * call. One round trip. */
int spindle_channel_send(spindle_client *c, spindle_channel ch, const void *data, size_t len);

/* Takes the oldest message of the output queue into *out (caller frees out->data with
 * free()), waiting up to timeout_ms for one (0: do not wait; negative: until one arrives or
 * the channel is deleted or expires). SPINDLE_ERR_TIMEOUT if none came (*out is zeroed),
 * SPINDLE_ERR_NOT_FOUND if the channel does not exist. A wait longer than 10 s checks every
 * 10 s that the channel still exists. A message larger than the client's
 * max_channel_msg_bytes is taken out of the channel and dropped: SPINDLE_ERR_TOO_LARGE naming
 * its size and the bound (*out zeroed). */
int spindle_channel_recv(spindle_client *c, spindle_channel ch, long timeout_ms,
                         spindle_message *out);

/* Takes every message of the output queue, oldest first, until it is empty, without
 * waiting. *msgs (NULL when *n is 0) is freed by the caller with spindle_messages_free().
 * SPINDLE_ERR_NOT_FOUND if the channel does not exist. One round trip per 1000 messages. On a
 * failure midway the messages taken so far are returned in *msgs and *n as well. Messages
 * larger than the client's max_channel_msg_bytes are dropped and the others returned, with
 * SPINDLE_ERR_TOO_LARGE. */
int spindle_channel_recv_all(spindle_client *c, spindle_channel ch, spindle_message **msgs,
                             size_t *n);

/* Sets, clears or reads the cancel event. *set is 1 while it is set. SPINDLE_ERR_NOT_FOUND if
 * the channel does not exist. Setting and clearing refresh the channel's TTL. */
int spindle_channel_set_event(spindle_client *c, spindle_channel ch);
int spindle_channel_clear_event(spindle_client *c, spindle_channel ch);
int spindle_channel_event(spindle_client *c, spindle_channel ch, int *set);

/* Deletes the channel: both queues with their messages, and the event. A channel that does
 * not exist is not an error (*existed, if not NULL, says whether it did). */
int spindle_channel_delete(spindle_client *c, spindle_channel ch, int *existed);

/* ---- the task's side -------------------------------------------------------------------- */
/* scope names the running task's own channel, its group's (the task hash's `group` field,
 * read once per task: SPINDLE_ERR_NOT_FOUND "task X is in no group" when it has none), or the
 * global one. Errors as on the caller's side; the message is read with
 * spindle_task_channel_errstr(). */

/* Takes the oldest message of the input queue into *out (caller frees out->data with
 * free()), waiting up to timeout_ms (0: do not wait; negative: as spindle_channel_recv()).
 * SPINDLE_ERR_TIMEOUT if none came. Keep timeouts short in a loop that should also notice a
 * cancel request: the wait does not end early when the task is cancelled. */
int spindle_task_channel_read(spindle_task_ctx *ctx, spindle_scope scope, long timeout_ms,
                              spindle_message *out);
/* Appends a copy of data[0..len) to the output queue: SPINDLE_ERR_FULL, SPINDLE_ERR_NOT_FOUND,
 * SPINDLE_ERR_TOO_LARGE as spindle_channel_send(). */
int spindle_task_channel_write(spindle_task_ctx *ctx, spindle_scope scope, const void *data,
                               size_t len);
/* *set = 1 if the channel's cancel event is set, else 0. One round trip: check it every so
 * many items, not in a tight loop. */
int spindle_task_channel_event(spindle_task_ctx *ctx, spindle_scope scope, int *set);
/* The message of the last failed task-side channel call on ctx: borrowed until the next such
 * call. "" if none. */
const char *spindle_task_channel_errstr(const spindle_task_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
