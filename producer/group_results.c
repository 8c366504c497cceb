/* Task groups (group.h): the members' results, their progress added up, cancelling every
 * member, and destroying the group. Each reads the member list from Redis (one round trip)
 * and then works on all the members in one pipelined round trip, not one per member. */
#include <stdlib.h>
#include <string.h>

#include "producer/group_impl.h"
#include "spindle/channel.h"

/* The error a member gets when its task hash is gone (group.h). */
#define LOST_FMT "task %s not found: lost at enqueue, or expired"

void spindle_group_results_free(spindle_group_result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        free(r[i].name);
        free(r[i].value);
        free(r[i].error);
    }
    free(r);
}

static char *dup_bytes(const char *p, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, p, len);
        d[len] = '\0';
    }
    return d;
}

/* Fills *out for member m from its HMGET state result error reply. */
static int decode(spindle_client *c, const spindle_group *g, const spindle_group_ref *m,
                  const redisReply *r, spindle_group_result *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->id, m->id, sizeof(out->id));
    memcpy(out->queue, m->queue, sizeof(out->queue));
    if ((out->name = strdup(m->name)) == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory", g->name);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                 "group '%s': task %s of member '%s' (queue '%s') is not a hash: "
                                 "%s",
                                 g->name, m->id, m->name, m->queue,
                                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    const redisReply *st = r->element[0], *res = r->element[1], *err = r->element[2];
    if (st->type != REDIS_REPLY_STRING) {
        out->state = SPINDLE_STATE_FAILED;
        char msg[128];
        snprintf(msg, sizeof(msg), LOST_FMT, m->id);
        out->error = strdup(msg);
        return out->error ? SPINDLE_OK
                          : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "out of memory");
    }
    if (spindle_state_parse(st->str, st->len, &out->state) != SPINDLE_OK)
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                 "group '%s': task %s of member '%s' has an unknown state '%.32s'",
                                 g->name, m->id, m->name, st->str);
    if (out->state == SPINDLE_STATE_SUCCEEDED) {
        out->ok = 1;
        int has = res->type == REDIS_REPLY_STRING && res->len > 0;
        out->value_len = has ? res->len : 1;
        out->value = dup_bytes(has ? res->str : "\xc0", out->value_len); /* none: nil */
        if (out->value == NULL)
            return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "out of memory");
    } else if (out->state == SPINDLE_STATE_FAILED || out->state == SPINDLE_STATE_CANCELLED) {
        int has = err->type == REDIS_REPLY_STRING;
        out->error = dup_bytes(has ? err->str : "", has ? err->len : 0);
        if (out->error == NULL)
            return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "out of memory");
    }
    return SPINDLE_OK;
}

/* 1 if state is final. */
static int final(spindle_state st)
{
    return st == SPINDLE_STATE_SUCCEEDED || st == SPINDLE_STATE_FAILED ||
           st == SPINDLE_STATE_CANCELLED;
}

/* The member list and an index of all of them: the start of every call below. */
typedef struct members {
    spindle_group_ref *refs;
    size_t n;
    size_t *all;
    redisReply *reply;
} members;

static int load(spindle_client *c, spindle_group *g, const char *what, members *m)
{
    memset(m, 0, sizeof(*m));
    int rc = spindle_group_check(c, g, what);
    if (rc == SPINDLE_OK)
        rc = spindle_group_load(c, g, &m->refs, &m->n, &m->reply);
    if (rc != SPINDLE_OK)
        return rc;
    if ((m->all = malloc((m->n ? m->n : 1) * sizeof(*m->all))) == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "%s '%s': out of memory", what,
                                 g->name);
    for (size_t i = 0; i < m->n; i++)
        m->all[i] = i;
    return SPINDLE_OK;
}

static void unload(members *m)
{
    free(m->refs);
    free(m->all);
    if (m->reply)
        freeReplyObject(m->reply);
}

int spindle_group_results(spindle_client *c, spindle_group *g, int done_only,
                          spindle_group_result **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    members m;
    int rc = load(c, g, "group results", &m);
    redisReply **replies = NULL;
    spindle_group_result *res = NULL;
    if (rc == SPINDLE_OK && m.n > 0) {
        replies = calloc(m.n, sizeof(*replies));
        res = calloc(m.n, sizeof(*res));
        rc = replies && res ? spindle_store_group_fields(&c->store, m.refs, m.all, m.n, replies)
                            : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; rc == SPINDLE_OK && i < m.n; i++) {
        rc = decode(c, g, &m.refs[i], replies[i], &res[k]);
        /* A member without a task may be one being submitted right now: not "done" yet. */
        int missing = replies[i]->type == REDIS_REPLY_ARRAY && replies[i]->elements == 3 &&
                      replies[i]->element[0]->type != REDIS_REPLY_STRING;
        if (rc != SPINDLE_OK || !done_only || (final(res[k].state) && !missing)) {
            k++; /* kept (or freed below on a failure) */
        } else {
            free(res[k].name);
            free(res[k].value);
            free(res[k].error);
        }
    }
    for (size_t i = 0; replies && i < m.n; i++)
        if (replies[i])
            freeReplyObject(replies[i]);
    free(replies);
    unload(&m);
    if (rc != SPINDLE_OK) {
        spindle_group_results_free(res, k);
        return rc;
    }
    *out = res;
    *n = k;
    return SPINDLE_OK;
}

