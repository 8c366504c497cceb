/* The supervisor loop (worker.c says why there is one). One tick every TICK_MS:
 *
 *   reap     slots that ended: record what they ran (a grave), restart them
 *   bury     graves: fail the task a dead slot was running, put back the rest it held
 *   police   kill a slot whose task ran past its timeout or whose loop stalled, or that
 *            ignored a cancel request past its grace
 *   beat     write each live slot's heartbeat (and renew the lease of a task of a
 *            single-file queue), and check the tasks they run for cancel requests the
 *            subscription missed
 *   wait     until the next tick, handling cancel requests as they arrive (cancel.c)
 *   sweep    under the fleet-wide lock, recover workers whose heartbeat expired
 *   stop     on request: slots stop claiming; after the shutdown timeout (or a second
 *            request) they are killed and what they ran goes back to pending. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "worker/cancel.h"
#include "worker/cron.h"
#include "worker/lease.h"
#include "worker/metrics.h"
#include "worker/metrics_server.h"
#include "worker/supervisor.h"

/* How often the supervisor looks at its slots (ms): the resolution of hard timeouts. */
#define TICK_MS 50
/* A slot that dies sooner than this after its start counts as dying "at once" (ms). */
#define EARLY_DEATH_MS 1000
/* Restart back-off bounds for slots that keep dying at once (ms). */
#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 5000
/* The consistency audit reads one SCAN page (1000 keys) every AUDIT_EVERY sweeps this worker
 * makes (about once a minute by default): finished tasks dominate the keyspace
 * and are read for nothing, so the audit is rationed to a few hundred Redis operations a
 * minute for the whole fleet. A full cycle over a million task hashes takes about 17 hours;
 * it is a last resort for damage no step leaves behind by itself. */
#define AUDIT_EVERY 20
/* Every how many rounds of heartbeats the ids a supervisor beats for are added to NS:workers
 * again (20 s at the default interval of 2 s). */
#define REINDEX_ROUNDS 10

typedef struct loop {
    int64_t next_beat, next_sweep;
    int stopping, forced;
    int64_t deadline;
} loop;

static int processes(const spindle_worker *w)
{
    return w->opts.pool == SPINDLE_POOL_PROCESS;
}

/* Logs a Redis failure of the supervisor once per outage. */
static void redis_failed(spindle_worker *w, const char *what)
{
    spindle_metrics_redis_error(w->metrics);
    if (!w->in_outage)
        spindle_log(SPINDLE_LOG_ERROR, NULL, "%s: %s; will retry", what, w->err.msg);
    w->in_outage = 1;
}

/* The end of an outage also starts the sweep's grace period (see sweep()). */
static void redis_ok(spindle_worker *w)
{
    if (w->in_outage) {
        spindle_log(SPINDLE_LOG_INFO, NULL, "Redis at %s is back", w->store.url_text);
        w->sweep_after_ms = spindle_mono_ms() + w->opts.heartbeat_ttl_ms;
    }
    w->in_outage = 0;
}

/* Settles and puts back what a dead slot held. Returns SPINDLE_OK once done. */
static int bury(spindle_worker *w, const grave *g)
{
    if (g->fail_task && g->task.running) {
        spindle_settlement set = {.id = g->task.id,
                                  .attempt = g->task.attempt,
                                  .succeeded = g->cancel_task ? SPINDLE_SETTLE_CANCELLED : 0,
                                  .payload = g->cause,
                                  .payload_len = strlen(g->cause),
                                  .jitter = (double)rand() / ((double)RAND_MAX + 1.0)};
        enum spindle_outcome out;
        int rc = spindle_store_settle(&w->store, g->task.queue, g->id, &set, 1, &out);
        if (rc == SPINDLE_ERR_IO)
            return rc;
        if (rc == SPINDLE_OK)
            spindle_metrics_outcome(spindle_metrics_row_of(w->metrics, g->task.queue, g->task.func),
                                    (int)out);
        if (rc == SPINDLE_OK && out != SPINDLE_OUTCOME_REFUSED)
            spindle_log(SPINDLE_LOG_WARN, g->task.id, "attempt %ld %s: %s", g->task.attempt,
                        out == SPINDLE_OUTCOME_SCHEDULED   ? "failed, retry scheduled"
                        : out == SPINDLE_OUTCOME_CANCELLED ? "ended cancelled"
                                                           : "failed for good",
                        g->cause);
    }
    for (size_t q = 0; q < w->nqueues; q++) {
        long back = 0, failed = 0;
        int rc = spindle_store_recover(&w->store, w->queues[q], g->id, 0, &back, &failed);
        if (rc == SPINDLE_ERR_IO)
            return rc;
        if (back > 0)
            spindle_log(SPINDLE_LOG_INFO, NULL, "put back %ld task(s) of '%s' held by %s", back,
                        w->queues[q], g->id);
    }
    return spindle_store_worker_remove(&w->store, g->id) == SPINDLE_ERR_IO ? SPINDLE_ERR_IO
                                                                           : SPINDLE_OK;
}

