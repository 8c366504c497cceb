/* The producer's client: a connection to Redis through which tasks are enqueued and their
 * handles polled and waited on.
 *
 * A client is one synchronous Redis connection and is not thread-safe: use one client per
 * thread. Every call returns a spindle_status code; on failure the client keeps a message
 * naming what failed and with which input, read with spindle_errstr(). The message is
 * replaced by the next failing call and cleared by nothing else, so read it right after the
 * failure. A lost connection (SPINDLE_ERR_IO) leaves the client usable: call
 * spindle_client_reconnect(), or simply retry, since every call reconnects first when the
 * previous connection broke. */
#ifndef SPINDLE_CLIENT_H
#define SPINDLE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "spindle/args.h"
#include "spindle/state.h"
#include "spindle/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spindle_client spindle_client;
typedef struct spindle_handle spindle_handle;
typedef struct spindle_result spindle_result;

/* Connection options. Initialize with spindle_client_options_init(), then change fields. */
typedef struct spindle_client_options {
    /* redis://[user:password@]host[:port][/db] or unix:///path/to/socket[?db=N&password=P]
     * or sentinel://host:port[,host:port...]/master-name (README, "Redis Sentinel").
     * NULL: $SPINDLE_REDIS_URL, else redis://127.0.0.1:6379. Borrowed during connect. */
    const char *url;
    /* Key namespace; NULL means "spindle". Borrowed during connect. */
    const char *ns;
    int connect_timeout_ms; /* default 2000 */
    int command_timeout_ms; /* default 5000; blocking waits extend it by their own timeout */
    /* Largest args of one task this client sends (bytes); larger args are refused before
     * sending with SPINDLE_ERR_TOO_LARGE naming the bound and the size. <= 0: the default
     * SPINDLE_ARGS_MAX_DEFAULT (1 MiB, spindle/bounds.h). Workers apply their own bound. */
    long max_args_bytes;
    /* Deepest args (msgpack containers nested, the outer args array included) this client
     * enqueues: deeper args are refused before sending with SPINDLE_ERR_INVALID naming the
     * bound and the depth. 0: SPINDLE_MSGPACK_MAX_DEPTH (32); 1..32, else connect refuses. */
    int max_depth;
    /* Largest channel message this client sends or receives (bytes). A larger send is
     * refused before sending (SPINDLE_ERR_TOO_LARGE); a larger message received is taken out
     * of the channel, dropped, and answered SPINDLE_ERR_TOO_LARGE naming its size and the
     * bound. 0: SPINDLE_CHANNEL_MSG_MAX (1 MiB); 1..1 MiB, else connect refuses. */
    long max_channel_msg_bytes;
    /* Replicated enqueues (README, "Redis Sentinel"): with wait_replicas > 0 every enqueue
     * also sends WAIT wait_replicas wait_timeout_ms in the same round trip, and fails with
     * SPINDLE_ERR_REDIS ("acknowledged by k of n replicas") when fewer replicas had the tasks
     * in time: they were enqueued on the master but could be lost in a failover. Default 0
     * (no WAIT) and 1000 ms; wait_replicas 0..1000, wait_timeout_ms 1..600000. */
    int wait_replicas;
    int wait_timeout_ms;
} spindle_client_options;

void spindle_client_options_init(spindle_client_options *opts);

/* A new unconnected client. Caller frees with spindle_client_free(). NULL if out of memory. */
spindle_client *spindle_client_new(void);
/* Connects (AUTH and SELECT as the URL says) and loads the scripts. SPINDLE_ERR_INVALID for
 * a malformed URL or namespace, SPINDLE_ERR_IO if Redis cannot be reached or is still
 * loading its dataset, SPINDLE_ERR_REDIS if it refuses (wrong password). The options are
 * copied. */
int spindle_client_connect(spindle_client *c, const spindle_client_options *opts);
/* Drops the connection and connects again with the same options. */
int spindle_client_reconnect(spindle_client *c);
/* Closes the connection and frees the client. NULL is a no-op. */
void spindle_client_free(spindle_client *c);
/* The message of the last failed call on c: borrowed until the next call on c. "" if none. */
const char *spindle_errstr(const spindle_client *c);
/* The namespace in use: borrowed for the life of c. */
const char *spindle_client_namespace(const spindle_client *c);

