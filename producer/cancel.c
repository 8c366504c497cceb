/* Cancel by handle (client.h). The decision (cancel now, mark and announce, or leave a
 * finished task alone) is one script in the store (store/cancel.c), so it cannot race the
 * worker: whatever this call reports is how the task ends. */
#include <string.h>

#include "producer/client_impl.h"
#include "store/ops.h"

int spindle_cancel(spindle_client *c, const spindle_handle *h, long grace_ms, spindle_state *state)
{
    if (grace_ms < -1 || grace_ms > SPINDLE_MAX_CANCEL_GRACE_MS)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "cancel of task %s: grace %ld ms is not -1 (the worker's "
                                 "default) or in 0-%ld",
                                 h->id, grace_ms, SPINDLE_MAX_CANCEL_GRACE_MS);
    if (c->sync) {
        /* A synchronous client's tasks are final when enqueue returns: the completion won. */
        spindle_state st;
        int rc = spindle_sync_status(c, h, &st);
        if (rc == SPINDLE_OK && state)
            *state = st;
        return rc;
    }
    enum spindle_cancel_what what;
    char text[16];
    int rc = spindle_store_cancel(&c->store, h->queue, h->id, grace_ms, &what, text);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "cancel of task %s on queue '%s': ", h->id, h->queue);
    if (what == SPINDLE_CANCEL_MISSING)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in queue '%s' (unknown or expired)", h->id,
                                 h->queue);
    spindle_state st;
    if (spindle_state_parse(text, strlen(text), &st) != SPINDLE_OK)
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL, "task %s has an unknown state '%s'",
                                 h->id, text);
    if (state)
        *state = st;
    return SPINDLE_OK;
}