static void bury_all(spindle_worker *w)
{
    size_t kept = 0;
    for (size_t i = 0; i < w->ngraves; i++) {
        if (bury(w, &w->graves[i]) == SPINDLE_OK) {
            redis_ok(w);
            continue;
        }
        redis_failed(w, "putting back the tasks of a stopped slot");
        w->graves[kept++] = w->graves[i];
    }
    w->ngraves = kept;
}

static void add_grave(spindle_worker *w, const grave *g)
{
    if (w->ngraves == w->graves_cap) {
        size_t cap = w->graves_cap * 2;
        grave *more = realloc(w->graves, cap * sizeof(*more));
        if (more == NULL) {
            /* Nothing to do but leave it to the sweep: the heartbeat is gone already. */
            spindle_log(SPINDLE_LOG_ERROR, NULL, "out of memory; the sweep will recover %s", g->id);
            return;
        }
        w->graves = more;
        w->graves_cap = cap;
    }
    w->graves[w->ngraves++] = *g;
}

/* Describes how a slot ended, for the error of the task it was running. */
static void describe_death(const pool_slot *ps, int status, char *buf, size_t len)
{
    if (ps->timed_out)
        snprintf(buf, len, "timed out after %ld s (its process was killed)",
                 ps->timed_out_task.timeout_ms / 1000);
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "worker process killed by signal SIG%s (%s) while running the task",
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "worker process exited with status %d while running the task",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* A slot ended: keep what it held for burial, count it, schedule its restart. */
static void on_end(spindle_worker *w, loop *l, size_t i, int status)
{
    pool_slot *ps = &w->slots[i];
    spindle_slot_state *st = ps->st;
    grave g;
    memset(&g, 0, sizeof(g));
    memcpy(g.id, st->id, sizeof(g.id));
    spindle_slot_snapshot(st, &g.task);
    if (ps->timed_out && !processes(w))
        g.task.running = 0; /* already failed by police() */
    int clean = !processes(w) || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Stopped on purpose (forced stop): its task goes back to pending, not failed. */
    if (ps->cancel_forced && !processes(w) && spindle_cancel_killed(ps, &g.task, g.cause, 1))
        g.task.running = 0; /* already ended by spindle_cancel_police() */
    g.fail_task = g.task.running && !l->forced;
    /* Killed for a cancel request: a death on purpose, which says nothing of the slot's
     * health (no restart back-off), and its task ends `cancelled`. */
    int on_purpose = processes(w) && spindle_cancel_killed(ps, &g.task, g.cause, sizeof(g.cause));
    g.cancel_task = on_purpose;
    if (!on_purpose)
        describe_death(ps, status, g.cause, sizeof(g.cause));
    w->processed += atomic_load(&st->processed);
    w->failed += atomic_load(&st->failed);
    atomic_store(&st->processed, 0);
    atomic_store(&st->failed, 0);
    if (g.id[0])
        add_grave(w, &g);
    if (l->stopping)
        return;
    int64_t now = spindle_mono_ms();
    if (on_purpose) {
        ps->restart_at_ms = now;
        return;
    }
    if (!clean)
        spindle_log(SPINDLE_LOG_ERROR, g.task.running ? g.task.id : NULL, "slot %s ended: %s",
                    g.id[0] ? g.id : "(starting)", g.task.running ? g.cause : "between tasks");
    if (now - ps->started_ms < EARLY_DEATH_MS)
        w->restart_streak++;
    else
        w->restart_streak = 0;
    long delay = 0;
    if (w->restart_streak > 0) {
        delay = RESTART_MIN_MS << (w->restart_streak > 10 ? 10 : w->restart_streak - 1);
        if (delay > RESTART_MAX_MS)
            delay = RESTART_MAX_MS;
        spindle_log(SPINDLE_LOG_WARN, NULL, "slots keep dying at once: restarting in %ld ms",
                    delay);
    }
    ps->restart_at_ms = now + delay;
}

static void reap(spindle_worker *w, loop *l, int block)
{
    for (;;) {
        int status = 0;
        int i = processes(w) ? pool_process_reap(w->slots, w->nslots, block, &status)
                             : pool_thread_reap(w->slots, w->nslots);
        if (i < 0)
            return;
        on_end(w, l, (size_t)i, status);
    }
}

static void start_slots(spindle_worker *w, const loop *l)
{
    if (l->stopping)
        return;
    int64_t now = spindle_mono_ms();
    for (size_t i = 0; i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (ps->alive || ps->restart_at_ms > now)
            continue;
        ps->cancel_noted = 0;
        ps->cancel_forced = 0;
        int rc = processes(w) ? pool_process_start(ps, &w->cfg, getpid(), &w->err)
                              : pool_thread_start(ps, &w->cfg, &w->err);
        if (rc != SPINDLE_OK) {
            spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; retrying in 1 s", w->err.msg);
            ps->restart_at_ms = now + 1000;
        }
    }
}

/* A thread cannot be killed: its timed-out task is failed in Redis in its name, and the
 * thread's own settlement will be refused. */
static void fail_thread_task(spindle_worker *w, pool_slot *ps, const spindle_slot_task *t)
{
    grave g;
    memset(&g, 0, sizeof(g));
    memcpy(g.id, ps->st->id, sizeof(g.id));
    g.task = *t;
    g.fail_task = 1;
    snprintf(g.cause, sizeof(g.cause),
             "timed out after %ld s (a thread pool cannot stop the function; its result will be "
             "ignored)",
             t->timeout_ms / 1000);
    spindle_settlement set = {.id = t->id,
                              .attempt = t->attempt,
                              .succeeded = 0,
                              .payload = g.cause,
                              .payload_len = strlen(g.cause),
                              .jitter = (double)rand() / ((double)RAND_MAX + 1.0)};
    enum spindle_outcome out;
    if (spindle_store_settle(&w->store, t->queue, g.id, &set, 1, &out) != SPINDLE_OK) {
        redis_failed(w, "failing a timed-out task");
        return; /* tried again next tick */
    }
    spindle_metrics_outcome(spindle_metrics_row_of(w->metrics, t->queue, t->func), (int)out);
    spindle_log(SPINDLE_LOG_WARN, t->id, "%s", g.cause);
    ps->timed_out = 1;
    ps->timed_out_task = *t;
}

/* Kills slots past a task timeout, and process slots whose loop stopped making progress
 * while the supervisor can reach Redis (a hung slot is restarted, not left holding tasks). */
static void police(spindle_worker *w, const loop *l)
{
    int64_t now = spindle_mono_ms();
    for (size_t i = 0; i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (!ps->alive)
            continue;
        spindle_slot_task t;
        spindle_slot_snapshot(ps->st, &t);
        int same = ps->timed_out && strcmp(ps->timed_out_task.id, t.id) == 0 &&
                   ps->timed_out_task.attempt == t.attempt;
        if (t.running && t.timeout_ms > 0 && now - t.started_mono_ms > t.timeout_ms && !same) {
            if (processes(w)) {
                ps->timed_out = 1;
                ps->timed_out_task = t;
                spindle_log(SPINDLE_LOG_WARN, t.id, "ran past its %ld s timeout: killing %s",
                            t.timeout_ms / 1000, ps->st->id);
                kill(ps->pid, SIGKILL);
            } else {
                fail_thread_task(w, ps, &t);
            }
            continue;
        }
        int64_t idle = now - atomic_load(&ps->st->progress_ms);
        if (processes(w) && !t.running && !l->stopping && !w->in_outage && !ps->stalled &&
            atomic_load(&ps->st->ready) &&
            idle > 2 * w->opts.heartbeat_ttl_ms + w->opts.command_timeout_ms) {
            spindle_log(SPINDLE_LOG_ERROR, NULL, "slot %s made no progress for %lld ms: killing",
                        ps->st->id, (long long)idle);
            ps->stalled = 1;
            kill(ps->pid, SIGKILL);
        }
    }
}

/* Writes the heartbeat of every live slot whose loop is making progress (or running a
 * task): a slot stuck elsewhere stops beating, so the fleet stops trusting it. An idle slot
 * shows progress once per wait on its wake lists (SPINDLE_SLOT_IDLE_WAIT_MS), so it counts
 * as stuck only after a heartbeat TTL on top of that wait: measured from its last progress
 * alone, a TTL shorter than the wait (--heartbeat-ttl 0.6) let the heartbeat of every idle
 * slot expire once a cycle, and the sweep take it for lost. Then, every REINDEX_ROUNDS, it
 * adds the ids it beat for to the NS:workers index again: a slot adds itself only at its
 * start, and the index loses it to a flush, to a restart of a Redis without persistence, or
 * to a sweep that pruned it while it was presumed dead; `spindle-worker --check` reads it.
 * Not every round: idle, that SADD was 0.5 of a worker's 6.4 commands a second. */
static void beat(spindle_worker *w)
{
    const char **ids = w->beaten;
    size_t n = 0;
    int64_t now = spindle_mono_ms();
    w->nbeaten = 0;
    for (size_t i = 0; i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (!ps->alive || !atomic_load(&ps->st->ready))
            continue;
        spindle_slot_task t;
        spindle_slot_snapshot(ps->st, &t);
        if (!t.running && now - atomic_load(&ps->st->progress_ms) >
                              w->opts.heartbeat_ttl_ms + SPINDLE_SLOT_IDLE_WAIT_MS)
            continue;
        if (spindle_beat(&w->store, &w->beat, ps->st) != SPINDLE_OK ||
            spindle_lease_renew(w, ps->st->id, &t) != SPINDLE_OK) {
            redis_failed(w, "writing heartbeats");
            return;
        }
        redis_ok(w);
        ids[n++] = ps->st->id;
    }
    int reindex = n > 0 && w->rounds_unindexed == 0;
    int rc = reindex ? spindle_store_workers_add(&w->store, ids, n) : SPINDLE_OK;
    if (rc == SPINDLE_ERR_REDIS && !spindle_store_refused_for_now(&w->store, rc)) {
        /* NS:workers is a listing: a key of the wrong type there (written by hand) is said
         * at most every 10 s, and is no outage. */
        if (spindle_mono_ms() - w->index_warned_ms > 10000) {
            spindle_log(SPINDLE_LOG_ERROR, NULL, "%s; serving without it", w->err.msg);
            w->index_warned_ms = spindle_mono_ms();
        }
    } else if (rc != SPINDLE_OK) {
        redis_failed(w, "writing heartbeats");
        return;
    }
    w->nbeaten = n;
    if (n > 0)
        w->rounds_unindexed = (w->rounds_unindexed + 1) % REINDEX_ROUNDS;
    if (spindle_cancel_check(w) != SPINDLE_OK)
        redis_failed(w, "checking for cancel requests");
}

/* Right after an outage of this supervisor's own, a missing heartbeat proves nothing: if
 * Redis was down or restarted for longer than the TTL, every worker's heartbeat expired the
 * same way, this one's slots included. Sweeping then would take every running task back
 * from live workers, to run it twice. So a supervisor sweeps only once one TTL has passed
 * since it saw Redis again, time enough for every live worker to beat. */
static void sweep(spindle_worker *w)
{
    if (spindle_mono_ms() < w->sweep_after_ms)
        return;
    int got = 0;
    if (spindle_store_sweep_lock(&w->store, w->id, w->opts.sweep_interval_ms, &got) != SPINDLE_OK) {
        redis_failed(w, "taking the sweep lock");
        return;
    }
    if (w->in_outage) {
        redis_ok(w); /* back: the grace period starts now */
        return;
    }
    if (!got)
        return;
    long workers = 0, requeued = 0, failed = 0;
    int rc = spindle_store_recover_lost(&w->store, w->beaten, w->nbeaten, w->queues, w->nqueues,
                                        &workers, &requeued, &failed);
    if (rc == SPINDLE_ERR_IO)
        redis_failed(w, "sweeping for lost workers");
    else if (rc != SPINDLE_OK && spindle_mono_ms() - w->sweep_warned_ms > 10000) {
        /* Redis refused (a key of the wrong type): it will again at the next sweep. */
        spindle_log(SPINDLE_LOG_ERROR, NULL, "sweeping for lost workers: %s", w->err.msg);
        w->sweep_warned_ms = spindle_mono_ms();
    }
    if (workers > 0)
        spindle_log(SPINDLE_LOG_WARN, NULL,
                    "recovered %ld lost worker(s): %ld task(s) back on pending, %ld failed for "
                    "good after being lost too often",
                    workers, requeued, failed);
    if (++w->sweeps % AUDIT_EVERY != 0)
        return;
    long repaired = 0;
    rc = spindle_store_audit(&w->store, 1, &repaired);
    if (rc == SPINDLE_ERR_IO)
        redis_failed(w, "auditing tasks");
    else if (rc != SPINDLE_OK)
        spindle_log(SPINDLE_LOG_ERROR, NULL, "auditing tasks: %s", w->err.msg);
    if (repaired > 0)
        spindle_log(SPINDLE_LOG_WARN, NULL,
                    "audit repaired %ld task(s) that were in no list their state calls for",
                    repaired);
}

static size_t alive_count(const spindle_worker *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++)
        n += (size_t)w->slots[i].alive;
    return n;
}

