/* Batch handlers: one call for many pending tasks of a function.
 *
 * A function registered with spindle_registry_add_batch() is served in batches: a worker slot
 * that claims tasks of it keeps claiming from the same queue until it holds max_batch of
 * them or max_wait_ms have passed since it claimed the first, then calls the handler once
 * with all of them (the "requests" of the batch). The handler settles each request at most
 * once: spindle_batch_accept() with a result (the task succeeds) or spindle_batch_reject()
 * with an error (a failed attempt: the task's retry policy applies). Requests it leaves
 * unsettled when it returns SPINDLE_OK go back to the front of pending, in claim order, with
 * their attempt undone, and run again in a later batch; after an error return they are
 * rejected. The whole batch is settled in one Redis round trip. For a resource that wants to
 * see all pending requests at once: a model, a GPU, a licence, a bulk API.
 *
 *     static int infer(spindle_batch *b, void *ud)
 *     {
 *         for (size_t i = 0; i < spindle_batch_size(b); i++) {
 *             const msgpack_object *a = spindle_batch_args(b, i);   (an array, as for a task)
 *             if (a->via.array.size != 1 || a->via.array.ptr[0].type !=
 * MSGPACK_OBJECT_POSITIVE_INTEGER) spindle_batch_reject(b, i, "want one number"); else
 *                 spindle_batch_accept_int(b, i, 2 * (int64_t)a->via.array.ptr[0].via.u64);
 *         }
 *         return SPINDLE_OK;
 *     }
 *     spindle_registry_add_batch(reg, "infer", infer, 32, 20, NULL);
 *
 * How it runs, and what a user of the other features should expect:
 *  - Forming. The first claim that returns a task of a batch function opens its batch; while it
 *    has fewer than max_batch requests and max_wait_ms have not passed, the slot claims again
 *    (up to `prefetch` per claim): at once while the queue has more, else after a short pause
 *    (a quarter of max_wait_ms, 2 to 25 ms; long waits block on the queue's wake list, so an
 *    enqueue ends them). Tasks of ordinary functions claimed meanwhile run at once, as usual,
 *    which may delay the batch by their run time. A slot with no batch open sends no command
 *    more than before; a worker with no batch function registered runs no batch code at all.
 *  - Requests with args that are not a msgpack array, or refused by a middleware `before`, are
 *    rejected before the call and not shown to the handler. Middleware runs per request:
 *    each request's befores before the call, then exactly one of after (accepted) or on_error
 *    (rejected, or left unsettled: the error then says it was handed back), elapsed_ms being the
 *    whole call's.
 *  - Cancel. A request cancelled before the call is not shown to the handler and ends
 *    `cancelled`. During the call spindle_batch_cancelled(b, i) reports a request's cancel
 *    request (a memory read); whatever the handler does with it, the task ends `cancelled`.
 *  - Timeouts, crashes, grace. A batch runs under the smallest timeout of its requests (the
 *    worker's default_timeout_s for those without). The slot shows the supervisor one request
 *    as running, the one with that timeout (else the first): a batch past it is killed (a
 *    thread pool fails that request and ignores its late settlement), a crash of the process
 *    is charged to that request, and so is a cancel grace running out; each time that one
 *    request gets a failed attempt (or ends `cancelled`) and the others go back to pending
 *    uncharged.
 *  - Process and thread pools both run batches in the slot, one batch at a time per slot; with a
 *    thread pool the handler must be thread-safe, as any function.
 * spindle_registry_require_process() works as for a function.
 *  - Progress, items and channels: spindle_batch_task(b, i) is request i's task context, for
 *    spindle_task_progress(), spindle_task_emit() and the channel calls.
 *  - Synchronous mode (sync.h) runs a batch function as a batch of one at enqueue; a request
 *    left unsettled fails there ("left unsettled"), as there is no queue to hand it back to.
 *  - A handler that keeps leaving a request unsettled keeps it running for ever: settle or
 *    reject every request you cannot serve. */
