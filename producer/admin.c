/* Namespace-wide reads for operators (admin.h): the queue list and its counts. The store
 * does the Redis work (store/query.c, store/listing.c); this file only gathers it into a
 * public array. Dead letters and workers are in fleet_admin.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/client_impl.h"
#include "spindle/admin.h"
#include "store/listing.h"
#include "store/ops.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(((const spindle_queue_stat *)a)->name, ((const spindle_queue_stat *)b)->name);
}

int spindle_queue_list(spindle_client *c, spindle_queue_stat **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_queue_list");
    redisReply *names = NULL;
    int rc = spindle_store_queue_names(&c->store, &names);
    if (rc != SPINDLE_OK)
        return rc;
    size_t count = names->elements;
    spindle_queue_stat *list = count ? calloc(count, sizeof(*list)) : NULL;
    if (count && list == NULL) {
        freeReplyObject(names);
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM,
                                 "listing the queues of namespace '%s': out of memory",
                                 c->store.ns);
    }
    /* spindle_store_queue_names() checked that every name is a string of at most 128 bytes. */
    for (size_t i = 0; i < count; i++)
        snprintf(list[i].name, sizeof(list[i].name), "%s", names->element[i]->str);
    freeReplyObject(names);
    if (count > 1)
        qsort(list, count, sizeof(*list), by_name);
    for (size_t i = 0; i < count; i++) {
        spindle_queue_stat *q = &list[i];
        rc = spindle_store_queue_counts(&c->store, q->name, &q->pending, &q->running);
        if (rc == SPINDLE_OK)
            rc = spindle_store_retry_counts(&c->store, q->name, &q->scheduled, &q->dead,
                                            &q->waiting);
        if (rc != SPINDLE_OK) {
            spindle_error_wrap(&c->err, "counting the tasks of queue '%s': ", list[i].name);
            free(list);
            return rc;
        }
    }
    *out = list;
    *n = count;
    return SPINDLE_OK;
}

void spindle_queue_list_free(spindle_queue_stat *list)
{
    free(list);
}
