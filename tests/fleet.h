/* Helpers shared by the fleet suites (test_fleet_*.c, test_retry_policy.c): workers with short
 * heartbeat settings, tasks with a retry policy, and reads of task hashes and heartbeats with
 * plain Redis commands, so that every outcome is checked in the layout of docs/PROTOCOL.md
 * and not only through the client API.
 *
 * Every wait is bounded; every bound and heartbeat setting is scaled by harness_slowdown(). */
#ifndef SPINDLE_TESTS_FLEET_H
#define SPINDLE_TESTS_FLEET_H

#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

/* Heartbeat interval, TTL and sweep interval of the fleet suites' workers (ms, before
 * scaling): a lost worker's tasks are back on pending within TTL + sweep = 0.8 s. */
#define FLEET_BEAT_MS 200
#define FLEET_TTL_MS 600
#define FLEET_SWEEP_MS 200

/* Options for a forked worker serving queues[0..n) (borrowed until the fork), with the short
 * heartbeat settings above and a 2 s shutdown timeout (so that a test that fails mid-task
 * does not hold up the suite's clean-up). */
void fleet_options(spindle_worker_options *o, const char *const *queues, size_t n);
/* Forks a worker with fleet_options() on queues and the fixture registry; its PID or -1. */
pid_t fleet_worker(const char *const *queues, size_t n);

/* A fresh start: stops the workers, flushes the database, replaces *client (whose cache of
 * registered queues would otherwise outlive the flush). 0 on success. */
int fleet_fresh(spindle_client **client);

/* Enqueues func on queue with one integer argument (none if arg < 0), retries (< 0: none)
 * and timeout_s (0: none). NULL on failure, reported on stderr. Caller frees. */
spindle_handle *fleet_enqueue(spindle_client *c, const char *queue, const char *func, long arg,
                              int retries, long timeout_s);
/* The same with n integer arguments. */
spindle_handle *fleet_enqueue_args(spindle_client *c, const char *queue, const char *func,
                                   const long *args, size_t n, int retries, long timeout_s);
/* Sets the task's back-off fields (ms) with HSET: only for a task on a queue no worker
 * serves yet, since a worker could claim and fail it first. 0 on success. */
int fleet_set_backoff(const spindle_handle *h, long backoff_ms, long backoff_max_ms);

/* HGET of a field of the task (malloc'd; NULL if absent). Caller frees. */
char *fleet_field(const spindle_handle *h, const char *field);
/* The field as a number; dflt if absent or not a number. */
long long fleet_num(const spindle_handle *h, const char *field, long long dflt);
/* 1 if the field is absent. */
int fleet_absent(const spindle_handle *h, const char *field);
/* Waits until the task's state is state: 0 if seen within timeout_ms. */
int fleet_wait_state(const spindle_handle *h, const char *state, long timeout_ms);
/* Waits until the task is `running` (claimed) and copies the id of the worker holding it
 * into worker (size cap). Returns the PID in that id (a slot process), or -1 after
 * timeout_ms. */
pid_t fleet_wait_running(const spindle_handle *h, char *worker, size_t cap, long timeout_ms);
/* The same, and then until the function itself runs: a claimed task is `running` before
 * that, and a slot stopped in between hands it back unstarted. For tests that signal a slot
 * while its task runs. The fixture functions sleep_ms and sleep_first say when they start
 * (a file in the run's dir, named after the task); for the example library's functions
 * (spindle-worker binary), the slot's heartbeat naming the task does, one beat later. */
pid_t fleet_wait_started(const spindle_handle *h, char *worker, size_t cap, long timeout_ms);

/* 1 if id is in the ZSET NS:{queue}:suffix (dead, scheduled). */
int fleet_in_zset(const char *queue, const char *suffix, const spindle_handle *h);
/* ZCARD of NS:{queue}:suffix. */
long long fleet_zcard(const char *queue, const char *suffix);

/* A heartbeat hash NS:worker:ID, as read back. */
typedef struct fleet_beat {
    char id[160];
    long pid, supervisor;
    char pool[16];
    char task[64];
} fleet_beat;

/* Reads every heartbeat hash of the workers whose supervisor is supervisor (0: all) into
 * out[0..cap). Returns how many exist (may exceed cap), or -1 on a Redis failure. */
int fleet_beats(pid_t supervisor, fleet_beat *out, int cap);
/* Waits until exactly n heartbeats of supervisor exist: 0 if seen within timeout_ms. */
int fleet_wait_beats(pid_t supervisor, int n, long timeout_ms);
/* Writes the heartbeat key NS:worker:ID into buf; returns buf. */
char *fleet_beat_key(char *buf, size_t cap, const char *id);
/* EXISTS NS:worker:ID. */
int fleet_beat_exists(const char *id);

/* Writes task id of queue as a claim by worker leaves it: a hash for a running add(20, 22)
 * (attempts, and lost when > 0), id in the worker's in-flight list, worker in the queue's
 * workers set. For tests of what recovers a worker that is gone. 0 on success. */
int fleet_plant_running(const char *queue, const char *worker, const char *id, int attempts,
                        int lost);

/* Occurrences of needle in hay (NULL hay: 0). */
int fleet_count(const char *hay, const char *needle);

#endif