/* Live slots that are running a task (an idle slot is alive too). */
static size_t running_count(spindle_worker *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++) {
        spindle_slot_task t;
        if (w->slots[i].alive && spindle_slot_snapshot(w->slots[i].st, &t))
            n += (size_t)t.running;
    }
    return n;
}

/* Handles stop requests: the first asks slots to stop claiming; the shutdown timeout or a
 * second request kills process slots (their tasks go back to pending when buried). A thread
 * cannot be killed: its tasks are put back now, and with the binary's signal handling the
 * process exits; otherwise the threads are waited for. */
static void handle_stop(spindle_worker *w, loop *l)
{
    int64_t now = spindle_mono_ms();
    if (w->stop_requests >= 1 && !l->stopping) {
        l->stopping = 1;
        l->deadline = now + w->opts.shutdown_timeout_s * 1000;
        for (size_t i = 0; i < w->nslots; i++)
            atomic_store(&w->table[i].stop, 1);
        spindle_log(SPINDLE_LOG_INFO, NULL,
                    "stopping: running tasks get %ld s to finish (signal again to stop now)",
                    w->opts.shutdown_timeout_s);
    }
    if (!l->stopping || l->forced || (w->stop_requests < 2 && now < l->deadline))
        return;
    l->forced = 1;
    size_t n = running_count(w);
    if (n > 0)
        spindle_log(SPINDLE_LOG_WARN, NULL, "stopping now: %zu running task(s) go back to pending",
                    n);
    for (size_t i = 0; i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (!ps->alive)
            continue;
        if (processes(w)) {
            kill(ps->pid, SIGKILL);
            continue;
        }
        grave g;
        memset(&g, 0, sizeof(g));
        memcpy(g.id, ps->st->id, sizeof(g.id));
        add_grave(w, &g);
    }
    if (processes(w))
        return;
    bury_all(w);
    if (w->opts.handle_signals && w->ngraves == 0)
        _exit(0);
}

