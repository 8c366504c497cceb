/* Rate limits in the store: the admin side (set, remove, read a queue's limits). The claim
 * script applies them (scripts.c, lua_limits.h). */
#ifndef SPINDLE_STORE_LIMITS_H
#define SPINDLE_STORE_LIMITS_H

#include "store/conn.h"

/* Field of the limits hash that holds the queue's own limit: not a valid function name. */
#define SPINDLE_LIMIT_QUEUE_FIELD "*"

/* Sets field (SPINDLE_LIMIT_QUEUE_FIELD or a function name) of queue's limits to spec
 * ("COUNT/INTERVAL_MS/BURST", checked by the caller). *full is 1 when nothing was set
 * because the queue has max limits already. One script call. */
int spindle_store_limit_set(spindle_store *s, const char *queue, const char *field,
                            const char *spec, int max, int *full);
/* Removes field of queue's limits and its bucket; *removed is 1 if there was one. */
int spindle_store_limit_remove(spindle_store *s, const char *queue, const char *field,
                               int *removed);
/* HGETALL of queue's limits hash into *hash (caller frees): an array of field, spec pairs
 * of strings. SPINDLE_ERR_REDIS for a key of the wrong type. */
int spindle_store_limits_read(spindle_store *s, const char *queue, redisReply **hash);

#endif
