/* The slot loop (slot.h).
 *
 * Batching is adaptive. A slot starts by claiming one task at a time; while batches come
 * back full and run quickly it doubles the batch (up to `prefetch`), and it halves it when a
 * batch runs long. A batch that exceeds its time budget hands its unstarted tasks back to the
 * front of the queue, so a slot never sits on work another slot could be running, and a
 * crash loses (re-runs) at most a budget's worth of finished but unsettled tasks. With no-op
 * tasks this turns two round trips per task into two per batch. */
#include "worker/slot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/names.h"
#include "worker/batch.h"
#include "worker/metrics.h"
#include "worker/weighted.h"
#include "worker/worker_impl.h"

/* Longest a slot runs tasks of one batch before handing the rest back (ms). */
#define BATCH_BUDGET_MS 50
/* A batch that ran within this time grows (ms). */
#define BATCH_FAST_MS 5
/* Finished results are settled at least this often within a batch (ms): a slot killed
 * mid-batch re-runs at most this much finished work, while batches of quick tasks (which
 * finish well within it) still settle in one round trip. */
#define SETTLE_EVERY_MS 2
/* How often a slot adds its queues to NS:queues again (ms), so a flushed or edited registry
 * heals without a restart. */
#define REREGISTER_MS 60000
/* Redis checks the timeouts of blocked clients on its timer, every 100 ms at the default hz
 * 10: a BRPOP of 20 ms lasts up to 100. A wait shorter than this (a retry or a rate-limit
 * token due soon) is slept here instead, so it ends on time; new work on another queue is
 * then noticed at most this late. */
#define SHORT_WAIT_MS 100
/* An idle slot whose wait ran out with no wake token, and that knows of no scheduled task,
 * claims again only every IDLE_CLAIM_EVERY such waits: every step that puts a task on
 * pending (enqueue, release, recovery, retry by id, a dependency's end, a lease freed) and
 * every retry scheduled pushes a token, which ends the wait at once. The periodic claim is
 * for producers that skip the token (docs/PROTOCOL.md, "Enqueue"); it halves what an idle
 * slot sends. */
#define IDLE_CLAIM_EVERY 5
/* Back-off bounds while Redis is unreachable (ms). */
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

typedef struct slot {
    const spindle_slot_config *cfg;
    spindle_slot_state *st;
    spindle_store store;
    spindle_error err;
    int batch;
    int64_t last_register_ms, last_wake_warn_ms, last_index_warn_ms;
    int64_t last_queue_warn_ms[SPINDLE_STORE_MAX_QUEUES]; /* per queue: each broken one is named */
    int delay_ms, in_outage;
    long next_due_ms; /* soonest scheduled task of the queues at the last look; -1: none */
    int abandoned;    /* a batch could not be settled: the slot must exit (see serve_once) */
    int quiet_waits;  /* waits in a row that ran out with no token and nothing scheduled */
    int unsure;       /* a request failed: Redis may have run it all the same (put_back_unseen) */
    unsigned int seed;
    spindle_weighted weighted; /* the queues' passes when cfg->weights is set */
    spindle_claimed *claimed;
    spindle_settlement *settle;
    msgpack_sbuffer *payloads;
    enum spindle_outcome *outcome;
    const char **funcs; /* the function of each settlement (borrowed from the claim reply) */
    msgpack_zone zone;
    spindle_batcher *batcher; /* forms batches (batch.h); NULL: no batch function registered */
} slot;

static int stopping(const slot *s)
{
    return atomic_load(&s->st->stop) != 0;
}

static void progress(slot *s)
{
    atomic_store(&s->st->progress_ms, spindle_mono_ms());
}

/* Logs an id the claim script dropped from pending. A task cancelled while pending, one that
 * expired (the script ended it), or one deferred by its function's rate limit (it waits in
 * scheduled for its token) is not news; anything else means the keyspace was edited by hand
 * or a producer misbehaved. */
