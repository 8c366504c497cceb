/* The worker (worker.h): a supervisor and its pool of slots.
 *
 * The supervisor runs no task. It starts `concurrency` slots (child processes, or threads),
 * and every tick it reaps the slots that ended, settles what a dead slot was running and puts
 * back the rest of what it held, restarts it (with a back-off when slots keep dying at
 * once), kills slots whose task ran past its timeout or whose loop stalled, writes every
 * slot's heartbeat, and tries for the fleet-wide sweep lock to recover workers that vanished
 * elsewhere. Why a separate supervisor: a slot running a long C function cannot heartbeat,
 * time itself out, or report its own segfault; its parent can. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/names.h"
#include "spindle/client.h"
#include "worker/cron.h"
#include "worker/metrics.h"
#include "worker/metrics_server.h"
#include "worker/pool.h"
#include "worker/supervisor.h"

static spindle_worker *signal_target;

void spindle_worker_options_init(spindle_worker_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->log_level = SPINDLE_LOG_INFO;
    opts->prefetch = 128; /* measured: see docs/BENCHMARKS.md */
    opts->handle_signals = 1;
    opts->connect_timeout_ms = 2000;
    opts->command_timeout_ms = 5000;
    opts->concurrency = 1;
    opts->pool = SPINDLE_POOL_PROCESS;
    opts->shutdown_timeout_s = 25;
    opts->heartbeat_interval_ms = 2000;
    opts->heartbeat_ttl_ms = 6000;
    opts->sweep_interval_ms = 3000;
    opts->progress_interval_ms = 100; /* ten writes a second per task at most */
    opts->cancel_grace_ms = -1;
    opts->max_args_bytes = SPINDLE_ARGS_MAX_DEFAULT;
    opts->max_result_bytes = SPINDLE_RESULT_MAX_DEFAULT;
    opts->max_items = SPINDLE_ITEMS_MAX_DEFAULT;
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
    if (w->opts.weights) {
        w->weights = calloc(nq, sizeof(int));
        if (w->weights == NULL) {
            spindle_worker_free(w);
            return NULL;
        }
        memcpy(w->weights, w->opts.weights, nq * sizeof(int));
    }
    w->opts.queues = NULL; /* borrowed during new only */
    w->opts.weights = NULL;
    if (w->opts.prefetch < 1)
        w->opts.prefetch = 1;
    gethostname(w->beat.host, sizeof(w->beat.host) - 1);
    char rnd[SPINDLE_ID_LEN + 1];
    spindle_id_new(rnd);
    snprintf(w->id, sizeof(w->id), "%.64s:%ld:%.8s", w->beat.host[0] ? w->beat.host : "localhost",
             (long)getpid(), rnd);
    return w;
}

void spindle_worker_free(spindle_worker *w)
{
    if (w == NULL)
        return;
    if (signal_target == w)
        signal_target = NULL;
    spindle_store_close(&w->store);
    spindle_worker_cron_free(w);
    for (size_t i = 0; i < w->nqueues; i++)
        free(w->queues[i]);
    free(w->queues);
    free(w->weights);
    free(w->slots);
    free(w->graves);
    pool_table_free(w->table, w->nslots, w->opts.pool == SPINDLE_POOL_PROCESS);
    spindle_metrics_server_stop(w);
    spindle_metrics_free(w->metrics, w->opts.pool == SPINDLE_POOL_PROCESS);
    spindle_cancel_ring_free(w->cancelled, w->opts.pool == SPINDLE_POOL_PROCESS);
    free(w);
}

void spindle_worker_stop(spindle_worker *w)
{
    if (w->stop_requests < 2)
        w->stop_requests++;
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
    unsigned long n = w->processed;
    for (size_t i = 0; w->table && i < w->nslots; i++)
        n += atomic_load(&w->table[i].processed);
    return n;
}

unsigned long spindle_worker_failed(const spindle_worker *w)
{
    unsigned long n = w->failed;
    for (size_t i = 0; w->table && i < w->nslots; i++)
        n += atomic_load(&w->table[i].failed);
    return n;
}

