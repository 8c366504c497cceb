/* Fenced task-side writes: reading their replies (fence.h). Why a fence at all: a task that
 * lost its claim (timed out, its worker presumed dead, recovered and claimed again) may still
 * be running somewhere; its late reports must not overwrite those of the attempt that owns
 * the task now, so every write checks state, attempts and worker in the same script. */
#include "store/fence.h"

#include <string.h>

#include "spindle/status.h"

int spindle_store_fenced_reply(spindle_store *s, const char *what, const char *id, long attempt,
                               redisReply *r, int *cancel)
{
    *cancel = 0;
    if (r == NULL) {
        if (s->err->code == SPINDLE_ERR_REDIS)
            spindle_error_wrap(s->err, "%s of task %s: ", what, id);
        return s->err->code;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, what, r);
    if (r->element[0]->integer == 0) {
        if (r->elements != 4 || r->element[1]->type != REDIS_REPLY_STRING ||
            r->element[2]->type != REDIS_REPLY_STRING || r->element[3]->type != REDIS_REPLY_STRING)
            return spindle_store_bad_reply(s, what, r);
        spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                          "%s of task %s refused: attempt %ld no longer owns it (state %.16s, "
                          "attempt %.20s, worker %.160s)",
                          what, id, attempt, r->element[1]->str,
                          r->element[2]->len ? r->element[2]->str : "-",
                          r->element[3]->len ? r->element[3]->str : "-");
        freeReplyObject(r);
        return SPINDLE_ERR_NOT_FOUND;
    }
    if (r->element[1]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, what, r);
    *cancel = r->element[1]->integer != 0;
    freeReplyObject(r);
    return SPINDLE_OK;
}