static void log_dropped(const char *queue, const spindle_claimed *c)
{
    if (strcmp(c->skip_reason, "cancelled") == 0 || strcmp(c->skip_reason, "throttled") == 0)
        return;
    if (strcmp(c->skip_reason, "expired") == 0) {
        spindle_log(SPINDLE_LOG_INFO, c->id, "expired: not started by its deadline ('%s')", queue);
        return;
    }
    if (strncmp(c->skip_reason, "failed: ", 8) == 0) {
        spindle_log(SPINDLE_LOG_WARN, c->id, "marked failed, not run ('%s' pending list): %s",
                    queue, c->skip_reason + 8);
        return;
    }
    spindle_log(SPINDLE_LOG_WARN, c->id, "dropped id from '%s' pending list: its task hash is %s%s",
                queue,
                strcmp(c->skip_reason, "missing") == 0 || strcmp(c->skip_reason, "wrongtype") == 0
                    ? ""
                    : "in state ",
                strcmp(c->skip_reason, "wrongtype") == 0 ? "not a hash" : c->skip_reason);
}

/* The idle wait: IDLE_WAIT_MS, or half the heartbeat TTL if that is shorter. The supervisor
 * beats for an idle slot only while its loop shows progress within one TTL (a slot stuck
 * elsewhere must stop beating); a BRPOP longer than the TTL would let a healthy idle slot's
 * heartbeat expire once per wait. */
static long idle_wait_ms(const slot *s)
{
    long half_ttl = s->cfg->opts->heartbeat_ttl_ms / 2;
    return half_ttl < SPINDLE_SLOT_IDLE_WAIT_MS ? half_ttl : SPINDLE_SLOT_IDLE_WAIT_MS;
}

/* Runs one claimed task with its start and end published to the supervisor. Returns 1 if it
 * succeeded, 0 if it failed, -1 if it was cancelled before it started: it did not run, and
 * is handed back (the settle script then ends it `cancelled`). */
static int run_one(slot *s, const spindle_claimed *c, const char *queue, msgpack_sbuffer *buf)
{
    spindle_slot_task t = {.running = 1, .attempt = c->attempt, .lease = c->lease};
    memcpy(t.id, c->id, sizeof(t.id) - 1);
    snprintf(t.queue, sizeof(t.queue), "%s", queue);
    snprintf(t.func, sizeof(t.func), "%s", c->func);
    t.started_mono_ms = spindle_mono_ms();
    t.started_wall_ms = spindle_wall_ms();
    long timeout_s = c->timeout_s > 0 ? c->timeout_s : s->cfg->opts->default_timeout_s;
    t.timeout_ms = timeout_s > 0 ? timeout_s * 1000 : 0;
    if (spindle_slot_begin(s->st, &t, s->cfg->cancelled))
        return -1;
    spindle_metrics_row *row = spindle_metrics_row_of(s->cfg->metrics, queue, c->func);
    spindle_metrics_started(row);
    int64_t t0 = spindle_mono_us();
    spindle_task_ctx env = {.queue = queue,
                            .store = &s->store,
                            .worker_id = s->st->id,
                            .cancel = &s->st->cancel,
                            .progress_interval_ms = s->cfg->opts->progress_interval_ms,
                            .max_args_bytes = s->cfg->opts->max_args_bytes,
                            .max_result_bytes = s->cfg->opts->max_result_bytes,
                            .max_items = s->cfg->opts->max_items,
                            .max_depth = s->cfg->opts->max_depth,
                            .max_channel_msg_bytes = s->cfg->opts->max_channel_msg_bytes};
    int ok = spindle_execute(s->cfg->reg, c, &env, s->cfg->in_thread, &s->zone, buf);
    int64_t took_us = spindle_mono_us() - t0;
    spindle_slot_task idle = {.running = 0};
    spindle_slot_publish(s->st, &idle);
    progress(s);
    spindle_metrics_ran(row, took_us);
    spindle_log_fields lf = {.func = c->func, .queue = queue, .duration_ms = took_us / 1000.0};
    if (ok)
        spindle_log_task(SPINDLE_LOG_DEBUG, c->id, &lf, "%s succeeded in %.3f ms (attempt %ld)",
                         c->func, lf.duration_ms, c->attempt);
    else if (atomic_load(&s->st->cancel))
        spindle_log_task(SPINDLE_LOG_INFO, c->id, &lf,
                         "%s stopped after a cancel request (attempt %ld): %.*s", c->func,
                         c->attempt, (int)buf->size, buf->data ? buf->data : "");
    else
        spindle_log_task(SPINDLE_LOG_WARN, c->id, &lf, "%s failed (attempt %ld): %.*s", c->func,
                         c->attempt, (int)buf->size, buf->data ? buf->data : "");
    return ok;
}

