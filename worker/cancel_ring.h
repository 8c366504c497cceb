/* The tasks a worker has heard were cancelled while running (state `running` in Redis: claimed,
 * perhaps not started), shared by its supervisor and its slots.
 *
 * Why: a slot claims a batch of up to `prefetch` tasks and runs them one after the other, so
 * a task can be claimed, hence `running` in Redis, and still wait its turn in a slot that
 * nobody outside can see into. The supervisor adds every cancel request it hears for its
 * queues here; a slot looks a task up just before it starts it and hands it back unstarted
 * if it is here (the settle script then ends it `cancelled`). A ring of the latest requests
 * suffices: a request that has dropped out before its task came up still ends the task
 * `cancelled`, it only lets it run first. One writer (the supervisor), any readers; MAP_SHARED
 * memory for a process pool. */
#ifndef SPINDLE_WORKER_CANCEL_RING_H
#define SPINDLE_WORKER_CANCEL_RING_H

#include <stdatomic.h>

#include "common/names.h"

/* Requests remembered: far more than a worker sees while a batch waits to run (a batch is
 * cut after 50 ms), and small enough (12 KiB) to scan before every task. */
#define SPINDLE_CANCEL_RING 256

typedef struct spindle_cancel_entry {
    atomic_uint seq; /* odd while the supervisor writes the entry */
    char id[SPINDLE_ID_LEN + 1];
    long attempt;
} spindle_cancel_entry;

typedef struct spindle_cancel_ring {
    atomic_uint next;
    spindle_cancel_entry e[SPINDLE_CANCEL_RING];
} spindle_cancel_ring;

/* A new empty ring: MAP_SHARED anonymous memory if shared, else the heap. NULL on failure.
 * Free with spindle_cancel_ring_free() and the same shared flag. */
spindle_cancel_ring *spindle_cancel_ring_new(int shared);
void spindle_cancel_ring_free(spindle_cancel_ring *r, int shared);
/* Remembers (id, attempt), replacing the oldest entry. The one writer only. */
void spindle_cancel_ring_add(spindle_cancel_ring *r, const char *id, long attempt);
/* 1 if (id, attempt) is remembered. NULL r: 0. */
int spindle_cancel_ring_has(spindle_cancel_ring *r, const char *id, long attempt);

#endif
