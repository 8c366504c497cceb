/* Progress and partial results: what a running task reports about how far it has come and
 * the items it produces on the way, and how a caller reads both.
 *
 * A task reports with spindle_task_progress() and emits items with spindle_task_emit()
 * (worker side). Reports are stored in the task hash (docs/PROTOCOL.md, "Progress"), items
 * in a stream per task ("Partial results (items)"); callers read them with the functions
 * below, with the client of client.h. */
#ifndef SPINDLE_PROGRESS_H
#define SPINDLE_PROGRESS_H

#include <stdint.h>

#include "spindle/bounds.h"
#include "spindle/client.h"
#include "spindle/worker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest progress message kept, in bytes; a longer one is cut at a UTF-8 boundary. */
#define SPINDLE_PROGRESS_MSG_MAX 200

/* The last progress report stored for a task. */
typedef struct spindle_progress {
    int64_t done;                               /* units done */
    int64_t total;                              /* units in all; 0 when unknown */
    char message[SPINDLE_PROGRESS_MSG_MAX + 1]; /* "" if none */
    int64_t updated_at_ms; /* Redis clock, ms since the epoch; 0: no report yet */
    long seq;              /* reports written so far: changes with every stored report */
} spindle_progress;

/* Reads the task's last stored progress report into *out (zeroed when it has none). One
 * round trip. SPINDLE_ERR_NOT_FOUND if the task is unknown or expired. */
int spindle_progress_get(spindle_client *c, const spindle_handle *h, spindle_progress *out);

/* Aggregates the progress of n tasks (handles borrowed) into *sum, in one round trip: done and
 * total are the sums of their last reports (a task without a report, or with an unknown
 * total, adds 0 to total), updated_at_ms the latest report's time, seq the sum of their seqs
 * (so it changes whenever any of them reports), message "". SPINDLE_ERR_INVALID for n 0,
 * SPINDLE_ERR_NOT_FOUND if a task is unknown or expired (the message names it), SPINDLE_ERR_NOMEM.
 */
int spindle_progress_sum(spindle_client *c, spindle_handle *const *handles, size_t n,
                         spindle_progress *sum);

/* As spindle_wait(), with the same returns, and calls on_progress (if not NULL) whenever the
 * task's stored progress changed (its seq), in order, before it returns: with the report
 * seen when the wait starts, with each new one while it blocks (it looks at least every
 * SPINDLE_WAIT_PROGRESS_SLICE_MS), and with the task's last report once it has ended (the
 * worker writes it before the task settles). p is borrowed for the call; userdata is passed
 * through. Costs one HMGET per slice on top of spindle_wait()'s blocking. */
#define SPINDLE_WAIT_PROGRESS_SLICE_MS 100
int spindle_wait_progress(spindle_client *c, const spindle_handle *h, long timeout_ms,
                          void (*on_progress)(const spindle_progress *p, void *userdata),
                          void *userdata, spindle_result **out);

/* ---- items: partial results, read by the caller --------------------------------------- */

typedef struct spindle_items_reader spindle_items_reader;
typedef struct spindle_item spindle_item;

/* Opens a reader of the task's items, from the first. Marks the task (if it has not ended)
 * so that its end is written to the stream: a reader never waits past the task's end.
 * SPINDLE_ERR_NOT_FOUND if the task is unknown or expired. The caller frees *out with
 * spindle_items_close(); h is copied. */
int spindle_items_open(spindle_client *c, const spindle_handle *h, spindle_items_reader **out);
/* The next item in emit order, waiting up to timeout_ms for one (0: just look; negative:
 * until the task ends):
 *   SPINDLE_OK with *out an item        (caller frees it with spindle_item_free())
 *   SPINDLE_OK with *out NULL           the task has ended and every item was read; later
 *                                       calls answer the same
 *   SPINDLE_ERR_TIMEOUT, *out NULL      no item within timeout_ms; the task is still going
 *   SPINDLE_ERR_NOT_FOUND               the task and its items expired (or never existed)
 *   SPINDLE_ERR_PROTOCOL                an entry that is not an item (written by hand); the
 *                                       reader skips it, the next call goes on
 * Items of every attempt are kept: a task that is retried emits again, and
 * spindle_item_attempt() tells them apart. */
