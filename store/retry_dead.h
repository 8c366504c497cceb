/* `spindle retry --all-dead`: the retry script (store/scripts.c "retry") on a queue's dead
 * letters, one pipelined page at a time. */
#ifndef SPINDLE_STORE_RETRY_DEAD_H
#define SPINDLE_STORE_RETRY_DEAD_H

#include <stddef.h>

#include "spindle/inspect.h"
#include "store/conn.h"

/* Runs the retry script on at most limit (0: all) dead letters of queue, oldest first, that
 * failed no later than the newest one at the start (a task that fails again meanwhile is not
 * retried twice). Adds the outcomes to *t. Errors: SPINDLE_ERR_PROTOCOL (the dead set is not
 * a sorted set), SPINDLE_ERR_IO, SPINDLE_ERR_REDIS, SPINDLE_ERR_NOMEM; *t counts what was
 * done before. */
int spindle_store_retry_dead(spindle_store *s, const char *queue, size_t limit,
                             spindle_retry_tally *t);

#endif