/* Most retries a task may ask for: a failing task is retried at most this often, so a
 * typo cannot keep a poison task cycling for years. */
#define SPINDLE_MAX_RETRIES 1000
/* Largest back-off accepted, in ms (about 24.8 days): 2^31 - 1, which Redis, the Lua scripts
 * and a C int all hold exactly, so a retry time can never overflow. */
#define SPINDLE_MAX_BACKOFF_MS 2147483647L

/* Per-task options. Initialize with spindle_enqueue_options_init(). A value out of range
 * makes the enqueue fail with SPINDLE_ERR_INVALID before anything is sent. */
typedef struct spindle_enqueue_options {
    const char *queue; /* NULL: the client's route table decides (routing.h), else "default";
                          a queue given here wins over the table */
    long result_ttl_s; /* -1 (default): the protocol default, 3600 s; 0: delete on success */
    long timeout_s;    /* 0 (default): no hard timeout */
    int max_retries;   /* -1 (default): unset, i.e. no retries; else 0..SPINDLE_MAX_RETRIES */
    /* Retry back-off: retry n (from 0) waits d/2..d with d = min(backoff_max_ms,
     * backoff_ms * 2^n). 0 (default): the protocol defaults, 1000 and 600000 ms; else
     * 1..SPINDLE_MAX_BACKOFF_MS. A cap below the base is allowed: every retry waits the cap. */
    long backoff_ms;
    long backoff_max_ms;
    /* Delayed start (docs/PROTOCOL.md, "Delayed tasks"): the task waits `scheduled` and runs
     * no earlier than run_at_ms (ms since the epoch) or delay_ms after the enqueue, both by
     * Redis's clock; idle workers pick it up within ~100 ms of that time. 0 (default): at
     * once; a time already past also runs at once. At most one of the two, up to
     * SPINDLE_MAX_TIME_MS. */
    int64_t run_at_ms;
    int64_t delay_ms;
    /* Expiry ("Expiry"): a task not started by deadline_ms (ms since the epoch, Redis's
     * clock) or expires_in_ms after the enqueue ends `cancelled` with the error "expired"
     * instead of running (this holds for its retries too). 0 (default): never. At most one of
     * the two, up to SPINDLE_MAX_TIME_MS; a deadline before a start time of the same kind
     * (both absolute or both relative) is refused. */
    int64_t deadline_ms;
    int64_t expires_in_ms;
    /* Unique tasks ("Unique tasks"): while a task enqueued with unique_key on the same queue
     * has not ended, for at most unique_ttl_s, an enqueue with that key creates nothing and
     * returns a handle to the existing task (spindle_handle_deduplicated() says so). The key
     * is freed the moment that task ends (succeeded, failed for good, cancelled, expired).
     * unique_key: NULL (default) or a name (1-128 bytes of [A-Za-z0-9_.:-]), borrowed during
     * the call; unique_ttl_s: 1..SPINDLE_MAX_UNIQUE_TTL_S, required with a key. Refused by
     * spindle_enqueue_bulk(). */
    const char *unique_key;
    long unique_ttl_s;
    /* Dependencies (deps.h): with 1, a task whose args hold handles runs even if some of its
     * dependencies failed or were cancelled, receiving their errors in their places
     * (spindle_arg_dep_error()); 0 (default): it then ends failed (cancelled) without
     * running. No effect on a task without handles. */
    int run_anyway;
} spindle_enqueue_options;

/* Latest time, and longest delay or expiry, accepted in ms: 9999-12-31T23:59:59.999Z, held
 * exactly by the Lua scripts' doubles. */
#define SPINDLE_MAX_TIME_MS INT64_C(253402300799999)
/* Longest unique-key TTL accepted, in s (about 68 years): 2^31 - 1, as Redis's EX holds it. */
#define SPINDLE_MAX_UNIQUE_TTL_S 2147483647L

void spindle_enqueue_options_init(spindle_enqueue_options *opts);

/* Enqueues func with the arguments built in args (NULL: no arguments). opts may be NULL for
 * the defaults. On success *out (if out is not NULL) receives a handle the caller frees with
 * spindle_handle_free(): for a unique key already held, the existing task's handle. One
 * round trip. */
