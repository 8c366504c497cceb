/* The test harness: everything the suites share to run hermetically.
 *
 * One private redis-server per test run, started on first use in a mkdtemp() directory on a
 * free loopback port (or, with SPINDLE_TEST_UNIX=1, on a unix socket in that directory), and
 * stopped by PID at teardown and in an atexit handler. Tests use the namespace in
 * SPINDLE_TEST_NS (default "spindle"), so the same suites run against the default layout and
 * a non-default one. Workers are child processes the harness owns by PID: either a fork
 * running spindle_worker_run() with the fixture registry (fixture_tasks.c), or the real
 * spindle-worker binary from $SPINDLE_TEST_BUILD (default "build") loading the example task
 * library. Every blocking step is bounded, and a watchdog ends a run that hangs anyway. */
#ifndef SPINDLE_TESTS_HARNESS_H
#define SPINDLE_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "spindle/client.h"
#include "spindle/worker.h"

/* Bound for anything that should take well under a second: generous, so that a loaded CI
 * machine or a sanitizer build does not fail a test, short enough that a hang is reported. */
#define HARNESS_WAIT_MS 10000

/* ---- the run ---------------------------------------------------------------------------- */

/* Installs the watchdog (SIGALRM after $SPINDLE_TEST_TIMEOUT s, default 600, 1800 under
 * valgrind) and the atexit handler. Call once from main() before anything else. */
void harness_init(void);
/* Stops every worker and redis-server, and removes the temp dir unless keep_files (then its
 * path is printed so logs can be read). Idempotent; also run by the atexit handler. */
void harness_teardown(int keep_files);

/* For a suite that needs Redis: starts redis-server on first use, stops workers a previous
 * suite left, and flushes the database. 0 on success; CUnit suite init signature. */
int harness_suite_init(void);
/* Stops the workers started since harness_suite_init(). CUnit suite cleanup signature. */
int harness_suite_cleanup(void);

const char *harness_url(void);   /* redis://127.0.0.1:P or unix:///DIR/redis.sock */
const char *harness_ns(void);    /* $SPINDLE_TEST_NS or "spindle" */
const char *harness_build(void); /* $SPINDLE_TEST_BUILD or "build" */
const char *harness_dir(void);   /* the run's temp dir */
/* A loopback TCP port nobody listens on now (bound to 0, read back, closed); -1 on failure. */
int harness_free_port(void);

/* Stops the run's redis-server by its PID (SIGTERM, then SIGKILL), leaving the workers
 * running, for tests of a Redis outage. keep_data: SAVE first, so that the restart loads the
 * data back (DIR/dump.rdb); else the data is gone. 0 on success. Until the restart, helpers
 * that need Redis fail (or restart it, like harness_suite_init()). */
int harness_redis_stop(int keep_data);
/* Starts redis-server again on the same port or unix socket and dir, so that clients and
 * workers reconnect to the same URL. 0 once it answers PING. */
int harness_redis_restart(void);

/* ---- raw Redis -------------------------------------------------------------------------- */

/* The harness's own connection (5 s socket timeout), for checks the helpers below do not
 * cover; NULL if the server is not running. Borrowed: valid until the next helper call. */
redisContext *harness_redis(void);
/* A command on the harness's own connection (5 s socket timeout). Returns the reply, which the
 * caller frees with freeReplyObject(), or NULL after an I/O error (the next call reconnects). */
redisReply *harness_cmd(const char *fmt, ...);
redisReply *harness_cmdargv(int argc, const char **argv, const size_t *lens);
/* Polls HGET key field every 5 ms until it equals value: 0 if seen within timeout_ms. */
int harness_wait_hfield(const char *key, const char *field, const char *value, long timeout_ms);
/* The integer reply of a command; LLONG_MIN if the reply is anything else. */
long long harness_int(const char *fmt, ...);
/* HGET of a field as a malloc'd NUL-terminated copy (length in *len if not NULL); NULL if
 * absent. Caller frees. */
char *harness_hget(const char *key, const char *field, size_t *len);
/* 0 after FLUSHALL succeeded. */
int harness_flushall(void);
/* Writes "NS:{queue}:suffix" (or "NS:suffix" when queue is NULL) into buf; returns buf. */
char *harness_key(char *buf, size_t cap, const char *queue, const char *suffix);
/* "NS:{queue}:task:ID" of a handle's task. */
char *harness_task_key(char *buf, size_t cap, const spindle_handle *h);
/* The value of field in an HGETALL reply, or NULL. Borrowed from hash. */
const redisReply *harness_field(const redisReply *hash, const char *field);
/* Waits until at least n clients of the server are blocked in BRPOP (idle workers). 0 if they
 * were seen within timeout_ms. */
int harness_wait_idle_workers(int n, long timeout_ms);

/* ---- clients ---------------------------------------------------------------------------- */

/* A client connected to the harness's server with the harness's namespace, or NULL (the
 * reason on stderr). Caller frees with spindle_client_free(). */
spindle_client *harness_client(void);
/* Suite set-up shared by most suites: harness_suite_init(), a client into *client, and a
 * forked worker with the fixture registry on "default". 0 on success. */
int harness_suite_init_with_worker(spindle_client **client);
/* The same without the worker. */
int harness_suite_init_client(spindle_client **client);
/* The matching clean-up: frees *client, sets it to NULL, harness_suite_cleanup(). */
int harness_suite_cleanup_client(spindle_client **client);

