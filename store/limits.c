/* Rate limits in the store (limits.h): the calls behind spindle_limit_set(), _remove() and
 * _list(). Key layout and script: docs/PROTOCOL.md, "Rate limits". */
#include "store/limits.h"

#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"

/* Runs the limits script: op 'set' (spec, max) or 'remove'. */
static redisReply *limits_script(spindle_store *s, const char *queue, const char *field,
                                 const char *op, const char *spec, int max)
{
    char limits[SPINDLE_KEY_MAX], bucket[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, limits, spindle_key_limits(limits, s->ns, queue));
    spindle_cmd_push(cmd, bucket, spindle_key_bucket(bucket, s->ns, queue, field));
    spindle_cmd_str(cmd, op);
    spindle_cmd_str(cmd, field);
    if (spec) {
        spindle_cmd_str(cmd, spec);
        spindle_cmd_long(cmd, max);
    }
    return spindle_store_eval(s, SPINDLE_SCRIPT_LIMITS, 2, cmd);
}

int spindle_store_limit_set(spindle_store *s, const char *queue, const char *field,
                            const char *spec, int max, int *full)
{
    redisReply *r = limits_script(s, queue, field, "set", spec, max);
    if (r == NULL)
        return s->err->code;
    if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "full") == 0)
        *full = 1;
    else if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        *full = 0;
    else
        return spindle_store_bad_reply(s, "setting a rate limit", r);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_limit_remove(spindle_store *s, const char *queue, const char *field, int *removed)
{
    redisReply *r = limits_script(s, queue, field, "remove", NULL, 0);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "removing a rate limit", r);
    *removed = r->integer > 0;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_limits_read(spindle_store *s, const char *queue, redisReply **hash)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_limits(key, s->ns, queue);
    *hash = NULL;
    redisReply *r = spindle_store_callf(s, "reading rate limits", "HGETALL %s", key);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
        return spindle_store_bad_reply(s, "reading rate limits", r);
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return spindle_store_bad_reply(s, "reading rate limits", r);
    *hash = r;
    return SPINDLE_OK;
}
