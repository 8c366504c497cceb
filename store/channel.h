/* Channel steps on Redis (docs/PROTOCOL.md, "Channels"), shared by the caller's side
 * (producer/channel.c) and the task's side (worker/task_channel.c). Names are validated by
 * those callers before they get here. Errors go to the store's error record. */
#ifndef SPINDLE_STORE_CHANNEL_H
#define SPINDLE_STORE_CHANNEL_H

#include <stddef.h>

#include "spindle/channel.h"
#include "store/conn.h"

/* Which queue of a channel: the input (caller -> task) or the output (task -> caller). */
typedef enum spindle_chan_dir { SPINDLE_CHAN_IN, SPINDLE_CHAN_OUT } spindle_chan_dir;

/* Which channel. Strings are borrowed during the call. */
typedef struct spindle_chan_id {
    spindle_scope scope;
    const char *queue, *id; /* SPINDLE_SCOPE_TASK: the task's queue and id */
    const char *group;      /* SPINDLE_SCOPE_GROUP */
} spindle_chan_id;

/* Creates the channel, or sets new capacities and TTL on an existing one. A task channel
 * needs its task hash: SPINDLE_ERR_NOT_FOUND without it. */
int spindle_store_chan_create(spindle_store *s, const spindle_chan_id *ch, long cap_in,
                              long cap_out, long ttl_ms);
/* Appends data[0..len) to a queue if it has room (SPINDLE_ERR_FULL otherwise) and refreshes
 * the channel's TTL. */
int spindle_store_chan_push(spindle_store *s, const spindle_chan_id *ch, spindle_chan_dir dir,
                            const void *data, size_t len);
/* Takes the oldest message of a queue into *out (malloc'd data; zeroed on failure), waiting
 * up to timeout_ms (0: no wait; negative: no limit) in BLPOP slices of at most 10 s, between
 * which the channel's existence is checked again. SPINDLE_ERR_TIMEOUT if none came. */
int spindle_store_chan_pop(spindle_store *s, const spindle_chan_id *ch, spindle_chan_dir dir,
                           long timeout_ms, spindle_message *out);
/* Takes every message of a queue, 1000 per round trip, until a round trip finds fewer.
 * *msgs and *n hold what was taken even on failure; free with spindle_messages_free(). */
int spindle_store_chan_pop_all(spindle_store *s, const spindle_chan_id *ch, spindle_chan_dir dir,
                               spindle_message **msgs, size_t *n);
/* The cancel event: op 1 sets it, -1 clears it, 0 reads it into *set (may be NULL for the
 * other ops). */
int spindle_store_chan_event(spindle_store *s, const spindle_chan_id *ch, int op, int *set);
/* Deletes every key of the channel; *existed (may be NULL) is 1 if there was any. */
int spindle_store_chan_delete(spindle_store *s, const spindle_chan_id *ch, int *existed);
/* The task hash's `group` field into group (size SPINDLE_NAME_MAX + 1).
 * SPINDLE_ERR_NOT_FOUND "task ID is in no group" without one (or without the task),
 * SPINDLE_ERR_PROTOCOL if it is not a valid group name or the key is not a hash. */
int spindle_store_task_group(spindle_store *s, const char *queue, const char *id, char *group);

#endif
