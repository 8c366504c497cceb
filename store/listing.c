/* Operator reads: dead letters, worker heartbeats, retry-set sizes (see listing.h).
 *
 * Each listing is one read of an index (the dead set, NS:workers) and then one pipelined
 * read per member, so its cost is two round trips whatever the number of entries. Members
 * are checked before they are put into a key: the index may hold anything an operator
 * wrote. */
#include "store/listing.h"
#include "store/ops.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "spindle/status.h"
#include "store/keys.h"

/* ---- reply helpers ---------------------------------------------------------------------- */

/* Reads the next pipelined reply. An error reply becomes a failure: WRONGTYPE is
 * SPINDLE_ERR_PROTOCOL naming key and the type it should have (kind), anything else
 * SPINDLE_ERR_REDIS. Returns the reply (caller frees) or NULL with the error set. */
static redisReply *read_typed(spindle_store *s, const char *what, const char *key, const char *kind)
{
    redisReply *r = spindle_store_read(s, what);
    if (r == NULL || r->type != REDIS_REPLY_ERROR)
        return r;
    if (strncmp(r->str, "WRONGTYPE", 9) == 0)
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL, "%s: key %s is not a %s (written by hand?)",
                          what, key, kind);
    else
        spindle_error_set(s->err, SPINDLE_ERR_REDIS, "%s: Redis at %s answered: %s", what,
                          s->url_text, r->str);
    freeReplyObject(r);
    return NULL;
}

/* Reads and frees the replies of n pipelined commands that are no longer wanted, so that the
 * connection stays in step. Stops at a broken connection (nothing more will come). */
static void drain(spindle_store *s, const char *what, size_t n)
{
    for (size_t i = 0; i < n && s->rc; i++) {
        redisReply *r = spindle_store_read(s, what);
        if (r == NULL)
            break;
        freeReplyObject(r);
    }
}

/* A count: v as a non-negative whole number that fits an unsigned long, or 0. */
static unsigned long to_count(const redisReply *v)
{
    long long x = spindle_reply_ll(v, 0);
    return x > 0 && (unsigned long long)x <= ULONG_MAX ? (unsigned long)x : 0;
}

/* A long: v as a whole number that fits, or 0. */
static long to_long(const redisReply *v)
{
    long long x = spindle_reply_ll(v, 0);
    return x >= LONG_MIN && x <= LONG_MAX ? (long)x : 0;
}

/* Copies the text of v into dst (cap bytes with the NUL), cut to fit; "" if v is not text. */
static void copy_text(char *dst, size_t cap, const redisReply *v)
{
    size_t len = v && v->type == REDIS_REPLY_STRING ? v->len : 0;
    if (len >= cap)
        len = cap - 1;
    if (len)
        memcpy(dst, v->str, len);
    dst[len] = '\0';
}

/* A malloc'd NUL-terminated copy of the text of v ("" if v is not text), NULL if out of
 * memory. */
static char *dup_text(const redisReply *v)
{
    if (v && v->type == REDIS_REPLY_STRING)
        return strndup(v->str, v->len);
    return strdup("");
}

/* ---- retry-set sizes -------------------------------------------------------------------- */

int spindle_store_retry_counts(spindle_store *s, const char *queue, long long *scheduled,
                               long long *dead, long long *waiting)
{
    char keys[3][SPINDLE_KEY_MAX];
    long long *out[3] = {scheduled, dead, waiting};
    spindle_key_scheduled(keys[0], s->ns, queue);
    spindle_key_dead(keys[1], s->ns, queue);
    spindle_key_waiting(keys[2], s->ns, queue);
    size_t nk = waiting ? 3 : 2;
    for (size_t i = 0; i < nk; i++)
        *out[i] = 0;
    for (size_t i = 0; i < nk; i++) {
        if (spindle_store_appendf(s, "counting retries", "ZCARD %s", keys[i]) != SPINDLE_OK) {
            drain(s, "counting retries", i);
            return s->err->code;
        }
    }
    int rc = SPINDLE_OK;
    for (size_t i = 0; i < nk; i++) {
        redisReply *r = read_typed(s, "counting retries", keys[i], "sorted set");
        if (r == NULL) {
            if (rc == SPINDLE_OK)
                rc = s->err->code;
            continue; /* the other replies are still to be read */
        }
        if (r->type == REDIS_REPLY_INTEGER) {
            *out[i] = r->integer;
            freeReplyObject(r);
        } else if (rc == SPINDLE_OK) {
            rc = spindle_store_bad_reply(s, "counting retries", r); /* frees r */
        } else {
            freeReplyObject(r);
        }
    }
    return rc;
}

