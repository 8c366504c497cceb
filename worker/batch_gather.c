/* Forming batches in a slot (batch.h).
 *
 * A claim mixes functions, so the tasks of batch functions are copied out of it into one list
 * per function; then, while a list is open (fewer than max_batch requests, and max_wait_ms
 * not passed since its oldest was claimed), the slot claims again from the same queue. It
 * claims again at once while claims come back full; once one comes back short (the queue is
 * drained) it pauses first, so an open batch costs a few claims per max_wait_ms, not a busy
 * loop. Long pauses block on the queue's wake list, which an enqueue into the empty queue
 * ends. A list that is full, past its wait, or that cannot grow (a failed claim, a stop
 * request) is run at once (batch_run.c). Nothing is held between two calls of
 * spindle_batcher_serve(), so the slot's other paths (stop, outage, exit) need not know. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "worker/batch.h"

/* Pause between claims while the queue is drained: a quarter of the batch's wait, within
 * these bounds (ms). 2 ms keeps a 5 ms wait from spinning; 25 ms bounds how late a request
 * that arrives meanwhile joins a long wait. */
#define POLL_MIN_MS 2
#define POLL_MAX_MS 25
/* Redis checks BRPOP timeouts on its 100 ms timer (slot.c, SHORT_WAIT_MS): a pause is a
 * BRPOP on the wake list only when this much longer than that timer, shortened by it. */
#define BLOCK_SLACK_MS 100

typedef struct batch_list {
    const registry_entry *e;
    batch_item *items;
    size_t n, cap;
} batch_list;

struct spindle_batcher {
    spindle_batch_env env;
    batch_list *lists; /* one per batch function of the registry */
    size_t nlists;
    batch_scratch sc;
};

static int stopping(const spindle_batcher *b)
{
    return atomic_load(&b->env.st->stop) != 0;
}

static int scratch_alloc(batch_scratch *sc, size_t cap)
{
    sc->cap = cap;
    sc->req = calloc(cap, sizeof(*sc->req));
    sc->shown = calloc(cap, sizeof(*sc->shown));
    sc->ctx = calloc(cap, sizeof(*sc->ctx));
    sc->settle = calloc(cap, sizeof(*sc->settle));
    sc->outcome = calloc(cap, sizeof(*sc->outcome));
    sc->used = calloc(cap, sizeof(*sc->used));
    if (!sc->req || !sc->shown || !sc->ctx || !sc->settle || !sc->outcome || !sc->used)
        return SPINDLE_ERR_NOMEM;
    for (size_t i = 0; i < cap; i++)
        msgpack_sbuffer_init(&sc->req[i].out);
    return SPINDLE_OK;
}

static void scratch_free(batch_scratch *sc)
{
    for (size_t i = 0; sc->req && i < sc->cap; i++)
        msgpack_sbuffer_destroy(&sc->req[i].out);
    free(sc->req);
    free(sc->shown);
    free(sc->ctx);
    free(sc->settle);
    free(sc->outcome);
    free(sc->used);
}

int spindle_batcher_new(const spindle_batch_env *env, spindle_batcher **out)
{
    *out = NULL;
    const spindle_registry *reg = env->cfg->reg;
    if (reg->nbatch == 0)
        return SPINDLE_OK;
    spindle_batcher *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return SPINDLE_ERR_NOMEM;
    b->env = *env;
    b->lists = calloc(reg->nbatch, sizeof(*b->lists));
    size_t cap = 1;
    for (size_t i = 0; b->lists && i < reg->n; i++) {
        const registry_entry *e = &reg->entries[i];
        if (e->batch_fn == NULL || (env->cfg->in_thread && e->needs_process))
            continue; /* a refused one runs as a task, which fails it with the reason */
        b->lists[b->nlists++].e = e;
        if ((size_t)e->max_batch > cap)
            cap = (size_t)e->max_batch;
    }
    if (b->lists == NULL || scratch_alloc(&b->sc, cap) != SPINDLE_OK) {
        spindle_batcher_free(b);
        return SPINDLE_ERR_NOMEM;
    }
    *out = b;
    return SPINDLE_OK;
}

