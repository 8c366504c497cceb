/* Reads for handles and the CLI: a task's state and fields, which queue holds an id, the
 * wait script and its completion list, and per-queue counts. */
#include <stdio.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

int spindle_store_task_state(spindle_store *s, const char *queue, const char *id, char *buf)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_task(key, s->ns, queue, id);
    redisReply *r = spindle_store_callf(s, "reading task state", "HGET %s state", key);
    if (r == NULL)
        return s->err->code;
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in queue '%s' (unknown or expired)", id, queue);
    }
    if (r->type != REDIS_REPLY_STRING || r->len >= 16)
        return spindle_store_bad_reply(s, "reading task state", r);
    memcpy(buf, r->str, r->len + 1);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_task_fields(spindle_store *s, const char *queue, const char *id,
                              redisReply **hash, long long *ttl)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_task(key, s->ns, queue, id);
    *hash = NULL;
    if (spindle_store_appendf(s, "reading task", "HGETALL %s", key) != SPINDLE_OK ||
        spindle_store_appendf(s, "reading task", "PTTL %s", key) != SPINDLE_OK)
        return s->err->code;
    redisReply *h = spindle_store_read(s, "reading task");
    if (h == NULL)
        return s->err->code;
    redisReply *t = spindle_store_read(s, "reading task TTL");
    if (t == NULL) {
        freeReplyObject(h);
        return s->err->code;
    }
    long long pttl = t->type == REDIS_REPLY_INTEGER ? t->integer : -2;
    freeReplyObject(t);
    if (h->type == REDIS_REPLY_ERROR) {
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL, "task key %s is not a hash: %s", key,
                          h->str);
        freeReplyObject(h);
        return SPINDLE_ERR_PROTOCOL;
    }
    if (h->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, "reading task", h);
    if (h->elements == 0) {
        freeReplyObject(h);
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in queue '%s' (unknown or expired)", id, queue);
    }
    *hash = h;
    *ttl = pttl < 0 ? -1 : (pttl + 999) / 1000;
    return SPINDLE_OK;
}

int spindle_store_find_queue(spindle_store *s, const char *id, char *queue)
{
    redisReply *names = NULL;
    int rc = spindle_store_queue_names(s, &names);
    if (rc != SPINDLE_OK)
        return rc;
    char key[SPINDLE_KEY_MAX];
    for (size_t i = 0; i < names->elements; i++) {
        spindle_key_task(key, s->ns, names->element[i]->str, id);
        if (spindle_store_appendf(s, "looking up task", "EXISTS %s", key) != SPINDLE_OK) {
            freeReplyObject(names);
            return s->err->code;
        }
    }
    int found = -1;
    for (size_t i = 0; i < names->elements; i++) {
        redisReply *r = spindle_store_read(s, "looking up task");
        if (r == NULL) {
            freeReplyObject(names);
            return s->err->code;
        }
        if (found < 0 && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
            found = (int)i;
        freeReplyObject(r);
    }
    if (found >= 0)
        snprintf(queue, SPINDLE_NAME_MAX + 1, "%s", names->element[found]->str);
    freeReplyObject(names);
    if (found < 0)
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in any queue of namespace '%s' (unknown or "
                                 "expired)",
                                 id, s->ns);
    return SPINDLE_OK;
}

int spindle_store_wait_step(spindle_store *s, const char *queue, const char *id, int delta,
                            redisReply **reply)
{
    char key[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_long(cmd, delta);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_WAIT, 1, cmd);
    *reply = NULL;
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements > 3)
        return spindle_store_bad_reply(s, "wait", r);
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return spindle_store_bad_reply(s, "wait", r);
    if (r->elements == 1 && strcmp(r->element[0]->str, "wrongtype") == 0) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                 "task key %s is not a hash (written by hand?)", key);
    }
    *reply = r;
    return SPINDLE_OK;
}