int spindle_supervise(spindle_worker *w)
{
    loop l;
    memset(&l, 0, sizeof(l));
    int64_t now = spindle_mono_ms();
    l.next_beat = now + w->opts.heartbeat_interval_ms;
    l.next_sweep = now; /* sweep once at start: this host may have died with tasks */
    spindle_cancel_start(w);
    for (;;) {
        handle_stop(w, &l);
        reap(w, &l, 0);
        start_slots(w, &l);
        if (w->ngraves > 0)
            bury_all(w);
        /* Graves Redis would not take are kept until the shutdown timeout: after that the
         * sweep of another worker recovers them, since their heartbeats have stopped. */
        if (l.stopping && alive_count(w) == 0 && (w->ngraves == 0 || l.forced))
            break;
        police(w, &l);
        spindle_cancel_police(w);
        now = spindle_mono_ms();
        if (now >= l.next_beat) {
            beat(w);
            l.next_beat = now + w->opts.heartbeat_interval_ms;
        }
        if (now >= l.next_sweep && !l.stopping) {
            sweep(w);
            l.next_sweep = now + w->opts.sweep_interval_ms;
        }
        if (!l.stopping) {
            spindle_metrics_sample(w); /* queue depths, if this worker samples (metrics_server.c) */
            spindle_worker_cron_run(w); /* fires periodic tasks that are due (cron.c) */
        }
        spindle_cancel_wait(w, TICK_MS);
    }
    spindle_cancel_stop(w);
    if (w->ngraves > 0)
        spindle_log(SPINDLE_LOG_ERROR, NULL,
                    "Redis unreachable at stop: %zu slot(s) left tasks in their in-flight lists; "
                    "the sweep of another worker will put them back",
                    w->ngraves);
    return SPINDLE_OK;
}