/* Forgets the first k items of list l (their args freed). */
static void list_drop(batch_list *l, size_t k)
{
    if (k == 0)
        return; /* items may still be NULL: memmove from NULL + 0 is undefined */
    for (size_t i = 0; i < k; i++)
        free(l->items[i].args);
    memmove(l->items, l->items + k, (l->n - k) * sizeof(*l->items));
    l->n -= k;
}

void spindle_batcher_free(spindle_batcher *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; b->lists && i < b->nlists; i++) {
        list_drop(&b->lists[i], b->lists[i].n);
        free(b->lists[i].items);
    }
    free(b->lists);
    scratch_free(&b->sc);
    free(b);
}

static batch_list *list_of(spindle_batcher *b, const char *func)
{
    for (size_t i = 0; i < b->nlists; i++)
        if (strcmp(b->lists[i].e->name, func) == 0)
            return &b->lists[i];
    return NULL;
}

/* Copies c into l. 0, or -1 if out of memory. */
static int list_add(batch_list *l, const spindle_claimed *c, int64_t now)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        batch_item *more = realloc(l->items, cap * sizeof(*more));
        if (more == NULL)
            return -1;
        l->items = more;
        l->cap = cap;
    }
    batch_item *it = &l->items[l->n];
    it->args = malloc(c->args_len ? c->args_len : 1);
    if (it->args == NULL)
        return -1;
    memcpy(it->args, c->args, c->args_len);
    it->args_len = c->args_len;
    snprintf(it->id, sizeof(it->id), "%s", c->id);
    it->attempt = c->attempt;
    it->timeout_s = c->timeout_s;
    it->claimed_ms = now;
    it->lease = c->lease;
    l->n++;
    return 0;
}

int spindle_batcher_take(spindle_batcher *b, spindle_claimed *claimed, int n)
{
    int64_t now = spindle_mono_ms();
    int kept = 0;
    for (int i = 0; i < n; i++) {
        const spindle_claimed *c = &claimed[i];
        batch_list *l = c->attempt > 0 ? list_of(b, c->func) : NULL;
        if (l && list_add(l, c, now) == 0)
            continue;
        if (l)
            spindle_log(SPINDLE_LOG_WARN, c->id,
                        "out of memory gathering a batch of '%s': "
                        "the task runs alone",
                        c->func);
        if (kept != i)
            claimed[kept] = *c;
        kept++;
    }
    return kept;
}

/* 1 if a request of l holds its single-file queue's lease: the queue hands out no other task
 * while it does, so waiting to fill the batch would only let the lease lapse. */
static int holds_lease(const batch_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].lease)
            return 1;
    return 0;
}

/* Runs the first min(n, max_batch) requests of l. */
static int run_list(spindle_batcher *b, batch_list *l, const char *queue)
{
    size_t k = l->n < (size_t)l->e->max_batch ? l->n : (size_t)l->e->max_batch;
    int rc = spindle_batch_run(&b->env, &b->sc, queue, l->e, l->items, k);
    list_drop(l, k);
    return rc;
}

/* Sleeps ms, in steps of 10 ms so that a stop request is seen quickly. */
static void pause_ms(const spindle_batcher *b, long ms)
{
    for (long slept = 0; slept < ms && !stopping(b); slept += 10)
        usleep((useconds_t)(ms - slept < 10 ? ms - slept : 10) * 1000);
}

/* Waits for more work on queue, at most until deadline: a BRPOP on its wake list (which an
 * enqueue into the empty queue ends) when the wait is long enough to be timed by Redis, else
 * a pause of poll ms. A failed BRPOP is left to the next claim to report. One BRPOP lasts no
 * longer than a slot's idle wait (slot.h), so the loop shows progress to the supervisor as
 * often as an idle slot does: a max_wait_ms longer than the heartbeat TTL must not make the
 * slot look stuck, its heartbeat lapse, and the sweep take its batch back to run it twice. */
