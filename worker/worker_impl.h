/* The worker's private structures, shared by the files of worker/. */
#ifndef SPINDLE_WORKER_IMPL_H
#define SPINDLE_WORKER_IMPL_H

#include <signal.h>
#include <stdatomic.h>

#include <msgpack.h>

#include "common/error.h"
#include "common/names.h"
#include "spindle/batch.h"
#include "spindle/middleware.h"
#include "spindle/progress.h"
#include "spindle/worker.h"
#include "store/ops.h"

typedef struct registry_entry {
    char *name;
    spindle_task_fn fn;
    void *userdata;
    int needs_process; /* refused by thread pools: see spindle_registry_require_process() */
    /* A batch function (spindle/batch.h): its handler and bounds; NULL for a plain one. */
    spindle_batch_fn batch_fn;
    int max_batch;
    long max_wait_ms;
} registry_entry;

struct spindle_registry {
    registry_entry *entries;
    size_t n, cap;
    size_t nbatch;          /* how many entries are batch functions */
    spindle_middleware *mw; /* the chain, in registration order (names owned) */
    size_t nmw, capmw;
    spindle_error err;
};

struct spindle_sync_task;

/* An error message a task sets about itself: 1 KiB is plenty for a human-readable line. */
#define TASK_ERROR_MAX 1024

/* What a running task is given. The slot fills the environment part (store, worker_id,
 * queue, cancel) once per task before spindle_execute() fills in the rest; everything is
 * borrowed for the duration of the call. */
struct spindle_task_ctx {
    const char *id, *queue, *func;
    long attempt;
    void *userdata;
    const registry_entry *entry; /* the function's entry; NULL if unknown */
    int failed;
    char error[TASK_ERROR_MAX];
    /* The slot's connection, for calls a task makes on Redis (progress, items, channels):
     * a slot runs one task at a time, so the task may use it freely while it runs. */
    spindle_store *store;
    const char *worker_id; /* the slot's id: the task hash's `worker` field while it runs */
    /* Set (never cleared while the task runs) once a cancel request for this task is seen,
     * by the supervisor (shared memory) or in a reply from Redis. */
    atomic_int *cancel;
    /* Channels (worker/task_channel.c): the message of the last failed channel call, and the
     * task's group, read from its hash on first use (group_read 1; "" when it has none). */
    spindle_error chan_err;
    int group_read;
    char group[SPINDLE_NAME_MAX + 1];
    /* In a synchronous client (include/spindle/sync.h) store is NULL and this points to the
     * task's in-memory record (common/sync_task.h): a task-side call that would write to Redis
     * (progress, items, channels, cancel) writes there instead. NULL in a worker's slot. */
    struct spindle_sync_task *sync;
    /* Progress coalescing (task_progress.c): at most one write per interval; a report inside
     * it waits here for the next report past it or for the flush after the function. */
    long progress_interval_ms; /* from the worker options, via the slot */
    /* Payload bounds from the worker options (<= 0: the defaults of spindle/bounds.h). */
    long max_args_bytes, max_result_bytes, max_items;
    int max_depth;              /* <= 0: SPINDLE_MSGPACK_MAX_DEPTH */
    long max_channel_msg_bytes; /* <= 0: SPINDLE_CHANNEL_MSG_MAX */
    size_t items;               /* items emitted by this attempt so far */
    struct {
        int pending;         /* a report not yet written */
        int written;         /* a write was attempted for this task */
        int64_t last_ms;     /* monotonic time of the last write attempted */
        int64_t done, total; /* the pending report */
        size_t msg_len;
        char msg[SPINDLE_PROGRESS_MSG_MAX + 1];
    } progress;
    /* The last failed task-side call's message (spindle_task_errstr()). */
    spindle_error call_err;
};

/* Writes the task's pending progress report, if any: called once the function has returned,
 * before the task settles, so that the last report is always stored. A failure is logged. */
void spindle_task_progress_flush(spindle_task_ctx *ctx);

/* Finds a function by name; NULL if not registered. Borrowed for the life of reg. */
const registry_entry *spindle_registry_find(const spindle_registry *reg, const char *name);

/* Runs the befores of reg's chain in order on ctx. *entered receives how many ran (the
 * refusing one included). Returns SPINDLE_OK, or the refusal's code with ctx->failed set and
 * its message in ctx->error (worker/middleware.c). */
int spindle_middleware_enter(const spindle_registry *reg, spindle_task_ctx *ctx, size_t *entered);
/* Runs the afters (ok) or on_errors (!ok) of the first `entered` middlewares in reverse order.
 * payload is the result bytes or the error text (not NUL-terminated). */
void spindle_middleware_leave(const spindle_registry *reg, spindle_task_ctx *ctx, size_t entered,
                              int ok, const char *payload, size_t len, double elapsed_ms);

/* Replaces the task refs in the args of the task ctx runs by what its dependencies handed
 * over (one read; worker/deps.c), new nodes in zone. SPINDLE_OK, or a code with the message
 * in err: the task must then fail with it (a dependency that failed without run anyway, an
 * outcome missing, Redis unreachable). */
int spindle_task_deps(spindle_task_ctx *ctx, msgpack_object *args, msgpack_zone *zone,
                      spindle_error *err);

/* Runs one claimed task with the registry, inside its middleware chain. env carries the
 * caller's part of the context (queue, store, worker_id, cancel, sync; see spindle_task_ctx),
 * copied here. A slot and a synchronous client both run tasks through this one function. On success
 * returns 1 with the result's msgpack bytes in out; on failure returns 0 with the error text in out
 * (not NUL-terminated). zone is scratch memory for decoding the args, cleared here.
 * in_thread: the caller is a thread slot, which refuses functions that need a process. */
int spindle_execute(const spindle_registry *reg, const spindle_claimed *task,
                    const spindle_task_ctx *env, int in_thread, msgpack_zone *zone,
                    msgpack_sbuffer *out);

#endif