/* Extracts a done token from a BLPOP (array) or LPOP (string) reply. */
static int take_token(spindle_store *s, redisReply *r, redisReply **reply, const char **token,
                      size_t *token_len)
{
    *reply = r;
    *token = NULL;
    *token_len = 0;
    if (r == NULL)
        return s->err->code;
    const redisReply *v = r;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        v = r->element[1];
    if (v->type == REDIS_REPLY_STRING) {
        *token = v->str;
        *token_len = v->len;
    }
    return SPINDLE_OK;
}

int spindle_store_block_done(spindle_store *s, const char *queue, const char *id, long ms,
                             redisReply **reply, const char **token, size_t *token_len)
{
    char key[SPINDLE_KEY_MAX];
    char secs[32];
    spindle_key_done(key, s->ns, queue, id);
    snprintf(secs, sizeof(secs), "%.3f", (double)ms / 1000.0);
    spindle_store_block_timeout(s, ms);
    redisReply *r = spindle_store_callf(s, "waiting for task", "BLPOP %s %s", key, secs);
    spindle_store_block_timeout(s, 0);
    return take_token(s, r, reply, token, token_len);
}

int spindle_store_pop_done(spindle_store *s, const char *queue, const char *id, redisReply **reply,
                           const char **token, size_t *token_len)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_done(key, s->ns, queue, id);
    redisReply *r = spindle_store_callf(s, "reading task completion", "LPOP %s", key);
    return take_token(s, r, reply, token, token_len);
}

int spindle_store_queue_names(spindle_store *s, redisReply **reply)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_queues(key, s->ns);
    redisReply *r = spindle_store_callf(s, "listing queues", "SMEMBERS %s", key);
    *reply = NULL;
    if (r == NULL && s->err->code == SPINDLE_ERR_REDIS)
        return spindle_error_wrap(s->err, "key %s: ", key); /* WRONGTYPE: say which key */
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, "listing queues", r);
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->len > SPINDLE_NAME_MAX)
            return spindle_store_bad_reply(s, "listing queues", r);
    *reply = r;
    return SPINDLE_OK;
}

int spindle_store_queue_counts(spindle_store *s, const char *queue, long long *pending,
                               long long *running)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_pending(key, s->ns, queue);
    redisReply *r = spindle_store_callf(s, "counting pending", "LLEN %s", key);
    if (r == NULL && s->err->code == SPINDLE_ERR_REDIS)
        return spindle_error_wrap(s->err, "key %s: ", key);
    if (r == NULL)
        return s->err->code;
    *pending = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    spindle_key_workers(key, s->ns, queue);
    redisReply *w = spindle_store_callf(s, "listing workers", "SMEMBERS %s", key);
    if (w == NULL && s->err->code == SPINDLE_ERR_REDIS)
        return spindle_error_wrap(s->err, "key %s: ", key);
    if (w == NULL)
        return s->err->code;
    if (w->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, "listing workers", w);
    size_t sent = 0;
    int rc = SPINDLE_OK;
    for (; sent < w->elements; sent++) {
        spindle_key_inflight(key, s->ns, queue, w->element[sent]->str);
        if ((rc = spindle_store_appendf(s, "counting running", "LLEN %s", key)) != SPINDLE_OK)
            break;
    }
    *running = 0;
    for (size_t i = 0; i < sent; i++) {
        redisReply *c = spindle_store_read(s, "counting running");
        if (c == NULL) {
            rc = s->err->code;
            break;
        }
        if (c->type == REDIS_REPLY_INTEGER)
            *running += c->integer;
        else if (rc == SPINDLE_OK)
            rc = spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                   "in-flight list of worker '%.160s' on queue '%s' is not a list",
                                   w->element[i]->str, queue);
        freeReplyObject(c);
    }
    freeReplyObject(w);
    return rc;
}

int spindle_store_eviction_policy(spindle_store *s, char *buf)
{
    redisReply *r =
        spindle_store_callf(s, "reading maxmemory-policy", "CONFIG GET maxmemory-policy");
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_STRING || r->element[1]->len >= 32)
        return spindle_store_bad_reply(s, "reading maxmemory-policy", r);
    memcpy(buf, r->element[1]->str, r->element[1]->len + 1);
    freeReplyObject(r);
    return SPINDLE_OK;
}
