/* The worker's side of batch handlers (include/spindle/batch.h): the batch object a handler
 * sees, the gatherer that forms batches in a slot, and the run of one batch.
 *
 * Why a gatherer of its own and not a bigger claim: pending is one list per queue, mixing
 * functions, so a claim cannot ask for "N tasks of f". The slot claims as usual; the tasks of
 * batch functions are copied out of the claim (batch_gather.c) while the others run at once,
 * and the slot claims again from the same queue until each batch is full or its wait is over,
 * then runs it (batch_run.c) and settles it in one script call. Nothing here runs unless the
 * registry holds a batch function. */
#ifndef SPINDLE_WORKER_BATCH_H
#define SPINDLE_WORKER_BATCH_H

#include <stdatomic.h>

#include "spindle/batch.h"
#include "worker/slot.h"
#include "worker/worker_impl.h"

/* What a request is: open, accepted, rejected. */
enum { BATCH_OPEN = 0, BATCH_ACCEPTED = 1, BATCH_REJECTED = -1 };

typedef struct batch_req {
    const char *id;
    long attempt;
    int lease; /* as batch_item's */
    msgpack_object args;
    int state;
    msgpack_sbuffer out; /* the result's msgpack bytes, or the error text */
    spindle_task_ctx *ctx;
    atomic_int cancel; /* request's own flag (its ctx->cancel in a slot) */
    size_t entered;    /* middlewares whose before ran on it */
} batch_req;

struct spindle_batch {
    const char *func, *queue;
    void *userdata;
    size_t n;
    batch_req **req;                  /* the requests shown to the handler */
    struct spindle_cancel_ring *ring; /* the supervisor's cancelled tasks; NULL: none */
    atomic_int *slot_cancel;          /* the slot's flag, for request `shown` */
    size_t shown;                     /* the request the supervisor sees running */
    spindle_error err;
    int failed; /* spindle_batch_fail() was called: its message is in error */
    char error[TASK_ERROR_MAX];
};

/* Calls fn(b, userdata) and applies its contract: after an error return, the requests still
 * open are rejected with spindle_batch_fail()'s message, or one naming the status. */
void spindle_batch_call(spindle_batch *b, spindle_batch_fn fn, void *userdata);

/* The task function spindle_registry_add_batch() registers: runs the batch function found
 * through ctx->entry as a batch of one (synchronous mode, or a task the gatherer could not
 * take). A request left open fails. */
int spindle_batch_single(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result);

/* A gathered request: a copy of what the claim reply said, so the reply can be freed. */
typedef struct batch_item {
    char id[SPINDLE_ID_LEN + 1];
    long attempt;
    long timeout_s;
    char *args; /* owned */
    size_t args_len;
    int64_t claimed_ms; /* monotonic */
    int lease;          /* it holds its single-file queue's lease (then it is alone in its batch) */
} batch_item;

/* What the gatherer borrows from its slot. */
typedef struct spindle_batch_env {
    const spindle_slot_config *cfg;
    spindle_slot_state *st;
    spindle_store *store;
    spindle_claimed *claimed; /* the slot's claim buffer, cfg->opts->prefetch entries */
    int *unsure;              /* set when a claim failed: Redis may have run it anyway */
    void *slot;
    /* Runs claimed[0..n) of queue as ordinary tasks and settles them (slot.c). */
    int (*run)(void *slot, const char *queue, int n);
    /* One step of the slot's back-off while Redis is unreachable. */
    void (*back_off)(void *slot);
    unsigned int *seed; /* for the retry jitter */
} spindle_batch_env;

typedef struct spindle_batcher spindle_batcher;

/* A gatherer for the slot of env (borrowed for its life) into *out; *out is NULL when the
 * registry has no batch function. SPINDLE_ERR_NOMEM. */
int spindle_batcher_new(const spindle_batch_env *env, spindle_batcher **out);
void spindle_batcher_free(spindle_batcher *b);
/* Moves the tasks of batch functions among claimed[0..n) into the gatherer (copied) and
 * packs the others at the front; returns how many others. A task that cannot be copied (out
 * of memory) stays with the others and runs as a batch of one. */
int spindle_batcher_take(spindle_batcher *b, spindle_claimed *claimed, int n);
/* Forms, runs and settles the batches taken from queue, claiming more from it while a batch
 * is open (ordinary tasks claimed meanwhile run through env->run). Holds nothing when it
 * returns. SPINDLE_OK, or the status of a settlement that failed (the slot must then exit:
 * what it held is in its in-flight list). */
int spindle_batcher_serve(spindle_batcher *b, const char *queue);

/* Scratch memory for batches of up to cap requests, one entry of each array per item. */
typedef struct batch_scratch {
    batch_req *req;
    batch_req **shown;
    spindle_task_ctx *ctx;
    spindle_settlement *settle;
    enum spindle_outcome *outcome;
    int *used; /* item i became request i (else it is handed back unstarted) */
    size_t cap;
} batch_scratch;
/* Runs one batch of items[0..k) (k <= sc->cap) of entry e on queue and settles it
 * (batch_run.c). Returns the settlement's status. */
int spindle_batch_run(const spindle_batch_env *env, batch_scratch *sc, const char *queue,
                      const registry_entry *e, const batch_item *items, size_t k);

#endif
