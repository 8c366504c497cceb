/* The members of a task group, in their queues' slots (docs/PROTOCOL.md, "Groups"): states
 * and results read from the task hashes (the truth), the ends read from the streams
 * NS:{Q}:gdone:NAME that finish() appends to (the hint that wakes a waiter), and the group's
 * cancel and purge. Everything that touches many members is pipelined: one round trip for a
 * whole group, not one per member. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/client.h"
#include "spindle/status.h"
#include "store/group.h"
#include "store/keys.h"
#include "store/ops.h"

/* Reads and frees the replies of n commands already sent, so that the connection stays in
 * step after a failure. */
static void drain(spindle_store *s, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *r = spindle_store_read(s, what);
        if (r == NULL)
            return;
        freeReplyObject(r);
    }
}

/* Copies the id of the last entry of an XREVRANGE ... COUNT 1 reply into last ("0-0" for an
 * empty or missing stream). */
static int last_id(spindle_store *s, const char *key, const redisReply *r, char *last)
{
    if (r->type == REDIS_REPLY_ERROR)
        return spindle_error_set(s->err, SPINDLE_ERR_REDIS, "group end stream %s: %s", key, r->str);
    if (r->type != REDIS_REPLY_ARRAY)
        return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                 "group end stream %s: unexpected reply", key);
    snprintf(last, SPINDLE_STREAM_ID_MAX, "0-0");
    if (r->elements > 0 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements >= 1 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
        snprintf(last, SPINDLE_STREAM_ID_MAX, "%s", r->element[0]->element[0]->str);
    return SPINDLE_OK;
}

int spindle_store_group_states(spindle_store *s, const char *group, const char *const *queues,
                               size_t nq, char (*last)[SPINDLE_STREAM_ID_MAX],
                               const spindle_group_ref *refs, const size_t *idx, size_t n,
                               char (*states)[16])
{
    const char *what = "reading group members";
    char key[SPINDLE_KEY_MAX];
    size_t sent = 0;
    for (size_t q = 0; q < nq; q++, sent++) {
        spindle_key_group_done(key, s->ns, queues[q], group);
        if (spindle_store_appendf(s, what, "XREVRANGE %s + - COUNT 1", key) != SPINDLE_OK) {
            drain(s, sent, what);
            return s->err->code;
        }
    }
    for (size_t i = 0; i < n; i++, sent++) {
        const spindle_group_ref *m = &refs[idx[i]];
        spindle_key_task(key, s->ns, m->queue, m->id);
        if (spindle_store_appendf(s, what, "HGET %s state", key) != SPINDLE_OK) {
            drain(s, sent, what);
            return s->err->code;
        }
    }
    int rc = SPINDLE_OK;
    for (size_t k = 0; k < sent; k++) {
        redisReply *r = spindle_store_read(s, what);
        if (r == NULL)
            return s->err->code;
        if (rc != SPINDLE_OK) {
            freeReplyObject(r);
            continue;
        }
        if (k < nq) {
            spindle_key_group_done(key, s->ns, queues[k], group);
            rc = last_id(s, key, r, last[k]);
        } else {
            const spindle_group_ref *m = &refs[idx[k - nq]];
            char *st = states[k - nq];
            if (r->type == REDIS_REPLY_STRING)
                snprintf(st, 16, "%.15s", r->str);
            else if (r->type == REDIS_REPLY_NIL)
                st[0] = '\0';
            else
                rc = spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                       "group '%s': task %s of member '%s' (queue '%s') is not "
                                       "a hash: %s",
                                       group, m->id, m->name, m->queue,
                                       r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        }
        freeReplyObject(r);
    }
    return rc;
}

int spindle_store_group_read_ends(spindle_store *s, const char *group, const char *queue,
                                  char *last, long ms, char (*ids)[SPINDLE_ID_LEN + 1], size_t cap,
                                  size_t *n)
{
    char key[SPINDLE_KEY_MAX], count[24], block[24];
    *n = 0;
    spindle_key_group_done(key, s->ns, queue, group);
    snprintf(count, sizeof(count), "%zu", cap);
    snprintf(block, sizeof(block), "%ld", ms);
    spindle_store_block_timeout(s, ms);
    redisReply *r =
        spindle_store_callf(s, "waiting for group members", "XREAD COUNT %s BLOCK %s STREAMS %s %s",
                            count, block, key, last);
    spindle_store_block_timeout(s, 0);
    if (r == NULL)
        return spindle_error_wrap(s->err, "group '%s', stream %s: ", group, key);
    /* Nil: nothing in time. Else [[key, [[id, [field, value, ...]], ...]]]. */
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return SPINDLE_OK;
    }
    const redisReply *entries = spindle_reply_xread_entries(r);
    if (entries == NULL)
        return spindle_store_bad_reply(s, "group end stream", r);
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        snprintf(last, SPINDLE_STREAM_ID_MAX, "%s", e->element[0]->str);
        const redisReply *f = e->element[1];
        for (size_t j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2)
            if (f->element[j]->type == REDIS_REPLY_STRING &&
                strcmp(f->element[j]->str, "id") == 0 &&
                f->element[j + 1]->type == REDIS_REPLY_STRING &&
                f->element[j + 1]->len == SPINDLE_ID_LEN && *n < cap)
                memcpy(ids[(*n)++], f->element[j + 1]->str, SPINDLE_ID_LEN + 1);
    }
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_group_fields(spindle_store *s, const spindle_group_ref *refs, const size_t *idx,
                               size_t n, redisReply **replies)
{
    const char *what = "reading group results";
    char key[SPINDLE_KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        replies[i] = NULL;
        const spindle_group_ref *m = &refs[idx[i]];
        spindle_key_task(key, s->ns, m->queue, m->id);
        if (spindle_store_appendf(s, what, "HMGET %s state result error", key) != SPINDLE_OK) {
            drain(s, i, what);
            return s->err->code;
        }
    }
    for (size_t i = 0; i < n; i++) {
        replies[i] = spindle_store_read(s, what);
        if (replies[i] == NULL) {
            for (size_t j = 0; j < i; j++) {
                freeReplyObject(replies[j]);
                replies[j] = NULL;
            }
            return s->err->code;
        }
    }
    return SPINDLE_OK;
}

