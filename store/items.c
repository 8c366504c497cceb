/* Items (partial results): the stream NS:{Q}:items:ID a running task appends to and callers
 * read in order (docs/PROTOCOL.md, "Partial results (items)").
 *
 * Why a stream: entries keep their order and ids, so a reader resumes after the last id it
 * saw, many readers can follow one task independently, and XREAD BLOCK wakes a reader as
 * soon as an item (or the end entry) lands, with no polling. */
#include <stdio.h>
#include <string.h>

#include "spindle/status.h"
#include "store/fence.h"
#include "store/keys.h"
#include "store/ops.h"

int spindle_store_item_add(spindle_store *s, const char *queue, const char *id, const char *worker,
                           long attempt, const char *item, size_t len, int *cancel)
{
    char key[SPINDLE_KEY_MAX], ikey[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_push(cmd, ikey, spindle_key_items(ikey, s->ns, queue, id));
    spindle_cmd_long(cmd, attempt);
    spindle_cmd_str(cmd, worker);
    spindle_cmd_push(cmd, item, len);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_EMIT, 2, cmd);
    return spindle_store_fenced_reply(s, "item", id, attempt, r, cancel);
}

int spindle_store_items_open(spindle_store *s, const char *queue, const char *id, char *state,
                             int *has_stream)
{
    char key[SPINDLE_KEY_MAX], ikey[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_push(cmd, ikey, spindle_key_items(ikey, s->ns, queue, id));
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_ITEMS_OPEN, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= 16 ||
        r->element[1]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "opening items", r);
    memcpy(state, r->element[0]->str, r->element[0]->len + 1);
    *has_stream = r->element[1]->integer != 0;
    freeReplyObject(r);
    if (state[0] == '\0' && !*has_stream)
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in queue '%s' (unknown or expired)", id, queue);
    return SPINDLE_OK;
}

/* 1 if e is a stream entry {id, {field, value, ...}} of strings. */
static int is_entry(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY ||
        e->element[1]->elements % 2 != 0)
        return 0;
    for (size_t i = 0; i < e->element[1]->elements; i++)
        if (e->element[1]->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    return 1;
}

int spindle_store_items_read(spindle_store *s, const char *queue, const char *id, const char *after,
                             long block_ms, long count, redisReply **owner,
                             const redisReply **entries)
{
    char ikey[SPINDLE_KEY_MAX];
    spindle_key_items(ikey, s->ns, queue, id);
    *owner = NULL;
    *entries = NULL;
    redisReply *r;
    if (block_ms > 0) {
        spindle_store_block_timeout(s, block_ms);
        r = spindle_store_callf(s, "reading items", "XREAD COUNT %ld BLOCK %ld STREAMS %s %s",
                                count, block_ms, ikey, after);
        spindle_store_block_timeout(s, 0);
    } else {
        r = spindle_store_callf(s, "reading items", "XREAD COUNT %ld STREAMS %s %s", count, ikey,
                                after);
    }
    if (r == NULL) {
        if (s->err->code == SPINDLE_ERR_REDIS)
            spindle_error_wrap(s->err, "items of task %s (%s): ", id, ikey);
        return s->err->code;
    }
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return SPINDLE_OK;
    }
    const redisReply *list = spindle_reply_xread_entries(r);
    if (list == NULL)
        return spindle_store_bad_reply(s, "reading items", r);
    for (size_t i = 0; i < list->elements; i++)
        if (!is_entry(list->element[i]))
            return spindle_store_bad_reply(s, "reading items", r);
    if (list->elements == 0) {
        freeReplyObject(r);
        return SPINDLE_OK;
    }
    *owner = r;
    *entries = list;
    return SPINDLE_OK;
}
