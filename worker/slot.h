/* One slot of a worker's pool: a loop that claims a batch from the highest-priority queue
 * that has work (or the one weighted priorities pick), runs it one task at a time, settles it in
 * one script call, and sleeps in BRPOP on the queues' wake lists when there is nothing to do. A
 * slot runs in a child process (--pool process) or a thread (--pool thread) and has its own Redis
 * connection and worker id; it reports to its supervisor through its spindle_slot_state. */
#ifndef SPINDLE_WORKER_SLOT_H
#define SPINDLE_WORKER_SLOT_H

#include <stddef.h>

#include "spindle/worker.h"
#include "worker/beat.h"
#include "worker/cancel_ring.h"
#include "worker/slot_state.h"

/* How long an idle slot blocks on its queues' wake lists before it looks again (ms): bounds
 * idle cost (one BRPOP a second, and a claim every IDLE_CLAIM_EVERY of them: slot.c) and
 * stop delay. An idle slot is silent this long between signs of progress, which its
 * supervisor allows for before it stops beating for it. */
#define SPINDLE_SLOT_IDLE_WAIT_MS 1000

typedef struct spindle_slot_config {
    const spindle_worker_options *opts; /* url, ns, prefetch, timeouts */
    char *const *queues;
    size_t nqueues;
    const int *weights; /* one per queue: weighted priorities (weighted.h); NULL: strict */
    const spindle_registry *reg;
    const spindle_beat_info *beat;
    int in_thread; /* 1 in a thread pool: functions that need a process are refused */
    /* Tasks the supervisor heard were cancelled: a slot does not start those (shared). */
    struct spindle_cancel_ring *cancelled;
    /* A descriptor of the supervisor's that a forked slot closes at once (its cancel
     * subscription, which must not outlive the supervisor's own use of it); -1: none. */
    int supervisor_fd;
    /* The metrics counters (worker/metrics.h, shared) or NULL when off; and the endpoint's
     * listening socket, which a forked slot closes like supervisor_fd (-1: none). */
    struct spindle_metrics *metrics;
    int metrics_fd;
} spindle_slot_config;

/* Serves until st->stop is set, then hands back what it has not started and returns
 * SPINDLE_OK. Everything it needs is borrowed from cfg for the duration. Writes its id into
 * st before anything else, and its first heartbeat before its first claim. A Redis outage
 * is waited out with back-off, never returned. Returns an error status when Redis refused
 * to settle a batch: the caller ends the slot, and its supervisor puts back the tasks it
 * held. */
int spindle_slot_run(const spindle_slot_config *cfg, spindle_slot_state *st);

#endif