int spindle_group_cancel(spindle_client *c, spindle_group *g, long grace_ms, int set_event,
                         size_t *cancelled, size_t *requested)
{
    size_t done = 0, asked = 0;
    if (grace_ms < -1 || grace_ms > SPINDLE_MAX_CANCEL_GRACE_MS)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "cancel of group '%s': grace %ld ms is not -1 (the worker's "
                                 "default) or in 0-%ld",
                                 g ? g->name : "?", grace_ms, SPINDLE_MAX_CANCEL_GRACE_MS);
    members m;
    int rc = load(c, g, "group cancel", &m);
    if (rc == SPINDLE_OK && m.n > 0 &&
        (rc = spindle_store_group_cancel(&c->store, m.refs, m.all, m.n, grace_ms, &done, &asked)) !=
            SPINDLE_OK)
        spindle_error_wrap(&c->err, "cancel of group '%s': ", g->name);
    unload(&m);
    if (rc == SPINDLE_OK && set_event) {
        spindle_channel ch = spindle_channel_of_group(g->name);
        rc = spindle_channel_set_event(c, ch);
        if (rc == SPINDLE_ERR_NOT_FOUND && (rc = spindle_channel_create(c, ch, NULL)) == SPINDLE_OK)
            rc = spindle_channel_set_event(c, ch);
        if (rc != SPINDLE_OK)
            spindle_error_wrap(&c->err, "cancel of group '%s', its cancel event: ", g->name);
    }
    if (cancelled)
        *cancelled = done;
    if (requested)
        *requested = asked;
    return rc;
}

int spindle_group_progress(spindle_client *c, spindle_group *g, spindle_progress *sum)
{
    memset(sum, 0, sizeof(*sum));
    members m;
    int rc = load(c, g, "group progress", &m);
    spindle_progress *p = NULL;
    if (rc == SPINDLE_OK && m.n > 0) {
        p = calloc(m.n, sizeof(*p));
        rc = p ? spindle_store_group_progress(&c->store, m.refs, m.all, m.n, p)
               : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "out of memory");
        if (rc != SPINDLE_OK)
            spindle_error_wrap(&c->err, "progress of group '%s': ", g->name);
    }
    for (size_t i = 0; rc == SPINDLE_OK && i < m.n; i++) {
        sum->done += p[i].done;
        sum->total += p[i].total;
        sum->seq += p[i].seq;
        if (p[i].updated_at_ms > sum->updated_at_ms)
            sum->updated_at_ms = p[i].updated_at_ms;
    }
    free(p);
    unload(&m);
    return rc;
}

int spindle_group_destroy(spindle_client *c, spindle_group *g)
{
    members m;
    int rc = load(c, g, "group destroy", &m);
    size_t done = 0, asked = 0;
    if (rc == SPINDLE_OK && m.n > 0)
        rc = spindle_store_group_cancel(&c->store, m.refs, m.all, m.n, -1, &done, &asked);
    /* One purge per queue, naming that queue's members. */
    const char **ids = rc == SPINDLE_OK ? malloc((m.n ? m.n : 1) * sizeof(*ids)) : NULL;
    unsigned char *taken = rc == SPINDLE_OK ? calloc(m.n ? m.n : 1, 1) : NULL;
    if (rc == SPINDLE_OK && (!ids || !taken))
        rc = spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "out of memory");
    long long deleted = 0;
    for (size_t i = 0; rc == SPINDLE_OK && i < m.n; i++) {
        if (taken[i])
            continue;
        size_t k = 0;
        for (size_t j = i; j < m.n; j++)
            if (!taken[j] && strcmp(m.refs[j].queue, m.refs[i].queue) == 0) {
                taken[j] = 1;
                ids[k++] = m.refs[j].id;
            }
        rc = spindle_store_group_purge(&c->store, g->name, m.refs[i].queue, ids, k, &deleted);
    }
    free(ids);
    free(taken);
    unload(&m);
    if (rc == SPINDLE_OK)
        rc = spindle_channel_delete(c, spindle_channel_of_group(g->name), NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_store_group_destroy(&c->store, g->name, NULL);
    return rc == SPINDLE_OK || rc == SPINDLE_ERR_INVALID
               ? rc
               : spindle_error_wrap(&c->err, "destroy of group '%s': ", g->name);
}
