/* Synchronous mode: a client that runs every task in-process at once, without Redis, so task
 * code and the code that enqueues it can be unit-tested alone.
 *
 * A synchronous client takes the registry a worker would use (functions and middleware) and
 * offers the same API as a connected client: spindle_enqueue(), spindle_enqueue_msgpack() and
 * spindle_enqueue_bulk() validate exactly as they do for Redis, then run the function through
 * the worker's own execution path (lookup, argument checks, result check, middleware), so the
 * task is final when enqueue returns. spindle_status(), spindle_is_ready(), spindle_info(),
 * spindle_wait() (which returns at once), spindle_wait_many(), spindle_handle_open() and
 * spindle_retry() answer from the client's memory, and results read as with a real client;
 * spindle_cancel() finds every task already final and reports its state, as it does in Redis
 * when the completion won.
 *
 * The task-side calls work on the task's in-memory record, so the same task code runs:
 *  - spindle_task_progress() stores every report at once (no coalescing: nothing is saved by
 *    it without Redis), seq + 1 each, updated_at_ms from the host's wall clock, the message
 *    cut as in a worker. spindle_progress_get() reads the last one; spindle_wait_progress()
 *    returns as spindle_wait() does and calls its callback once, with the final report, if
 *    the task made any (spindle_wait_many() calls no on_progress: its tasks are all final).
 *  - spindle_task_emit() checks as in a worker and keeps the item. A reader
 *    (spindle_items_open()) gives the items of every attempt in order, then the end, and never
 *    waits; item ids are "0-1", "0-2", ... in emit order.
 *  - Channels are kept in the client's memory, shared with the tasks it runs: same checks,
 *    capacities, order, SPINDLE_ERR_FULL, SPINDLE_ERR_TOO_LARGE and SPINDLE_ERR_NOT_FOUND (a
 *    channel not created), event, delete and recv_all as with Redis. The usual test: create
 *    the global or a group channel, send its input and set its event, enqueue; the task reads,
 *    writes and checks the event while it runs; then receive its output.
 *
 * What differs, on purpose, because nothing runs beside the task: a failed attempt is retried
 * at once, in-process, up to max_retries (no back-off, no `scheduled` state); timeouts are not
 * enforced (nothing can kill a function running on the caller's thread); nothing expires
 * (result TTLs, including 0, and channel TTLs are ignored: every task and channel is kept
 * until the client is freed); a channel read finding its queue empty answers
 * SPINDLE_ERR_TIMEOUT at once whatever its timeout, negative included (no one could fill it
 * meanwhile). A task is in no group, so on the task side SPINDLE_SCOPE_GROUP answers
 * SPINDLE_ERR_NOT_FOUND "task X is in no group", as for an ungrouped task in Redis. A task's
 * own channel (SPINDLE_SCOPE_TASK) can be created, as in Redis, only once the task exists,
 * which is after enqueue has run it: while it first runs, its own channel is
 * SPINDLE_ERR_NOT_FOUND; the caller may create it afterwards (the handle must be one of this
 * client's tasks) and fill it for a spindle_retry() of a failed task, which then sees it. The
 * task context has no Redis connection, the worker id a task sees is "sync", and
 * spindle_client_namespace() is "". Calls that need Redis or a fleet
 * (spindle_client_connect(), spindle_client_reconnect(), spindle_queue_list(),
 * spindle_dead_list(), spindle_worker_list()) fail with SPINDLE_ERR_INVALID and a message
 * saying the client is synchronous, and so do spindle_enqueue*() and spindle_retry() called by
 * a task on the client running it. Like any client it is not thread-safe. */
#ifndef SPINDLE_SYNC_H
#define SPINDLE_SYNC_H

#include "spindle/client.h"
#include "spindle/worker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new synchronous client running tasks with reg (borrowed for the life of the client;
 * register everything before the first enqueue). Caller frees with spindle_client_free().
 * NULL if out of memory or reg is NULL. */
spindle_client *spindle_client_new_sync(spindle_registry *reg);
/* 1 if c is a synchronous client, else 0. */
int spindle_client_is_sync(const spindle_client *c);

#ifdef __cplusplus
}
#endif
#endif
