/* Waiting on a task group (group.h), without polling.
 *
 * The states in the members' task hashes are the truth; the streams NS:{Q}:gdone:NAME that
 * finish() appends to when a member ends are the hint that wakes the waiter. The waiter notes
 * each stream's last id BEFORE it reads the states (in the same pipeline), so a member that
 * ends after the read is in the stream after the noted id, and XREAD BLOCK from there sees it.
 * Each entry's member is then read again from its hash. Streams are not consumed: waiters in
 * any number of processes all wake. With members on several queues, the waiter blocks on one
 * queue's stream at a time, in turns of SHORT_SLICE_MS; every FULL_READ_MS it reads every
 * unfinished member again, in case a hint was lost (a stream deleted or trimmed by hand). */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "producer/group_impl.h"

/* Longest block between two full reads of the unfinished members (see above). */
#define FULL_READ_MS 10000
/* Block per turn when the group spans queues: a member of another queue is seen this late
 * times the number of queues. */
#define SHORT_SLICE_MS 100
/* A member whose task hash is missing counts as ended (lost at enqueue, or expired) only
 * when a read at least this long after the first that missed it misses it again: a submit
 * reserves the name before it enqueues the task, and a wait may read in between. */
#define MISSING_GRACE_MS 2000
/* Entries taken per XREAD. */
#define READ_COUNT 1000

typedef struct gwait {
    spindle_client *c;
    const spindle_group *g;
    spindle_group_ref *refs;
    size_t n;
    unsigned char *over;
    int64_t *missing_since; /* monotonic ms of the first read that found no task; 0: found */
    size_t *seen, nseen;    /* members seen ended, in that order */
    const char **queues;
    size_t nq;
    char (*last)[SPINDLE_STREAM_ID_MAX];
    struct by_id {
        const char *id;
        size_t member;
    } * by_id;   /* the members sorted by task id */
    size_t *idx; /* scratch: members to read */
    char (*states)[16];
    char (*ids)[SPINDLE_ID_LEN + 1];
} gwait;

static int cmp_by_id(const void *a, const void *b)
{
    return strcmp(((const struct by_id *)a)->id, ((const struct by_id *)b)->id);
}

/* The member whose task is id, or w->n. */
static size_t find(const gwait *w, const char *id)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(w->by_id[mid].id, id);
        if (d == 0)
            return w->by_id[mid].member;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return w->n;
}

/* Reads the states of w->idx[0..k) (after the streams' last ids when with_ids), and marks the
 * members that have ended. */
static int read_states(gwait *w, size_t k, int with_ids)
{
    if (k == 0 && !with_ids)
        return SPINDLE_OK;
    int rc = spindle_store_group_states(&w->c->store, w->g->name, w->queues, with_ids ? w->nq : 0,
                                        w->last, w->refs, w->idx, k, w->states);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&w->c->err, "wait on group '%s': ", w->g->name);
    int64_t now = spindle_mono_ms();
    for (size_t i = 0; i < k; i++) {
        size_t m = w->idx[i];
        if (w->states[i][0] != '\0') {
            w->missing_since[m] = 0;
        } else if (w->missing_since[m] == 0) {
            w->missing_since[m] = now;
            continue;
        } else if (now - w->missing_since[m] < MISSING_GRACE_MS) {
            continue;
        }
        if (!w->over[m] && spindle_group_state_over(w->states[i])) {
            w->over[m] = 1;
            w->seen[w->nseen++] = m;
        }
    }
    return SPINDLE_OK;
}

/* Reads every unfinished member, after noting the streams' last ids. */
static int full_read(gwait *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++)
        if (!w->over[i])
            w->idx[k++] = i;
    return read_states(w, k, 1);
}

/* 1 if queue q has an unfinished member. */
static int queue_busy(const gwait *w, size_t q)
{
    for (size_t i = 0; i < w->n; i++)
        if (!w->over[i] && strcmp(w->refs[i].queue, w->queues[q]) == 0)
            return 1;
    return 0;
}

/* Blocks up to ms on queue q's stream, then reads again the members named by its entries. */
static int block_on(gwait *w, size_t q, long ms)
{
    size_t k = 0;
    int rc = spindle_store_group_read_ends(&w->c->store, w->g->name, w->queues[q], w->last[q], ms,
                                           w->ids, READ_COUNT, &k);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&w->c->err, "wait on group '%s': ", w->g->name);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        size_t at = find(w, w->ids[i]);
        if (at < w->n && !w->over[at])
            w->idx[m++] = at;
    }
    return read_states(w, m, 0);
}

static int satisfied(const gwait *w, int mode)
{
    return mode == SPINDLE_WAIT_ANY ? w->nseen > 0 : w->nseen == w->n;
}

/* How often every unfinished member is read: sooner while one has no task, to settle it. */
static long full_read_every(const gwait *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (!w->over[i] && w->missing_since[i])
            return MISSING_GRACE_MS;
    return FULL_READ_MS;
}