/* Settles what run_batch() produced; counts and logs refusals. */
static int settle_batch(slot *s, const char *queue, size_t ns)
{
    if (ns == 0)
        return SPINDLE_OK;
    int rc = spindle_store_settle(&s->store, queue, s->st->id, s->settle, ns, s->outcome);
    if (rc != SPINDLE_OK)
        return rc;
    for (size_t i = 0; i < ns; i++) {
        const spindle_settlement *set = &s->settle[i];
        if (s->outcome[i] == SPINDLE_OUTCOME_CANCELLED) {
            spindle_log(SPINDLE_LOG_INFO, set->id, "cancelled %s (attempt %ld)",
                        set->succeeded < 0 ? "before it started" : "while running", set->attempt);
            atomic_fetch_add(&s->st->processed, 1);
            continue;
        }
        if (set->succeeded < 0)
            continue;
        if (s->outcome[i] == SPINDLE_OUTCOME_REFUSED) {
            spindle_log(SPINDLE_LOG_WARN, set->id,
                        "settlement refused: attempt %ld no longer owns the task (it timed out "
                        "or its worker was presumed dead)",
                        set->attempt);
            continue;
        }
        atomic_fetch_add(&s->st->processed, 1);
        if (!set->succeeded)
            atomic_fetch_add(&s->st->failed, 1);
        spindle_metrics_outcome(spindle_metrics_row_of(s->cfg->metrics, queue, s->funcs[i]),
                                (int)s->outcome[i]);
        spindle_log_fields lf = {.func = s->funcs[i], .queue = queue, .duration_ms = -1};
        if (s->outcome[i] == SPINDLE_OUTCOME_SCHEDULED)
            spindle_log_task(SPINDLE_LOG_INFO, set->id, &lf, "attempt %ld failed; retry scheduled",
                             set->attempt);
    }
    return SPINDLE_OK;
}

/* Waits out a Redis outage with capped exponential back-off, logging once per outage. A slot
 * waiting for Redis is alive, not stuck: it shows progress, so that its supervisor beats
 * for it as soon as Redis is back, before its next attempt (up to RETRY_MAX_MS later, longer
 * than a short heartbeat TTL), and the tasks it holds are not taken from it. */
static void back_off(slot *s)
{
    spindle_metrics_redis_error(s->cfg->metrics);
    if (!s->in_outage) {
        spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; retrying with back-off", s->err.msg);
        s->in_outage = 1;
    }
    for (int slept = 0; slept < s->delay_ms && !stopping(s); slept += 50) {
        progress(s);
        usleep(50 * 1000);
    }
    s->delay_ms = s->delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->delay_ms * 2;
}

/* Sleeps ms (< SHORT_WAIT_MS) in steps of 10 ms, so a stop request is seen quickly. */
static void nap(slot *s, long ms)
{
    for (long slept = 0; slept < ms && !stopping(s); slept += 10)
        usleep((useconds_t)(ms - slept < 10 ? ms - slept : 10) * 1000);
}

/* Redis refused the idle wait (a wake list of the wrong type, written by hand): not an
 * outage, so no back-off and no "back" line; logged at most every 10 s, and the slot sleeps
 * the wait out instead, claiming as often as an idle worker does. */
static int wait_unwoken(slot *s, long ms)
{
    int64_t now = spindle_mono_ms();
    if (now - s->last_wake_warn_ms > 10000) {
        spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; polling instead", s->err.msg);
        s->last_wake_warn_ms = now;
    }
    for (long slept = 0; slept < ms && !stopping(s); slept += 50) {
        progress(s);
        usleep(50 * 1000);
    }
    return SPINDLE_OK;
}

