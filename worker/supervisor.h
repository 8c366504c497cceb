/* The worker object and its supervisor loop, shared by worker.c (the public API, start-up)
 * and supervisor.c (the loop). */
#ifndef SPINDLE_WORKER_SUPERVISOR_H
#define SPINDLE_WORKER_SUPERVISOR_H

#include <signal.h>

#include "common/error.h"
#include "store/cancel_sub.h"
#include "store/ops.h"
#include "worker/pool.h"

#define SPINDLE_WORKER_MAX_SLOTS 1024

/* A slot that ended and whose tasks still have to be settled or put back in Redis (kept
 * until Redis accepts it, so an outage at the moment of a crash loses nothing). */
typedef struct grave {
    char id[SPINDLE_WORKER_ID_MAX];
    spindle_slot_task task; /* what it was running, if task.running */
    int fail_task;          /* 1: settle that task as a failed attempt with cause */
    int cancel_task;        /* 1: ...as ended for its cancel request (cause: the reason) */
    char cause[256];
} grave;

struct spindle_worker {
    spindle_worker_options opts;
    char **queues;
    size_t nqueues;
    int *weights; /* one per queue, or NULL: strict priority */
    spindle_registry *reg;
    spindle_store store; /* the supervisor's own connection */
    spindle_error err;
    char id[SPINDLE_WORKER_ID_MAX]; /* the supervisor's: sweep lock owner, log lines */
    volatile sig_atomic_t stop_requests;
    spindle_slot_state *table;
    pool_slot *slots;
    size_t nslots;
    grave *graves;
    size_t ngraves, graves_cap;
    spindle_beat_info beat;
    spindle_slot_config cfg;
    unsigned long processed, failed; /* of slots that ended */
    int restart_streak;
    unsigned long sweeps;    /* sweeps this worker made (it audits every so many) */
    int64_t sweep_warned_ms; /* last "sweeping ... refused" line: at most one per 10 s */
    int64_t index_warned_ms; /* last "NS:workers refused" line: likewise */
    int in_outage;
    int64_t sweep_after_ms; /* monotonic: no sweep before, set when an outage ends */
    /* The slots the last round of heartbeats beat for (ids in the shared table): the sweep
     * knows them alive without asking Redis. */
    const char *beaten[SPINDLE_WORKER_MAX_SLOTS];
    size_t nbeaten;
    int rounds_unindexed; /* rounds since the beaten ids were added to NS:workers */
    /* Cancellation (cancel.c): the ring the slots read, the subscription to NS:cancel and
     * its error record, and when to try subscribing again while it is down. */
    spindle_cancel_ring *cancelled;
    spindle_cancel_sub sub;
    spindle_error sub_err;
    int64_t sub_retry_ms;
    int sub_warned;
    struct spindle_cron_state *cron; /* periodic tasks (cron.c), NULL until the first look */
    /* --metrics-addr (metrics_server.c): the counters shared with the slots, and the
     * endpoint; both NULL when metrics are off. */
    struct spindle_metrics *metrics;
    struct spindle_metrics_server *metrics_server;
};

/* Runs the pool until it has stopped: every slot ended and buried. */
int spindle_supervise(spindle_worker *w);

#endif