int spindle_items_next(spindle_client *c, spindle_items_reader *r, long timeout_ms,
                       spindle_item **out);
/* 1 once spindle_items_next() has seen the task's end, else 0. */
int spindle_items_ended(const spindle_items_reader *r);
/* The task's final state once ended (else SPINDLE_STATE_RUNNING, whatever it is). */
spindle_state spindle_items_final_state(const spindle_items_reader *r);
/* Frees the reader. NULL is a no-op. */
void spindle_items_close(spindle_items_reader *r);

/* The item's value, decoded: borrowed until spindle_item_free(it). */
const msgpack_object *spindle_item_value(const spindle_item *it);
/* The item's msgpack bytes, borrowed until spindle_item_free(it). */
const char *spindle_item_raw(const spindle_item *it, size_t *len);
/* The attempt that emitted it (1 for the first run). */
long spindle_item_attempt(const spindle_item *it);
/* Its stream entry id ("1700000000000-0"), borrowed until spindle_item_free(it). */
const char *spindle_item_id(const spindle_item *it);
void spindle_item_free(spindle_item *it);

/* ---- the task side: reports and items from a running task ---------------------------- */

/* SPINDLE_ITEM_MAX, the largest item spindle_task_emit() accepts: spindle/bounds.h. */

/* Reports that the running task has done `done` units of `total` (0: unknown), with an
 * optional message (NULL: none; copied, cut to SPINDLE_PROGRESS_MSG_MAX bytes at a UTF-8
 * boundary). done may exceed total (an estimate that was low): it is stored as given, and
 * readers show at most 100 %.
 *
 * Coalesced: at most one write per worker progress interval (spindle_worker_options
 * .progress_interval_ms, default 100 ms). A report inside the interval is kept and written
 * by the next report past it, or when the function returns, before the task settles: the
 * last report is always stored. (A task run by a synchronous client, sync.h, stores every
 * report at once, in memory.)
 *
 * Returns SPINDLE_OK; SPINDLE_ERR_CANCELLED when the task has a cancel request (seen in
 * memory without Redis, or in the reply of the write): a loop can stop there;
 * SPINDLE_ERR_INVALID for a negative done or total; SPINDLE_ERR_NOT_FOUND when the write was
 * refused because this attempt no longer owns the task (timed out, presumed dead); or the
 * store's error (SPINDLE_ERR_IO...). The message is in spindle_task_errstr(). The task goes
 * on either way: failing it is the function's choice. */
int spindle_task_progress(spindle_task_ctx *ctx, int64_t done, int64_t total, const char *msg);

/* Emits one partial result: buf[0..len) must hold exactly one msgpack value (borrowed for
 * the call). Written at once (not coalesced) as the task's next item; callers read items in
 * order with spindle_items_next(), all of them before the task's end.
 *
 * Returns SPINDLE_OK; SPINDLE_ERR_CANCELLED when the task has a cancel request (the item is
 * stored all the same); SPINDLE_ERR_INVALID for bytes that are not one msgpack value;
 * SPINDLE_ERR_TOO_LARGE above SPINDLE_ITEM_MAX; SPINDLE_ERR_NOT_FOUND when this attempt no
 * longer owns the task; or the store's error. Nothing is stored on an error. The message is
 * in spindle_task_errstr(). */
int spindle_task_emit(spindle_task_ctx *ctx, const void *buf, size_t len);

/* The message of the last failed spindle_task_progress() or spindle_task_emit() of this
 * task ("" if none): borrowed until the next such call or the function's return. A function
 * that returns such a call's status without spindle_task_fail() fails with this message. */
const char *spindle_task_errstr(const spindle_task_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
