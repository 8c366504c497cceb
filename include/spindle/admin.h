/* Operator reads over a whole namespace, for tools such as `spindle queues`: what a producer
 * needs to look at, not to enqueue. Calls are made on a connected client (client.h) and
 * follow its conventions: a spindle_status code, and on failure a message in
 * spindle_errstr() that is replaced by the next failing call. */
#ifndef SPINDLE_ADMIN_H
#define SPINDLE_ADMIN_H

#include <stddef.h>

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One queue of the namespace and its counts. */
typedef struct spindle_queue_stat {
    char name[129];    /* the queue name: 1-128 bytes and a NUL */
    long long pending; /* tasks waiting to run (length of NS:{Q}:pending) */
    long long running; /* tasks claimed by a worker and not settled (its in-flight lists) */
} spindle_queue_stat;

/* Lists the queues in NS:queues, sorted by name, with their counts. On success *out holds *n
 * entries, or is NULL when the namespace has no queue; the caller frees it with
 * spindle_queue_list_free(). On failure *out is NULL and *n is 0: SPINDLE_ERR_IO if Redis
 * cannot be reached, SPINDLE_ERR_REDIS if it answers an error, SPINDLE_ERR_PROTOCOL if a key
 * holds something unexpected, SPINDLE_ERR_NOMEM.
 *
 * Costs one round trip plus two per queue. The counts of each queue are read when that queue
 * is reached, so they are a snapshot per queue, not one atomic picture of the namespace. */
int spindle_queue_list(spindle_client *c, spindle_queue_stat **out, size_t *n);

/* Frees a list returned by spindle_queue_list(). NULL is a no-op. */
void spindle_queue_list_free(spindle_queue_stat *list);

#ifdef __cplusplus
}
#endif
#endif