/* ---- workers ---------------------------------------------------------------------------- */

/* Fills a worker's registry; returns SPINDLE_OK. */
typedef int (*harness_registry_fn)(spindle_registry *reg);

/* Forks a worker that runs spindle_worker_run() over a registry filled by fill. queues is a
 * comma-separated priority list (NULL: "default"); prefetch 0 means the library default.
 * Its log goes to DIR/worker-PID.log. Returns the PID or -1. */
pid_t harness_worker_fork_with(harness_registry_fn fill, const char *queues, int prefetch);
/* The same with the fixture registry (fixture_register_tasks()). */
pid_t harness_worker_fork(const char *queues, int prefetch);
/* As harness_worker_fork(queues, 0), with this heartbeat period and TTL and sweep interval
 * (ms) instead of the library's defaults. */
pid_t harness_worker_fork_beating(const char *queues, long interval_ms, long ttl_ms, long sweep_ms);
/* Forks a worker with every option of opts (pool, concurrency, timeouts, heartbeat...);
 * NULL url and ns become the harness's. fill NULL: the fixture registry. opts is read in the
 * child only, so it may live on the caller's stack. Returns the PID (the supervisor's) or -1. */
pid_t harness_worker_fork_opts(harness_registry_fn fill, const spindle_worker_options *opts);
/* Starts BUILD/bin/spindle-worker --load BUILD/lib/spindle-example-tasks.so against the
 * harness's server and namespace. Returns the PID or -1 (binary missing, fork failed). */
pid_t harness_worker_exec(const char *queues);
/* The same with extra arguments: a NULL-terminated list of at most 16, borrowed during the
 * call, e.g. {"--concurrency", "3", "--pool", "thread", NULL}. */
pid_t harness_worker_exec_args(const char *queues, const char *const *extra);
/* The log of a worker the harness started, forked or exec'd (its slots write to the same
 * file), as a malloc'd string; "" if there is none. Caller frees. */
char *harness_worker_log(pid_t pid);
/* Sends sig to a worker the harness started and has not reaped. 0, or -1 if not ours. */
int harness_worker_signal(pid_t pid, int sig);
/* Sends sig to a slot process of a process-pool worker (its pid from the worker id in a task
 * hash or heartbeat), but only if its parent is a worker the harness started and has not
 * reaped: a stale pid reused by a stranger is never signalled. 0, or -1. */
int harness_slot_signal(pid_t pid, int sig);
/* 1 while pid is a process that has not ended (a zombie has ended), whoever its parent. */
int harness_pid_running(pid_t pid);
/* The PID in a worker id HOST:PID:RANDOM; -1 if the id is malformed. */
pid_t harness_worker_id_pid(const char *id);
/* SIGTERM to pid, then waits up to timeout_ms for it to exit; SIGKILL if it did not. Returns
 * 0 if it exited on its own within the time (its wait status in *status if not NULL), -1 if
 * it had to be killed or was not ours. */
int harness_worker_stop(pid_t pid, long timeout_ms, int *status);
/* 1 if the child pid is still running. */
int harness_child_alive(pid_t pid);
/* Stops every worker the harness started and has not reaped (SIGTERM, then SIGKILL). */
void harness_stop_workers(void);

/* ---- other processes -------------------------------------------------------------------- */

typedef struct harness_output {
    int code;  /* exit code; -1 if killed by a signal or by the timeout */
    char *out; /* everything written to stdout, NUL-terminated (malloc'd) */
    char *err; /* everything written to stderr */
} harness_output;

/* Runs argv (argv[0] a path) with stdin from /dev/null, capturing stdout and stderr, killing
 * it after timeout_ms. SPINDLE_REDIS_URL is removed from its environment, so a program that
 * ignores --redis fails instead of reaching another server. 0 if it ran. */
int harness_run(char *const argv[], long timeout_ms, harness_output *res);
void harness_output_free(harness_output *res);

/* ---- time ------------------------------------------------------------------------------- */

int64_t harness_ms(void); /* monotonic */
void harness_sleep_ms(long ms);
/* How many times slower than native this run is: $SPINDLE_TEST_SLOW if set, 4 under valgrind
 * (SPINDLE_TEST_VALGRIND=1: forked workers run on its emulated CPU too), else 1. Tests that
 * time workers multiply their heartbeat settings and their bounds by it. */
int harness_slowdown(void);
long harness_scaled_ms(long ms); /* ms * harness_slowdown() */

/* ---- fixture tasks (fixture_tasks.c) ---------------------------------------------------- */

/* Registers the test functions the forked workers serve: add, echo, sleep_ms, fail — the
 * same contracts as examples/tasks.c, so tests can use either kind of worker — and, for the
 * fleet suites: sleep_first MS [LATER] (sleeps MS on its first attempt, LATER ms or none on
 * the others, returns the attempt number), fail_attempt (fails with "attempt N failed"), abort
 * (abort()), segfault (dies of SIGSEGV). For the channel suite: chan_pump, chan_fill and
 * chan_probe; for progress and items: progress_steps N STEP_MS, progress_spin MS, emit_n N
 * [STEP_MS], misuse, fenced_probe and until_cancel (contracts in fixture_tasks.c). */
int fixture_register_tasks(spindle_registry *reg);

#endif