/* ---- dead letters ----------------------------------------------------------------------- */

void spindle_store_free_dead(spindle_dead_letter *list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i].error);
    free(list);
}

/* Fills e's func, error and attempts from an HMGET reply of those three fields; a reply of
 * another shape (the hash is gone or is not a hash) leaves them empty. */
static int fill_dead(spindle_dead_letter *e, const redisReply *r)
{
    const redisReply *func = NULL, *err = NULL, *attempts = NULL;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        func = r->element[0];
        err = r->element[1];
        attempts = r->element[2];
    }
    copy_text(e->func, sizeof(e->func), func);
    e->attempts = to_long(attempts);
    e->error = dup_text(err);
    return e->error ? SPINDLE_OK : SPINDLE_ERR_NOMEM;
}

/* Reads the HMGET replies of the n ids already in list into list. */
static int read_dead_fields(spindle_store *s, spindle_dead_letter *list, size_t n)
{
    int rc = SPINDLE_OK;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = spindle_store_read(s, "reading dead letters");
        if (r == NULL)
            return s->err->code; /* the connection broke: nothing more to read */
        if (rc == SPINDLE_OK && fill_dead(&list[i], r) != SPINDLE_OK)
            rc =
                spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "reading dead letters: out of memory");
        freeReplyObject(r);
    }
    return rc;
}

int spindle_store_dead_letters(spindle_store *s, const char *queue, size_t max,
                               spindle_dead_letter **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char key[SPINDLE_KEY_MAX];
    spindle_key_dead(key, s->ns, queue);
    long long stop = max == 0 || max > (size_t)LLONG_MAX ? -1 : (long long)max - 1;
    if (spindle_store_appendf(s, "listing dead letters", "ZREVRANGE %s 0 %lld WITHSCORES", key,
                              stop) != SPINDLE_OK)
        return s->err->code;
    redisReply *range = read_typed(s, "listing dead letters", key, "sorted set");
    if (range == NULL)
        return s->err->code;
    /* RESP2: member, score, member, score, … */
    if (range->type != REDIS_REPLY_ARRAY || range->elements % 2 != 0)
        return spindle_store_bad_reply(s, "listing dead letters", range);
    size_t total = range->elements / 2;
    spindle_dead_letter *list = total ? calloc(total, sizeof(*list)) : NULL;
    if (total && list == NULL) {
        freeReplyObject(range);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "listing dead letters: out of memory");
    }
    size_t count = 0;
    int rc = SPINDLE_OK;
    for (size_t i = 0; rc == SPINDLE_OK && i < total; i++) {
        const redisReply *m = range->element[2 * i], *score = range->element[2 * i + 1];
        spindle_error ignored;
        if (m->type != REDIS_REPLY_STRING || m->len != SPINDLE_ID_LEN ||
            spindle_id_check(m->str, &ignored) != SPINDLE_OK)
            continue; /* not a task id: written by hand */
        spindle_dead_letter *e = &list[count];
        memcpy(e->id, m->str, SPINDLE_ID_LEN + 1);
        e->failed_at_ms = score->type == REDIS_REPLY_STRING ? (int64_t)strtod(score->str, NULL) : 0;
        char task[SPINDLE_KEY_MAX];
        spindle_key_task(task, s->ns, queue, e->id);
        rc = spindle_store_appendf(s, "reading dead letters", "HMGET %s func error attempts", task);
        if (rc == SPINDLE_OK)
            count++;
    }
    freeReplyObject(range);
    if (rc != SPINDLE_OK)
        drain(s, "reading dead letters", count);
    else
        rc = read_dead_fields(s, list, count);
    if (rc != SPINDLE_OK) {
        spindle_store_free_dead(list, count);
        return rc;
    }
    if (count == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = count;
    return SPINDLE_OK;
}

/* ---- workers ---------------------------------------------------------------------------- */

void spindle_store_free_workers(spindle_worker_info *list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i].queues);
    free(list);
}

/* Sets one heartbeat field of w from its value v. Unknown fields are ignored: later workers
 * may add some. */
