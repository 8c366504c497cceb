/* What a slot (one child process or thread of a worker's pool) tells its supervisor: its
 * worker id, the task it is running and since when, its counts and the last time its loop
 * made progress; and the stop flag the supervisor sets.
 *
 * Why shared memory and not a pipe: the supervisor must know which task a child was running
 * at the instant it died (to settle it) and how long it has been running (to kill it on
 * timeout), without the child's cooperation, since a crashed or stuck child cooperates with
 * nobody. The table is an anonymous MAP_SHARED mapping made before the children are forked
 * (plain memory for a thread pool). Counters and flags are C11 atomics; the task fields are
 * published under a sequence counter (odd while the slot writes them), so a reader retries
 * rather than seeing half of one task and half of the next. */
#ifndef SPINDLE_WORKER_SLOT_STATE_H
#define SPINDLE_WORKER_SLOT_STATE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/names.h"
#include "store/keys.h"

/* The running task as published by its slot. */
typedef struct spindle_slot_task {
    int running; /* 0: the slot is between tasks and the rest is stale */
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
    char func[SPINDLE_NAME_MAX + 1]; /* for the metrics of a task its slot died running */
    long attempt;
    int64_t started_mono_ms, started_wall_ms;
    long timeout_ms; /* 0: none */
    int lease;       /* 1: it holds its single-file queue's lease, which the supervisor renews */
} spindle_slot_task;

typedef struct spindle_slot_state {
    atomic_uint seq;
    atomic_int stop;          /* set by the supervisor: hand back, finish, exit */
    atomic_int ready;         /* the slot has its id and its first heartbeat in Redis */
    atomic_int exited;        /* a thread slot returned (process slots are reaped) */
    atomic_llong progress_ms; /* monotonic time the loop last made progress */
    atomic_ulong processed, failed;
    /* A cancel request for the running task: cleared by the slot before it publishes a task,
     * set by whoever sees the request (the supervisor, or the slot from a Redis reply). */
    atomic_int cancel;
    /* Held (1) by the slot while it clears `cancel` and publishes a task, and by the
     * supervisor while it matches a request to the published task and sets `cancel`: so a
     * request for one task can never set the flag of the next. */
    atomic_int cancel_lock;
    char id[SPINDLE_WORKER_ID_MAX]; /* these three are written once, before ready is set */
    long pid;
    int64_t started_wall_ms;
    spindle_slot_task task; /* under seq */
} spindle_slot_state;

struct spindle_cancel_ring;

/* Clears a slot state for a new slot. */
void spindle_slot_state_reset(spindle_slot_state *st);
/* The slot publishes the task it starts, or that it finished (running = 0). */
void spindle_slot_publish(spindle_slot_state *st, const spindle_slot_task *task);
/* The slot starts task: under the cancel lock, clears the cancel flag, publishes the task,
 * and looks it up in the ring of cancelled tasks (NULL: none). Returns 0 once the task is
 * published, or 1 if it was cancelled before it started: it is then not published, and must
 * not run. */
int spindle_slot_begin(spindle_slot_state *st, const spindle_slot_task *task,
                       struct spindle_cancel_ring *ring);
/* The supervisor heard that task (id, attempt) was cancelled: sets the slot's cancel flag if
 * that task is the one the slot has published. Returns 1 if it did, 0 if the slot runs
 * something else, -1 if the lock could not be taken (the slot died holding it). */
int spindle_slot_flag_cancel(spindle_slot_state *st, const char *id, long attempt);
/* A consistent copy of the published task: 1. 0 (and *out cleared) if the slot died in the
 * middle of publishing, so what it was running is unknown. */
int spindle_slot_snapshot(spindle_slot_state *st, spindle_slot_task *out);

#endif
