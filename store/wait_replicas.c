/* EVALSHA + WAIT pipelined (wait_replicas.h). Costs nothing when no WAIT was asked for: one
 * test of s->wait_replicas before the usual spindle_store_eval(). */
#include "store/wait_replicas.h"

#include <string.h>

#include "spindle/status.h"

/* Sends EVALSHA and WAIT together, reads both replies. NULL on a lost connection. */
static redisReply *eval_then_wait(spindle_store *s, enum spindle_script script, int nkeys,
                                  const spindle_cmd *cmd, redisReply **wait)
{
    const char *what = spindle_script_name(script);
    spindle_cmd *full = &s->evalcmd;
    spindle_cmd_reset(full);
    spindle_cmd_str(full, "EVALSHA");
    spindle_cmd_push(full, s->sha[script], 40);
    spindle_cmd_long(full, nkeys);
    for (int i = 0; i < cmd->argc; i++)
        spindle_cmd_push(full, cmd->argv[i], cmd->lens[i]);
    if (spindle_cmd_failed(cmd) || spindle_cmd_failed(full)) {
        spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    if (spindle_store_append(s, what, full) != SPINDLE_OK)
        return NULL;
    if (spindle_store_appendf(s, what, "WAIT %d %d", s->wait_replicas, s->wait_timeout_ms) !=
        SPINDLE_OK) {
        spindle_store_disconnect(s); /* half a pipeline queued: start over on a new connection */
        return NULL;
    }
    spindle_store_block_timeout(s, s->wait_timeout_ms);
    redisReply *r = spindle_store_read(s, what);
    *wait = r ? spindle_store_read(s, "WAIT") : NULL;
    spindle_store_block_timeout(s, 0);
    if (r && *wait == NULL) {
        freeReplyObject(r);
        r = NULL;
    }
    return r;
}

redisReply *spindle_store_eval_acked(spindle_store *s, enum spindle_script script, int nkeys,
                                     const spindle_cmd *cmd)
{
    if (s->wait_replicas <= 0)
        return spindle_store_eval(s, script, nkeys, cmd);
    redisReply *w = NULL;
    redisReply *r = eval_then_wait(s, script, nkeys, cmd, &w);
    if (r == NULL)
        return NULL;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* Scripts flushed: the plain path reloads them; WAIT then on its own. */
        freeReplyObject(r);
        freeReplyObject(w);
        r = spindle_store_eval(s, script, nkeys, cmd);
        if (r == NULL)
            return NULL;
        spindle_store_block_timeout(s, s->wait_timeout_ms);
        w = spindle_store_callf(s, "WAIT", "WAIT %d %d", s->wait_replicas, s->wait_timeout_ms);
        spindle_store_block_timeout(s, 0);
        if (w == NULL) {
            freeReplyObject(r);
            return NULL;
        }
    } else {
        r = spindle_store_check_reply(s, spindle_script_name(script), r);
        if (r == NULL) {
            freeReplyObject(w);
            return NULL;
        }
    }
    long long acked = w->type == REDIS_REPLY_INTEGER ? w->integer : -1;
    if (acked < s->wait_replicas) {
        spindle_error_set(s->err, SPINDLE_ERR_REDIS,
                          "%s: applied on the master at %s:%d but acknowledged by %lld of %d "
                          "replicas within %d ms (WAIT%s%s): it may be lost if the master fails",
                          spindle_script_name(script), s->url.host, s->url.port,
                          acked < 0 ? 0 : acked, s->wait_replicas, s->wait_timeout_ms,
                          w->type == REDIS_REPLY_ERROR ? " answered: " : "",
                          w->type == REDIS_REPLY_ERROR ? w->str : "");
        freeReplyObject(r);
        r = NULL;
    }
    freeReplyObject(w);
    return r;
}