static void recovered(slot *s)
{
    if (s->in_outage)
        spindle_log(SPINDLE_LOG_INFO, NULL, "Redis at %s is back", s->store.url_text);
    s->in_outage = 0;
    s->delay_ms = RETRY_MIN_MS;
}

/* Settles a batch, retrying through a Redis outage: the results are only in this process,
 * and a settlement applied twice is refused the second time by fencing, so retrying is safe.
 * Gives up when asked to stop and Redis stays away, or when Redis refuses the settlement
 * (an error reply: a key of the wrong type, OOM); the tasks then stay in this slot's
 * in-flight list, which its supervisor puts back once the slot has exited. */
static int settle_with_retry(slot *s, const char *queue, size_t ns)
{
    for (;;) {
        int rc = settle_batch(s, queue, ns);
        if ((rc != SPINDLE_ERR_IO && !spindle_store_refused_for_now(&s->store, rc)) || stopping(s))
            return rc;
        back_off(s);
    }
}

/* After a failed request, Redis may have run it all the same: a claim whose reply was lost
 * (the connection broke between the script and its reply, or the reply came after the
 * command timeout) left tasks `running` in this slot's in-flight list that the slot never
 * saw. While the slot lives nothing else would put them back (see serve_once), so it does,
 * before it claims again. Whatever it ran it has settled (settle_with_retry), so the list
 * holds only such tasks. */
static int put_back_unseen(slot *s)
{
    for (size_t q = 0; q < s->cfg->nqueues; q++) {
        long back = 0;
        int rc = spindle_store_recover(&s->store, s->cfg->queues[q], s->st->id, 0, &back, NULL);
        if (rc == SPINDLE_ERR_IO || spindle_store_refused_for_now(&s->store, rc))
            return rc;
        if (back > 0)
            spindle_log(SPINDLE_LOG_WARN, NULL,
                        "put back %ld task(s) of '%s' claimed by a request whose reply was lost",
                        back, s->cfg->queues[q]);
    }
    s->unsure = 0;
    return SPINDLE_OK;
}

/* Runs the claimed tasks [0, n) and fills the settlements (*nsettle of them are left to
 * settle; those not run within the budget are handed back). Results are settled early once
 * SETTLE_EVERY_MS has passed since the last settlement, so a slot killed mid-batch re-runs
 * at most that much finished work. Returns the status of those early settlements. */
static int run_batch(slot *s, const char *queue, int n, size_t *nsettle)
{
    // cppcheck-suppress shadowFunction ; a time, beside the function start(): no confusion
    int64_t start = spindle_mono_ms(), flushed = start;
    size_t ns = 0, ran = 0;
    int rc = SPINDLE_OK;
    for (int i = 0; i < n && rc == SPINDLE_OK; i++) {
        const spindle_claimed *c = &s->claimed[i];
        if (c->attempt == 0) {
            log_dropped(queue, c);
            continue;
        }
        spindle_settlement *set = &s->settle[ns];
        msgpack_sbuffer *buf = &s->payloads[ns];
        ns++;
        set->id = c->id;
        set->attempt = c->attempt;
        s->funcs[ns - 1] = c->func;
        set->jitter = (double)rand_r(&s->seed) / ((double)RAND_MAX + 1.0);
        if (stopping(s) || (ran > 0 && spindle_mono_ms() - start > BATCH_BUDGET_MS)) {
            set->succeeded = -1; /* hand back */
            set->payload = "";
            set->payload_len = 0;
            continue;
        }
        set->succeeded = run_one(s, c, queue, buf);
        if (set->succeeded < 0) { /* cancelled before it started: the settle ends it */
            set->payload = "";
            set->payload_len = 0;
            continue;
        }
        set->payload = buf->data ? buf->data : "";
        set->payload_len = buf->size;
        ran++;
        int64_t now = spindle_mono_ms();
        if (i + 1 < n && now - flushed >= SETTLE_EVERY_MS) {
            rc = settle_with_retry(s, queue, ns);
            ns = 0;
            flushed = now;
        }
    }
    *nsettle = rc == SPINDLE_OK ? ns : 0;
    int64_t took = spindle_mono_ms() - start;
    int prefetch = s->cfg->opts->prefetch;
    if (ran == (size_t)n && n == s->batch && took <= BATCH_FAST_MS)
        s->batch = s->batch * 2 > prefetch ? prefetch : s->batch * 2;
    else if (took > BATCH_BUDGET_MS)
        s->batch = s->batch / 2 > 0 ? s->batch / 2 : 1;
    return rc;
}

