/* Pages of a queue's tasks by state (list_page.h). Why windows: an operator must be able to
 * look at a queue of a million tasks without the tool or Redis loading all of it, so each
 * page reads only the positions it shows plus one (to know whether a next page exists),
 * with LRANGE from the right end of pending (workers take from the right: next to run
 * first) and ZRANGE/ZREVRANGE on the scheduled, waiting and dead sets. Running tasks are in the
 * in-flight lists of the queue's workers, which are short (a claim batch each), so those are
 * read whole and sliced. The fields of the page's tasks then come in one pipelined HMGET. */
#include "store/list_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "spindle/status.h"
#include "store/keys.h"

#define WHAT "listing tasks"
#define NFIELDS 7 /* func state enqueued_at started_at attempts error deps */

/* Reads one reply; an error reply (WRONGTYPE) becomes SPINDLE_ERR_PROTOCOL naming key. */
static redisReply *read_checked(spindle_store *s, const char *key)
{
    redisReply *r = spindle_store_read(s, WHAT);
    if (r && r->type == REDIS_REPLY_ERROR) {
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL, WHAT ": key %s: %s", key, r->str);
        freeReplyObject(r);
        return NULL;
    }
    if (r && r->type != REDIS_REPLY_ARRAY) {
        spindle_store_bad_reply(s, WHAT, r);
        return NULL;
    }
    return r;
}

/* 1 if m is a task id (a member written by hand may be anything). */
static int is_id(const redisReply *m)
{
    spindle_error ignored;
    return m->type == REDIS_REPLY_STRING && m->len == SPINDLE_ID_LEN &&
           spindle_id_check(m->str, &ignored) == SPINDLE_OK;
}

/* Adds member m (with its score text, or the worker holding it) as the next row. */
static void add_row(spindle_task_row *rows, size_t *n, const redisReply *m, const redisReply *score,
                    const char *worker)
{
    if (!is_id(m))
        return;
    spindle_task_row *r = &rows[(*n)++];
    memset(r, 0, sizeof(*r));
    memcpy(r->id, m->str, SPINDLE_ID_LEN + 1);
    if (score && score->type == REDIS_REPLY_STRING)
        r->at_ms = (int64_t)strtod(score->str, NULL);
    if (worker)
        snprintf(r->worker, sizeof(r->worker), "%s", worker);
}

/* pending, scheduled, dead: one range read of positions [offset, offset + limit]. */
static int read_window(spindle_store *s, const char *queue, spindle_list_state st, uint64_t offset,
                       size_t limit, spindle_task_row *rows, size_t *n, int *more)
{
    char key[SPINDLE_KEY_MAX];
    long long first = (long long)offset, last = (long long)offset + (long long)limit;
    int rc;
    if (st == SPINDLE_LIST_PENDING) {
        spindle_key_pending(key, s->ns, queue);
        rc = spindle_store_appendf(s, WHAT, "LRANGE %s %lld %lld", key, -last - 1, -first - 1);
    } else {
        if (st == SPINDLE_LIST_SCHEDULED)
            spindle_key_scheduled(key, s->ns, queue);
        else if (st == SPINDLE_LIST_WAITING)
            spindle_key_waiting(key, s->ns, queue);
        else
            spindle_key_dead(key, s->ns, queue);
        rc = spindle_store_appendf(s, WHAT, "%s %s %lld %lld WITHSCORES",
                                   st == SPINDLE_LIST_DEAD ? "ZREVRANGE" : "ZRANGE", key, first,
                                   last);
    }
    if (rc != SPINDLE_OK)
        return rc;
    redisReply *r = read_checked(s, key);
    if (r == NULL)
        return s->err->code;
    size_t step = st == SPINDLE_LIST_PENDING ? 1 : 2, count = r->elements / step;
    *more = count > limit;
    if (count > limit)
        count = limit;
    for (size_t i = 0; i < count; i++) {
        if (st == SPINDLE_LIST_PENDING) /* right end first: the last element is position 0 */
            add_row(rows, n, r->element[r->elements - 1 - i], NULL, NULL);
        else
            add_row(rows, n, r->element[2 * i], r->element[2 * i + 1], NULL);
    }
    freeReplyObject(r);
    return SPINDLE_OK;
}

static int by_text(const void *a, const void *b)
{
    const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
    return strcmp(x->str, y->str);
}

