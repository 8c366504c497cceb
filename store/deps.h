/* Dependencies between tasks, the Redis side (docs/PROTOCOL.md, "Dependencies"): the enqueue
 * of a task with task refs in its args, and the read of the outcomes handed over to it. */
#ifndef SPINDLE_STORE_DEPS_H
#define SPINDLE_STORE_DEPS_H

#include <stddef.h>

#include "common/deps.h"
#include "store/ops.h"

/* What became of a task enqueued with dependencies. */
enum spindle_deps_start {
    SPINDLE_DEPS_PENDING,   /* every dependency had succeeded: pending at once */
    SPINDLE_DEPS_WAITING,   /* `waiting` for dependencies still to end */
    SPINDLE_DEPS_FAILED,    /* a dependency had failed (no run anyway): ended failed */
    SPINDLE_DEPS_CANCELLED, /* a dependency had been cancelled: ended cancelled */
};

/* Enqueues task t on queue with the n distinct dependencies refs (one script call). anyway:
 * run even if some fail. On success *start says what became of it. SPINDLE_ERR_NOT_FOUND when
 * a dependency is unknown or expired: its id is copied into missing (size SPINDLE_ID_LEN + 1)
 * and nothing was written; the message is left to the caller. */
int spindle_store_enqueue_deps(spindle_store *s, const char *queue, const spindle_new_task *t,
                               const spindle_task_opts *opts, const spindle_dep_ref *refs, size_t n,
                               int anyway, enum spindle_deps_start *start, char *missing);

/* Reads what task id of queue was handed by its n dependencies: one HMGET. outs[i] receives
 * the outcome of refs[i] (tag 0 when there is none), its data borrowed from *reply, which the
 * caller frees with freeReplyObject(); *anyway is 1 if the task was enqueued to run anyway. */
int spindle_store_dep_outcomes(spindle_store *s, const char *queue, const char *id,
                               const spindle_dep_ref *refs, size_t n, spindle_dep_outcome *outs,
                               int *anyway, redisReply **reply);

#endif
