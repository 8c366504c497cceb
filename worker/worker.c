/* The worker loop (worker.h): claim a batch from the highest-priority queue that has work,
 * run it, settle it in one script call, start over; sleep in BRPOP on the queues' wake lists
 * when there is nothing to do.
 *
 * Batching is adaptive. A worker starts by claiming one task at a time; while batches come
 * back full and run quickly it doubles the batch (up to `prefetch`), and it halves it when a
 * batch runs long. A batch that exceeds its time budget hands its unstarted tasks back to the
 * front of the queue, so a worker never sits on work that another worker could be running.
 * With no-op tasks this turns two round trips per task into two per batch. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/names.h"
#include "worker/worker_impl.h"

/* Longest a worker runs tasks of one batch before handing the rest back (ms). */
#define BATCH_BUDGET_MS 50
/* A batch that ran within this time grows (ms). */
#define BATCH_FAST_MS 5
/* How long an idle worker blocks on the wake lists before looking again (ms): bounds both
 * idle cost (about one BRPOP and one claim per queue per second) and shutdown delay. */
#define IDLE_WAIT_MS 1000
/* How often a worker adds its queues to NS:queues again (ms), so a flushed or edited
 * registry heals without a restart. */
#define REREGISTER_MS 60000
/* Back-off bounds while Redis is unreachable (ms). */
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

struct spindle_worker {
    spindle_worker_options opts;
    char **queues;
    size_t nqueues;
    spindle_registry *reg;
    spindle_store store;
    spindle_error err;
    char id[160];
    volatile sig_atomic_t stop;
    unsigned long processed, failed;
    int batch; /* current adaptive batch size */
    int64_t last_queue_warn_ms;
    int64_t last_register_ms;
    /* per-batch scratch, sized to prefetch */
    spindle_claimed *claimed;
    spindle_settlement *settle;
    msgpack_sbuffer *payloads;
    enum spindle_outcome *outcome;
    msgpack_zone zone;
};

static spindle_worker *signal_target;

void spindle_worker_options_init(spindle_worker_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->log_level = SPINDLE_LOG_INFO;
    opts->prefetch = 128; /* measured: see docs/BENCHMARKS.md */
    opts->handle_signals = 1;
    opts->connect_timeout_ms = 2000;
    opts->command_timeout_ms = 5000;
}

static void make_id(spindle_worker *w)
{
    char host[64] = "localhost";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    char rnd[SPINDLE_ID_LEN + 1];
    spindle_id_new(rnd);
    snprintf(w->id, sizeof(w->id), "%s:%ld:%.8s", host, (long)getpid(), rnd);
}

spindle_worker *spindle_worker_new(const spindle_worker_options *opts, spindle_registry *reg)
{
    spindle_worker *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    if (opts)
        w->opts = *opts;
    else
        spindle_worker_options_init(&w->opts);
    w->reg = reg;
    static const char *const dflt[] = {"default"};
    const char *const *q = w->opts.nqueues ? w->opts.queues : dflt;
    size_t nq = w->opts.nqueues ? w->opts.nqueues : 1;
    w->queues = calloc(nq, sizeof(char *));
    if (w->queues == NULL) {
        free(w);
        return NULL;
    }
    for (size_t i = 0; i < nq; i++) {
        w->queues[i] = strdup(q[i] ? q[i] : "");
        if (w->queues[i] == NULL) {
            spindle_worker_free(w);
            return NULL;
        }
        w->nqueues++;
    }
    w->opts.queues = NULL; /* borrowed during new only */
    if (w->opts.prefetch < 1)
        w->opts.prefetch = 1;
    w->batch = 1;
    make_id(w);
    msgpack_zone_init(&w->zone, 4096);
    return w;
}

void spindle_worker_free(spindle_worker *w)
{
    if (w == NULL)
        return;
    if (signal_target == w)
        signal_target = NULL;
    spindle_store_close(&w->store);
    for (size_t i = 0; i < w->nqueues; i++)
        free(w->queues[i]);
    free(w->queues);
    if (w->payloads)
        for (int i = 0; i < w->opts.prefetch; i++)
            msgpack_sbuffer_destroy(&w->payloads[i]);
    free(w->payloads);
    free(w->claimed);
    free(w->settle);
    free(w->outcome);
    msgpack_zone_destroy(&w->zone);
    free(w);
}

