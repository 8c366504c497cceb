/* The metrics table (metrics.h): claiming rows and counting on them, lock-free, from any
 * slot process or thread. */
#include "worker/metrics.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store/ops.h"

const double spindle_metrics_bounds[SPINDLE_METRICS_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

/* Yields spent waiting for a row another slot is claiming: it writes two names, well under a
 * microsecond; running out means it died in the middle, and the row is skipped. */
#define CLAIM_SPINS 10000

spindle_metrics *spindle_metrics_new(int shared)
{
    spindle_metrics *m;
    if (shared) {
        m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        /* An anonymous mapping is zeroed: every atomic starts at 0 and every row free. */
    } else {
        m = calloc(1, sizeof(*m));
        if (m == NULL)
            return NULL;
    }
    atomic_store(&m->overflow.state, 2);
    strcpy(m->overflow.queue, "_overflow");
    strcpy(m->overflow.func, "_overflow");
    return m;
}

void spindle_metrics_free(spindle_metrics *m, int shared)
{
    if (m == NULL)
        return;
    if (shared)
        munmap(m, sizeof(*m));
    else
        free(m);
}

static unsigned long hash(const char *queue, const char *func)
{
    unsigned long h = 5381;
    for (const char *p = queue; *p; p++)
        h = h * 33 + (unsigned char)*p;
    h = h * 33 + 1;
    for (const char *p = func; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h;
}

static int same(const spindle_metrics_row *r, const char *queue, const char *func)
{
    return strncmp(r->queue, queue, SPINDLE_NAME_MAX) == 0 &&
           strncmp(r->func, func, SPINDLE_NAME_MAX) == 0;
}

/* Open addressing: every caller walks the same probe sequence for a pair, so two slots
 * adding one pair at once meet at the row the first one claims, and wait for its names. */
spindle_metrics_row *spindle_metrics_row_of(spindle_metrics *m, const char *queue, const char *func)
{
    if (m == NULL)
        return NULL;
    unsigned long h = hash(queue, func);
    for (size_t k = 0; k < SPINDLE_METRICS_ROWS; k++) {
        spindle_metrics_row *r = &m->rows[(h + k) % SPINDLE_METRICS_ROWS];
        int st = atomic_load_explicit(&r->state, memory_order_acquire);
        if (st == 0) {
            int expect = 0;
            if (atomic_compare_exchange_strong(&r->state, &expect, 1)) {
                snprintf(r->queue, sizeof(r->queue), "%s", queue);
                snprintf(r->func, sizeof(r->func), "%s", func);
                atomic_store_explicit(&r->state, 2, memory_order_release);
                return r;
            }
            st = expect;
        }
        for (int spin = 0; st == 1 && spin < CLAIM_SPINS; spin++) {
            sched_yield();
            st = atomic_load_explicit(&r->state, memory_order_acquire);
        }
        if (st == 1) {
            /* Its claimer died between the two stores (a slot killed at that instant): mark
             * the row abandoned, so later lookups step over it without waiting. Should the
             * claimer only have been slow, its store of 2 makes the row valid again. */
            int expect = 1;
            atomic_compare_exchange_strong(&r->state, &expect, 3);
        }
        if (st == 2 && same(r, queue, func))
            return r;
    }
    return &m->overflow;
}

void spindle_metrics_started(spindle_metrics_row *r)
{
    if (r)
        atomic_fetch_add_explicit(&r->started, 1, memory_order_relaxed);
}

void spindle_metrics_ran(spindle_metrics_row *r, long long duration_us)
{
    if (r == NULL)
        return;
    if (duration_us < 0)
        duration_us = 0;
    double secs = (double)duration_us / 1e6;
    int b = 0;
    while (b < SPINDLE_METRICS_BUCKETS && secs > spindle_metrics_bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)duration_us, memory_order_relaxed);
}

void spindle_metrics_outcome(spindle_metrics_row *r, int outcome)
{
    if (r == NULL)
        return;
    if (outcome == SPINDLE_OUTCOME_SUCCEEDED)
        atomic_fetch_add_explicit(&r->succeeded, 1, memory_order_relaxed);
    else if (outcome == SPINDLE_OUTCOME_FAILED)
        atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
    else if (outcome == SPINDLE_OUTCOME_SCHEDULED)
        atomic_fetch_add_explicit(&r->retried, 1, memory_order_relaxed);
}

void spindle_metrics_redis_error(spindle_metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->redis_errors, 1, memory_order_relaxed);
}
