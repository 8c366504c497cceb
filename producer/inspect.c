/* Operator views of tasks (spindle/inspect.h): every raw field of one task, and pages of a
 * queue's tasks by state. The store reads (store/query.c, store/list_page.c); this file
 * checks the caller's input, copies the fields out of the replies and adds context to the
 * message of a failure. */
#include <stdlib.h>
#include <string.h>

#include "producer/client_impl.h"
#include "spindle/inspect.h"
#include "store/list_page.h"
#include "store/ops.h"
#include "store/purge.h"
#include "store/retry_dead.h"

/* The most rows one page may ask for: a page is one pipelined round trip. */
#define SPINDLE_PAGE_MAX 1000

void spindle_task_dump_clear(spindle_task_dump *d)
{
    for (size_t i = 0; d->fields && i < d->n; i++) {
        free(d->fields[i].name);
        free(d->fields[i].value);
    }
    free(d->fields);
    memset(d, 0, sizeof(*d));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const spindle_task_field *)a)->name, ((const spindle_task_field *)b)->name);
}

/* Copies the field/value pairs of an HGETALL reply into d. */
static int copy_fields(const redisReply *hash, spindle_task_dump *d)
{
    size_t n = hash->elements / 2;
    d->fields = calloc(n ? n : 1, sizeof(*d->fields));
    if (d->fields == NULL)
        return SPINDLE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const redisReply *k = hash->element[2 * i], *v = hash->element[2 * i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        spindle_task_field *f = &d->fields[d->n];
        f->name = strndup(k->str, k->len);
        f->value = malloc(v->len + 1);
        d->n++; /* counted now, so that clear frees what was copied */
        if (f->name == NULL || f->value == NULL)
            return SPINDLE_ERR_NOMEM;
        memcpy(f->value, v->str, v->len);
        f->value[v->len] = '\0';
        f->len = v->len;
    }
    qsort(d->fields, d->n, sizeof(*d->fields), by_name);
    return SPINDLE_OK;
}

int spindle_task_dump_read(spindle_client *c, const spindle_handle *h, spindle_task_dump *out)
{
    memset(out, 0, sizeof(*out));
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_task_dump_read");
    redisReply *hash = NULL;
    long long ttl = -1;
    int rc = spindle_store_task_fields(&c->store, h->queue, h->id, &hash, &ttl);
    if (rc == SPINDLE_OK)
        rc = spindle_store_redis_time(&c->store, &out->now_ms);
    if (rc == SPINDLE_OK) {
        out->ttl_s = (long)ttl;
        rc = copy_fields(hash, out);
        if (rc != SPINDLE_OK)
            spindle_error_set(&c->err, rc, "task %s: out of memory", h->id);
    }
    if (hash)
        freeReplyObject(hash);
    if (rc != SPINDLE_OK)
        spindle_task_dump_clear(out);
    return rc;
}

int spindle_list_state_parse(const char *text, spindle_list_state *st)
{
    static const char *const names[] = {"pending", "scheduled", "running", "dead", "waiting"};
    for (int i = 0; i < 5; i++)
        if (strcmp(text, names[i]) == 0) {
            *st = (spindle_list_state)i;
            return 0;
        }
    return -1;
}

int spindle_task_page(spindle_client *c, const char *queue, spindle_list_state st, uint64_t cursor,
                      size_t limit, spindle_task_row **out, size_t *n, uint64_t *next)
{
    *out = NULL;
    *n = 0;
    *next = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_task_page");
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (limit < 1 || limit > SPINDLE_PAGE_MAX || st < SPINDLE_LIST_PENDING ||
        st > SPINDLE_LIST_WAITING || cursor > (uint64_t)1 << 62)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "listing queue '%s': limit %zu (1-%d), state %d or cursor "
                                 "%llu out of range",
                                 queue, limit, SPINDLE_PAGE_MAX, (int)st,
                                 (unsigned long long)cursor);
    spindle_task_row *rows = calloc(limit, sizeof(*rows));
    if (rows == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "listing queue '%s': out of memory",
                                 queue);
    int more = 0;
    rc = spindle_store_list_page(&c->store, queue, st, cursor, limit, rows, n, &more);
    if (rc != SPINDLE_OK) {
        free(rows);
        *n = 0;
        return spindle_error_wrap(&c->err, "listing queue '%s': ", queue);
    }
    if (*n == 0) {
        free(rows);
        rows = NULL;
    }
    *out = rows;
    *next = more ? cursor + limit : 0;
    return SPINDLE_OK;
}

int spindle_retry_all_dead(spindle_client *c, const char *queue, size_t limit,
                           spindle_retry_tally *t)
{
    memset(t, 0, sizeof(*t));
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_retry_all_dead");
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc == SPINDLE_OK)
        rc = spindle_store_retry_dead(&c->store, queue, limit, t);
    if (rc != SPINDLE_OK)
        spindle_error_wrap(&c->err, "retrying the dead letters of queue '%s': ", queue);
    return rc;
}

int spindle_purge(spindle_client *c, const char *queue, spindle_list_state st, size_t *deleted,
                  size_t *stale)
{
    *deleted = *stale = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_purge");
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (st != SPINDLE_LIST_PENDING && st != SPINDLE_LIST_SCHEDULED && st != SPINDLE_LIST_DEAD)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "purge of queue '%s': only pending, scheduled and dead tasks can "
                                 "be purged",
                                 queue);
    rc = spindle_store_purge(&c->store, queue, st, deleted, stale);
    if (rc != SPINDLE_OK)
        spindle_error_wrap(&c->err, "purging queue '%s': ", queue);
    return rc;
}
