/* Operator reads over a whole namespace, for tools such as `spindle queues`: what a producer
 * needs to look at, not to enqueue — the queues and their counts, a queue's dead letters,
 * the live workers. Calls are made on a connected client (client.h) and follow its
 * conventions: a spindle_status code, and on failure a message in spindle_errstr() that is
 * replaced by the next failing call. Every list is a snapshot read in a few round trips, not
 * one atomic picture. */
#ifndef SPINDLE_ADMIN_H
#define SPINDLE_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One queue of the namespace and its counts. */
typedef struct spindle_queue_stat {
    char name[129];      /* the queue name: 1-128 bytes and a NUL */
    long long pending;   /* tasks waiting to run (length of NS:{Q}:pending) */
    long long running;   /* tasks claimed by a worker and not settled (its in-flight lists) */
    long long scheduled; /* tasks waiting for a retry (size of NS:{Q}:scheduled) */
    long long dead;      /* dead letters: tasks that failed for good (size of NS:{Q}:dead) */
    long long waiting;   /* tasks waiting for dependencies (size of NS:{Q}:waiting) */
} spindle_queue_stat;

/* Lists the queues in NS:queues, sorted by name, with their counts. On success *out holds *n
 * entries, or is NULL when the namespace has no queue; the caller frees it with
 * spindle_queue_list_free(). On failure *out is NULL and *n is 0: SPINDLE_ERR_IO if Redis
 * cannot be reached, SPINDLE_ERR_REDIS if it answers an error, SPINDLE_ERR_PROTOCOL if a key
 * holds something unexpected, SPINDLE_ERR_NOMEM.
 *
 * Costs one round trip plus three per queue. The counts of each queue are read when that
 * queue is reached, so they are a snapshot per queue, not one atomic picture of the
 * namespace. */
int spindle_queue_list(spindle_client *c, spindle_queue_stat **out, size_t *n);

/* Frees a list returned by spindle_queue_list(). NULL is a no-op. */
void spindle_queue_list_free(spindle_queue_stat *list);

/* ---- Throughput ------------------------------------------------------------------------ */

/* Tasks of one queue that ended, over the last minute, hour and day ([0], [1], [2]), as the
 * settle step counts them in Redis (docs/PROTOCOL.md, "Throughput stats"). Each window is
 * counted in whole clock minutes (hours for the day) plus the current one, so it may reach a
 * little further back than its name: up to 2 minutes, 61 minutes, 25 hours. */
#define SPINDLE_THROUGHPUT_MINUTES 61 /* the minute buckets read: the current one, 60 before */
typedef struct spindle_queue_throughput {
    char name[129];      /* the queue name */
    long long ok[3];     /* tasks that succeeded */
    long long failed[3]; /* tasks that failed for good (retries are not counted) */
    int64_t read_at_ms;  /* when it was read (ms since the epoch, Redis's clock) */
    /* ok + failed in clock minute floor(read_at_ms / 60000) - i, as counted when read: what a
     * live rate is derived from (two reads, minute by minute). */
    long long ended_by_minute[SPINDLE_THROUGHPUT_MINUTES];
} spindle_queue_throughput;

/* Reads the throughput of the nq queues named (nq 0: every queue of NS:queues, sorted by
 * name); a queue never used reads as zeros. On success *out holds *n entries (NULL when there
 * are none), freed with spindle_queue_throughput_free(). On failure *out is NULL and *n 0:
 * SPINDLE_ERR_INVALID for a bad queue name, SPINDLE_ERR_PROTOCOL if a counter was overwritten
 * with something else, SPINDLE_ERR_IO, SPINDLE_ERR_REDIS, SPINDLE_ERR_NOMEM. Two round trips
 * plus one per queue. */
int spindle_queue_throughput_list(spindle_client *c, const char *const *queues, size_t nq,
                                  spindle_queue_throughput **out, size_t *n);

/* Frees a list returned by spindle_queue_throughput_list(). NULL is a no-op. */
void spindle_queue_throughput_free(spindle_queue_throughput *list);

/* ---- Dead letters ----------------------------------------------------------------------- */

/* A task that failed for good (its retries used up, or its worker lost too often). A dead
 * letter stays 7 days (the dead set keeps at most 10,000); spindle_retry() runs it again. */
typedef struct spindle_dead_letter {
    char id[37];          /* the task id: spindle_handle_open(c, id, queue, &h) reads it */
    char func[129];       /* "" if the task hash is gone */
    int64_t failed_at_ms; /* when it failed for good (ms since the epoch, Redis's clock) */
    long attempts;        /* claims over its life; 0 if the task hash is gone */
    char *error;          /* the last error text; "" if the hash is gone. Never NULL; owned
                             by the list */
} spindle_dead_letter;

/* Lists the dead letters of queue, newest first: the newest max members of its dead set (0:
 * all), less any member that is not a task id (written by hand), which is skipped. On success
 * *out holds *n entries, or is NULL when there are none (an unknown queue has none); the
 * caller frees it with spindle_dead_list_free(*out, *n). On failure *out is NULL and *n 0:
 * SPINDLE_ERR_INVALID for a bad queue name, SPINDLE_ERR_PROTOCOL if the dead set is not a
 * sorted set, SPINDLE_ERR_IO, SPINDLE_ERR_REDIS, SPINDLE_ERR_NOMEM. Two round trips. */
int spindle_dead_list(spindle_client *c, const char *queue, size_t max, spindle_dead_letter **out,
                      size_t *n);

/* Frees a list returned by spindle_dead_list() and the strings it owns. NULL is a no-op. */
void spindle_dead_list_free(spindle_dead_letter *list, size_t n);

/* ---- Workers ---------------------------------------------------------------------------- */

/* A live worker, as its last heartbeat (NS:worker:ID) describes it. Fields its heartbeat
 * lacks, or holds in a form that does not parse, are 0 or "". */
typedef struct spindle_worker_info {
    char id[161];               /* HOST:PID:RANDOM */
    char host[256];             /* where it runs */
    long pid;                   /* the process that runs its tasks */
    long supervisor;            /* its supervising process (= pid in a thread pool) */
    char pool[16];              /* "process" or "thread" */
    char *queues;               /* served queues, comma-separated in priority order; never
                                   NULL; owned by the list */
    int64_t started_at_ms;      /* when it started */
    int64_t beat_at_ms;         /* time of the last heartbeat, by Redis's clock */
    int64_t beat_age_ms;        /* how long ago that was, by Redis's clock */
    char task[37];              /* the task it is running, "" when idle */
    char task_queue[129];       /* that task's queue, "" when idle */
    int64_t task_started_at_ms; /* when that task started, 0 when idle */
    unsigned long processed;    /* tasks settled since it started */
    unsigned long failed;       /* how many of them failed */
} spindle_worker_info;

/* Lists the workers registered in NS:workers whose heartbeat has not expired, sorted by id.
 * On success *out holds *n entries, or is NULL when no worker is alive; the caller frees it
 * with spindle_worker_list_free(*out, *n). On failure *out is NULL and *n 0:
 * SPINDLE_ERR_PROTOCOL if NS:workers is not a set, SPINDLE_ERR_IO, SPINDLE_ERR_REDIS,
 * SPINDLE_ERR_NOMEM. Two round trips. */
int spindle_worker_list(spindle_client *c, spindle_worker_info **out, size_t *n);

/* Frees a list returned by spindle_worker_list() and the strings it owns. NULL is a no-op. */
void spindle_worker_list_free(spindle_worker_info *list, size_t n);

#ifdef __cplusplus
}
#endif
#endif
