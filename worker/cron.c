/* Firing periodic tasks from the supervisor (cron.h).
 *
 * Every supervisor of the fleet keeps a copy of the table of entries and, for each entry,
 * the time of its next tick by Redis's clock (estimated locally between replies from the
 * monotonic clock). When a tick is due, every supervisor tries to claim it; the claim script
 * lets exactly one win (store/script_cron.c says how the claim, the enqueue and the
 * confirmation stay safe across two hash slots and crashes). So a tick costs each
 * supervisor one round trip, and the winner two more.
 *
 * Why the table is re-read on announcements rather than polled: an idle fleet with no
 * entries must send nothing. Changes are published on NS:cron, which the supervisor's
 * subscription connection (store/cancel_sub.c) already listens to; a message, or a new
 * subscription (messages may have been lost while it was down), makes the next look read the
 * table. With entries, the table is also read every sweep interval, so that a hand edit
 * without an announcement is seen too; without a subscription, always. */
#include "worker/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "spindle/cron.h"
#include "store/cron.h"

/* Queues this supervisor has added to NS:queues for its entries: a few are enough (the
 * oldest is replaced beyond that, at the cost of one more SADD). */
#define REGISTERED_MAX 16
/* After a failed step, how long before this entry is tried again (ms). */
#define RETRY_MS 1000

typedef struct entry_state {
    spindle_cron_row row;
    int64_t seen; /* ticks up to here are dealt with (Redis ms) */
    int64_t due;  /* look again when Redis's clock reaches this */
} entry_state;

struct spindle_cron_state {
    entry_state *e;
    size_t n;
    int loaded, force_read, failing;
    unsigned long changes_seen, subs_seen;
    int64_t next_read_mono;
    int64_t redis_ms, mono_at; /* Redis's clock was redis_ms at monotonic mono_at */
    char registered[REGISTERED_MAX][SPINDLE_NAME_MAX + 1];
    unsigned nregistered;
};

int spindle_worker_cron_declare(spindle_worker *w)
{
    for (size_t i = 0; i < w->opts.ncron; i++) {
        spindle_cron_def d;
        int what = 0;
        int rc = spindle_cron_def_from_entry(&w->opts.cron[i], &d, &w->err);
        if (rc == SPINDLE_OK)
            rc = spindle_store_cron_set(&w->store, &d, &what);
        if (rc != SPINDLE_OK)
            return rc;
        spindle_log(SPINDLE_LOG_INFO, NULL, "cron entry '%s' (%s %s on '%s') %s", d.name, d.spec,
                    d.func, d.queue,
                    what == 0   ? "added"
                    : what == 1 ? "replaced the one in Redis"
                                : "already in Redis");
    }
    return SPINDLE_OK;
}

/* Logs a failure once until the table works again. A lost connection is the supervisor's
 * outage, shared with its heartbeats: logged once for both, and its end once (redis_ok()). */
static void failed(struct spindle_cron_state *st, spindle_worker *w, const char *what)
{
    int io = w->store.err->code == SPINDLE_ERR_IO;
    if (!st->failing && !(io && w->in_outage))
        spindle_log(SPINDLE_LOG_ERROR, NULL, "periodic tasks: %s: %s; will retry", what,
                    w->store.err->msg);
    st->failing = 1;
    if (io)
        w->in_outage = 1;
}

static int64_t redis_now(const struct spindle_cron_state *st)
{
    return st->redis_ms + (spindle_mono_ms() - st->mono_at);
}

static void set_clock(struct spindle_cron_state *st, int64_t redis_ms)
{
    st->redis_ms = redis_ms;
    st->mono_at = spindle_mono_ms();
}

static void free_entries(struct spindle_cron_state *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->e[i].row.args);
    free(st->e);
    st->e = NULL;
    st->n = 0;
}

/* The old state of the entry named like row, if it had the same definition. */
static const entry_state *previous(const struct spindle_cron_state *st, const spindle_cron_row *row)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->e[i].row.name, row->name) == 0)
            return &st->e[i];
    return NULL;
}

