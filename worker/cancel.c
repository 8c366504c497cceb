/* The supervisor's side of cancellation (cancel.h).
 *
 * A request for a running task reaches the supervisor as a message on NS:cancel (or, if the
 * message was lost, through the heartbeat's probe of the task hash). The supervisor then
 * (1) adds the task to the ring the slots read before they start a task, for the case where a
 * slot claimed it in a batch and has not started it, and (2) sets the cancel flag of the slot
 * running it, which the function reads through spindle_task_cancelled(). It does not settle
 * anything itself: the task ends `cancelled` through whichever step takes it out of
 * `running`. Only when a grace is given (per request, else the worker's cancel_grace_ms) and
 * runs out does it act: it kills a process slot, or ends a thread slot's task in Redis. */
#include "worker/cancel.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

/* Messages read per drain; more stay buffered for the next one. */
#define DRAIN_BATCH 32
/* Least time between attempts to subscribe again while the subscription is down (ms). */
#define RESUBSCRIBE_MIN_MS 1000

static int processes(const spindle_worker *w)
{
    return w->opts.pool == SPINDLE_POOL_PROCESS;
}

/* Keeps the descriptor that forked slots close in step with the subscription. */
static void sync_fd(spindle_worker *w)
{
    w->cfg.supervisor_fd = spindle_cancel_sub_fd(&w->sub);
}

static int serves(const spindle_worker *w, const char *queue)
{
    for (size_t i = 0; i < w->nqueues; i++)
        if (strcmp(w->queues[i], queue) == 0)
            return 1;
    return 0;
}

static int same_task(const spindle_slot_task *t, const char *id, long attempt)
{
    return t->running && t->attempt == attempt && strcmp(t->id, id) == 0;
}

/* A cancel request for (queue, id, attempt) was heard (how: "message", "heartbeat check").
 * grace_ms -1: the worker's default. */
static void heard(spindle_worker *w, const char *queue, const char *id, long attempt, long grace_ms,
                  const char *how)
{
    if (!serves(w, queue))
        return;
    if (grace_ms < 0)
        grace_ms = w->opts.cancel_grace_ms;
    if (!spindle_cancel_ring_has(w->cancelled, id, attempt))
        spindle_cancel_ring_add(w->cancelled, id, attempt);
    int64_t now = spindle_mono_ms();
    for (size_t i = 0; i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (!ps->alive)
            continue;
        if (ps->cancel_noted && same_task(&ps->cancel_task, id, attempt)) {
            /* Asked again: a grace given now may end sooner than the one running. */
            if (grace_ms >= 0 && (ps->cancel_grace_ms < 0 ||
                                  now + grace_ms < ps->cancel_heard_ms + ps->cancel_grace_ms)) {
                ps->cancel_heard_ms = now;
                ps->cancel_grace_ms = grace_ms;
            }
            continue;
        }
        if (spindle_slot_flag_cancel(ps->st, id, attempt) != 1)
            continue;
        memset(&ps->cancel_task, 0, sizeof(ps->cancel_task));
        ps->cancel_task.running = 1;
        ps->cancel_task.attempt = attempt;
        snprintf(ps->cancel_task.id, sizeof(ps->cancel_task.id), "%s", id);
        snprintf(ps->cancel_task.queue, sizeof(ps->cancel_task.queue), "%s", queue);
        ps->cancel_noted = 1;
        ps->cancel_forced = 0;
        ps->cancel_heard_ms = now;
        ps->cancel_grace_ms = grace_ms;
        if (grace_ms >= 0)
            spindle_log(SPINDLE_LOG_INFO, id,
                        "cancel requested (%s): told slot %s; forced in %ld ms if still running",
                        how, ps->st->id, grace_ms);
        else
            spindle_log(SPINDLE_LOG_INFO, id, "cancel requested (%s): told slot %s", how,
                        ps->st->id);
    }
}

static void subscribe(spindle_worker *w)
{
    int rc = w->sub.opened ? spindle_cancel_sub_resubscribe(&w->sub)
                           : spindle_cancel_sub_open(&w->sub, w->opts.url, w->opts.ns,
                                                     w->opts.connect_timeout_ms,
                                                     w->opts.command_timeout_ms, &w->sub_err);
    sync_fd(w);
    if (rc != SPINDLE_OK) {
        long wait = w->opts.heartbeat_interval_ms > RESUBSCRIBE_MIN_MS
                        ? w->opts.heartbeat_interval_ms
                        : RESUBSCRIBE_MIN_MS;
        w->sub_retry_ms = spindle_mono_ms() + wait;
        if (!w->sub_warned)
            spindle_log(SPINDLE_LOG_WARN, NULL,
                        "%s; heartbeat checks stand in for it until it reconnects", w->sub_err.msg);
        w->sub_warned = 1;
        return;
    }
    if (w->sub_warned)
        spindle_log(SPINDLE_LOG_INFO, NULL, "subscribed to cancel requests again");
    w->sub_warned = 0;
    /* Requests published while it was down were lost: ask for them. */
    if (w->slots && spindle_cancel_check(w) != SPINDLE_OK)
        spindle_log(SPINDLE_LOG_WARN, NULL, "checking for cancel requests: %s", w->err.msg);
}

void spindle_cancel_start(spindle_worker *w)
{
    subscribe(w);
}

