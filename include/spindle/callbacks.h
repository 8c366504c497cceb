/* Waiting on many tasks at once, with callbacks as they finish or report progress.
 *
 * spindle_wait_many() blocks on the tasks' completion lists (one BLPOP per queue names all
 * their tasks), so it does not poll the tasks one by one; it wakes at short intervals only to
 * read progress (when an on_progress callback is given) or to take turns between queues (when
 * the handles span several queues). */
#ifndef SPINDLE_CALLBACKS_H
#define SPINDLE_CALLBACKS_H

#include <stddef.h>

#include "spindle/client.h"
#include "spindle/progress.h"

#ifdef __cplusplus
extern "C" {
#endif

enum spindle_wait_mode {
    SPINDLE_WAIT_ANY = 1, /* return once at least one task finished */
    SPINDLE_WAIT_ALL = 2, /* return once every task finished */
};

/* Callbacks of a wait; any may be NULL. index is the handle's position in the array given to
 * spindle_wait_many(). Pointers passed to a callback are borrowed for the call. Callbacks run
 * on the waiting thread between Redis commands, so they may use the client (to enqueue a
 * follow-up task, say); its error message then reflects their calls. */
typedef struct spindle_wait_callbacks {
    /* The task succeeded: r holds its result value. */
    void (*on_success)(size_t index, const spindle_result *r, void *userdata);
    /* The task failed or was cancelled: spindle_result_state(r) says which and
     * spindle_result_error(r) why. */
    void (*on_failure)(size_t index, const spindle_result *r, void *userdata);
    /* The task's stored progress changed (its seq moved), or, at the start of the wait, it
     * already had a report. Not called for tasks already final. */
    void (*on_progress)(size_t index, const spindle_progress *p, void *userdata);
    void *userdata;
} spindle_wait_callbacks;

/* Waits up to timeout_ms (0: just look; negative: forever) until any (SPINDLE_WAIT_ANY) or all
 * (SPINDLE_WAIT_ALL) of the n tasks of handles (borrowed during the call) are final. Every
 * task seen final during the call gets exactly one of on_success / on_failure, whichever
 * mode: a task already final at the start, one whose token arrived, and one that finished
 * while the wait was ending. *first (if first is not NULL) receives the index of the first
 * task seen final (the lowest index among those already final at the start), or n if none.
 *  SPINDLE_OK             the condition holds.
 *  SPINDLE_ERR_TIMEOUT    it did not within timeout_ms (callbacks may still have fired).
 *  SPINDLE_ERR_NOT_FOUND  a task is unknown or expired (the message names its index).
 *  SPINDLE_ERR_INVALID    n is 0, a handle is NULL, or mode is not one of the two.
 * or the error of a failed Redis call. A task that fails is not an error of the wait: it is
 * reported through on_failure. */
int spindle_wait_many(spindle_client *c, spindle_handle *const *handles, size_t n, int mode,
                      long timeout_ms, const spindle_wait_callbacks *cb, size_t *first);

#ifdef __cplusplus
}
#endif
#endif