static void wait_more(spindle_batcher *b, const char *queue, int64_t deadline, long poll)
{
    long left = (long)(deadline - spindle_mono_ms());
    long slice = b->env.cfg->opts->heartbeat_ttl_ms / 2;
    if (slice > SPINDLE_SLOT_IDLE_WAIT_MS)
        slice = SPINDLE_SLOT_IDLE_WAIT_MS;
    if (left > slice + BLOCK_SLACK_MS)
        left = slice + BLOCK_SLACK_MS;
    if (left > 2L * BLOCK_SLACK_MS) {
        int woken = 0;
        const char *q[] = {queue};
        spindle_store_wait_wake(b->env.store, q, 1, left - BLOCK_SLACK_MS, &woken);
        return;
    }
    poll = poll < POLL_MIN_MS ? POLL_MIN_MS : poll;
    pause_ms(b, poll < left ? poll : left);
}

/* Claims more from queue: the tasks of batch functions join their lists, the others run at
 * once. *drained is set when the claim came back short. SPINDLE_OK, the claim's failure
 * (the lists are then run as they are), or the status of running the others. */
static int claim_more(spindle_batcher *b, const char *queue, int max, int *drained, int *failed)
{
    redisReply *reply = NULL;
    int n = 0;
    long due = -1;
    int rc =
        spindle_store_claim(b->env.store, queue, b->env.st->id, max,
                            b->env.cfg->opts->heartbeat_ttl_ms, b->env.claimed, &n, &due, &reply);
    if (rc != SPINDLE_OK) {
        spindle_log(SPINDLE_LOG_WARN, NULL,
                    "claiming more for a batch on '%s': %s; running the batch as it is", queue,
                    b->env.store->err->msg);
        if (rc == SPINDLE_ERR_IO)
            *b->env.unsure = 1;
        *failed = 1;
        return SPINDLE_OK;
    }
    *drained = n < max;
    int others = spindle_batcher_take(b, b->env.claimed, n);
    if (others > 0)
        rc = b->env.run(b->env.slot, queue, others);
    freeReplyObject(reply);
    return rc;
}

int spindle_batcher_serve(spindle_batcher *b, const char *queue)
{
    int rc = SPINDLE_OK, drained = 0, failed = 0;
    int prefetch = b->env.cfg->opts->prefetch;
    while (rc == SPINDLE_OK) {
        int64_t now = spindle_mono_ms();
        int64_t deadline = INT64_MAX;
        long need = 0, poll = POLL_MAX_MS;
        int held = 0, ran = 0;
        for (size_t i = 0; i < b->nlists && rc == SPINDLE_OK; i++) {
            batch_list *l = &b->lists[i];
            if (l->n == 0)
                continue;
            int64_t due = l->items[0].claimed_ms + l->e->max_wait_ms;
            if (l->n >= (size_t)l->e->max_batch || now >= due || failed || stopping(b) ||
                holds_lease(l)) {
                rc = run_list(b, l, queue);
                ran = 1;
                held |= l->n > 0;
                continue;
            }
            held = 1;
            if (due < deadline)
                deadline = due;
            if ((long)l->e->max_batch - (long)l->n > need)
                need = (long)l->e->max_batch - (long)l->n;
            if (l->e->max_wait_ms / 4 < poll)
                poll = l->e->max_wait_ms / 4;
        }
        atomic_store(&b->env.st->progress_ms, spindle_mono_ms());
        if (rc != SPINDLE_OK || !held)
            break;
        if (ran) /* time has passed: look at the lists again */
            continue;
        if (drained) {
            wait_more(b, queue, deadline, poll);
            if (spindle_mono_ms() >= deadline || stopping(b))
                continue;
        }
        rc = claim_more(b, queue, need < prefetch ? (int)need : prefetch, &drained, &failed);
    }
    if (rc != SPINDLE_OK) /* the slot exits: what the lists held is in its in-flight list */
        for (size_t i = 0; i < b->nlists; i++)
            list_drop(&b->lists[i], b->lists[i].n);
    return rc;
}
