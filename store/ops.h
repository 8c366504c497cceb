/* The protocol's steps as C calls: enqueue, claim, settle, wait, and the reads the handle
 * and the CLI need. Each is one round trip unless it says otherwise. Names are validated by
 * the callers (producer/, worker/, cli/) before they get here. */
#ifndef SPINDLE_STORE_OPS_H
#define SPINDLE_STORE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "spindle/progress.h"
#include "store/conn.h"

/* Most queues one worker serves (one BRPOP names all their wake lists). */
#define SPINDLE_STORE_MAX_QUEUES 32

/* ---- enqueue (store/enqueue.c) ---- */

typedef struct spindle_new_task {
    const char *id;   /* SPINDLE_ID_LEN chars */
    const char *func; /* validated */
    const char *args; /* one msgpack array */
    size_t args_len;
} spindle_new_task;

typedef struct spindle_task_opts {
    long result_ttl_s;   /* < 0: field absent (protocol default 3600) */
    long timeout_s;      /* <= 0: absent */
    int max_retries;     /* < 0: absent */
    long backoff_ms;     /* <= 0: absent (protocol default 1000) */
    long backoff_max_ms; /* <= 0: absent (protocol default 600000) */
    const char *proc;    /* processor name (field `proc`); NULL: absent */
    const char *pinfo;   /* processor static info, msgpack (field `pinfo`); NULL: absent */
    size_t pinfo_len;
    /* Delayed tasks, expiry, unique tasks (store/enqueue_opts.c); 0 / NULL: not used. Each
     * pair is absolute (ms since the epoch) or relative to the enqueue (ms, Redis's clock). */
    int64_t run_at_ms, delay_ms;
    int64_t deadline_ms, expires_in_ms;
    const char *unique_key; /* validated name */
    long unique_ttl_s;
    const char *group; /* the task's group (field `group`, docs/PROTOCOL.md "Groups"); NULL: none */
} spindle_task_opts;

/* Enqueues n tasks on queue in one script call (the caller chunks large batches). Tasks with
 * a delay, a deadline or a unique key go through spindle_store_enqueue_opts(). */
int spindle_store_enqueue(spindle_store *s, const char *queue, const spindle_new_task *tasks,
                          size_t n, const spindle_task_opts *opts);
/* 1 if opts use a delay, a deadline or a unique key. */
int spindle_task_opts_special(const spindle_task_opts *opts);
/* Enqueues n tasks with the options of delayed, expiring or unique tasks in one script call
 * (docs/PROTOCOL.md, "Delayed tasks"). With a unique key (n must be 1) held by a task that
 * has not ended, nothing is created and that task's id is copied into holder (size
 * SPINDLE_ID_LEN + 1; may be NULL); else holder gets "". */
int spindle_store_enqueue_opts(spindle_store *s, const char *queue, const spindle_new_task *tasks,
                               size_t n, const spindle_task_opts *opts, char *holder);
/* SADD NS:queues for the given names. */
int spindle_store_register_queues(spindle_store *s, const char *const *queues, size_t n);

/* ---- claim and settle (store/claim.c) ---- */

/* A claimed task. Pointers are borrowed from the reply that spindle_store_claim() returned. */
typedef struct spindle_claimed {
    const char *id;
    long attempt;     /* 0: dropped id (see skip_reason) */
    const char *func; /* "" if the hash had none */
    const char *args;
    size_t args_len;
    long timeout_s;          /* 0: none */
    long result_ttl_s;       /* the protocol default when the field is absent */
    const char *skip_reason; /* for dropped ids: "missing", "wrongtype" or the state */
    int lease;               /* 1: it holds its single-file queue's lease (serial.h) */
} spindle_claimed;

/* Reads one entry e of the claim script's reply into *c (pointers borrowed from e): the task
 * hash fields as the worker sees them. Pure (no I/O), so it is fuzzed (tests/fuzz/task.c).
 * 0 on success, -1 if e has another shape. */
int spindle_store_parse_claimed(const redisReply *e, spindle_claimed *c);

/* Claims up to max tasks of queue for worker into out[0..*n), after moving due scheduled
 * tasks to pending, within the queue's rate limits. On a single-file queue at most one,
 * which takes the queue's lease for lease_ttl_ms (the worker's heartbeat TTL), and none
 * while the lease is held (*next_due_ms is then at most the lease's time left). *next_due_ms is the
 * time until the next scheduled task is due or the next token of the queue's exhausted rate limit,
 * -1 if none. Ids deferred by a function's rate limit come back as dropped (skip_reason
 * "throttled"). *reply must be freed with freeReplyObject() once the tasks are settled. */