/* running: the in-flight lists of the queue's workers, in worker id order, sliced. */
static int read_running(spindle_store *s, const char *queue, uint64_t offset, size_t limit,
                        spindle_task_row *rows, size_t *n, int *more)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_workers(key, s->ns, queue);
    if (spindle_store_appendf(s, WHAT, "SMEMBERS %s", key) != SPINDLE_OK)
        return s->err->code;
    redisReply *ws = read_checked(s, key);
    if (ws == NULL)
        return s->err->code;
    size_t nw = 0;
    for (size_t i = 0; i < ws->elements; i++) { /* ids go into keys: text without NUL */
        redisReply *e = ws->element[i];
        if (e->type == REDIS_REPLY_STRING && e->len > 0 && e->len < SPINDLE_WORKER_ID_MAX &&
            memchr(e->str, '\0', e->len) == NULL)
            ws->element[nw++] = e;
        else
            freeReplyObject(e); /* skipped: its slot is reused below */
    }
    for (size_t i = nw; i < ws->elements; i++)
        ws->element[i] = NULL; /* moved up or freed: freeReplyObject skips NULLs */
    qsort(ws->element, nw, sizeof(*ws->element), by_text);
    int rc = SPINDLE_OK;
    size_t sent = 0;
    for (; sent < nw && rc == SPINDLE_OK; sent++) {
        spindle_key_inflight(key, s->ns, queue, ws->element[sent]->str);
        rc = spindle_store_appendf(s, WHAT, "LRANGE %s 0 -1", key);
    }
    if (rc != SPINDLE_OK)
        sent--;
    uint64_t pos = 0;
    *more = 0;
    for (size_t w = 0; w < sent; w++) {
        spindle_key_inflight(key, s->ns, queue, ws->element[w]->str);
        redisReply *r = read_checked(s, key);
        if (r == NULL) {
            if (rc == SPINDLE_OK)
                rc = s->err->code;
            if (!s->rc)
                break; /* the connection broke: nothing more to read */
            continue;
        }
        for (size_t i = 0; i < r->elements; i++, pos++) {
            if (pos >= offset + limit)
                *more = 1;
            else if (pos >= offset)
                add_row(rows, n, r->element[i], NULL, ws->element[w]->str);
        }
        freeReplyObject(r);
    }
    freeReplyObject(ws);
    return rc;
}

/* Copies the text of v into dst (cap bytes with the NUL), cut to fit. */
static void copy_text(char *dst, size_t cap, const redisReply *v)
{
    size_t len = v && v->type == REDIS_REPLY_STRING ? v->len : 0;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, len ? v->str : "", len);
    dst[len] = '\0';
}

/* One pipelined HMGET of the fields shown per row. */
static int read_fields(spindle_store *s, const char *queue, spindle_task_row *rows, size_t n)
{
    char key[SPINDLE_KEY_MAX];
    size_t sent = 0;
    int rc = SPINDLE_OK;
    for (; sent < n && rc == SPINDLE_OK; sent++) {
        spindle_key_task(key, s->ns, queue, rows[sent].id);
        rc = spindle_store_appendf(
            s, WHAT, "HMGET %s func state enqueued_at started_at attempts error deps", key);
    }
    if (rc != SPINDLE_OK)
        sent--;
    for (size_t i = 0; i < sent && s->rc; i++) {
        redisReply *r = spindle_store_read(s, WHAT);
        if (r == NULL)
            return s->err->code;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == NFIELDS) {
            copy_text(rows[i].func, sizeof(rows[i].func), r->element[0]);
            copy_text(rows[i].state, sizeof(rows[i].state), r->element[1]);
            rows[i].enqueued_at_ms = spindle_reply_ll(r->element[2], 0);
            rows[i].started_at_ms = spindle_reply_ll(r->element[3], 0);
            rows[i].attempts = (long)spindle_reply_ll(r->element[4], 0);
            copy_text(rows[i].error, sizeof(rows[i].error), r->element[5]);
            rows[i].deps = (long)spindle_reply_ll(r->element[6], 0);
        } /* else: the key is not a hash (by hand): the row keeps only its id */
        freeReplyObject(r);
    }
    return rc;
}

int spindle_store_list_page(spindle_store *s, const char *queue, spindle_list_state st,
                            uint64_t offset, size_t limit, spindle_task_row *rows, size_t *n,
                            int *more)
{
    *n = 0;
    *more = 0;
    int rc = st == SPINDLE_LIST_RUNNING ? read_running(s, queue, offset, limit, rows, n, more)
                                        : read_window(s, queue, st, offset, limit, rows, n, more);
    if (rc == SPINDLE_OK)
        rc = read_fields(s, queue, rows, *n);
    return rc;
}