/* Claims and runs one batch from the first queue that has work, in priority order (strict)
 * or in the order weighted.h gives (weighted). Returns 1 if it found work,
 * 0 if every queue was empty, a negative status when Redis cannot be reached. A queue whose
 * keys Redis refuses to work on (a key of the wrong type written by hand) is logged and
 * skipped, so the other queues are still served.
 *
 * A batch that could not be settled sets s->abandoned: the slot must then exit rather than
 * claim again. Its tasks are still `running` in its in-flight list, under its worker id; a
 * slot that carried on under that id would keep them there for good, since its supervisor
 * only puts back what a slot that ended held, and the sweep only what a worker whose
 * heartbeat expired held, and this slot is alive and beating. */
static int serve_once(slot *s)
{
    const spindle_slot_config *cfg = s->cfg;
    s->next_due_ms = -1;
    if (s->unsure && put_back_unseen(s) != SPINDLE_OK)
        return s->err.code;
    /* Strict: the configured order. Weighted: the order of the queues' passes; the ones
     * found empty on the way are told which queue was served instead (weighted.h). */
    size_t order[SPINDLE_WEIGHTED_MAX], empty[SPINDLE_WEIGHTED_MAX], nempty = 0;
    for (size_t i = 0; i < cfg->nqueues && i < SPINDLE_WEIGHTED_MAX; i++)
        order[i] = i;
    if (cfg->weights)
        spindle_weighted_order(&s->weighted, order);
    for (size_t i = 0; i < cfg->nqueues; i++) {
        size_t q = order[i];
        redisReply *reply = NULL;
        int n = 0;
        long due = -1;
        int max = cfg->weights ? spindle_weighted_claim_max(&s->weighted, q, s->batch) : s->batch;
        int rc = spindle_store_claim(&s->store, cfg->queues[q], s->st->id, max,
                                     cfg->opts->heartbeat_ttl_ms, s->claimed, &n, &due, &reply);
        if (due >= 0 && (s->next_due_ms < 0 || due < s->next_due_ms))
            s->next_due_ms = due;
        if (spindle_store_refused_for_now(&s->store, rc))
            return rc; /* read-only, out of memory: back off (the loop), not just this queue */
        if (rc == SPINDLE_ERR_REDIS || rc == SPINDLE_ERR_PROTOCOL) {
            int64_t now = spindle_mono_ms();
            int64_t *warned = &s->last_queue_warn_ms[q % SPINDLE_STORE_MAX_QUEUES];
            if (now - *warned > 10000) {
                spindle_log(SPINDLE_LOG_ERROR, NULL, "skipping queue '%s': %s", cfg->queues[q],
                            s->err.msg);
                *warned = now;
            }
            continue;
        }
        if (rc != SPINDLE_OK)
            return rc;
        if (n == 0) {
            freeReplyObject(reply);
            empty[nempty++] = q;
            continue;
        }
        if (cfg->weights) {
            int claimed = 0;
            for (int k = 0; k < n; k++)
                claimed += s->claimed[k].attempt > 0;
            spindle_weighted_claimed(&s->weighted, q, max, claimed);
            for (size_t k = 0; k < nempty; k++)
                spindle_weighted_empty(&s->weighted, empty[k], q);
        }
        size_t ns = 0;
        if (s->batcher)
            n = spindle_batcher_take(s->batcher, s->claimed, n);
        rc = run_batch(s, cfg->queues[q], n, &ns);
        if (rc == SPINDLE_OK)
            rc = settle_with_retry(s, cfg->queues[q], ns);
        freeReplyObject(reply);
        if (rc == SPINDLE_OK && s->batcher)
            rc = spindle_batcher_serve(s->batcher, cfg->queues[q]);
        if (rc != SPINDLE_OK) {
            spindle_log(SPINDLE_LOG_ERROR, NULL,
                        "settling %zu task(s) of '%s': %s; the slot exits and its supervisor "
                        "puts them back",
                        ns, cfg->queues[q], s->err.msg);
            s->abandoned = 1;
        }
        return rc == SPINDLE_OK ? 1 : rc;
    }
    for (size_t k = 0; cfg->weights && k < nempty; k++)
        spindle_weighted_empty(&s->weighted, empty[k], SIZE_MAX);
    return 0;
}

