/* The worker side: a registry of task functions and the loop that serves queues with it.
 *
 * A task function receives a context, its arguments (one msgpack array) and a packer for its
 * result. It returns SPINDLE_OK, having packed at most one value (nothing packed means nil),
 * or fails through spindle_task_fail(). Everything the function is given is borrowed for the
 * duration of the call.
 *
 * Shared objects loaded with `spindle-worker --load lib.so` export one entry point,
 * SPINDLE_PLUGIN_ENTRY, which registers their functions. A program can equally link
 * libspindle, fill a registry and call spindle_worker_main() from its own main(). */
#ifndef SPINDLE_WORKER_H
#define SPINDLE_WORKER_H

#include <stddef.h>

#include <msgpack.h>

#include "spindle/cron.h"
#include "spindle/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spindle_task_ctx spindle_task_ctx;
typedef struct spindle_registry spindle_registry;
typedef struct spindle_worker spindle_worker;

typedef int (*spindle_task_fn)(spindle_task_ctx *ctx, const msgpack_object *args,
                               msgpack_packer *result);

/* Fails the running task with a printf-style message (truncated to 1 KiB) and returns
 * SPINDLE_ERR_TASK_FAILED, so a function can end with `return spindle_task_fail(ctx, …);`. */
int spindle_task_fail(spindle_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The running task's id, queue and function name: borrowed for the duration of the call. */
const char *spindle_task_id(const spindle_task_ctx *ctx);
const char *spindle_task_queue(const spindle_task_ctx *ctx);
const char *spindle_task_func(const spindle_task_ctx *ctx);
/* The attempt number, 1 for the first run. */
long spindle_task_attempt(const spindle_task_ctx *ctx);
/* The userdata given to spindle_registry_add() for this function. */
void *spindle_task_userdata(const spindle_task_ctx *ctx);
/* 1 once a cancel was requested for the running task (spindle_cancel()), else 0. A memory
 * read, cheap enough for every loop iteration: a function that sees 1 should stop and
 * return; the task ends `cancelled` however it returns. */
int spindle_task_cancelled(const spindle_task_ctx *ctx);

/* A new empty registry. Caller frees with spindle_registry_free(). NULL if out of memory. */
spindle_registry *spindle_registry_new(void);
void spindle_registry_free(spindle_registry *reg);
/* Registers fn under name (copied; validated as a function name). userdata is borrowed for
 * the life of the registry. SPINDLE_ERR_INVALID for a bad name or a name already taken. */
int spindle_registry_add(spindle_registry *reg, const char *name, spindle_task_fn fn,
                         void *userdata);
/* Declares that name (already registered) needs process isolation: it may crash, leak, or
 * run past its timeout in ways only killing its process can stop. A thread-pool worker fails
 * its tasks with a message saying so (retried per their policy, so a retry can land on a
 * process-pool worker). SPINDLE_ERR_NOT_FOUND if name is not registered. */
int spindle_registry_require_process(spindle_registry *reg, const char *name);
/* The message of the last failed registry call, borrowed until the next one. */
const char *spindle_registry_errstr(const spindle_registry *reg);
/* Number of registered functions. */
size_t spindle_registry_count(const spindle_registry *reg);

/* The entry point a task library exports: it adds its functions and returns SPINDLE_OK. */
#define SPINDLE_PLUGIN_ENTRY "spindle_register_tasks"
typedef int (*spindle_plugin_entry_fn)(spindle_registry *reg);

/* Loads the shared object at path (dlopen) and calls its SPINDLE_PLUGIN_ENTRY with reg.
 * The library stays loaded for the life of the process, since its functions are in reg.
 * SPINDLE_ERR_INVALID (message in spindle_registry_errstr()) if it cannot be loaded, lacks
 * the entry point, or the entry point fails. */
int spindle_registry_load(spindle_registry *reg, const char *path);

enum spindle_log_level {
    SPINDLE_LOG_DEBUG,
    SPINDLE_LOG_INFO,
    SPINDLE_LOG_WARN,
    SPINDLE_LOG_ERROR,
};

/* spindle_worker_options.log_format: "time level worker= task= message" lines, or one JSON
 * object per line (time, level, worker, task, func, queue, duration_ms, message). */
enum spindle_log_format { SPINDLE_LOG_FORMAT_TEXT, SPINDLE_LOG_FORMAT_JSON };

/* Worker options. Initialize with spindle_worker_options_init(). */
typedef struct spindle_worker_options {
    const char *url; /* as for the client; NULL: $SPINDLE_REDIS_URL or local default */
    const char *ns;  /* NULL: "spindle" */
    /* Queues in priority order (borrowed during spindle_worker_new()). NULL/0: "default". */
    const char *const *queues;
    size_t nqueues;
    /* NULL (default): strict priority, each slot claims from the first queue that has work.
     * Else one weight per queue (1-SPINDLE_MAX_WEIGHT, nqueues of them, borrowed during
     * spindle_worker_new()): each slot serves the queues that have work in proportion to
     * their weights, counted in tasks, so a busy first queue cannot starve a later one
     * (`--queues high:6,default:3,low:1`). While several queues have work, a claim takes at
     * most WEIGHT tasks from a queue: the weights' scale sets the batch size, 6:3:1
     * interleaves in rounds of 10 tasks, 60:30:10 in rounds of 100 with fewer round trips.
     * A queue alone with work is claimed in full batches. A bad weight is reported by
     * spindle_worker_run(). */
    const int *weights;
    int log_level;          /* enum spindle_log_level; default SPINDLE_LOG_INFO */
    int prefetch;           /* most tasks claimed per round trip; default 128, 1 disables */
    int handle_signals;     /* 1 (default): SIGINT/SIGTERM stop the worker gracefully */
    int connect_timeout_ms; /* default 2000 */
    int command_timeout_ms; /* default 5000 */
    /* 0 (default): refuse to run when Redis's maxmemory-policy may evict keys, since an
     * evicted pending list or task hash is a task lost without a trace. */
    int allow_eviction;
    /* Slots: tasks run at once, one at a time per slot. Default 1. */
    int concurrency;
    /* SPINDLE_POOL_PROCESS (default): each slot is a child process, so a task that crashes
     * takes down only its child and a task past its timeout is killed. SPINDLE_POOL_THREAD:
     * each slot is a thread of this process, for thread-safe, I/O-bound functions; a crash
     * then takes down every slot, and a task past its timeout is failed but keeps its thread
     * until it returns (its late result is refused). */
    int pool;
    /* Hard timeout in seconds for tasks enqueued without one. Default 0: none. */
    long default_timeout_s;
    /* After a stop request, how long running tasks get to finish before they are put back
     * on pending (seconds). Default 25. */
    long shutdown_timeout_s;
    /* Heartbeat period and TTL, and how often this worker tries to sweep for workers whose
     * heartbeat expired (ms). Defaults 2000, 6000, 3000: a lost worker's tasks are back on
     * pending within TTL + sweep interval (9 s) of its last beat. */
    long heartbeat_interval_ms;
    long heartbeat_ttl_ms;
    long sweep_interval_ms;
    /* Progress reports are coalesced to at most one write per task per this many ms (0:
     * every report is written). Default 100. */
    long progress_interval_ms;
    /* How long a running task gets to stop after a cancel request that gives no grace of its
     * own (spindle_cancel() with -1), in ms, before its process is killed (a thread pool
     * ends the task and ignores the function's late result). Default -1: never forced, the
     * function is trusted to check spindle_task_cancelled(). */
    long cancel_grace_ms;
    /* Periodic tasks this worker declares (spindle/cron.h): written to Redis at start, each
     * added or replacing the entry of its name, so that `spindle cron` lists them and the
     * whole fleet fires them. An invalid one stops the start. Borrowed until
     * spindle_worker_run() returns. Every worker fires every entry in Redis, declared here
     * or not. */
    const spindle_cron_entry *cron;
    size_t ncron;
    int log_format; /* enum spindle_log_format; default SPINDLE_LOG_FORMAT_TEXT */
    /* "HOST:PORT" (IPv4 or [IPv6] literal, or localhost; borrowed until spindle_worker_run()
     * returns): the supervisor serves GET /metrics there in the Prometheus text format
     * (README "Metrics and logs"). NULL (default): no endpoint, and no metrics kept. A bad
     * address, or one that cannot be bound, is reported by spindle_worker_run(). */
    const char *metrics_addr;
    /* Payload bounds (spindle/bounds.h): a task whose args are larger than max_args_bytes, or
     * whose function packs a result larger than max_result_bytes, ends `failed` with a message
     * naming the bound and the size, and the worker goes on. <= 0: the default,
     * SPINDLE_ARGS_MAX_DEFAULT / SPINDLE_RESULT_MAX_DEFAULT (1 MiB each). */
    long max_args_bytes;
    long max_result_bytes;
    /* Most items one attempt of a task may emit: spindle_task_emit() past it answers
     * SPINDLE_ERR_TOO_LARGE naming the bound. <= 0: SPINDLE_ITEMS_MAX_DEFAULT (100000). */
    long max_items;
    /* Deepest args a task may carry (msgpack containers nested, the outer args array
     * included): deeper ends the task `failed` ("nested N deep, above the worker's max_depth
     * of M"). 0: SPINDLE_MSGPACK_MAX_DEPTH (32); 1..32, else spindle_worker_run() refuses. */
    int max_depth;
    /* Largest channel message a task writes or reads (bytes): a larger write answers
     * SPINDLE_ERR_TOO_LARGE before sending; a larger message read is taken out of the channel,
     * dropped, and answered SPINDLE_ERR_TOO_LARGE. 0: SPINDLE_CHANNEL_MSG_MAX (1 MiB);
     * 1..1 MiB, else spindle_worker_run() refuses. */
    long max_channel_msg_bytes;
} spindle_worker_options;

enum spindle_pool { SPINDLE_POOL_PROCESS, SPINDLE_POOL_THREAD };

/* The largest queue weight (spindle_worker_options.weights). */
#define SPINDLE_MAX_WEIGHT 1000

void spindle_worker_options_init(spindle_worker_options *opts);

/* Creates a worker (no connection yet). reg is borrowed for the life of the worker. Returns
 * NULL if out of memory; a bad option is reported by spindle_worker_run(). */
spindle_worker *spindle_worker_new(const spindle_worker_options *opts, spindle_registry *reg);
/* Connects and serves until spindle_worker_stop() or a handled signal, then returns
 * SPINDLE_OK after settling the tasks it holds. On a fatal error returns its code, with the
 * message in spindle_worker_errstr(). */
int spindle_worker_run(spindle_worker *w);
/* Asks the worker to stop claiming and return once its current tasks are settled.
 * Async-signal-safe. */
void spindle_worker_stop(spindle_worker *w);
const char *spindle_worker_errstr(const spindle_worker *w);
/* The worker's id, HOST:PID:RANDOM, borrowed for the life of w. */
const char *spindle_worker_id(const spindle_worker *w);
/* Tasks settled since start: total and failed. */
unsigned long spindle_worker_processed(const spindle_worker *w);
unsigned long spindle_worker_failed(const spindle_worker *w);
void spindle_worker_free(spindle_worker *w);

/* A liveness probe for a worker host: connects with opts->url and opts->ns and returns
 * SPINDLE_OK if a worker on this host (gethostname) has beaten within
 * opts->heartbeat_ttl_ms; prints one line saying what it found on stdout, or why it failed on
 * stderr. SPINDLE_ERR_NOT_FOUND if there is none (a stuck or stopped worker, or one that
 * cannot reach Redis), SPINDLE_ERR_IO if Redis cannot be reached from here. */
int spindle_worker_check(const spindle_worker_options *opts);

/* One call for a program's main(): new, run, report any error on stderr, free. Returns a
 * process exit code (0 after a graceful stop). */
int spindle_worker_main(const spindle_worker_options *opts, spindle_registry *reg);

#ifdef __cplusplus
}
#endif
#endif
