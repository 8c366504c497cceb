/* Worker middleware: hooks that run around every task a worker (or a synchronous client)
 * runs, for logging, metrics, rate limits, admission checks.
 *
 * A middleware is registered on the registry like a function, with spindle_registry_use(),
 * from a program or from a task library's SPINDLE_PLUGIN_ENTRY. The chain is an onion:
 *
 *   before 1, before 2, …  (registration order)
 *     the task: function lookup, argument checks, the function, the result check
 *   after 2, after 1       (reverse order; on_error instead of after when the task failed)
 *
 * Every task a slot runs goes through the chain, including those the worker itself fails
 * (an unknown function, arguments that are not an array), so a logger sees them all. A task
 * that kills its process (crash, forced kill after a timeout or a cancel grace) ends without
 * its after or on_error hooks: the process running them is gone.
 *
 * Where hooks run: in the slot that runs the task. With --pool process every slot is a child
 * process forked after the libraries were loaded, so a middleware's state (counters, token
 * buckets) is per slot process, starting from what it was at fork. With --pool thread the
 * slots are threads of one process sharing that state, so hooks must be thread-safe (a mutex
 * or atomics around anything they change). A before that blocks (a rate limiter waiting for a
 * token) holds its slot, and counts against the task's timeout. */
#ifndef SPINDLE_MIDDLEWARE_H
#define SPINDLE_MIDDLEWARE_H

#include <stddef.h>

#include "spindle/worker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One middleware. Any hook may be NULL. ctx is the running task's context: spindle_task_id(),
 * spindle_task_queue(), spindle_task_func(), spindle_task_attempt() and
 * spindle_task_userdata() (the function's userdata; NULL when the function is unknown) work
 * in every hook. userdata is the middleware's own, borrowed for the life of the registry. */
typedef struct spindle_middleware {
    const char *name; /* for messages; a function-style name, copied by spindle_registry_use() */
    /* Runs before the task. SPINDLE_OK lets it go on. Anything else refuses it: the task
     * fails with the message given through spindle_task_fail(ctx, …) (or one naming the
     * middleware and the code when there is none) and goes through its retry policy like any
     * failure; the later befores and the task do not run, but the on_error hooks of this
     * middleware and of the ones before it do. */
    int (*before)(spindle_task_ctx *ctx, void *userdata);
    /* Runs after a task that succeeded, with its result (one msgpack value, len bytes,
     * borrowed for the call) and the time it took in ms (lookup, checks and the function;
     * the middleware chain excluded). Observes only: it cannot change the outcome, and a
     * spindle_task_fail() here is ignored. */
    void (*after)(spindle_task_ctx *ctx, const char *result, size_t len, double elapsed_ms,
                  void *userdata);
    /* Runs after a task that failed (or was refused by a before), with the error text
     * (NUL-terminated, borrowed for the call) and the time as for after (0 when a before
     * refused it). Observes only, like after. */
    void (*on_error)(spindle_task_ctx *ctx, const char *error, double elapsed_ms, void *userdata);
    void *userdata;
} spindle_middleware;

/* Adds mw at the end of reg's chain. *mw is copied (its name too); its userdata is borrowed
 * for the life of reg. SPINDLE_ERR_INVALID (message in spindle_registry_errstr()) for a bad
 * name, a name already used, or a middleware with no hook at all. */
int spindle_registry_use(spindle_registry *reg, const spindle_middleware *mw);
/* Number of middlewares in reg's chain. */
size_t spindle_registry_middleware_count(const spindle_registry *reg);

#ifdef __cplusplus
}
#endif
#endif