static int run(gwait *w, int mode, long timeout_ms)
{
    int64_t deadline = spindle_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc = full_read(w);
    int64_t last_full = spindle_mono_ms();
    size_t turn = 0;
    while (rc == SPINDLE_OK && !satisfied(w, mode) && timeout_ms != 0) {
        long every = full_read_every(w);
        long slice = spindle_slice_ms(deadline, timeout_ms, w->nq > 1 ? SHORT_SLICE_MS : every);
        if (slice == 0)
            break;
        if (spindle_mono_ms() - last_full >= every) {
            rc = full_read(w);
            last_full = spindle_mono_ms();
            continue;
        }
        size_t q = turn % w->nq;
        for (size_t t = 0; t < w->nq && !queue_busy(w, q); t++)
            q = (q + 1) % w->nq;
        turn = q + 1;
        rc = block_on(w, q, slice);
    }
    if (rc == SPINDLE_OK && !satisfied(w, mode))
        rc = spindle_error_set(&w->c->err, SPINDLE_ERR_TIMEOUT,
                               "wait on group '%s': %zu of %zu members still running after %ld ms",
                               w->g->name, w->n - w->nseen, w->n, timeout_ms);
    return rc;
}

/* Copies the names of the result into out. */
static int fill(gwait *w, spindle_group_wait_result *out)
{
    out->finished = calloc(w->nseen ? w->nseen : 1, sizeof(char *));
    out->unfinished = calloc(w->n > w->nseen ? w->n - w->nseen : 1, sizeof(char *));
    int ok = out->finished && out->unfinished;
    for (size_t i = 0; ok && i < w->nseen; i++)
        ok = (out->finished[out->nfinished++] = strdup(w->refs[w->seen[i]].name)) != NULL;
    for (size_t i = 0; ok && i < w->n; i++)
        if (!w->over[i])
            ok = (out->unfinished[out->nunfinished++] = strdup(w->refs[i].name)) != NULL;
    if (ok)
        return SPINDLE_OK;
    spindle_group_wait_clear(out);
    return spindle_error_set(&w->c->err, SPINDLE_ERR_NOMEM, "wait on group '%s': out of memory",
                             w->g->name);
}

void spindle_group_wait_clear(spindle_group_wait_result *w)
{
    spindle_group_names_free(w->finished, w->nfinished);
    spindle_group_names_free(w->unfinished, w->nunfinished);
    memset(w, 0, sizeof(*w));
}

/* The distinct queues of the members into w->queues. */
static void distinct_queues(gwait *w)
{
    for (size_t i = 0; i < w->n; i++) {
        size_t q = 0;
        while (q < w->nq && strcmp(w->queues[q], w->refs[i].queue) != 0)
            q++;
        if (q == w->nq)
            w->queues[w->nq++] = w->refs[i].queue;
    }
}

int spindle_group_wait(spindle_client *c, spindle_group *g, int mode, long timeout_ms,
                       spindle_group_wait_result *out)
{
    memset(out, 0, sizeof(*out));
    int rc = spindle_group_check(c, g, "group wait");
    if (rc == SPINDLE_OK && mode != SPINDLE_WAIT_ANY && mode != SPINDLE_WAIT_ALL)
        rc = spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                               "wait on group '%s': mode %d is neither SPINDLE_WAIT_ANY nor "
                               "SPINDLE_WAIT_ALL",
                               g->name, mode);
    gwait w = {.c = c, .g = g};
    redisReply *reply = NULL;
    if (rc == SPINDLE_OK)
        rc = spindle_group_load(c, g, &w.refs, &w.n, &reply);
    if (rc != SPINDLE_OK)
        return rc;
    if (mode == SPINDLE_WAIT_ANY && w.n == 0) {
        freeReplyObject(reply);
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "wait for the first member of group '%s': it has no members",
                                 g->name);
    }
    size_t cap = w.n ? w.n : 1;
    w.over = calloc(cap, 1);
    w.missing_since = calloc(cap, sizeof(*w.missing_since));
    w.seen = malloc(cap * sizeof(*w.seen));
    w.queues = malloc(cap * sizeof(*w.queues));
    w.last = malloc(cap * sizeof(*w.last));
    w.by_id = malloc(cap * sizeof(*w.by_id));
    w.idx = malloc(cap * sizeof(*w.idx));
    w.states = malloc(cap * sizeof(*w.states));
    w.ids = malloc(READ_COUNT * sizeof(*w.ids));
    if (!w.over || !w.missing_since || !w.seen || !w.queues || !w.last || !w.by_id || !w.idx ||
        !w.states || !w.ids) {
        rc = spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "wait on group '%s': out of memory",
                               g->name);
    } else {
        for (size_t i = 0; i < w.n; i++)
            w.by_id[i] = (struct by_id){w.refs[i].id, i};
        qsort(w.by_id, w.n, sizeof(*w.by_id), cmp_by_id);
        distinct_queues(&w);
        rc = run(&w, mode, timeout_ms);
        if (rc == SPINDLE_OK || rc == SPINDLE_ERR_TIMEOUT) {
            spindle_error saved = c->err;
            int filled = fill(&w, out);
            if (filled != SPINDLE_OK)
                rc = filled;
            else
                c->err = saved;
        }
    }
    free(w.over);
    free(w.missing_since);
    free(w.seen);
    free(w.queues);
    free(w.last);
    free(w.by_id);
    free(w.idx);
    free(w.states);
    free(w.ids);
    free(w.refs);
    freeReplyObject(reply);
    return rc;
}
