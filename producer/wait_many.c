/* Waiting on many handles at once (callbacks.h).
 *
 * Like spindle_wait(), without polling: each task is registered as waited on (the wait script
 * increments its `waiters`), and the caller BLPOPs the done lists, one BLPOP per queue naming
 * all the unfinished tasks of that queue (keys of one BLPOP stay in one Redis Cluster slot).
 * One queue and no progress callback: one BLPOP blocks for the whole wait (re-armed every
 * WAIT_SLICE_MS to catch a lost token). Several queues, or a progress callback: short slices,
 * taking turns between the queues and reading progress after each. On the way out the tasks
 * still unfinished are unregistered, and any that finished meanwhile get their callback. */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "producer/client_impl.h"
#include "spindle/callbacks.h"
#include "store/ops.h"

/* Longest block before looking at every unfinished task again (a lost token), as in wait.c. */
#define WAIT_SLICE_MS 10000
/* Block per turn when the wait must wake up regularly (progress, several queues): progress
 * callbacks come at most this late, and a task of another queue is seen this late times the
 * number of queues. */
#define SHORT_SLICE_MS 100

typedef struct wait_many {
    spindle_client *c;
    spindle_handle *const *h;
    size_t n;
    const spindle_wait_callbacks *cb;
    int *done, *registered;
    long *seq;           /* last progress seq seen */
    const char **ids;    /* scratch for one BLPOP */
    size_t *map;         /* ids[j] is handle map[j] */
    size_t ndone, first; /* first: n until a task is seen final */
} wait_many;

/* Calls on_success or on_failure (if given) for the final result r of task i. */
static void call_back(const spindle_wait_callbacks *cb, size_t i, const spindle_result *r)
{
    if (cb && spindle_result_state(r) == SPINDLE_STATE_SUCCEEDED && cb->on_success)
        cb->on_success(i, r, cb->userdata);
    else if (cb && spindle_result_state(r) != SPINDLE_STATE_SUCCEEDED && cb->on_failure)
        cb->on_failure(i, r, cb->userdata);
}

static void finish(wait_many *w, size_t i, spindle_result *r)
{
    w->done[i] = 1;
    w->registered[i] = 0;
    w->ndone++;
    if (w->first == w->n)
        w->first = i;
    call_back(w->cb, i, r);
    spindle_result_free(r);
}

/* The outcome of spindle_result_make() and friends: a failed or cancelled task is not an
 * error of the wait. */
static int result_rc(int rc)
{
    return rc == SPINDLE_ERR_TASK_FAILED || rc == SPINDLE_ERR_CANCELLED ? SPINDLE_OK : rc;
}

/* One run of the wait script on task i (delta as spindle_store_wait_step()). */
static int step(wait_many *w, size_t i, int delta)
{
    redisReply *r = NULL;
    int rc = spindle_store_wait_step(&w->c->store, w->h[i]->queue, w->h[i]->id, delta, &r);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_result *res = NULL;
    int over = spindle_result_from_step(w->c, w->h[i], r, &rc, &res);
    freeReplyObject(r);
    if (!over) {
        if (delta == 1)
            w->registered[i] = 1;
        if (delta == -1)
            w->registered[i] = 0;
        return SPINDLE_OK;
    }
    if (res)
        finish(w, i, res);
    else if (rc == SPINDLE_ERR_NOT_FOUND)
        spindle_error_wrap(&w->c->err, "wait on handle %zu: ", i);
    return result_rc(rc);
}

static int read_progress(wait_many *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->done[i])
            continue;
        spindle_progress p;
        int rc = spindle_progress_get(w->c, w->h[i], &p);
        if (rc == SPINDLE_ERR_NOT_FOUND)
            continue; /* a TTL-0 task that just finished: its token says how */
        if (rc != SPINDLE_OK)
            return rc;
        if (p.seq != w->seq[i]) {
            w->seq[i] = p.seq;
            w->cb->on_progress(i, &p, w->cb->userdata);
        }
    }
    return SPINDLE_OK;
}

/* The first unfinished task at or after position from (cyclically); n if none. */
static size_t next_pending(const wait_many *w, size_t from)
{
    for (size_t k = 0; k < w->n; k++) {
        size_t i = (from + k) % w->n;
        if (!w->done[i])
            return i;
    }
    return w->n;
}

/* Blocks up to ms on the unfinished tasks of the queue of task lead; handles a token. */
static int block_on_queue(wait_many *w, size_t lead, long ms)
{
    const char *queue = w->h[lead]->queue;
    size_t m = 0;
    for (size_t i = 0; i < w->n; i++)
        if (!w->done[i] && strcmp(w->h[i]->queue, queue) == 0) {
            w->ids[m] = w->h[i]->id;
            w->map[m++] = i;
        }
    redisReply *r = NULL;
    size_t j;
    const char *tok;
    size_t len;
    int rc = spindle_store_block_done_any(&w->c->store, queue, w->ids, m, ms, &r, &j, &tok, &len);
    if (rc != SPINDLE_OK || tok == NULL)
        return rc;
    size_t i = w->map[j];
    spindle_result *res = NULL;
    rc = spindle_result_from_token(w->c, w->h[i], tok, len, &res);
    freeReplyObject(r);
    if (res)
        finish(w, i, res);
    return result_rc(rc);
}

/* 1 if the unfinished tasks are in more than one queue. */
static int several_queues(const wait_many *w)
{
    const char *q = NULL;
    for (size_t i = 0; i < w->n; i++) {
        if (w->done[i])
            continue;
        if (q && strcmp(q, w->h[i]->queue) != 0)
            return 1;
        q = w->h[i]->queue;
    }
    return 0;
}

