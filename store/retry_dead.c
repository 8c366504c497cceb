/* Retrying every dead letter of a queue (retry_dead.h). Why pages: a dead set holds up to
 * 10,000 tasks, too many for one script call (it would block Redis) and too slow one round
 * trip at a time; a page of ids is read, then the retry script of each is pipelined. Ids the
 * script leaves in the dead set (unique key held, expired hash, a state that cannot be
 * retried) are stepped over by position, so each page reads only ids not yet tried. */
#include "store/retry_dead.h"

#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "spindle/status.h"
#include "store/keys.h"
#include "store/scripts.h"

#define WHAT "retrying dead letters"
#define PAGE 100

/* The score of the newest dead letter into *max (-1 if there is none). */
static int newest(spindle_store *s, const char *key, char max[64])
{
    redisReply *r = spindle_store_callf(s, WHAT, "ZREVRANGE %s 0 0 WITHSCORES", key);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, WHAT, r);
    max[0] = '\0';
    if (r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len < 64)
        memcpy(max, r->element[1]->str, r->element[1]->len + 1);
    freeReplyObject(r);
    return SPINDLE_OK;
}

/* Appends the retry script's EVALSHA for id. */
static int append_retry(spindle_store *s, const char *queue, const char *id)
{
    char key[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, "EVALSHA");
    spindle_cmd_push(cmd, s->sha[SPINDLE_SCRIPT_RETRY], 40);
    spindle_cmd_str(cmd, "1");
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_str(cmd, id);
    return spindle_store_append(s, WHAT, cmd);
}

/* Counts the retry script's reply r (see its comment in scripts.c) into t. Returns 1 if the
 * id left the dead set, 0 if it stays, -1 if the script was not loaded (NOSCRIPT). */
static int tally(spindle_retry_tally *t, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        t->retried++;
        return 1;
    }
    if (r->type == REDIS_REPLY_INTEGER)
        t->gone++; /* the task hash expired: nothing to run */
    else if (r->type == REDIS_REPLY_STRING ||
             (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
              r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "deps") == 0))
        t->bad_state++; /* its state, which retry does not take; or {'deps', N}: ended waiting */
    else if (r->type == REDIS_REPLY_ARRAY)
        t->held++; /* {'held', KEY, HOLDER} */
    else
        t->errors++; /* an error reply: a key of the wrong type, written by hand */
    return 0;
}

/* One page: ids at positions [*offset, *offset + want) of those due no later than max. */
static int page(spindle_store *s, const char *queue, const char *key, const char *max, size_t want,
                size_t *offset, spindle_retry_tally *t, size_t *tried)
{
    redisReply *ids = spindle_store_callf(s, WHAT, "ZRANGEBYSCORE %s -inf %s LIMIT %lld %lld", key,
                                          max, (long long)*offset, (long long)want);
    if (ids == NULL)
        return s->err->code;
    if (ids->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, WHAT, ids);
    if (ids->elements > want)
        return spindle_store_bad_reply(s, WHAT, ids);
    *tried = ids->elements;
    size_t sent = 0;
    int rc = SPINDLE_OK;
    spindle_error ignored;
    char skip[PAGE] = {0}; /* members that are not ids (written by hand): stepped over */
    for (size_t i = 0; i < ids->elements && rc == SPINDLE_OK; i++) {
        const redisReply *m = ids->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len != SPINDLE_ID_LEN ||
            spindle_id_check(m->str, &ignored) != SPINDLE_OK) {
            skip[i] = 1;
            continue;
        }
        rc = append_retry(s, queue, m->str);
        if (rc == SPINDLE_OK)
            sent++;
    }
    const char *reload = NULL; /* an id answered NOSCRIPT: run through the reloading call */
    /* Every member is accounted for, the ones stepped over included (a page of nothing but
     * hand-written members must not end the walk as if the set were done). */
    for (size_t i = 0, got = 0; i < ids->elements; i++) {
        if (skip[i]) {
            t->errors++;
            (*offset)++;
            continue;
        }
        if (got == sent)
            break; /* its append failed (rc says why): no reply to read */
        got++;
        redisReply *r = spindle_store_read(s, WHAT);
        if (r == NULL) {
            freeReplyObject(ids);
            return s->err->code;
        }
        int out = tally(t, r);
        freeReplyObject(r);
        if (out == 0)
            (*offset)++;
        else if (out < 0 && reload == NULL)
            reload = ids->element[i]->str;
    }
    if (rc == SPINDLE_OK && reload) {
        spindle_cmd *cmd = spindle_store_scratch(s);
        char tkey[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
        spindle_cmd_push(cmd, tkey, spindle_key_task(tkey, s->ns, queue, reload));
        spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
        spindle_cmd_str(cmd, reload);
        redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_RETRY, 1, cmd);
        if (r == NULL)
            rc = s->err->code;
        else if (tally(t, r) == 0)
            (*offset)++;
        if (r)
            freeReplyObject(r);
    }
    freeReplyObject(ids);
    return rc;
}

int spindle_store_retry_dead(spindle_store *s, const char *queue, size_t limit,
                             spindle_retry_tally *t)
{
    char key[SPINDLE_KEY_MAX], max[64];
    spindle_key_dead(key, s->ns, queue);
    int rc = newest(s, key, max);
    if (rc != SPINDLE_OK || max[0] == '\0')
        return rc;
    size_t offset = 0, done = 0;
    while (limit == 0 || done < limit) {
        size_t want = limit == 0 || limit - done > PAGE ? PAGE : limit - done, tried = 0;
        size_t before = t->retried + t->gone + t->held + t->bad_state + t->errors;
        rc = page(s, queue, key, max, want, &offset, t, &tried);
        size_t after = t->retried + t->gone + t->held + t->bad_state + t->errors;
        done += after - before;
        if (rc != SPINDLE_OK || tried == 0 || after == before)
            break;
    }
    return rc;
}