int spindle_enqueue(spindle_client *c, const char *func, spindle_args *args,
                    const spindle_enqueue_options *opts, spindle_handle **out);

/* As spindle_enqueue(), with the arguments as a ready msgpack buffer holding one array
 * (borrowed during the call). SPINDLE_ERR_INVALID if it is not exactly one msgpack array. */
int spindle_enqueue_msgpack(spindle_client *c, const char *func, const void *args, size_t len,
                            const spindle_enqueue_options *opts, spindle_handle **out);

/* One task of a bulk enqueue. args/args_len: one msgpack array, or NULL/0 for none. */
typedef struct spindle_task_spec {
    const char *func;
    const void *args;
    size_t args_len;
} spindle_task_spec;

/* Enqueues n tasks with the same options, in as few round trips as possible (one per 1000
 * tasks of a queue). With opts->queue NULL each task is routed by its function
 * (routing.h): the tasks are sent grouped by queue, each queue's in the caller's order, and
 * the handles come back in the caller's order. Every spec is validated before anything is sent: on
 * SPINDLE_ERR_INVALID nothing was enqueued. If out is not NULL it must have room for n
 * handles, which the caller frees one by one. If Redis fails midway, the tasks of the chunks
 * already sent stay enqueued, their handles stay in out (the others are NULL), and the
 * message says how many were sent. */
int spindle_enqueue_bulk(spindle_client *c, const spindle_task_spec *specs, size_t n,
                         const spindle_enqueue_options *opts, spindle_handle **out);

/* ---- Handles ---------------------------------------------------------------------------- */

/* Rebuilds a handle from a task id (as printed by spindle_handle_id()). queue may be NULL:
 * the queues in NS:queues are searched. SPINDLE_ERR_NOT_FOUND if no such task exists (unknown
 * or expired), SPINDLE_ERR_INVALID for a malformed id. Caller frees *out. */
int spindle_handle_open(spindle_client *c, const char *id, const char *queue, spindle_handle **out);
/* The task id, borrowed for the life of h. */
const char *spindle_handle_id(const spindle_handle *h);
/* The queue name, borrowed for the life of h. */
const char *spindle_handle_queue(const spindle_handle *h);
/* 1 if the enqueue that returned h found its unique key held and returned the existing task
 * instead of creating one (nothing was enqueued); 0 otherwise, and for handles from
 * spindle_handle_open() or a bulk enqueue. */
int spindle_handle_deduplicated(const spindle_handle *h);
/* Frees a handle. NULL is a no-op. */
void spindle_handle_free(spindle_handle *h);

/* The task's current state. SPINDLE_ERR_NOT_FOUND if it is unknown or expired. */
int spindle_status(spindle_client *c, const spindle_handle *h, spindle_state *state);

/* *ready = 1 if the task is in a final state, 0 otherwise. */
int spindle_is_ready(spindle_client *c, const spindle_handle *h, int *ready);

/* Runs a task again now: a failed task (a dead letter or not), a cancelled one, or one
 * scheduled for a later retry goes back on pending with a fresh retry budget (retried 0) and
 * no expiry; its attempts count keeps growing. SPINDLE_ERR_NOT_FOUND if the task is unknown
 * or expired, SPINDLE_ERR_INVALID if its state cannot be retried (pending, running,
 * succeeded: the message names it). One round trip. */
int spindle_retry(spindle_client *c, const spindle_handle *h);

/* Largest cancel grace accepted, in ms (about 24.8 days), for the same reason as
 * SPINDLE_MAX_BACKOFF_MS. */
#define SPINDLE_MAX_CANCEL_GRACE_MS 2147483647L

