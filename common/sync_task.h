/* The in-memory record of one task of a synchronous client (include/spindle/sync.h): what a
 * task hash holds in Redis, for a client that has no Redis.
 *
 * Shared by producer/ (the client keeps the records and answers status, info, wait, retry
 * and progress from them) and worker/ (a running task's context points to its record through
 * spindle_task_ctx.sync, with ctx->store NULL). Task-side calls that write to Redis in a
 * worker write here instead in a synchronous client: a progress report into `progress`
 * (seq + 1 per report, updated_at_ms from the host clock), an emitted partial result into
 * `items` with spindle_sync_task_add_item(), a cancel request into `cancel` (the task then ends
 * cancelled, as the cancel rule of the protocol says). Channels are the client's, not the
 * task's: the record lends the task the client's table (`chans`, common/sync_channel.h), so
 * that what the caller put in before enqueue is there for the task, and what the task wrote
 * is there for the caller afterwards. */
#ifndef SPINDLE_COMMON_SYNC_TASK_H
#define SPINDLE_COMMON_SYNC_TASK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/names.h"
#include "spindle/progress.h"
#include "spindle/state.h"

/* One emitted item: msgpack bytes, owned by the record. */
typedef struct spindle_sync_item {
    char *data;
    size_t len;
    long attempt; /* the attempt that emitted it */
} spindle_sync_item;

struct spindle_sync_chans;

struct spindle_sync_task {
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
    char func[SPINDLE_NAME_MAX + 1];
    char *args; /* one msgpack array, owned */
    size_t args_len;
    spindle_state state;
    char *result; /* msgpack bytes of a succeeded task, owned; NULL otherwise */
    size_t result_len;
    char *error; /* the last failed attempt's text, owned; NULL if none */
    long attempts, retried;
    long max_retries, timeout_s, result_ttl_s, backoff_ms, backoff_max_ms; /* as enqueued */
    int64_t enqueued_at_ms, started_at_ms, finished_at_ms;                 /* host wall clock */
    atomic_int cancel; /* the running task's cancel flag (ctx->cancel points here) */
    spindle_progress progress;
    spindle_sync_item *items;
    size_t nitems, capitems;
    struct spindle_sync_chans *chans; /* the client's channels, borrowed for its life */
    char proc[SPINDLE_NAME_MAX + 1];  /* processor name (include/spindle/processor.h), "" if none */
    char *pinfo;                      /* its static info (msgpack), owned; NULL if none */
    size_t pinfo_len;
};

/* Appends a copy of data[0..len) to t's items, as emitted by attempt t->attempts.
 * SPINDLE_OK or SPINDLE_ERR_NOMEM. */
int spindle_sync_task_add_item(struct spindle_sync_task *t, const void *data, size_t len);
/* Frees t and everything it owns. NULL is a no-op. */
void spindle_sync_task_free(struct spindle_sync_task *t);

#endif
