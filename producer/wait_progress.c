/* spindle_wait_progress() (progress.h): a wait that reports the task's progress as it goes.
 *
 * It is spindle_wait() cut into short slices (spindle_wait_sliced()), reading the progress
 * fields between them, so it blocks on the same completion list and returns the same way.
 * The callback runs only when progress_seq moved, so a waiter sees each stored report once
 * (reports the worker coalesced away were never stored), and once more after the end, since
 * the worker stores the task's last report before it settles. */
#include <string.h>

#include "producer/client_impl.h"
#include "spindle/progress.h"
#include "store/ops.h"

typedef struct watch {
    void (*on_progress)(const spindle_progress *p, void *userdata);
    void *userdata;
    long seen; /* progress_seq last passed to the callback */
} watch;

/* Calls the callback if the stored progress changed. A task already gone (a TTL-0 task that
 * just succeeded) is not an error here: the wait itself reports what became of it. */
static int look(spindle_client *c, const spindle_handle *h, void *arg)
{
    watch *w = arg;
    spindle_progress p;
    int rc = spindle_progress_get(c, h, &p);
    if (rc == SPINDLE_ERR_NOT_FOUND)
        return SPINDLE_OK;
    if (rc != SPINDLE_OK)
        return rc;
    if (p.seq != w->seen) {
        w->seen = p.seq;
        w->on_progress(&p, w->userdata);
    }
    return SPINDLE_OK;
}

int spindle_wait_progress(spindle_client *c, const spindle_handle *h, long timeout_ms,
                          void (*on_progress)(const spindle_progress *p, void *userdata),
                          void *userdata, spindle_result **out)
{
    if (on_progress == NULL)
        return spindle_wait(c, h, timeout_ms, out);
    watch w = {.on_progress = on_progress, .userdata = userdata, .seen = 0};
    int rc = spindle_wait_sliced(c, h, timeout_ms, SPINDLE_WAIT_PROGRESS_SLICE_MS, look, &w, out);
    if (rc != SPINDLE_OK && rc != SPINDLE_ERR_TASK_FAILED && rc != SPINDLE_ERR_CANCELLED &&
        rc != SPINDLE_ERR_TIMEOUT)
        return rc;
    /* The task ended (its last report) or the time ran out (a report written during the last
     * slice), unless already seen. The wait's message is kept. */
    spindle_error saved = c->err;
    look(c, h, &w);
    c->err = saved;
    return rc;
}