int spindle_store_claim(spindle_store *s, const char *queue, const char *worker, int max,
                        long lease_ttl_ms, spindle_claimed *out, int *n, long *next_due_ms,
                        redisReply **reply);

/* spindle_settlement.succeeded for a task the worker ended for its cancel request (a failed
 * attempt if the task has none). */
#define SPINDLE_SETTLE_CANCELLED (-2)

typedef struct spindle_settlement {
    const char *id;
    long attempt;
    int succeeded; /* 1: payload is the result (msgpack); 0: the error text (the attempt
                      failed: retried per the task's policy); -1: hand the unstarted task
                      back to the front of pending; SPINDLE_SETTLE_CANCELLED: the worker
                      ended it for a cancel request, payload the reason. Whatever is given,
                      a task with a cancel request ends `cancelled` */
    const char *payload;
    size_t payload_len;
    double jitter; /* in [0, 1): spreads the retry back-off of tasks failing together */
} spindle_settlement;

/* What became of one settlement. */
enum spindle_outcome {
    SPINDLE_OUTCOME_REFUSED, /* fencing: a newer attempt owns the task */
    SPINDLE_OUTCOME_SUCCEEDED,
    SPINDLE_OUTCOME_FAILED,    /* failed for good (and dead-lettered) */
    SPINDLE_OUTCOME_SCHEDULED, /* failed; a retry is due later */
    SPINDLE_OUTCOME_RELEASED,  /* handed back to pending */
    SPINDLE_OUTCOME_CANCELLED, /* a cancel was requested: ended `cancelled` */
};

/* Settles n tasks of queue held by worker; outcome[i] says what became of each. One script
 * call. */
int spindle_store_settle(spindle_store *s, const char *queue, const char *worker,
                         const spindle_settlement *v, size_t n, enum spindle_outcome *outcome);

/* Puts back every task still held by worker on queue (its in-flight list) and forgets the
 * list. lost = 0: the worker is known to have stopped; lost = 1: its heartbeat expired
 * (each task's lost count grows; past 5 the task fails for good). *requeued and *failed
 * (may be NULL) receive the counts. One script call. */
int spindle_store_recover(spindle_store *s, const char *queue, const char *worker, int lost,
                          long *requeued, long *failed);

/* Blocks up to ms on the wake lists of the queues. *woken is 1 if a token arrived. */
int spindle_store_wait_wake(spindle_store *s, const char *const *queues, size_t n, long ms,
                            int *woken);

/* ---- the fleet: heartbeats, sweeps, retries (store/fleet.c) ---- */

/* Writes worker's heartbeat hash (field/value pairs, npairs of them) with a TTL of ttl_ms.
 * One script call. */
int spindle_store_heartbeat(spindle_store *s, const char *worker, long ttl_ms,
                            const char *const *pairs, size_t npairs);
/* Adds worker to NS:workers (the listing index). */
int spindle_store_worker_add(spindle_store *s, const char *worker);
/* Adds workers[0..n) to NS:workers in one command (none: no command). */
int spindle_store_workers_add(spindle_store *s, const char *const *workers, size_t n);
/* Deletes worker's heartbeat and removes it from NS:workers (a clean stop). */
int spindle_store_worker_remove(spindle_store *s, const char *worker);
/* Takes the fleet-wide sweep lock for ms if nobody holds it: *got is 1 if this call took it.
 * The lock is never released; it expires, so the fleet sweeps at most once per ms. */
int spindle_store_sweep_lock(spindle_store *s, const char *owner, long ms, int *got);
/* Takes the metrics sampler lock (NS:sampler) for ms if nobody holds it, or extends it if
 * owner holds it: *got is 1 if owner holds it now. SET NX PX, then (not got) GET and PEXPIRE:
 * the lock is renewed well before it expires (every ms/3), so it cannot expire between the
 * two. One or three round trips. */
int spindle_store_sampler_lock(spindle_store *s, const char *owner, long ms, int *got);
/* Finds every (queue, worker) whose worker has no heartbeat and recovers it with
 * spindle_store_recover(lost = 1); prunes such workers from NS:workers. Adds to the counts.
 * alive[0..nalive): ids the caller knows are alive (its own slots, beaten for just now),
 * not read; each other id is read once per call. own[0..nown): the queues the caller serves,
 * swept instead when NS:queues cannot be read (a key of the wrong type): the call then still
 * answers that error, naming the key, after sweeping them. */
