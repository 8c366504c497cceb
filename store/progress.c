/* Progress reports in the task hash: the fields progress_done, progress_total, progress_msg,
 * progress_at and progress_seq (docs/PROTOCOL.md, "Progress").
 *
 * Why in the task hash and not a key of their own: a report belongs to the task, expires with
 * it, and is read together with its state, in one HMGET. The write is the fenced progress
 * script (script_progress.c); the worker coalesces reports before they get here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "store/fence.h"
#include "store/keys.h"
#include "store/ops.h"

#define PROGRESS_FIELDS "state progress_done progress_total progress_msg progress_at progress_seq"

/* Decodes one HMGET reply of PROGRESS_FIELDS for task id of queue into *out, and frees it. */
static int decode(spindle_store *s, redisReply *r, const char *queue, const char *id,
                  spindle_progress *out)
{
    memset(out, 0, sizeof(*out));
    if (r->type == REDIS_REPLY_ERROR) {
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL, "task %s of queue '%s' is not a hash: %s",
                          id, queue, r->str);
        freeReplyObject(r);
        return SPINDLE_ERR_PROTOCOL;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 6)
        return spindle_store_bad_reply(s, "reading task progress", r);
    if (r->element[0]->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "task %s not found in queue '%s' (unknown or expired)", id, queue);
    }
    out->done = spindle_reply_ll(r->element[1], 0);
    out->total = spindle_reply_ll(r->element[2], 0);
    if (r->element[3]->type == REDIS_REPLY_STRING)
        snprintf(out->message, sizeof(out->message), "%.*s",
                 (int)(r->element[3]->len < SPINDLE_PROGRESS_MSG_MAX ? r->element[3]->len
                                                                     : SPINDLE_PROGRESS_MSG_MAX),
                 r->element[3]->str);
    out->updated_at_ms = spindle_reply_ll(r->element[4], 0);
    out->seq = (long)spindle_reply_ll(r->element[5], 0);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_progress(spindle_store *s, const char *queue, const char *id,
                           spindle_progress *out)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_task(key, s->ns, queue, id);
    redisReply *r =
        spindle_store_callf(s, "reading task progress", "HMGET %s " PROGRESS_FIELDS, key);
    if (r == NULL) {
        memset(out, 0, sizeof(*out));
        return s->err->code;
    }
    return decode(s, r, queue, id, out);
}

int spindle_store_progress_many(spindle_store *s, const char *const *queues, const char *const *ids,
                                size_t n, spindle_progress *out)
{
    char key[SPINDLE_KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        spindle_key_task(key, s->ns, queues[i], ids[i]);
        if (spindle_store_appendf(s, "reading task progress", "HMGET %s " PROGRESS_FIELDS, key) !=
            SPINDLE_OK)
            return s->err->code;
    }
    /* Every reply is read, even after a bad one, so the connection stays in step; the first
     * failure is the one reported. */
    int rc = SPINDLE_OK;
    spindle_error first = {0};
    for (size_t i = 0; i < n; i++) {
        redisReply *r = spindle_store_read(s, "reading task progress");
        int one = r ? decode(s, r, queues[i], ids[i], &out[i]) : s->err->code;
        if (one != SPINDLE_OK && rc == SPINDLE_OK) {
            rc = one;
            first = *s->err;
        }
        if (r == NULL)
            break; /* the connection is gone: no more replies will come */
    }
    if (rc != SPINDLE_OK)
        *s->err = first;
    return rc;
}

int spindle_store_progress_write(spindle_store *s, const char *queue, const char *id,
                                 const char *worker, long attempt, int64_t done, int64_t total,
                                 const char *msg, size_t msg_len, int *cancel)
{
    char key[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_long(cmd, attempt);
    spindle_cmd_str(cmd, worker);
    spindle_cmd_long(cmd, (long long)done);
    spindle_cmd_long(cmd, (long long)total);
    spindle_cmd_push(cmd, msg_len ? msg : "", msg_len);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_PROGRESS, 1, cmd);
    return spindle_store_fenced_reply(s, "progress report", id, attempt, r, cancel);
}
