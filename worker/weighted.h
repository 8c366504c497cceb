/* Weighted priorities: which queue a slot claims from next (spindle_worker_options.weights).
 *
 * Stride scheduling over tasks, not claims: every queue has a pass; claiming n tasks from
 * queue q advances its pass by n / weight(q), and the slot tries the queues in order of
 * pass, lowest first (ties in configured order). Under a backlog on every queue, queue q
 * therefore gets weight(q) / sum of weights of the tasks claimed, whatever the batch sizes.
 *
 * Batches and shares: a claim takes up to the adaptive batch, but while another queue is
 * busy (its last claim came back full) a claim from q takes at most weight(q) tasks, so the
 * queues interleave in rounds of sum(weights) tasks: 6:3:1 alternates finely (rounds of 10),
 * 60:30:10 claims bigger batches (fewer round trips) in rounds of 100. A queue alone with
 * work claims the full batch.
 *
 * Empty queues: a queue whose claim came back empty is not credited for the time it had
 * nothing (its pass jumps to the pass of the queue served instead, so it cannot bank a
 * burst), and it is tried again when that queue has claimed past it: about once per claim
 * of the busy queue, so new work on a low queue waits at most one batch of a busy high one.
 *
 * Pure bookkeeping (no Redis), tested without a server in tests/test_priority.c. */
#ifndef SPINDLE_WORKER_WEIGHTED_H
#define SPINDLE_WORKER_WEIGHTED_H

#include <stddef.h>

/* Most queues one scheduler orders (SPINDLE_STORE_MAX_QUEUES). */
#define SPINDLE_WEIGHTED_MAX 32

typedef struct spindle_weighted {
    size_t n;
    int weight[SPINDLE_WEIGHTED_MAX]; /* 1..SPINDLE_MAX_WEIGHT */
    double pass[SPINDLE_WEIGHTED_MAX];
    int busy[SPINDLE_WEIGHTED_MAX]; /* its last claim came back full (initially assumed) */
} spindle_weighted;

/* Starts with n queues (at most SPINDLE_WEIGHTED_MAX) and their weights, all passes 0. */
void spindle_weighted_init(spindle_weighted *w, const int *weights, size_t n);
/* Writes into order[0..n) the queue indexes in the order to try them now. */
void spindle_weighted_order(const spindle_weighted *w, size_t *order);
/* The most tasks to claim from queue q given the slot's current batch: batch, or at most
 * weight(q) while another queue is busy. At least 1. */
int spindle_weighted_claim_max(const spindle_weighted *w, size_t q, int batch);
/* Records a claim from queue q that asked for max tasks and got claimed of them (running
 * tasks; ids dropped or deferred by a rate limit do not count). A claim that got nothing is
 * recorded with spindle_weighted_empty() instead. */
void spindle_weighted_claimed(spindle_weighted *w, size_t q, int max, int claimed);
/* Records that queue q had nothing to claim, and served is the queue the slot went on to
 * serve (SIZE_MAX: none had work). */
void spindle_weighted_empty(spindle_weighted *w, size_t q, size_t served);

#endif
