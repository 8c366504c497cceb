/* Purging a queue's tasks of one state (purge.h). Why pages of 100 in a loop: a queue may
 * hold a million tasks, and one script deleting them all would block Redis for seconds;
 * each page is one short atomic script, so workers keep claiming between pages. */
#include "store/purge.h"

#include "spindle/status.h"
#include "store/keys.h"
#include "store/scripts.h"

#define WHAT "purging tasks"
#define PAGE 100

int spindle_store_purge(spindle_store *s, const char *queue, spindle_list_state st, size_t *deleted,
                        size_t *stale)
{
    char key[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
    const char *name = st == SPINDLE_LIST_PENDING ? "pending"
                       : st == SPINDLE_LIST_DEAD  ? "dead"
                                                  : "scheduled";
    if (st == SPINDLE_LIST_PENDING)
        spindle_key_pending(key, s->ns, queue);
    else if (st == SPINDLE_LIST_DEAD)
        spindle_key_dead(key, s->ns, queue);
    else
        spindle_key_scheduled(key, s->ns, queue);
    spindle_key_queue_base(base, s->ns, queue);
    redisReply *r =
        spindle_store_callf(s, WHAT, "%s %s", st == SPINDLE_LIST_PENDING ? "LLEN" : "ZCARD", key);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, WHAT, r);
    long long total = r->integer, taken = 0;
    freeReplyObject(r);
    while (taken < total) {
        spindle_cmd *cmd = spindle_store_scratch(s);
        spindle_cmd_str(cmd, key);
        spindle_cmd_str(cmd, base);
        spindle_cmd_str(cmd, name);
        spindle_cmd_long(cmd, PAGE);
        r = spindle_store_eval(s, SPINDLE_SCRIPT_PURGE, 1, cmd);
        if (r == NULL)
            return s->err->code;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
            r->element[0]->type != REDIS_REPLY_INTEGER ||
            r->element[1]->type != REDIS_REPLY_INTEGER ||
            r->element[2]->type != REDIS_REPLY_INTEGER)
            return spindle_store_bad_reply(s, WHAT, r);
        *deleted += (size_t)r->element[0]->integer;
        *stale += (size_t)r->element[1]->integer;
        long long got = r->element[2]->integer;
        freeReplyObject(r);
        if (got == 0)
            break;
        taken += got;
    }
    return SPINDLE_OK;
}
