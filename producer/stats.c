/* The throughput of queues for operators (admin.h, spindle_queue_throughput_list): the
 * queue names, one TIME so that every queue is read at the same instant, then the buckets of
 * each queue (store/stats.c). Why its own file: admin.c gathers depths, this gathers
 * counters, and `spindle stats` and `spindle watch` need only this. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/client_impl.h"
#include "spindle/admin.h"
#include "store/ops.h"
#include "store/stats.h"

_Static_assert(SPINDLE_THROUGHPUT_MINUTES == SPINDLE_STATS_MINUTE_BUCKETS,
               "the public throughput holds every minute bucket the store reads");

static int by_name(const void *a, const void *b)
{
    return strcmp(((const spindle_queue_throughput *)a)->name,
                  ((const spindle_queue_throughput *)b)->name);
}

/* Fills list[0..count) with the names given, or with NS:queues sorted when nq is 0. */
static int name_list(spindle_client *c, const char *const *queues, size_t nq,
                     spindle_queue_throughput **list, size_t *count)
{
    redisReply *names = NULL;
    if (nq > 0) {
        for (size_t i = 0; i < nq; i++) {
            int rc = spindle_name_check(queues[i], "queue", &c->err);
            if (rc != SPINDLE_OK)
                return rc;
        }
        *count = nq;
    } else {
        int rc = spindle_store_queue_names(&c->store, &names);
        if (rc != SPINDLE_OK)
            return rc;
        *count = names->elements;
    }
    *list = *count ? calloc(*count, sizeof(**list)) : NULL;
    if (*count && *list == NULL) {
        freeReplyObject(names);
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM,
                                 "reading the throughput of %zu queues: out of memory", *count);
    }
    /* Names are checked: at most 128 bytes (spindle_store_queue_names() checks its own). */
    for (size_t i = 0; i < *count; i++)
        snprintf((*list)[i].name, sizeof((*list)[i].name), "%s",
                 names ? names->element[i]->str : queues[i]);
    if (names) {
        freeReplyObject(names);
        if (*count > 1)
            qsort(*list, *count, sizeof(**list), by_name);
    }
    return SPINDLE_OK;
}

int spindle_queue_throughput_list(spindle_client *c, const char *const *queues, size_t nq,
                                  spindle_queue_throughput **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_queue_throughput_list");
    spindle_queue_throughput *list = NULL;
    size_t count = 0;
    int rc = name_list(c, queues, nq, &list, &count);
    if (rc != SPINDLE_OK)
        return rc;
    int64_t now = 0;
    if (count > 0)
        rc = spindle_store_redis_time(&c->store, &now);
    for (size_t i = 0; rc == SPINDLE_OK && i < count; i++) {
        list[i].read_at_ms = now;
        rc = spindle_store_stats_read(&c->store, list[i].name, now, list[i].ok, list[i].failed,
                                      list[i].ended_by_minute);
        if (rc != SPINDLE_OK)
            spindle_error_wrap(&c->err, "reading the throughput of queue '%s': ", list[i].name);
    }
    if (rc != SPINDLE_OK) {
        free(list);
        return rc;
    }
    *out = list;
    *n = count;
    return SPINDLE_OK;
}

void spindle_queue_throughput_free(spindle_queue_throughput *list)
{
    free(list);
}