/* The batch gatherer's way back into the slot (batch.h): runs and settles claimed[0..n) as
 * ordinary tasks, and one step of back-off. */
static int run_claimed(void *arg, const char *queue, int n)
{
    slot *s = arg;
    size_t ns = 0;
    int rc = run_batch(s, queue, n, &ns);
    return rc == SPINDLE_OK ? settle_with_retry(s, queue, ns) : rc;
}

static void back_off_step(void *arg)
{
    back_off(arg);
}

static int start_batcher(slot *s)
{
    spindle_batch_env env = {.cfg = s->cfg,
                             .st = s->st,
                             .store = &s->store,
                             .claimed = s->claimed,
                             .unsure = &s->unsure,
                             .slot = s,
                             .run = run_claimed,
                             .back_off = back_off_step,
                             .seed = &s->seed};
    if (spindle_batcher_new(&env, &s->batcher) != SPINDLE_OK)
        return spindle_error_set(&s->err, SPINDLE_ERR_NOMEM, "slot: out of memory for batches");
    return SPINDLE_OK;
}

/* NS:queues and NS:workers are listings for the CLI, not needed to serve: when Redis refuses
 * an addition to one (a key of the wrong type, written by hand), the slot says so at most
 * every 10 s and serves on. rc otherwise. */
static int index_refused(slot *s, int rc)
{
    if (rc != SPINDLE_ERR_REDIS || spindle_store_refused_for_now(&s->store, rc))
        return rc;
    int64_t now = spindle_mono_ms();
    if (now - s->last_index_warn_ms > 10000) {
        spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; serving without it", s->err.msg);
        s->last_index_warn_ms = now;
    }
    return SPINDLE_OK;
}

/* Connects, registers the queues, writes the first heartbeat and registers the worker,
 * waiting out an outage. Returns SPINDLE_OK, or the error if asked to stop first. */
static int start(slot *s)
{
    const spindle_slot_config *cfg = s->cfg;
    int rc =
        spindle_store_open(&s->store, cfg->opts->url, cfg->opts->ns, cfg->opts->connect_timeout_ms,
                           cfg->opts->command_timeout_ms, &s->err);
    for (;;) {
        if (rc == SPINDLE_OK)
            rc = index_refused(s, spindle_store_register_queues(
                                      &s->store, (const char *const *)cfg->queues, cfg->nqueues));
        /* The heartbeat first: a sweep running meanwhile prunes from NS:workers every id
         * that has none, a new slot's included. */
        if (rc == SPINDLE_OK)
            rc = spindle_beat(&s->store, cfg->beat, s->st);
        if (rc == SPINDLE_OK)
            rc = index_refused(s, spindle_store_worker_add(&s->store, s->st->id));
        if ((rc != SPINDLE_ERR_IO && !spindle_store_refused_for_now(&s->store, rc)) || stopping(s))
            break;
        back_off(s);
        rc = spindle_store_reconnect(&s->store);
    }
    if (rc == SPINDLE_OK)
        recovered(s);
    return rc;
}

static int alloc_scratch(slot *s)
{
    size_t p = (size_t)s->cfg->opts->prefetch;
    s->claimed = calloc(p, sizeof(*s->claimed));
    s->settle = calloc(p, sizeof(*s->settle));
    s->payloads = calloc(p, sizeof(*s->payloads));
    s->outcome = calloc(p, sizeof(*s->outcome));
    s->funcs = calloc(p, sizeof(*s->funcs));
    if (!s->claimed || !s->settle || !s->payloads || !s->outcome || !s->funcs)
        return spindle_error_set(&s->err, SPINDLE_ERR_NOMEM, "slot: out of memory");
    for (size_t i = 0; i < p; i++)
        msgpack_sbuffer_init(&s->payloads[i]);
    return SPINDLE_OK;
}

