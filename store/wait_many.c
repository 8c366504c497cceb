/* Blocking on the completion lists of several tasks at once, for spindle_wait_many().
 *
 * Why one BLPOP per queue: BLPOP takes many keys and returns as soon as any of them has a
 * token, so a caller waiting on many tasks blocks once instead of polling each. All the keys
 * of one call belong to one queue, hence one Redis Cluster hash slot ("NS:{Q}:done:ID"); the
 * caller groups its tasks by queue. */
#include <stdio.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

int spindle_store_block_done_any(spindle_store *s, const char *queue, const char *const *ids,
                                 size_t n, long ms, redisReply **reply, size_t *index,
                                 const char **token, size_t *token_len)
{
    *reply = NULL;
    *token = NULL;
    *token_len = 0;
    *index = n;
    char key[SPINDLE_KEY_MAX];
    char secs[32];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, "BLPOP");
    for (size_t i = 0; i < n; i++)
        spindle_cmd_copy(cmd, key, spindle_key_done(key, s->ns, queue, ids[i]));
    snprintf(secs, sizeof(secs), "%.3f", (double)ms / 1000.0);
    spindle_cmd_str(cmd, secs);
    if (spindle_cmd_failed(cmd))
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM,
                                 "waiting for %zu tasks of queue '%s': out of memory", n, queue);
    spindle_store_block_timeout(s, ms);
    redisReply *r = spindle_store_call(s, "waiting for tasks", cmd);
    spindle_store_block_timeout(s, 0);
    if (r == NULL)
        return s->err->code;
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return SPINDLE_OK;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "waiting for tasks", r);
    const redisReply *k = r->element[0];
    for (size_t i = 0; i < n && *index == n; i++) {
        size_t len = spindle_key_done(key, s->ns, queue, ids[i]);
        if (len == k->len && memcmp(key, k->str, len) == 0)
            *index = i;
    }
    if (*index == n)
        return spindle_store_bad_reply(s, "waiting for tasks (a key that was not asked for)", r);
    *reply = r;
    *token = r->element[1]->str;
    *token_len = r->element[1]->len;
    return SPINDLE_OK;
}
