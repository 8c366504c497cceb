/* The processor fields of a task hash, `proc` and `pinfo` (docs/PROTOCOL.md, "Routing and
 * processor pairs"): written by the enqueue script with the other optional fields, read here
 * by a caller that post-processes the task's result. Workers never read them. */
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

int spindle_store_task_processor(spindle_store *s, const char *queue, const char *id,
                                 spindle_proc_read *out, redisReply **reply)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_task(key, s->ns, queue, id);
    memset(out, 0, sizeof(*out));
    *reply = NULL;
    redisReply *r = spindle_store_callf(s, "reading the task's processor",
                                        "HMGET %s state func proc pinfo", key);
    if (r == NULL)
        return s->err->code;
    if (r->type == REDIS_REPLY_ERROR) {
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL, "task %s of queue '%s' is not a hash: %s",
                          id, queue, r->str);
        freeReplyObject(r);
        return SPINDLE_ERR_PROTOCOL;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
        return spindle_store_bad_reply(s, "reading the task's processor", r);
    if (r->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in queue '%s' (unknown or expired)", id, queue);
    }
    out->func = r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : "";
    if (r->element[2]->type == REDIS_REPLY_STRING)
        out->proc = r->element[2]->str;
    if (r->element[3]->type == REDIS_REPLY_STRING) {
        out->pinfo = r->element[3]->str;
        out->pinfo_len = r->element[3]->len;
    }
    *reply = r;
    return SPINDLE_OK;
}