static void free_scratch(slot *s)
{
    if (s->payloads)
        for (int i = 0; i < s->cfg->opts->prefetch; i++)
            msgpack_sbuffer_destroy(&s->payloads[i]);
    free(s->payloads);
    free(s->claimed);
    free(s->settle);
    free(s->outcome);
    free(s->funcs);
}

/* Fills in the slot's identity: HOST:PID:RANDOM, the random part telling apart two
 * processes (or threads of one) that share a pid. */
static void identify(slot *s)
{
    char rnd[SPINDLE_ID_LEN + 1];
    spindle_id_new(rnd);
    snprintf(s->st->id, sizeof(s->st->id), "%.64s:%ld:%.8s", s->cfg->beat->host, (long)getpid(),
             rnd);
    s->st->pid = (long)getpid();
    s->st->started_wall_ms = spindle_wall_ms();
    s->seed = (unsigned int)(spindle_mono_us() ^ (uint64_t)getpid() ^ (uintptr_t)s);
}

int spindle_slot_run(const spindle_slot_config *cfg, spindle_slot_state *st)
{
    slot s;
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.st = st;
    s.batch = 1;
    s.delay_ms = RETRY_MIN_MS;
    if (cfg->weights)
        spindle_weighted_init(&s.weighted, cfg->weights, cfg->nqueues);
    msgpack_zone_init(&s.zone, 4096);
    identify(&s);
    if (cfg->in_thread)
        spindle_log_thread_worker(st->id);
    else
        spindle_log_setup(cfg->opts->log_level, st->id);
    progress(&s);
    int rc = alloc_scratch(&s);
    if (rc == SPINDLE_OK)
        rc = start_batcher(&s);
    if (rc == SPINDLE_OK)
        rc = start(&s);
    if (rc == SPINDLE_OK) {
        atomic_store(&st->ready, 1);
        s.last_register_ms = spindle_mono_ms();
    }
    while (rc == SPINDLE_OK && !stopping(&s)) {
        int got = SPINDLE_OK;
        if (spindle_mono_ms() - s.last_register_ms > REREGISTER_MS) {
            got = index_refused(&s, spindle_store_register_queues(
                                        &s.store, (const char *const *)cfg->queues, cfg->nqueues));
            if (got == SPINDLE_OK)
                s.last_register_ms = spindle_mono_ms();
        }
        if (got == SPINDLE_OK && s.quiet_waits > 0 && s.quiet_waits < IDLE_CLAIM_EVERY) {
            got = 0; /* nothing was announced since the last look: wait again */
        } else if (got == SPINDLE_OK) {
            s.quiet_waits = 0;
            got = serve_once(&s);
        }
        if (got == 0) {
            /* Sleep until woken, but no longer than until the next scheduled task is due. */
            long ms = idle_wait_ms(&s);
            if (s.next_due_ms >= 0 && s.next_due_ms < ms)
                ms = s.next_due_ms;
            int woken = 0;
            if (ms > 0 && ms < SHORT_WAIT_MS) {
                nap(&s, ms);
            } else if (ms > 0) {
                got = spindle_store_wait_wake(&s.store, (const char *const *)cfg->queues,
                                              cfg->nqueues, ms, &woken);
                if (got == SPINDLE_ERR_REDIS && !spindle_store_refused_for_now(&s.store, got))
                    got = wait_unwoken(&s, ms); /* a wake list of the wrong type */
                s.quiet_waits =
                    got == SPINDLE_OK && !woken && s.next_due_ms < 0 ? s.quiet_waits + 1 : 0;
            }
        }
        if (got < 0 && s.abandoned) {
            rc = got;
            break;
        }
        if (got < 0) {
            s.unsure = 1;
            back_off(&s);
            continue;
        }
        progress(&s);
        recovered(&s);
    }
    spindle_store_close(&s.store);
    spindle_batcher_free(s.batcher);
    free_scratch(&s);
    msgpack_zone_destroy(&s.zone);
    if (cfg->in_thread)
        spindle_log_thread_worker(NULL);
    return stopping(&s) ? SPINDLE_OK : rc;
}
