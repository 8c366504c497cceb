/* Reading a task's progress from its handle (progress.h). */
#include "producer/client_impl.h"
#include "spindle/progress.h"
#include "store/ops.h"

int spindle_progress_get(spindle_client *c, const spindle_handle *h, spindle_progress *out)
{
    if (c->sync)
        return spindle_sync_progress(c, h, out);
    return spindle_store_progress(&c->store, h->queue, h->id, out);
}