/* Appends the cancel script's EVALSHA for member m. */
static int append_cancel(spindle_store *s, const spindle_group_ref *m, long grace_ms)
{
    char key[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX], channel[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, "EVALSHA");
    spindle_cmd_push(cmd, s->sha[SPINDLE_SCRIPT_CANCEL], 40);
    spindle_cmd_str(cmd, "1");
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, m->queue, m->id));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, m->queue));
    spindle_cmd_str(cmd, m->id);
    if (grace_ms >= 0)
        spindle_cmd_long(cmd, grace_ms);
    else
        spindle_cmd_str(cmd, "");
    spindle_cmd_push(cmd, channel, spindle_key_cancel_channel(channel, s->ns));
    spindle_cmd_str(cmd, m->queue);
    return spindle_store_append(s, "cancelling group members", cmd);
}

int spindle_store_group_cancel(spindle_store *s, const spindle_group_ref *refs, const size_t *idx,
                               size_t n, long grace_ms, size_t *cancelled, size_t *requested)
{
    const char *what = "cancelling group members";
    for (size_t i = 0; i < n; i++)
        if (append_cancel(s, &refs[idx[i]], grace_ms) != SPINDLE_OK) {
            drain(s, i, what);
            return s->err->code;
        }
    int rc = SPINDLE_OK;
    /* Members whose EVALSHA met NOSCRIPT (Redis lost its scripts): done one by one once every
     * reply of the pipeline is read, since a single call reads the oldest reply pending. */
    unsigned char *again = calloc(n ? n : 1, 1);
    if (again == NULL) {
        drain(s, n, what);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
    }
    for (size_t i = 0; i < n; i++) {
        const spindle_group_ref *m = &refs[idx[i]];
        redisReply *r = spindle_store_read(s, what);
        if (r == NULL) {
            drain(s, n - i - 1, what);
            free(again);
            return s->err->code;
        }
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(r);
            again[i] = 1;
            continue;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING) {
            *cancelled += strcmp(r->element[0]->str, "cancelled") == 0;
            *requested += strcmp(r->element[0]->str, "requested") == 0;
        } else if (rc == SPINDLE_OK) {
            rc = spindle_error_set(s->err, SPINDLE_ERR_REDIS,
                                   "cancel of member '%s' (task %s, queue '%s'): %s", m->name,
                                   m->id, m->queue,
                                   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        }
        freeReplyObject(r);
    }
    for (size_t i = 0; i < n; i++) {
        if (!again[i])
            continue;
        const spindle_group_ref *m = &refs[idx[i]];
        enum spindle_cancel_what w;
        char st[16];
        int one = spindle_store_cancel(s, m->queue, m->id, grace_ms, &w, st);
        if (one == SPINDLE_OK) {
            *cancelled += w == SPINDLE_CANCEL_DONE;
            *requested += w == SPINDLE_CANCEL_REQUESTED;
        } else if (rc == SPINDLE_OK) {
            rc = one;
        }
    }
    free(again);
    return rc;
}

int spindle_store_group_progress(spindle_store *s, const spindle_group_ref *refs, const size_t *idx,
                                 size_t n, spindle_progress *out)
{
    const char **queues = malloc((n ? n : 1) * sizeof(*queues));
    const char **ids = malloc((n ? n : 1) * sizeof(*ids));
    int rc = SPINDLE_OK;
    if (queues == NULL || ids == NULL) {
        rc = spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "group progress: out of memory");
    } else {
        for (size_t i = 0; i < n; i++) {
            queues[i] = refs[idx[i]].queue;
            ids[i] = refs[idx[i]].id;
        }
        rc = spindle_store_progress_many(s, queues, ids, n, out);
        /* A member whose hash is gone (lost at enqueue, or expired) adds nothing: its entry
         * is zeroed. */
        if (rc == SPINDLE_ERR_NOT_FOUND)
            rc = SPINDLE_OK;
    }
    free(queues);
    free(ids);
    return rc;
}

int spindle_store_group_purge(spindle_store *s, const char *group, const char *queue,
                              const char *const *ids, size_t n, long long *deleted)
{
    char base[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_str(cmd, group);
    for (size_t i = 0; i < n; i++)
        spindle_cmd_str(cmd, ids[i]);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_GROUP_PURGE, 0, cmd);
    if (r == NULL)
        return spindle_error_wrap(s->err, "group '%s', queue '%s': ", group, queue);
    if (r->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "group purge", r);
    *deleted += r->integer;
    freeReplyObject(r);
    return SPINDLE_OK;
}
