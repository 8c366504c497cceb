/* The worker's private structures, shared by the files of worker/. */
#ifndef SPINDLE_WORKER_IMPL_H
#define SPINDLE_WORKER_IMPL_H

#include <signal.h>

#include <msgpack.h>

#include "common/error.h"
#include "spindle/worker.h"
#include "store/ops.h"

typedef struct registry_entry {
    char *name;
    spindle_task_fn fn;
    void *userdata;
    int needs_process; /* refused by thread pools: see spindle_registry_require_process() */
} registry_entry;

struct spindle_registry {
    registry_entry *entries;
    size_t n, cap;
    spindle_error err;
};

/* An error message a task sets about itself: 1 KiB is plenty for a human-readable line. */
#define TASK_ERROR_MAX 1024

struct spindle_task_ctx {
    const char *id, *queue, *func;
    long attempt;
    void *userdata;
    int failed;
    char error[TASK_ERROR_MAX];
};

/* Finds a function by name; NULL if not registered. Borrowed for the life of reg. */
const registry_entry *spindle_registry_find(const spindle_registry *reg, const char *name);

/* Runs one claimed task with the registry. On success returns 1 with the result's msgpack
 * bytes in out; on failure returns 0 with the error text in out (not NUL-terminated). zone
 * is scratch memory for decoding the args, cleared here. in_thread: the caller is a thread
 * slot, which refuses functions that need a process. */
int spindle_execute(const spindle_registry *reg, const spindle_claimed *task, const char *queue,
                    int in_thread, msgpack_zone *zone, msgpack_sbuffer *out);

#endif