/* Cancels a task, atomically with respect to its worker (docs/PROTOCOL.md, "Cancellation").
 * A pending or scheduled task ends `cancelled` at once and never runs. A running task is
 * marked and its worker told: the function sees spindle_task_cancelled() become 1, and the
 * task WILL end `cancelled` however it ends (returning, failing, crashing, its worker lost).
 * grace_ms: -1 the worker's default (--cancel-grace; by default cooperative only), 0 kill
 * the task's process at once, > 0 kill it if it still runs after that many ms (up to
 * SPINDLE_MAX_CANCEL_GRACE_MS); a thread-pool worker cannot kill, so it ends the task and
 * ignores the function's late result. *state (may be NULL) receives the state after the
 * call: SPINDLE_STATE_CANCELLED (cancelled now, or earlier), SPINDLE_STATE_RUNNING (a cancel
 * was requested: it will end `cancelled`), or SPINDLE_STATE_SUCCEEDED / _FAILED when the
 * task had already ended that way (the completion won; it is left as it is). Returns
 * SPINDLE_OK in all those cases, SPINDLE_ERR_NOT_FOUND for an unknown or expired task,
 * SPINDLE_ERR_INVALID for a grace out of range. One round trip. */
int spindle_cancel(spindle_client *c, const spindle_handle *h, long grace_ms, spindle_state *state);

/* Everything the task hash says, decoded. Times are ms since the epoch, 0 when not set. */
typedef struct spindle_task_info {
    spindle_state state;
    char func[129];
    int64_t enqueued_at_ms, started_at_ms, finished_at_ms;
    long attempts;
    long result_ttl_s, timeout_s, max_retries; /* as enqueued (-1 / 0 / -1 if not set) */
    long backoff_ms, backoff_max_ms;           /* as enqueued; 0 if not set (the defaults) */
    char worker[160];                          /* "" until claimed */
    /* The error of a failed task, or of the last failed attempt of a scheduled (or retried)
     * one; NULL if none. Owned by the struct. */
    char *error;
    long expires_in_s;   /* TTL of the task hash: -1 if none */
    long retried;        /* retries scheduled so far (0 after spindle_retry()) */
    int64_t retry_at_ms; /* when the scheduled task (a retry, or a delayed task) is due; 0
                            unless state is scheduled */
    long lost;           /* times the task was taken back from a worker presumed dead */
    /* When a cancel was requested while the task ran (Redis's clock), 0 if never; and the
     * grace given with it, -1 if none. */
    int64_t cancel_requested_at_ms;
    long cancel_grace_ms;
    /* Delayed tasks, expiry, unique tasks: the start time asked for at enqueue (0: none), the
     * deadline (0: none; a manual retry removes it), and the unique key ("" if none). */
    int64_t run_at_ms;
    int64_t deadline_ms;
    char unique_key[129];
    /* Dependencies (deps.h): how many have not ended yet while the task is `waiting` (0
     * otherwise), and 1 if it was enqueued with run_anyway. */
    long deps_waiting;
    int run_anyway;
} spindle_task_info;

/* Fills *info. Free what it owns with spindle_task_info_clear(). */
int spindle_info(spindle_client *c, const spindle_handle *h, spindle_task_info *info);
void spindle_task_info_clear(spindle_task_info *info);

/* Waits up to timeout_ms (0: just look; negative: forever) for the task to end, without
 * polling: it blocks on a completion list the worker pushes to.
 *  SPINDLE_OK             succeeded; *out holds the result value.
 *  SPINDLE_ERR_TASK_FAILED failed; *out holds the error text.
 *  SPINDLE_ERR_CANCELLED  cancelled; *out holds the reason.
 *  SPINDLE_ERR_TIMEOUT    still not finished; *out is NULL.
 *  SPINDLE_ERR_NOT_FOUND  unknown or expired; *out is NULL.
 * Caller frees *out with spindle_result_free(). */
int spindle_wait(spindle_client *c, const spindle_handle *h, long timeout_ms, spindle_result **out);

/* The final state the result came from. */
spindle_state spindle_result_state(const spindle_result *r);
/* The result value (nil if the task packed nothing, or failed): borrowed until
 * spindle_result_free(r). */
const msgpack_object *spindle_result_value(const spindle_result *r);
/* The raw msgpack bytes of the value, borrowed until spindle_result_free(r); *len 0 if none. */
const char *spindle_result_raw(const spindle_result *r, size_t *len);
/* The error text of a failed or cancelled task (borrowed), or NULL. */
const char *spindle_result_error(const spindle_result *r);
void spindle_result_free(spindle_result *r);

#ifdef __cplusplus
}
#endif
#endif