#ifndef SPINDLE_BATCH_H
#define SPINDLE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "spindle/status.h"
#include "spindle/worker.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spindle_batch spindle_batch;

/* A batch handler. Everything it is given is borrowed for the duration of the call. Returns
 * SPINDLE_OK (requests left unsettled go back to pending), or an error status: the requests
 * left unsettled are rejected, with the message of spindle_batch_fail() if it was used. */
typedef int (*spindle_batch_fn)(spindle_batch *batch, void *userdata);

/* The largest max_batch, and the longest max_wait_ms. */
#define SPINDLE_BATCH_MAX 1000
#define SPINDLE_BATCH_MAX_WAIT_MS 60000

/* Registers fn under name as a batch function: batches of 1 to max_batch requests, waiting
 * at most max_wait_ms (0 to SPINDLE_BATCH_MAX_WAIT_MS; 0: whatever one claim brings) to fill
 * one. name is copied; userdata is borrowed for the life of the registry. SPINDLE_ERR_INVALID
 * (message in spindle_registry_errstr()) for a bad or taken name, a NULL fn or a bound out of
 * range; SPINDLE_ERR_NOMEM. */
int spindle_registry_add_batch(spindle_registry *reg, const char *name, spindle_batch_fn fn,
                               int max_batch, long max_wait_ms, void *userdata);

/* Number of requests in the batch (at least 1). */
size_t spindle_batch_size(const spindle_batch *b);
/* The function name and the queue: borrowed for the duration of the call. */
const char *spindle_batch_func(const spindle_batch *b);
const char *spindle_batch_queue(const spindle_batch *b);
/* Request i's args (a msgpack array), task id and attempt (1 for the first run). Borrowed
 * for the duration of the call; NULL (0 for the attempt) if i is out of range. */
const msgpack_object *spindle_batch_args(const spindle_batch *b, size_t i);
const char *spindle_batch_id(const spindle_batch *b, size_t i);
long spindle_batch_attempt(const spindle_batch *b, size_t i);
/* 1 once a cancel was requested for request i, else 0 (out of range: 0). A memory read. */
int spindle_batch_cancelled(spindle_batch *b, size_t i);
/* Request i's task context, for the task-side calls (progress, items, channels,
 * spindle_task_id()...): borrowed for the duration of the call; NULL if i is out of range.
 * spindle_task_fail() on it does not settle the request: use spindle_batch_reject(). */
spindle_task_ctx *spindle_batch_task(spindle_batch *b, size_t i);

/* Accepts request i with its result: msgpack bytes holding exactly one value (len 0: nil),
 * copied. SPINDLE_ERR_INVALID if i is out of range, the request is already settled, or the
 * bytes are not exactly one msgpack value: the request is then left as it was and the message
 * is in spindle_batch_errstr(). SPINDLE_ERR_NOMEM if the copy fails. */
int spindle_batch_accept(spindle_batch *b, size_t i, const char *result, size_t len);
/* The same with the result given as an object (NULL: nil), or as an integer. */
int spindle_batch_accept_object(spindle_batch *b, size_t i, const msgpack_object *result);
int spindle_batch_accept_int(spindle_batch *b, size_t i, int64_t result);
/* Rejects request i with a printf-style error (truncated to 1 KiB): a failed attempt, retried
 * per the task's policy. SPINDLE_ERR_INVALID if i is out of range or already settled. */
int spindle_batch_reject(spindle_batch *b, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Rejects every request not yet settled with the error and returns SPINDLE_ERR_TASK_FAILED,
 * so a handler can end with `return spindle_batch_fail(b, "model not loaded");`. */
int spindle_batch_fail(spindle_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* What became of request i so far: 1 accepted, -1 rejected, 0 not settled (or out of range). */
int spindle_batch_settled(const spindle_batch *b, size_t i);
/* The message of the last refused call on b, borrowed until the next one. */
const char *spindle_batch_errstr(const spindle_batch *b);

#ifdef __cplusplus
}
#endif
#endif
