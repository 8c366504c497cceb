/* Task metrics of one worker for its Prometheus endpoint (--metrics-addr): counters per
 * (queue, function) pair, a duration histogram, Redis errors, and the queue depths sampled
 * by the one worker of the fleet that holds the sampler lock.
 *
 * Why shared memory with atomics: the slots of the default pool are child processes, and a
 * scrape must never wait on a task. So the table lives in the same kind of anonymous
 * MAP_SHARED mapping as the slot table (made before the children fork), each slot bumps
 * relaxed atomics, and the supervisor's HTTP thread reads them without locks. The table is
 * bounded (SPINDLE_METRICS_ROWS pairs): pairs past it are counted in one overflow row
 * labelled queue="_overflow", func="_overflow", so memory never grows with bad input. */
#ifndef SPINDLE_WORKER_METRICS_H
#define SPINDLE_WORKER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/names.h"

#define SPINDLE_METRICS_ROWS 256
/* Upper bounds of the duration histogram (seconds), +Inf aside: from 5 ms to 5 minutes. */
#define SPINDLE_METRICS_BUCKETS 14
extern const double spindle_metrics_bounds[SPINDLE_METRICS_BUCKETS];

typedef struct spindle_metrics_row {
    atomic_int state; /* 0 free, 1 being claimed, 2 ready (names written), 3 abandoned (its
                         claimer died while claiming: skipped) */
    char queue[SPINDLE_NAME_MAX + 1], func[SPINDLE_NAME_MAX + 1];
    atomic_ulong started, succeeded, failed, retried;
    atomic_ulong buckets[SPINDLE_METRICS_BUCKETS + 1]; /* per bucket, not cumulative; last +Inf */
    atomic_ullong sum_us;
} spindle_metrics_row;

typedef struct spindle_metrics {
    atomic_ulong redis_errors;
    spindle_metrics_row rows[SPINDLE_METRICS_ROWS];
    spindle_metrics_row overflow;
} spindle_metrics;

/* A zeroed table, shared with children to be forked (shared = 1) or private. NULL if out of
 * memory. Freed with spindle_metrics_free() with the same shared. */
spindle_metrics *spindle_metrics_new(int shared);
void spindle_metrics_free(spindle_metrics *m, int shared);

/* The row of (queue, func), claimed if new (names copied, cut to SPINDLE_NAME_MAX); the
 * overflow row once the table is full. NULL when m is NULL (metrics off), so that callers
 * pass the row on without checking. Lock-free; borrowed for the life of m. */
spindle_metrics_row *spindle_metrics_row_of(spindle_metrics *m, const char *queue,
                                            const char *func);
/* Counts on a row; a NULL row counts nothing. */
void spindle_metrics_started(spindle_metrics_row *r);
void spindle_metrics_ran(spindle_metrics_row *r, long long duration_us);
/* outcome: enum spindle_outcome (store/ops.h): succeeded, failed, scheduled (retried). */
void spindle_metrics_outcome(spindle_metrics_row *r, int outcome);
void spindle_metrics_redis_error(spindle_metrics *m);

/* One sampled queue: its depth per state. */
typedef struct spindle_queue_depth {
    char queue[SPINDLE_NAME_MAX + 1];
    long long pending, scheduled, running, dead;
} spindle_queue_depth;

/* Renders the Prometheus text format (version 0.0.4) of m, in_flight, and the n sampled
 * depths (n 0: this worker does not hold the sampler lock; no depth gauges) into a string the
 * caller frees with free(). NULL if out of memory. */
char *spindle_metrics_render(spindle_metrics *m, long in_flight, const spindle_queue_depth *depths,
                             size_t n);

/* Parses "HOST:PORT" (an IPv4 literal, "[IPv6]", or localhost; port 1-65535) into *addr.
 * SPINDLE_ERR_INVALID with the reason in err if it is not one. */
int spindle_metrics_addr_parse(const char *text, struct sockaddr_storage *addr, socklen_t *len,
                               spindle_error *err);

#endif