void spindle_worker_stop(spindle_worker *w)
{
    w->stop = 1;
}

const char *spindle_worker_errstr(const spindle_worker *w)
{
    return w->err.msg;
}

const char *spindle_worker_id(const spindle_worker *w)
{
    return w->id;
}

unsigned long spindle_worker_processed(const spindle_worker *w)
{
    return w->processed;
}

unsigned long spindle_worker_failed(const spindle_worker *w)
{
    return w->failed;
}

static void on_signal(int sig)
{
    (void)sig;
    if (signal_target)
        spindle_worker_stop(signal_target);
}

static int validate(spindle_worker *w)
{
    if (w->reg == NULL)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID, "worker has no registry");
    if (w->nqueues > SPINDLE_STORE_MAX_QUEUES)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "%zu queues given; a worker serves at most %d", w->nqueues,
                                 SPINDLE_STORE_MAX_QUEUES);
    for (size_t i = 0; i < w->nqueues; i++) {
        int rc = spindle_name_check(w->queues[i], "queue", &w->err);
        if (rc != SPINDLE_OK)
            return rc;
    }
    size_t p = (size_t)w->opts.prefetch;
    w->claimed = calloc(p, sizeof(*w->claimed));
    w->settle = calloc(p, sizeof(*w->settle));
    w->payloads = calloc(p, sizeof(*w->payloads));
    w->outcome = calloc(p, sizeof(*w->outcome));
    if (!w->claimed || !w->settle || !w->payloads || !w->outcome)
        return spindle_error_set(&w->err, SPINDLE_ERR_NOMEM, "worker: out of memory");
    for (size_t i = 0; i < p; i++)
        msgpack_sbuffer_init(&w->payloads[i]);
    return SPINDLE_OK;
}

/* Logs an id the claim script dropped from pending. A task cancelled while pending is not
 * news; anything else means the keyspace was edited by hand or a producer misbehaved. */
static void log_dropped(const char *queue, const spindle_claimed *c)
{
    if (strcmp(c->skip_reason, "cancelled") == 0)
        return;
    spindle_log(SPINDLE_LOG_WARN, c->id, "dropped id from '%s' pending list: its task hash is %s%s",
                queue,
                strcmp(c->skip_reason, "missing") == 0 || strcmp(c->skip_reason, "wrongtype") == 0
                    ? ""
                    : "in state ",
                strcmp(c->skip_reason, "wrongtype") == 0 ? "not a hash" : c->skip_reason);
}

/* Runs the claimed tasks [0, n) and fills the settlements; returns how many were settled
 * (the rest are handed back). */
static size_t run_batch(spindle_worker *w, const char *queue, int n, size_t *nsettle)
{
    int64_t start = spindle_mono_ms();
    size_t ns = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        const spindle_claimed *c = &w->claimed[i];
        if (c->attempt == 0) {
            log_dropped(queue, c);
            continue;
        }
        spindle_settlement *s = &w->settle[ns];
        msgpack_sbuffer *buf = &w->payloads[ns];
        ns++;
        s->id = c->id;
        s->attempt = c->attempt;
        s->jitter = (double)rand() / ((double)RAND_MAX + 1.0);
        if (w->stop || (ran > 0 && spindle_mono_ms() - start > BATCH_BUDGET_MS)) {
            s->succeeded = -1; /* hand back */
            s->payload = "";
            s->payload_len = 0;
            continue;
        }
        int64_t t0 = spindle_mono_us();
        s->succeeded = spindle_execute(w->reg, c, queue, &w->zone, buf);
        s->payload = buf->data ? buf->data : "";
        s->payload_len = buf->size;
        ran++;
        if (s->succeeded)
            spindle_log(SPINDLE_LOG_DEBUG, c->id, "%s succeeded in %.3f ms (attempt %ld)", c->func,
                        (double)(spindle_mono_us() - t0) / 1000.0, c->attempt);
        else
            spindle_log(SPINDLE_LOG_WARN, c->id, "%s failed (attempt %ld): %.*s", c->func,
                        c->attempt, (int)s->payload_len, s->payload);
    }
    *nsettle = ns;
    int64_t took = spindle_mono_ms() - start;
    if (ran == (size_t)n && n == w->batch && took <= BATCH_FAST_MS)
        w->batch = w->batch * 2 > w->opts.prefetch ? w->opts.prefetch : w->batch * 2;
    else if (took > BATCH_BUDGET_MS)
        w->batch = w->batch / 2 > 0 ? w->batch / 2 : 1;
    return ran;
}