/* Unregisters the tasks still registered; one that finished meanwhile gets its callback (a
 * TTL-0 task whose hash is gone by then left its token, taken with LPOP). */
static int leave(wait_many *w)
{
    int first_rc = SPINDLE_OK;
    for (size_t i = 0; i < w->n; i++) {
        if (!w->registered[i] || w->done[i])
            continue;
        int rc = step(w, i, -1);
        if (rc == SPINDLE_ERR_NOT_FOUND) {
            redisReply *r = NULL;
            const char *tok;
            size_t len;
            rc = spindle_store_pop_done(&w->c->store, w->h[i]->queue, w->h[i]->id, &r, &tok, &len);
            spindle_result *res = NULL;
            if (rc == SPINDLE_OK && tok)
                rc = result_rc(spindle_result_from_token(w->c, w->h[i], tok, len, &res));
            if (r)
                freeReplyObject(r);
            if (res)
                finish(w, i, res);
        }
        if (first_rc == SPINDLE_OK)
            first_rc = rc;
    }
    return first_rc;
}

static int satisfied(const wait_many *w, int mode)
{
    return mode == SPINDLE_WAIT_ANY ? w->ndone > 0 : w->ndone == w->n;
}

static int run(wait_many *w, int mode, long timeout_ms)
{
    int64_t deadline = spindle_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int delta = timeout_ms != 0 ? 1 : 0;
    int rc = SPINDLE_OK;
    for (size_t i = 0; i < w->n && rc == SPINDLE_OK; i++)
        rc = step(w, i, delta);
    int progress = w->cb && w->cb->on_progress;
    if (rc == SPINDLE_OK && progress)
        rc = read_progress(w);
    int64_t last_look = spindle_mono_ms();
    size_t turn = 0;
    while (rc == SPINDLE_OK && !satisfied(w, mode) && timeout_ms != 0) {
        long slice = spindle_slice_ms(
            deadline, timeout_ms, progress || several_queues(w) ? SHORT_SLICE_MS : WAIT_SLICE_MS);
        if (slice == 0)
            break;
        size_t lead = next_pending(w, turn);
        turn = lead + 1;
        rc = block_on_queue(w, lead, slice);
        if (rc == SPINDLE_OK && progress)
            rc = read_progress(w);
        /* Now and then, look at every task again in case a token was lost. */
        if (rc == SPINDLE_OK && spindle_mono_ms() - last_look >= WAIT_SLICE_MS) {
            for (size_t i = 0; i < w->n && rc == SPINDLE_OK; i++)
                if (!w->done[i])
                    rc = step(w, i, 0);
            last_look = spindle_mono_ms();
        }
    }
    int lrc = leave(w);
    if (rc == SPINDLE_OK)
        rc = lrc;
    if (rc != SPINDLE_OK)
        return rc;
    if (satisfied(w, mode))
        return SPINDLE_OK;
    return spindle_error_set(&w->c->err, SPINDLE_ERR_TIMEOUT,
                             "%zu of %zu tasks finished within %ld ms; waited for %s", w->ndone,
                             w->n, timeout_ms, mode == SPINDLE_WAIT_ANY ? "any" : "all");
}

/* A synchronous client's tasks are all final: each gets its callback, in order. */
static int sync_wait_many(spindle_client *c, spindle_handle *const *handles, size_t n,
                          const spindle_wait_callbacks *cb, size_t *first)
{
    for (size_t i = 0; i < n; i++) {
        spindle_result *r = NULL;
        int rc = result_rc(spindle_wait(c, handles[i], 0, &r));
        if (rc == SPINDLE_ERR_NOT_FOUND)
            return spindle_error_wrap(&c->err, "wait on handle %zu: ", i);
        if (rc != SPINDLE_OK)
            return rc;
        if (first && i == 0)
            *first = 0;
        call_back(cb, i, r);
        spindle_result_free(r);
    }
    return SPINDLE_OK;
}

int spindle_wait_many(spindle_client *c, spindle_handle *const *handles, size_t n, int mode,
                      long timeout_ms, const spindle_wait_callbacks *cb, size_t *first)
{
    if (first)
        *first = n;
    if (n == 0 || handles == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "wait_many: no handles given");
    if (mode != SPINDLE_WAIT_ANY && mode != SPINDLE_WAIT_ALL)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "wait_many: mode %d is neither SPINDLE_WAIT_ANY nor "
                                 "SPINDLE_WAIT_ALL",
                                 mode);
    for (size_t i = 0; i < n; i++)
        if (handles[i] == NULL)
            return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "wait_many: handle %zu is NULL",
                                     i);
    if (c->sync)
        return sync_wait_many(c, handles, n, cb, first);
    wait_many w = {.c = c, .h = handles, .n = n, .cb = cb, .first = n};
    w.done = calloc(n, sizeof(*w.done));
    w.registered = calloc(n, sizeof(*w.registered));
    w.seq = calloc(n, sizeof(*w.seq));
    w.ids = calloc(n, sizeof(*w.ids));
    w.map = calloc(n, sizeof(*w.map));
    int rc = w.done && w.registered && w.seq && w.ids && w.map
                 ? run(&w, mode, timeout_ms)
                 : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM,
                                     "wait_many on %zu handles: out of memory", n);
    if (first)
        *first = w.first;
    free(w.done);
    free(w.registered);
    free(w.seq);
    free(w.ids);
    free(w.map);
    return rc;
}