static void apply_beat_field(spindle_worker_info *w, const char *f, const redisReply *v)
{
    if (strcmp(f, "host") == 0)
        copy_text(w->host, sizeof(w->host), v);
    else if (strcmp(f, "pid") == 0)
        w->pid = to_long(v);
    else if (strcmp(f, "supervisor") == 0)
        w->supervisor = to_long(v);
    else if (strcmp(f, "pool") == 0)
        copy_text(w->pool, sizeof(w->pool), v);
    else if (strcmp(f, "started_at") == 0)
        w->started_at_ms = spindle_reply_ll(v, 0);
    else if (strcmp(f, "beat_at") == 0)
        w->beat_at_ms = spindle_reply_ll(v, 0);
    else if (strcmp(f, "task") == 0)
        copy_text(w->task, sizeof(w->task), v);
    else if (strcmp(f, "task_queue") == 0)
        copy_text(w->task_queue, sizeof(w->task_queue), v);
    else if (strcmp(f, "task_started_at") == 0)
        w->task_started_at_ms = spindle_reply_ll(v, 0);
    else if (strcmp(f, "processed") == 0)
        w->processed = to_count(v);
    else if (strcmp(f, "failed") == 0)
        w->failed = to_count(v);
}

/* Decodes the HGETALL reply of worker id into w (whose id is set). 1 if w is a live worker,
 * 0 if it has no heartbeat hash, -1 if out of memory. */
static int decode_beat(spindle_worker_info *w, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return 0; /* no hash (expired: the worker is dead), or a key of another type */
    const redisReply *queues = NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "queues") == 0)
            queues = v;
        else
            apply_beat_field(w, k->str, v);
    }
    w->queues = dup_text(queues);
    return w->queues ? 1 : -1;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const spindle_worker_info *)a)->id, ((const spindle_worker_info *)b)->id);
}

/* Reads the HGETALL replies of the n workers in list, keeping the live ones at the front
 * in order; *live receives their count. */
static int read_beats(spindle_store *s, spindle_worker_info *list, size_t n, size_t *live)
{
    int rc = SPINDLE_OK;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = spindle_store_read(s, "reading heartbeats");
        if (r == NULL) {
            rc = s->err->code;
            break; /* the connection broke: nothing more to read */
        }
        if (rc == SPINDLE_OK) {
            /* Entries from kept on hold only their id (decode_beat() writes nothing into a
             * worker it skips), so moving the id up is all it takes to close a gap. */
            if (kept != i)
                memcpy(list[kept].id, list[i].id, sizeof(list[kept].id));
            int got = decode_beat(&list[kept], r);
            if (got < 0)
                rc = spindle_error_set(s->err, SPINDLE_ERR_NOMEM,
                                       "reading heartbeats: out of memory");
            else if (got > 0)
                kept++;
        }
        freeReplyObject(r);
    }
    *live = kept;
    return rc;
}

int spindle_store_workers(spindle_store *s, spindle_worker_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t now = 0;
    if (spindle_store_redis_time(s, &now) != SPINDLE_OK)
        return s->err->code;
    char all[SPINDLE_KEY_MAX];
    spindle_key_all_workers(all, s->ns);
    if (spindle_store_appendf(s, "listing workers", "SMEMBERS %s", all) != SPINDLE_OK)
        return s->err->code;
    redisReply *ids = read_typed(s, "listing workers", all, "set");
    if (ids == NULL)
        return s->err->code;
    if (ids->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, "listing workers", ids);
    size_t total = ids->elements;
    spindle_worker_info *list = total ? calloc(total, sizeof(*list)) : NULL;
    if (total && list == NULL) {
        freeReplyObject(ids);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "listing workers: out of memory");
    }
    size_t sent = 0;
    int rc = SPINDLE_OK;
    for (size_t i = 0; rc == SPINDLE_OK && i < total; i++) {
        const redisReply *m = ids->element[i];
        /* An id goes into a key: it must be text that fits and holds no NUL. */
        if (m->type != REDIS_REPLY_STRING || m->len == 0 || m->len >= SPINDLE_WORKER_ID_MAX ||
            memchr(m->str, '\0', m->len) != NULL)
            continue;
        memcpy(list[sent].id, m->str, m->len + 1);
        char key[SPINDLE_KEY_MAX];
        spindle_key_worker(key, s->ns, list[sent].id);
        rc = spindle_store_appendf(s, "reading heartbeats", "HGETALL %s", key);
        if (rc == SPINDLE_OK)
            sent++;
    }
    freeReplyObject(ids);
    size_t live = 0;
    if (rc != SPINDLE_OK)
        drain(s, "reading heartbeats", sent);
    else
        rc = read_beats(s, list, sent, &live);
    if (rc != SPINDLE_OK) {
        spindle_store_free_workers(list, live);
        return rc;
    }
    for (size_t i = 0; i < live; i++)
        list[i].beat_age_ms =
            list[i].beat_at_ms > 0 && now > list[i].beat_at_ms ? now - list[i].beat_at_ms : 0;
    if (live == 0) {
        free(list);
        list = NULL;
    } else if (live > 1) {
        qsort(list, live, sizeof(*list), by_id);
    }
    *out = list;
    *n = live;
    return SPINDLE_OK;
}