/* Settles what run_batch() produced; counts and logs refusals. */
static int settle_batch(spindle_worker *w, const char *queue, size_t ns)
{
    if (ns == 0)
        return SPINDLE_OK;
    int rc = spindle_store_settle(&w->store, queue, w->id, w->settle, ns, w->outcome);
    if (rc != SPINDLE_OK)
        return rc;
    for (size_t i = 0; i < ns; i++) {
        const spindle_settlement *s = &w->settle[i];
        if (s->succeeded < 0)
            continue;
        if (w->outcome[i] == SPINDLE_OUTCOME_REFUSED) {
            spindle_log(SPINDLE_LOG_WARN, s->id,
                        "settlement refused: attempt %ld no longer owns the task", s->attempt);
            continue;
        }
        w->processed++;
        if (!s->succeeded)
            w->failed++;
        if (w->outcome[i] == SPINDLE_OUTCOME_SCHEDULED)
            spindle_log(SPINDLE_LOG_INFO, s->id, "attempt %ld failed; retry scheduled", s->attempt);
    }
    return SPINDLE_OK;
}

/* Waits out a Redis outage with capped exponential back-off, logging once per outage. */
static void back_off(spindle_worker *w, int *delay_ms, int *in_outage)
{
    if (!*in_outage) {
        spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; retrying with back-off", w->err.msg);
        *in_outage = 1;
    }
    for (int slept = 0; slept < *delay_ms && !w->stop; slept += 50)
        usleep(50 * 1000);
    *delay_ms = *delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *delay_ms * 2;
}

/* Settles a batch, retrying through a Redis outage: the results are only in this process,
 * and a settlement applied twice is refused the second time by fencing, so retrying is
 * safe. Gives up when asked to stop and Redis stays away; the tasks then stay in this
 * worker's in-flight list for recovery. */
static int settle_with_retry(spindle_worker *w, const char *queue, size_t ns)
{
    int delay = RETRY_MIN_MS, outage = 0;
    for (;;) {
        int rc = settle_batch(w, queue, ns);
        if (rc != SPINDLE_ERR_IO || w->stop)
            return rc;
        back_off(w, &delay, &outage);
    }
}

/* Claims and runs one batch from the first queue that has work. Returns 1 if it found
 * work, 0 if every queue was empty, a negative status when Redis cannot be reached. A queue
 * whose keys Redis refuses to work on (a key of the wrong type written by hand) is logged
 * and skipped, so the other queues are still served. */
static int serve_once(spindle_worker *w)
{
    for (size_t q = 0; q < w->nqueues; q++) {
        redisReply *reply = NULL;
        int n = 0;
        int rc =
            spindle_store_claim(&w->store, w->queues[q], w->id, w->batch, w->claimed, &n, &reply);
        if (rc == SPINDLE_ERR_REDIS || rc == SPINDLE_ERR_PROTOCOL) {
            int64_t now = spindle_mono_ms();
            if (now - w->last_queue_warn_ms > 10000) {
                spindle_log(SPINDLE_LOG_ERROR, NULL, "skipping queue '%s': %s", w->queues[q],
                            w->err.msg);
                w->last_queue_warn_ms = now;
            }
            continue;
        }
        if (rc != SPINDLE_OK)
            return rc;
        if (n == 0) {
            freeReplyObject(reply);
            continue;
        }
        size_t ns = 0;
        run_batch(w, w->queues[q], n, &ns);
        rc = settle_with_retry(w, w->queues[q], ns);
        freeReplyObject(reply);
        if (rc != SPINDLE_OK)
            spindle_log(SPINDLE_LOG_ERROR, NULL, "settling %zu task(s) of '%s': %s", ns,
                        w->queues[q], w->err.msg);
        return rc == SPINDLE_OK ? 1 : rc;
    }
    return 0;
}

