/* The supervisor's pool: N slots, each a child process or a thread, and the supervisor's
 * record of each. Starting, killing and reaping differ between processes and threads
 * (pool_process.c, pool_thread.c); everything else the supervisor does (worker.c) is the
 * same for both. */
#ifndef SPINDLE_WORKER_POOL_H
#define SPINDLE_WORKER_POOL_H

#include <pthread.h>
#include <sys/types.h>

#include "worker/slot.h"

typedef struct pool_slot {
    spindle_slot_state *st; /* in the shared table */
    int alive;
    pid_t pid; /* process pool */
    pthread_t thread;
    int64_t started_ms, restart_at_ms; /* monotonic */
    int timed_out;                     /* killed (or failed, for a thread) for a timeout */
    spindle_slot_task timed_out_task;  /* the task that timed out */
    int stalled;                       /* killed because its loop stopped making progress */
    /* A cancel request heard for the task it runs (worker/cancel.c). */
    int cancel_noted;
    spindle_slot_task cancel_task; /* the task it was for */
    int64_t cancel_heard_ms;       /* monotonic */
    long cancel_grace_ms;          /* -1: cooperative only */
    int cancel_forced;             /* killed (or ended, for a thread) when the grace ran out */
} pool_slot;

/* Why a slot ended, for the task it was running. */
typedef struct pool_death {
    int status; /* waitpid() status for a process; 0 for a thread that returned */
    int is_process;
} pool_death;

/* The shared table of n slot states: MAP_SHARED anonymous memory for processes, plain
 * memory for threads. NULL on failure. */
spindle_slot_state *pool_table_new(size_t n, int shared);
void pool_table_free(spindle_slot_state *table, size_t n, int shared);

/* Starts slot ps running spindle_slot_run(cfg, ps->st). SPINDLE_ERR_IO (errno in the
 * message) if fork/pthread_create fails. */
int pool_process_start(pool_slot *ps, const spindle_slot_config *cfg, pid_t supervisor,
                       spindle_error *err);
int pool_thread_start(pool_slot *ps, const spindle_slot_config *cfg, spindle_error *err);

/* Reaps one ended process of the pool without blocking (block = 1: waits for one). Returns
 * its index in slots, or -1 if none ended; *status gets its waitpid() status. */
int pool_process_reap(pool_slot *slots, size_t n, int block, int *status);
/* Joins one thread slot that returned; its index or -1. */
int pool_thread_reap(pool_slot *slots, size_t n);

#endif