static void on_signal(int sig)
{
    (void)sig;
    if (signal_target)
        spindle_worker_stop(signal_target);
}

static int validate(spindle_worker *w)
{
    const spindle_worker_options *o = &w->opts;
    if (w->reg == NULL)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID, "worker has no registry");
    if (o->log_format != SPINDLE_LOG_FORMAT_TEXT && o->log_format != SPINDLE_LOG_FORMAT_JSON)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID, "log format %d is not text or json",
                                 o->log_format);
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (o->metrics_addr &&
        spindle_metrics_addr_parse(o->metrics_addr, &addr, &addr_len, &w->err) != SPINDLE_OK)
        return w->err.code;
    if (w->nqueues > SPINDLE_STORE_MAX_QUEUES)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "%zu queues given; a worker serves at most %d", w->nqueues,
                                 SPINDLE_STORE_MAX_QUEUES);
    for (size_t i = 0; i < w->nqueues; i++) {
        int rc = spindle_name_check(w->queues[i], "queue", &w->err);
        if (rc != SPINDLE_OK)
            return rc;
    }
    for (size_t i = 0; w->weights && i < w->nqueues; i++)
        if (w->weights[i] < 1 || w->weights[i] > SPINDLE_MAX_WEIGHT)
            return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                     "weight %d of queue '%s' is not in 1-%d", w->weights[i],
                                     w->queues[i], SPINDLE_MAX_WEIGHT);
    if (o->concurrency < 1 || o->concurrency > SPINDLE_WORKER_MAX_SLOTS)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID, "concurrency %d is not in 1-%d",
                                 o->concurrency, SPINDLE_WORKER_MAX_SLOTS);
    if (o->pool != SPINDLE_POOL_PROCESS && o->pool != SPINDLE_POOL_THREAD)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID, "unknown pool kind %d", o->pool);
    if (o->default_timeout_s < 0 || o->shutdown_timeout_s < 0)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "default timeout %ld s and shutdown timeout %ld s must not be "
                                 "negative",
                                 o->default_timeout_s, o->shutdown_timeout_s);
    if (o->heartbeat_interval_ms < 10 || o->heartbeat_ttl_ms <= o->heartbeat_interval_ms ||
        o->sweep_interval_ms < 10)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "heartbeat interval %ld ms must be at least 10 and below its "
                                 "TTL %ld ms; sweep interval %ld ms at least 10",
                                 o->heartbeat_interval_ms, o->heartbeat_ttl_ms,
                                 o->sweep_interval_ms);
    if (o->progress_interval_ms < 0 || o->progress_interval_ms > 86400000L)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "progress interval %ld ms is not in 0-86400000",
                                 o->progress_interval_ms);
    if (o->max_depth < 0 || o->max_depth > SPINDLE_MSGPACK_MAX_DEPTH)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "max_depth %d is not 0 (the default) or in 1-%d", o->max_depth,
                                 SPINDLE_MSGPACK_MAX_DEPTH);
    if (o->max_channel_msg_bytes < 0 || o->max_channel_msg_bytes > SPINDLE_CHANNEL_MSG_MAX)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "max_channel_msg_bytes %ld is not 0 (the default) or in 1-%ld",
                                 o->max_channel_msg_bytes, SPINDLE_CHANNEL_MSG_MAX);
    if (o->cancel_grace_ms < -1 || o->cancel_grace_ms > SPINDLE_MAX_CANCEL_GRACE_MS)
        return spindle_error_set(&w->err, SPINDLE_ERR_INVALID,
                                 "cancel grace %ld ms is not -1 (never forced) or in 0-%ld",
                                 o->cancel_grace_ms, SPINDLE_MAX_CANCEL_GRACE_MS);
    return SPINDLE_OK;
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