void spindle_cancel_stop(spindle_worker *w)
{
    spindle_cancel_sub_close(&w->sub);
    sync_fd(w);
}

/* Handles every message that has arrived. */
static void drain(spindle_worker *w)
{
    spindle_cancel_msg msgs[DRAIN_BATCH];
    size_t n = DRAIN_BATCH;
    while (n == DRAIN_BATCH) {
        int rc = spindle_cancel_sub_read(&w->sub, msgs, DRAIN_BATCH, &n);
        for (size_t i = 0; i < n; i++)
            heard(w, msgs[i].queue, msgs[i].id, msgs[i].attempt, msgs[i].grace_ms, "message");
        if (rc != SPINDLE_OK) {
            sync_fd(w);
            w->sub_retry_ms = spindle_mono_ms(); /* try at once, then back off */
            return;
        }
    }
}

void spindle_cancel_wait(spindle_worker *w, long ms)
{
    int64_t end = spindle_mono_ms() + ms;
    for (;;) {
        if (spindle_cancel_sub_fd(&w->sub) < 0 && spindle_mono_ms() >= w->sub_retry_ms)
            subscribe(w);
        long left = (long)(end - spindle_mono_ms());
        if (left <= 0)
            return;
        int fd = spindle_cancel_sub_fd(&w->sub);
        if (fd < 0) {
            usleep((useconds_t)left * 1000);
            return;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r == 0 || (r < 0 && errno == EINTR))
            return; /* the tick is over, or a signal asks the loop to look now */
        if (r > 0)
            drain(w);
    }
}

int spindle_cancel_check(spindle_worker *w)
{
    spindle_cancel_probe *p = calloc(w->nslots, sizeof(*p));
    spindle_slot_task *t = calloc(w->nslots, sizeof(*t));
    size_t n = 0;
    for (size_t i = 0; p && t && i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (!ps->alive || !spindle_slot_snapshot(ps->st, &t[n]) || !t[n].running)
            continue;
        if (ps->cancel_noted && same_task(&ps->cancel_task, t[n].id, t[n].attempt))
            continue; /* heard already */
        p[n] = (spindle_cancel_probe){.queue = t[n].queue, .id = t[n].id, .attempt = t[n].attempt};
        n++;
    }
    int rc = p && t ? SPINDLE_OK
                    : spindle_error_set(&w->err, SPINDLE_ERR_NOMEM, "cancel check: out of memory");
    if (rc == SPINDLE_OK && n > 0)
        rc = spindle_store_cancel_probe(&w->store, p, n);
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++)
        if (p[i].requested)
            heard(w, p[i].queue, p[i].id, p[i].attempt, p[i].grace_ms, "heartbeat check");
    free(p);
    free(t);
    return rc;
}

/* A thread cannot be killed: the task is ended `cancelled` in Redis in its slot's name, and
 * the thread's own settlement, when the function returns, is refused. */
static void end_thread_task(spindle_worker *w, pool_slot *ps, const spindle_slot_task *t)
{
    char reason[256];
    snprintf(reason, sizeof(reason),
             "cancelled; still running after a grace of %ld ms (a thread pool cannot stop the "
             "function; its result will be ignored)",
             ps->cancel_grace_ms);
    spindle_settlement set = {.id = t->id,
                              .attempt = t->attempt,
                              .succeeded = SPINDLE_SETTLE_CANCELLED,
                              .payload = reason,
                              .payload_len = strlen(reason)};
    enum spindle_outcome out;
    if (spindle_store_settle(&w->store, t->queue, ps->st->id, &set, 1, &out) != SPINDLE_OK) {
        spindle_log(SPINDLE_LOG_ERROR, t->id, "ending a cancelled task: %s; will retry",
                    w->err.msg);
        return; /* tried again next tick */
    }
    ps->cancel_forced = 1;
    if (out == SPINDLE_OUTCOME_CANCELLED)
        spindle_log(SPINDLE_LOG_WARN, t->id, "%s", reason);
}

void spindle_cancel_police(spindle_worker *w)
{
    int64_t now = spindle_mono_ms();
    for (size_t i = 0; i < w->nslots; i++) {
        pool_slot *ps = &w->slots[i];
        if (!ps->alive || !ps->cancel_noted || ps->cancel_forced)
            continue;
        spindle_slot_task t;
        spindle_slot_snapshot(ps->st, &t);
        if (!same_task(&t, ps->cancel_task.id, ps->cancel_task.attempt)) {
            ps->cancel_noted = 0; /* it ended by itself */
            continue;
        }
        if (ps->cancel_grace_ms < 0 || now - ps->cancel_heard_ms < ps->cancel_grace_ms)
            continue;
        if (!processes(w)) {
            end_thread_task(w, ps, &t);
            continue;
        }
        spindle_log(SPINDLE_LOG_WARN, t.id,
                    "still running %ld ms after its cancel request: killing %s",
                    ps->cancel_grace_ms, ps->st->id);
        ps->cancel_forced = 1;
        kill(ps->pid, SIGKILL);
    }
}

int spindle_cancel_killed(const pool_slot *ps, const spindle_slot_task *t, char *cause, size_t len)
{
    if (!ps->cancel_noted || !ps->cancel_forced ||
        !same_task(t, ps->cancel_task.id, ps->cancel_task.attempt))
        return 0;
    snprintf(cause, len, "cancelled; killed after a grace of %ld ms", ps->cancel_grace_ms);
    return 1;
}