/* Reads the table; keeps what was known on failure. */
static void read_table(spindle_worker *w, struct spindle_cron_state *st)
{
    unsigned long changes = w->sub.cron_changes, subs = w->sub.subscriptions;
    spindle_cron_row *rows = NULL;
    size_t n = 0;
    int64_t now = 0;
    st->next_read_mono = spindle_mono_ms() + w->opts.sweep_interval_ms;
    if (spindle_store_cron_read(&w->store, &rows, &n, &now) != SPINDLE_OK) {
        failed(st, w, "reading the table");
        return;
    }
    st->failing = 0;
    set_clock(st, now);
    entry_state *e = n ? calloc(n, sizeof(*e)) : NULL;
    if (n && e == NULL) {
        spindle_log(SPINDLE_LOG_ERROR, NULL, "periodic tasks: out of memory reading the table");
        spindle_store_cron_rows_free(rows, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const entry_state *old = previous(st, &rows[i]);
        e[i].row = rows[i];
        rows[i].args = NULL; /* moved */
        if (e[i].row.error[0] && (old == NULL || strcmp(old->row.error, e[i].row.error) != 0))
            spindle_log(SPINDLE_LOG_ERROR, NULL, "cron entry '%s' cannot fire: %s", e[i].row.name,
                        e[i].row.error);
        if (e[i].row.error[0])
            continue;
        e[i].seen = e[i].row.last_tick;
        if (old && strcmp(old->row.rev, e[i].row.rev) == 0 && old->seen > e[i].seen)
            e[i].seen = old->seen;
        e[i].due = e[i].row.pending ? now : spindle_cron_next(&e[i].row.parsed, e[i].seen);
    }
    spindle_store_cron_rows_free(rows, n);
    free_entries(st);
    st->e = e;
    st->n = n;
    st->loaded = 1;
    st->force_read = 0;
    st->changes_seen = changes;
    st->subs_seen = subs;
}

/* Adds queue to NS:queues once per supervisor (so `spindle queues` lists it). */
static int register_queue(spindle_worker *w, struct spindle_cron_state *st, const char *queue)
{
    for (unsigned i = 0; i < st->nregistered && i < REGISTERED_MAX; i++)
        if (strcmp(st->registered[i], queue) == 0)
            return SPINDLE_OK;
    int rc = spindle_store_register_queues(&w->store, &queue, 1);
    if (rc == SPINDLE_OK)
        snprintf(st->registered[st->nregistered++ % REGISTERED_MAX], SPINDLE_NAME_MAX + 1, "%s",
                 queue);
    return rc;
}

/* Steps 2 and 3 for a claimed tick: enqueue its task (once, whoever retries), then clear
 * the entry's pending mark. A task Redis refuses for good (a key of the wrong type) is
 * dropped with an error so that the entry is not stuck on it. */
static int finish(spindle_worker *w, struct spindle_cron_state *st, entry_state *es, int64_t tick)
{
    char id[SPINDLE_ID_LEN + 1];
    spindle_cron_task_id(w->store.ns, es->row.name, tick, id);
    int created = 0;
    int rc = register_queue(w, st, es->row.queue);
    if (rc == SPINDLE_OK)
        rc = spindle_store_cron_enqueue(&w->store, &es->row, tick, id, &created);
    if (rc == SPINDLE_ERR_IO || rc == SPINDLE_ERR_NOMEM) {
        failed(st, w, "enqueueing a tick");
        return rc;
    }
    if (rc != SPINDLE_OK)
        spindle_log(SPINDLE_LOG_ERROR, id, "cron entry '%s': tick %lld dropped: %s", es->row.name,
                    (long long)tick, w->store.err->msg);
    else if (created)
        spindle_log(SPINDLE_LOG_INFO, id, "cron entry '%s': tick %lld enqueued %s on '%s'",
                    es->row.name, (long long)tick, es->row.func, es->row.queue);
    if ((rc = spindle_store_cron_done(&w->store, es->row.name, tick)) != SPINDLE_OK)
        failed(st, w, "confirming a tick");
    return rc;
}

/* Claims and fires one tick. 0 to go on with the entry's next tick, -1 to stop looking at
 * this entry now (es->due says when to look again). */
static int fire_tick(spindle_worker *w, struct spindle_cron_state *st, entry_state *es,
                     int64_t tick)
{
    char id[SPINDLE_ID_LEN + 1];
    spindle_cron_task_id(w->store.ns, es->row.name, tick, id);
    /* Two rounds: a pending tick left by another supervisor is finished, then ours claimed. */
    for (int round = 0; round < 3; round++) {
        enum spindle_cron_claim what;
        int64_t value = 0, now = redis_now(st);
        int64_t next = spindle_cron_next(&es->row.parsed, tick);
        if (spindle_store_cron_fire(&w->store, &es->row, tick, next, id, &what, &value, &now) !=
            SPINDLE_OK) {
            failed(st, w, "claiming a tick");
            es->due = redis_now(st) + RETRY_MS;
            return -1;
        }
        set_clock(st, now);
        st->failing = 0;
        switch (what) {
        case SPINDLE_CRON_CLAIMED:
            es->row.last_tick = tick;
            if (finish(w, st, es, tick) != SPINDLE_OK) {
                es->due = now + RETRY_MS;
                return -1;
            }
            return 0;
        case SPINDLE_CRON_TAKEN:
            if (value > es->row.last_tick)
                es->row.last_tick = value;
            return 0;
        case SPINDLE_CRON_PENDING:
            if (finish(w, st, es, value) != SPINDLE_OK) {
                es->due = now + RETRY_MS;
                return -1;
            }
            continue;
        case SPINDLE_CRON_EARLY:
            es->due = tick;
            return -1;
        case SPINDLE_CRON_CHANGED:
        case SPINDLE_CRON_MISSING:
            st->force_read = 1;
            es->due = INT64_MAX;
            return -1;
        }
    }
    es->due = redis_now(st) + RETRY_MS;
    return -1;
}

/* Fires what is due of one entry at Redis time now. */
static void fire_entry(spindle_worker *w, struct spindle_cron_state *st, entry_state *es,
                       int64_t now)
{
    int64_t ticks[SPINDLE_CRON_MAX_CATCH_UP + 1];
    size_t n = 0;
    int64_t from = es->seen > es->row.last_tick ? es->seen : es->row.last_tick;
    spindle_cron_due(&es->row.parsed, from, now, SPINDLE_CRON_GRACE_MS, es->row.catch_up, ticks,
                     sizeof(ticks) / sizeof(ticks[0]), &n);
    /* A tick left half-done (read as pending): any claim answers 'pending' and finishes it
     * first, so with nothing due, claim the last tick for that. */
    int half_done = n == 0 && es->row.pending;
    if (half_done)
        ticks[n++] = es->row.last_tick;
    es->row.pending = 0;
    for (size_t i = 0; i < n; i++) {
        if (ticks[i] <= es->row.last_tick && !half_done)
            continue; /* fired elsewhere already */
        if (fire_tick(w, st, es, ticks[i]) != 0)
            return;
    }
    es->seen = now > es->row.last_tick ? now : es->row.last_tick;
    es->due = spindle_cron_next(&es->row.parsed, es->seen);
}

void spindle_worker_cron_run(spindle_worker *w)
{
    struct spindle_cron_state *st = w->cron;
    if (st == NULL && (st = w->cron = calloc(1, sizeof(*st))) == NULL)
        return; /* out of memory: periodic tasks wait for the next look */
    int64_t mono = spindle_mono_ms();
    int unsubscribed = spindle_cancel_sub_fd(&w->sub) < 0;
    if (!st->loaded || st->force_read || w->sub.cron_changes != st->changes_seen ||
        w->sub.subscriptions != st->subs_seen ||
        (mono >= st->next_read_mono && (st->n > 0 || unsubscribed)))
        read_table(w, st);
    for (size_t i = 0; i < st->n; i++) {
        entry_state *es = &st->e[i];
        int64_t now = redis_now(st);
        if (es->row.error[0] || now < es->due)
            continue;
        fire_entry(w, st, es, now);
    }
}

void spindle_worker_cron_free(spindle_worker *w)
{
    if (w->cron == NULL)
        return;
    free_entries(w->cron);
    free(w->cron);
    w->cron = NULL;
}
