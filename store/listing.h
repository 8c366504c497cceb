/* Operator reads of what the fleet leaves in Redis: a queue's dead letters, the workers'
 * heartbeats, and the sizes of a queue's scheduled and dead sets (docs/PROTOCOL.md).
 *
 * The results are decoded here into the plain data types of spindle/admin.h, so that the
 * producer only validates names and gathers; nothing here writes to Redis. Each read is
 * tolerant of what an operator may have written by hand: a member that cannot be a task id
 * or worker id is skipped, a field that is not a number reads as 0, and a text too long for
 * its array is cut. Only a key of the wrong type for a whole listing is an error
 * (SPINDLE_ERR_PROTOCOL, naming the key). */
#ifndef SPINDLE_STORE_LISTING_H
#define SPINDLE_STORE_LISTING_H

#include <stddef.h>

#include "spindle/admin.h"
#include "store/conn.h"

/* ZCARD of the queue's scheduled and dead sets, and of its waiting index unless waiting is
 * NULL (a missing set counts 0). One round trip. */
int spindle_store_retry_counts(spindle_store *s, const char *queue, long long *scheduled,
                               long long *dead, long long *waiting);

/* The dead letters of queue, newest first: ZREVRANGE of the newest max members of
 * NS:{Q}:dead (max 0: all), then one pipelined HMGET of func, error and attempts per id (two
 * round trips). An id whose task hash is gone, or is not a hash, is still listed, with func
 * and error "" and attempts 0; a member that is not a task id is skipped (it still counts
 * against max, so that one range read is enough). On success *out holds
 * *n entries (NULL when there are none) that the caller frees with
 * spindle_store_free_dead(); on failure *out is NULL and *n 0. */
int spindle_store_dead_letters(spindle_store *s, const char *queue, size_t max,
                               spindle_dead_letter **out, size_t *n);
/* Frees what spindle_store_dead_letters() returned. NULL is a no-op. */
void spindle_store_free_dead(spindle_dead_letter *list, size_t n);

/* The workers of NS:workers that have a heartbeat hash, sorted by id: SMEMBERS, then one
 * pipelined HGETALL per id (two round trips). An id without a hash (its worker is dead, the
 * sweep has not pruned it yet) or with a key of another type is skipped. Fields absent or
 * malformed read as 0 or "". Same ownership as spindle_store_dead_letters(), freed with
 * spindle_store_free_workers(). */
int spindle_store_workers(spindle_store *s, spindle_worker_info **out, size_t *n);
/* Frees what spindle_store_workers() returned. NULL is a no-op. */
void spindle_store_free_workers(spindle_worker_info *list, size_t n);

#endif
