/* Reading tasks' progress from their handles (progress.h): one, or the sum of many. */
#include <stdlib.h>
#include <string.h>

#include "producer/client_impl.h"
#include "spindle/progress.h"
#include "store/ops.h"

int spindle_progress_get(spindle_client *c, const spindle_handle *h, spindle_progress *out)
{
    if (c->sync)
        return spindle_sync_progress(c, h, out);
    return spindle_store_progress(&c->store, h->queue, h->id, out);
}

/* Adds p into sum as spindle_progress_sum() says. */
static void add(spindle_progress *sum, const spindle_progress *p)
{
    sum->done += p->done;
    sum->total += p->total;
    sum->seq += p->seq;
    if (p->updated_at_ms > sum->updated_at_ms)
        sum->updated_at_ms = p->updated_at_ms;
}

int spindle_progress_sum(spindle_client *c, spindle_handle *const *handles, size_t n,
                         spindle_progress *sum)
{
    memset(sum, 0, sizeof(*sum));
    if (n == 0)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "progress sum of no tasks");
    spindle_progress *each = calloc(n, sizeof(*each));
    const char **queues = calloc(n, sizeof(*queues)), **ids = calloc(n, sizeof(*ids));
    int rc = each && queues && ids
                 ? SPINDLE_OK
                 : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM,
                                     "progress sum of %zu tasks: out of memory", n);
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        queues[i] = handles[i]->queue;
        ids[i] = handles[i]->id;
        if (c->sync)
            rc = spindle_sync_progress(c, handles[i], &each[i]);
    }
    if (rc == SPINDLE_OK && !c->sync)
        rc = spindle_store_progress_many(&c->store, queues, ids, n, each);
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++)
        add(sum, &each[i]);
    free(each);
    free(queues);
    free(ids);
    return rc;
}