int spindle_store_recover_lost(spindle_store *s, const char *const *alive, size_t nalive,
                               char *const *own, size_t nown, long *workers, long *requeued,
                               long *failed);
/* Audits up to pages SCAN pages of task hashes from the cursor kept in NS:audit, putting
 * back tasks that are in no list their state calls for (store/audit.c). Adds the number
 * repaired to *repaired. */
int spindle_store_audit(spindle_store *s, int pages, long *repaired);
/* Among live heartbeats, counts those whose `host` field is host, and gives the age of the
 * newest by Redis's clock (ms; -1 if none). For liveness probes. */
int spindle_store_host_beats(spindle_store *s, const char *host, int64_t *age_ms, int *count);
/* Redis's clock (TIME) in ms since the epoch. */
int spindle_store_redis_time(spindle_store *s, int64_t *now_ms);
/* Puts a failed, cancelled or scheduled task back on pending with a fresh retry budget.
 * SPINDLE_ERR_NOT_FOUND if missing, SPINDLE_ERR_INVALID if its state cannot be retried. */
int spindle_store_retry(spindle_store *s, const char *queue, const char *id);

/* ---- reads (store/query.c) ---- */

/* Redis's maxmemory-policy into buf (size 32). SPINDLE_ERR_REDIS if CONFIG is refused (a
 * managed Redis or an ACL user without it). */
int spindle_store_eviction_policy(spindle_store *s, char *buf);

/* The task's state text into buf (size 16). SPINDLE_ERR_NOT_FOUND if the hash is missing. */
int spindle_store_task_state(spindle_store *s, const char *queue, const char *id, char *buf);
/* HGETALL and TTL of a task in one round trip. *hash is an array reply (caller frees). */
int spindle_store_task_fields(spindle_store *s, const char *queue, const char *id,
                              redisReply **hash, long long *ttl);
/* Finds which queue in NS:queues holds task id; copies it into queue (size 129). */
int spindle_store_find_queue(spindle_store *s, const char *id, char *queue);
/* The wait script: delta 1 registers a waiter, -1 unregisters, 0 only reads. *reply is its
 * array reply (caller frees): empty = missing; {state} or {state, result, error}. */
int spindle_store_wait_step(spindle_store *s, const char *queue, const char *id, int delta,
                            redisReply **reply);
/* BLPOP on the task's done list for up to ms. *token is the popped token or NULL on timeout
 * (caller frees the reply in *reply either way, if not NULL). */
int spindle_store_block_done(spindle_store *s, const char *queue, const char *id, long ms,
                             redisReply **reply, const char **token, size_t *token_len);
/* LPOP of the task's done list: a token left by a settlement that raced a timed-out wait
 * (the hash of a TTL-0 task is gone by then). Same contract as spindle_store_block_done(). */
int spindle_store_pop_done(spindle_store *s, const char *queue, const char *id, redisReply **reply,
                           const char **token, size_t *token_len);
/* Queue names (SMEMBERS NS:queues) as an array reply the caller frees. */
int spindle_store_queue_names(spindle_store *s, redisReply **reply);
/* Pending length and the number of tasks in in-flight lists of a queue. */
int spindle_store_queue_counts(spindle_store *s, const char *queue, long long *pending,
                               long long *running);

/* ---- waiting on many tasks (store/wait_many.c) ---- */

/* BLPOP on the done lists of tasks ids[0..n) of one queue (one hash slot) for up to ms. On a
 * token, *index is the position of its task in ids and *token points into *reply, which the
 * caller frees; on a timeout *reply and *token are NULL and *index is n. */
int spindle_store_block_done_any(spindle_store *s, const char *queue, const char *const *ids,
                                 size_t n, long ms, redisReply **reply, size_t *index,
                                 const char **token, size_t *token_len);

/* ---- progress (store/progress.c) ---- */

/* Reads the progress fields of a task (zeroed when it has no report). SPINDLE_ERR_NOT_FOUND
 * if the task hash does not exist. */
int spindle_store_progress(spindle_store *s, const char *queue, const char *id,
                           spindle_progress *out);
