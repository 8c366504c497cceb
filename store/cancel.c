/* Cancellation in the store: the cancel script's caller, and the heartbeat's backstop probe
 * that reads the cancel mark of running tasks (docs/PROTOCOL.md, "Cancellation").
 *
 * Why a probe as well as the announcement on NS:cancel: pub/sub delivers at most once, and
 * a worker whose subscription was down when a request was published never hears it. The
 * mark in the task hash is the truth; the supervisor reads it for the tasks its slots run
 * once per heartbeat, so a lost message delays a cancel by one heartbeat at worst. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/client.h"
#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

int spindle_store_cancel(spindle_store *s, const char *queue, const char *id, long grace_ms,
                         enum spindle_cancel_what *what, char *state)
{
    char key[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX], channel[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_str(cmd, id);
    if (grace_ms >= 0)
        spindle_cmd_long(cmd, grace_ms);
    else
        spindle_cmd_str(cmd, "");
    spindle_cmd_push(cmd, channel, spindle_key_cancel_channel(channel, s->ns));
    spindle_cmd_str(cmd, queue);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CANCEL, 1, cmd);
    state[0] = '\0';
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "cancel", r);
    static const struct {
        const char *name;
        enum spindle_cancel_what what;
    } map[] = {{"missing", SPINDLE_CANCEL_MISSING},
               {"cancelled", SPINDLE_CANCEL_DONE},
               {"requested", SPINDLE_CANCEL_REQUESTED},
               {"final", SPINDLE_CANCEL_FINAL}};
    size_t i = 0;
    while (i < sizeof(map) / sizeof(map[0]) && strcmp(r->element[0]->str, map[i].name) != 0)
        i++;
    if (i == sizeof(map) / sizeof(map[0]))
        return spindle_store_bad_reply(s, "cancel", r);
    *what = map[i].what;
    snprintf(state, 16, "%.15s", r->element[1]->str);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_cancel_probe(spindle_store *s, spindle_cancel_probe *p, size_t n)
{
    char key[SPINDLE_KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        p[i].requested = 0;
        p[i].grace_ms = -1;
        spindle_key_task(key, s->ns, p[i].queue, p[i].id);
        int rc = spindle_store_appendf(s, "reading cancel requests",
                                       "HMGET %s state attempts cancel cancel_grace", key);
        if (rc != SPINDLE_OK) {
            for (size_t j = 0; j < i; j++) /* drain what was sent */
                freeReplyObject(spindle_store_read(s, "reading cancel requests"));
            return rc;
        }
    }
    int rc = SPINDLE_OK;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = spindle_store_read(s, "reading cancel requests");
        if (r == NULL) {
            rc = s->err->code;
            break; /* the connection is gone, and the rest of the pipeline with it */
        }
        /* A key of the wrong type answers an error: no request can be read from it. */
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            strcmp(r->element[0]->str, "running") == 0 &&
            spindle_reply_ll(r->element[1], -1) == p[i].attempt &&
            r->element[2]->type == REDIS_REPLY_STRING) {
            p[i].requested = 1;
            long long g = spindle_reply_ll(r->element[3], -1);
            p[i].grace_ms = g >= 0 && g <= SPINDLE_MAX_CANCEL_GRACE_MS ? (long)g : -1;
        }
        freeReplyObject(r);
    }
    return rc;
}