/* Allocates the pool and fills what every slot shares. */
static int prepare(spindle_worker *w)
{
    int processes = w->opts.pool == SPINDLE_POOL_PROCESS;
    w->nslots = (size_t)w->opts.concurrency;
    w->table = pool_table_new(w->nslots, processes);
    w->slots = calloc(w->nslots, sizeof(*w->slots));
    w->graves = calloc(w->nslots * 2, sizeof(*w->graves));
    w->graves_cap = w->nslots * 2;
    if (w->table == NULL || w->slots == NULL || w->graves == NULL)
        return spindle_error_set(&w->err, SPINDLE_ERR_NOMEM, "worker pool: out of memory");
    for (size_t i = 0; i < w->nslots; i++)
        w->slots[i].st = &w->table[i];
    w->beat.supervisor = (long)getpid();
    w->beat.pool = processes ? "process" : "thread";
    w->beat.ttl_ms = w->opts.heartbeat_ttl_ms;
    size_t off = 0;
    for (size_t i = 0; i < w->nqueues; i++) {
        int n = snprintf(w->beat.queues + off, sizeof(w->beat.queues) - off, "%s%s", i ? "," : "",
                         w->queues[i]);
        if (n < 0 || (size_t)n >= sizeof(w->beat.queues) - off)
            break;
        off += (size_t)n;
    }
    w->cancelled = spindle_cancel_ring_new(processes);
    if (w->opts.metrics_addr)
        w->metrics = spindle_metrics_new(processes);
    if (w->cancelled == NULL || (w->opts.metrics_addr && w->metrics == NULL))
        return spindle_error_set(&w->err, SPINDLE_ERR_NOMEM, "worker pool: out of memory");
    w->cfg = (spindle_slot_config){.opts = &w->opts,
                                   .queues = w->queues,
                                   .nqueues = w->nqueues,
                                   .weights = w->weights,
                                   .reg = w->reg,
                                   .beat = &w->beat,
                                   .in_thread = !processes,
                                   .cancelled = w->cancelled,
                                   .supervisor_fd = -1,
                                   .metrics = w->metrics,
                                   .metrics_fd = -1};
    return SPINDLE_OK;
}

static void install_signals(spindle_worker *w, struct sigaction *old_int,
                            struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signal_target = w;
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

int spindle_worker_run(spindle_worker *w)
{
    int rc = validate(w);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_log_set_format(w->opts.log_format);
    spindle_log_setup(w->opts.log_level, w->id);
    rc = spindle_store_open(&w->store, w->opts.url, w->opts.ns, w->opts.connect_timeout_ms,
                            w->opts.command_timeout_ms, &w->err);
    if (rc == SPINDLE_OK)
        rc = check_eviction(w);
    if (rc == SPINDLE_OK)
        rc = spindle_store_register_queues(&w->store, (const char *const *)w->queues, w->nqueues);
    if (rc == SPINDLE_ERR_REDIS) {
        /* NS:queues is a listing for the CLI: a key of the wrong type there (written by
         * hand) is reported, and the worker serves without it. */
        spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; serving without it", w->err.msg);
        rc = SPINDLE_OK;
    }
    if (rc == SPINDLE_OK)
        rc = spindle_worker_cron_declare(w);
    if (rc == SPINDLE_OK)
        rc = prepare(w);
    if (rc == SPINDLE_OK)
        rc = spindle_metrics_server_start(w);
    if (rc != SPINDLE_OK)
        return rc;
    struct sigaction old_int, old_term;
    if (w->opts.handle_signals)
        install_signals(w, &old_int, &old_term);
    spindle_log(SPINDLE_LOG_INFO, NULL,
                "serving %zu queue(s) starting with '%s' at %s with %d %s slot(s) (%zu "
                "functions)",
                w->nqueues, w->queues[0], w->store.url_text, w->opts.concurrency, w->beat.pool,
                spindle_registry_count(w->reg));
    rc = spindle_supervise(w);
    spindle_metrics_server_stop(w);
    if (w->opts.handle_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        signal_target = NULL;
    }
    spindle_log(SPINDLE_LOG_INFO, NULL, "stopped: %lu tasks processed, %lu failed",
                spindle_worker_processed(w), spindle_worker_failed(w));
    return rc;
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