/* The same for n tasks (queues[i], ids[i]) in one pipelined round trip, into out[0..n). The
 * first failure is returned (SPINDLE_ERR_NOT_FOUND names the missing task). */
int spindle_store_progress_many(spindle_store *s, const char *const *queues, const char *const *ids,
                                size_t n, spindle_progress *out);

/* A running task's fenced write (see the progress script). The fencing pair is (worker,
 * attempt). Sets *cancel to 1 if the task hash has a cancel request, else 0.
 * SPINDLE_ERR_NOT_FOUND when the task is no longer running as that attempt of that worker
 * (the message says what it is now); SPINDLE_ERR_REDIS for a key of the wrong type. */
int spindle_store_progress_write(spindle_store *s, const char *queue, const char *id,
                                 const char *worker, long attempt, int64_t done, int64_t total,
                                 const char *msg, size_t msg_len, int *cancel);

/* ---- items (store/items.c) ---- */

/* Appends one item (msgpack bytes, checked by the caller) to the task's item stream, fenced
 * as spindle_store_progress_write(), with the same *cancel and refusals. */
int spindle_store_item_add(spindle_store *s, const char *queue, const char *id, const char *worker,
                           long attempt, const char *item, size_t len, int *cancel);
/* Opens the task's item stream for reading: state (size 16) gets the task's state, "" if
 * the hash is gone; *has_stream is 1 if the stream exists. Marks a task that is not final
 * so that its end appends the end entry. SPINDLE_ERR_NOT_FOUND if neither exists;
 * SPINDLE_ERR_REDIS for a key of the wrong type (the message names it). */
int spindle_store_items_open(spindle_store *s, const char *queue, const char *id, char *state,
                             int *has_stream);
/* XREAD of up to count entries after entry id `after` ("0-0": from the start). block_ms 0:
 * do not block; > 0: block up to that long. *reply (caller frees) is NULL when nothing
 * came, else the entries array of the stream: {{id, {field, value, ...}}, ...}, checked to
 * have that shape; *owner is the whole reply to free. */
int spindle_store_items_read(spindle_store *s, const char *queue, const char *id, const char *after,
                             long block_ms, long count, redisReply **owner,
                             const redisReply **entries);
/* ---- processor pairs (store/processor.c) ---- */

/* A task's processor fields, borrowed from *reply (caller frees with freeReplyObject()). */
typedef struct spindle_proc_read {
    const char *func;  /* "" if absent */
    const char *proc;  /* NULL: the task has no processor */
    const char *pinfo; /* NULL: no static info */
    size_t pinfo_len;
} spindle_proc_read;

/* HMGET of the task's func, proc and pinfo. SPINDLE_ERR_NOT_FOUND if the hash is missing,
 * SPINDLE_ERR_PROTOCOL if the key is not a hash. */
int spindle_store_task_processor(spindle_store *s, const char *queue, const char *id,
                                 spindle_proc_read *out, redisReply **reply);

/* ---- cancellation (store/cancel.c) ---- */

/* What spindle_store_cancel() did. */
enum spindle_cancel_what {
    SPINDLE_CANCEL_MISSING,   /* no such task (unknown or expired) */
    SPINDLE_CANCEL_DONE,      /* it had not started: now `cancelled` */
    SPINDLE_CANCEL_REQUESTED, /* it runs: marked, and announced on NS:cancel */
    SPINDLE_CANCEL_FINAL,     /* it had ended already: left as it was */
};

/* Cancels task id of queue in one script call (docs/PROTOCOL.md, "Cancellation"). grace_ms
 * < 0: no grace given (the worker's default applies). *what says what happened; state (size
 * 16) receives the state after the call. SPINDLE_OK even for a missing task (*what says). */
int spindle_store_cancel(spindle_store *s, const char *queue, const char *id, long grace_ms,
                         enum spindle_cancel_what *what, char *state);

/* One running task a worker asks about: is a cancel requested for this attempt? */
typedef struct spindle_cancel_probe {
    const char *queue, *id; /* borrowed */
    long attempt;
    int requested; /* out: 1 if the hash is `running` this attempt and has `cancel` */
    long grace_ms; /* out: its `cancel_grace`, -1 if none */
} spindle_cancel_probe;

/* Answers n probes in one pipelined round trip (HMGET of each task hash). */
int spindle_store_cancel_probe(spindle_store *s, spindle_cancel_probe *p, size_t n);

#endif
