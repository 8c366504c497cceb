/* The channels of a synchronous client (include/spindle/sync.h): bounded queues and a cancel
 * event kept in memory, for a client that has no Redis.
 *
 * Shared by producer/ (the client owns the table, and its channel calls use it) and worker/
 * (a task run by that client reaches the table through its record, common/sync_task.h, so
 * that its channel calls use the same one). Same answers as the Redis channels
 * (store/channel.c): capacities, SPINDLE_ERR_FULL, SPINDLE_ERR_NOT_FOUND for a channel not
 * created, FIFO order, the event. What cannot apply without a second party running at the
 * same time is documented in sync.h: a read never waits (nothing could fill the queue
 * meanwhile) and nothing expires. Messages are checked (size) by the callers, as for Redis. */
#ifndef SPINDLE_COMMON_SYNC_CHANNEL_H
#define SPINDLE_COMMON_SYNC_CHANNEL_H

#include <stddef.h>

#include "common/error.h"
#include "spindle/channel.h"

/* Which queue of a channel: the input (caller -> task) or the output (task -> caller). */
typedef enum spindle_sync_dir { SPINDLE_SYNC_IN, SPINDLE_SYNC_OUT } spindle_sync_dir;

struct spindle_sync_chan;

/* The table of a synchronous client: a linear list, since a unit test uses a few channels. */
typedef struct spindle_sync_chans {
    struct spindle_sync_chan **v;
    size_t n, cap;
} spindle_sync_chans;

/* A channel is named by its scope and a name: the task's id (SPINDLE_SCOPE_TASK), the
 * group's name (SPINDLE_SCOPE_GROUP), or nothing (SPINDLE_SCOPE_GLOBAL: name is ignored).
 * Names are validated by the callers and borrowed during each call. Errors go to err, with
 * the messages the Redis channels give. */

/* Creates the channel, or sets new capacities on an existing one (messages and event kept). */
int spindle_sync_chan_create(spindle_sync_chans *t, spindle_scope scope, const char *name,
                             long cap_in, long cap_out, spindle_error *err);
/* Appends a copy of data[0..len) (data may be NULL when len is 0) if the queue has room:
 * SPINDLE_ERR_FULL otherwise, SPINDLE_ERR_NOT_FOUND without the channel. */
int spindle_sync_chan_push(spindle_sync_chans *t, spindle_scope scope, const char *name,
                           spindle_sync_dir dir, const void *data, size_t len, spindle_error *err);
/* Takes the oldest message into *out (caller frees out->data; zeroed on failure).
 * SPINDLE_ERR_TIMEOUT at once when the queue is empty, whatever timeout_ms (named in the
 * message): nothing can write to it while the caller waits. */
int spindle_sync_chan_pop(spindle_sync_chans *t, spindle_scope scope, const char *name,
                          spindle_sync_dir dir, long timeout_ms, spindle_message *out,
                          spindle_error *err);
/* Takes every message, oldest first: *msgs (NULL when *n is 0) is freed by the caller with
 * spindle_messages_free(). */
int spindle_sync_chan_pop_all(spindle_sync_chans *t, spindle_scope scope, const char *name,
                              spindle_sync_dir dir, spindle_message **msgs, size_t *n,
                              spindle_error *err);
/* The cancel event: op 1 sets it, -1 clears it, 0 reads it into *set (may be NULL for the
 * other ops). */
int spindle_sync_chan_event(spindle_sync_chans *t, spindle_scope scope, const char *name, int op,
                            int *set, spindle_error *err);
/* Deletes the channel with its messages; *existed (may be NULL) says whether it was there. */
void spindle_sync_chan_delete(spindle_sync_chans *t, spindle_scope scope, const char *name,
                              int *existed);
/* Frees every channel of t (not t itself). */
void spindle_sync_chans_free(spindle_sync_chans *t);

#endif
