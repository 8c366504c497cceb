/* Retry by id (client.h): the caller's way to run a failed, cancelled or scheduled task
 * again now. The state check and the move back to pending are one script in the store
 * (store/fleet.c), so a task cannot be retried twice or while it runs. */
#include "producer/client_impl.h"
#include "store/ops.h"

int spindle_retry(spindle_client *c, const spindle_handle *h)
{
    if (c->sync)
        return spindle_sync_retry(c, h);
    int rc = spindle_store_retry(&c->store, h->queue, h->id);
    if (rc != SPINDLE_OK && rc != SPINDLE_ERR_NOT_FOUND && rc != SPINDLE_ERR_INVALID)
        spindle_error_wrap(&c->err, "retry of task %s on queue '%s': ", h->id, h->queue);
    return rc;
}