/* Refuses a Redis that may evict keys: every policy but noeviction can drop a pending list
 * or a task hash under memory pressure. A Redis that hides CONFIG is trusted, with a
 * warning. */
static int check_eviction(spindle_worker *w)
{
    char policy[32];
    int rc = spindle_store_eviction_policy(&w->store, policy);
    if (rc == SPINDLE_ERR_REDIS) {
        spindle_log(SPINDLE_LOG_WARN, NULL,
                    "cannot read maxmemory-policy (%s); make sure it is noeviction", w->err.msg);
        return SPINDLE_OK;
    }
    if (rc != SPINDLE_OK || strcmp(policy, "noeviction") == 0)
        return rc;
    if (w->opts.allow_eviction) {
        spindle_log(SPINDLE_LOG_WARN, NULL,
                    "Redis maxmemory-policy is %s: tasks can be lost under memory pressure",
                    policy);
        return SPINDLE_OK;
    }
    return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                             "Redis at %s has maxmemory-policy %s, which may evict (lose) tasks; "
                             "set it to noeviction, or pass --allow-eviction to run anyway",
                             w->store.url_text, policy);
}

int spindle_worker_run(spindle_worker *w)
{
    int rc = validate(w);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_log_setup(w->opts.log_level, w->id);
    rc = spindle_store_open(&w->store, w->opts.url, w->opts.ns, w->opts.connect_timeout_ms,
                            w->opts.command_timeout_ms, &w->err);
    if (rc == SPINDLE_OK)
        rc = check_eviction(w);
    if (rc == SPINDLE_OK)
        rc = spindle_store_register_queues(&w->store, (const char *const *)w->queues, w->nqueues);
    if (rc != SPINDLE_OK)
        return rc;
    struct sigaction old_int, old_term;
    if (w->opts.handle_signals) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        signal_target = w;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    spindle_log(SPINDLE_LOG_INFO, NULL,
                "serving %zu queue(s) starting with '%s' at %s (%zu functions)", w->nqueues,
                w->queues[0], w->store.url_text, spindle_registry_count(w->reg));
    int delay = RETRY_MIN_MS, outage = 0;
    w->last_register_ms = spindle_mono_ms();
    while (!w->stop) {
        int got = 0;
        if (spindle_mono_ms() - w->last_register_ms > REREGISTER_MS) {
            got = spindle_store_register_queues(&w->store, (const char *const *)w->queues,
                                                w->nqueues);
            if (got == SPINDLE_OK)
                w->last_register_ms = spindle_mono_ms();
        }
        if (got == SPINDLE_OK)
            got = serve_once(w);
        if (got == 0) {
            int woken;
            got = spindle_store_wait_wake(&w->store, (const char *const *)w->queues, w->nqueues,
                                          IDLE_WAIT_MS, &woken);
        }
        if (got < 0) {
            back_off(w, &delay, &outage);
            continue;
        }
        if (outage)
            spindle_log(SPINDLE_LOG_INFO, NULL, "Redis at %s is back", w->store.url_text);
        outage = 0;
        delay = RETRY_MIN_MS;
    }
    if (w->opts.handle_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        signal_target = NULL;
    }
    spindle_log(SPINDLE_LOG_INFO, NULL, "stopped: %lu tasks processed, %lu failed", w->processed,
                w->failed);
    return SPINDLE_OK;
}

int spindle_worker_main(const spindle_worker_options *opts, spindle_registry *reg)
{
    spindle_worker *w = spindle_worker_new(opts, reg);
    if (w == NULL) {
        fprintf(stderr, "spindle-worker: out of memory\n");
        return 1;
    }
    int rc = spindle_worker_run(w);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "spindle-worker: %s\n", spindle_worker_errstr(w));
    spindle_worker_free(w);
    return rc == SPINDLE_OK ? 0 : 1;
}
