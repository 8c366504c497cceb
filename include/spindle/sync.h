/* Synchronous mode: a client that runs every task in-process at once, without Redis, so task
 * code and the code that enqueues it can be unit-tested alone.
 *
 * A synchronous client takes the registry a worker would use (functions and middleware) and
 * offers the same API as a connected client: spindle_enqueue(), spindle_enqueue_msgpack() and
 * spindle_enqueue_bulk() validate exactly as they do for Redis, then run the function through
 * the worker's own execution path (lookup, argument checks, result check, middleware), so the
 * task is final when enqueue returns. spindle_status(), spindle_is_ready(), spindle_info(),
 * spindle_wait() (which returns at once), spindle_wait_many(), spindle_progress_get(),
 * spindle_handle_open() and spindle_retry() answer from the client's memory, and results read
 * as with a real client.
 *
 * What differs, on purpose: a failed attempt is retried at once, in-process, up to
 * max_retries (no back-off, no `scheduled` state); timeouts are not enforced (nothing can kill
 * a function running on the caller's thread); nothing expires (result TTLs, including 0, are
 * ignored: every task is kept until the client is freed); the task context has no Redis
 * connection, and the worker id a task sees is "sync". Calls that need Redis or a fleet
 * (spindle_client_connect(), spindle_client_reconnect(), spindle_queue_list(),
 * spindle_dead_list(), spindle_worker_list()) fail with SPINDLE_ERR_INVALID and a message
 * saying the client is synchronous. Like any client it is not thread-safe. */
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
