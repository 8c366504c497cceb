/* Dependencies between tasks, the Redis side (store/deps.h). A file of its own so that the
 * plain enqueue (store/enqueue.c), which tasks without dependencies take, stays as it was. */
#include <stdio.h>
#include <string.h>

#include "spindle/status.h"
#include "store/crc16.h"
#include "store/deps.h"
#include "store/keys.h"

/* Pushes v as decimal text if given, else "" (the script's "not given"). */
static void push_num(spindle_cmd *cmd, long v, int given)
{
    char buf[24] = "";
    if (given)
        snprintf(buf, sizeof(buf), "%ld", v);
    spindle_cmd_copy(cmd, buf, strlen(buf));
}

int spindle_store_enqueue_deps(spindle_store *s, const char *queue, const spindle_new_task *t,
                               const spindle_task_opts *opts, const spindle_dep_ref *refs, size_t n,
                               int anyway, enum spindle_deps_start *start, char *missing)
{
    char pending[SPINDLE_KEY_MAX], wake[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
    /* Redis Cluster: the script and the release in finish() touch the dependency's keys
     * from the dependent's slot, which only works when both queues share a slot. */
    for (size_t i = 0; spindle_store_is_cluster(s) && i < n; i++)
        if (spindle_key_slot(refs[i].queue, strlen(refs[i].queue)) !=
            spindle_key_slot(queue, strlen(queue)))
            return spindle_error_set(
                s->err, SPINDLE_ERR_INVALID,
                "task on queue '%s' depends on task %s of queue '%s': in Redis Cluster a "
                "dependency must be on the same queue (or one in the same hash slot)",
                queue, refs[i].id, refs[i].queue);
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, pending, spindle_key_pending(pending, s->ns, queue));
    spindle_cmd_push(cmd, wake, spindle_key_wake(wake, s->ns, queue));
    spindle_cmd_copy(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_push(cmd, t->id, strlen(t->id));
    spindle_cmd_str(cmd, t->func);
    spindle_cmd_push(cmd, t->args, t->args_len);
    push_num(cmd, opts->result_ttl_s, opts->result_ttl_s >= 0);
    push_num(cmd, opts->timeout_s, opts->timeout_s > 0);
    push_num(cmd, opts->max_retries, opts->max_retries >= 0);
    push_num(cmd, opts->backoff_ms, opts->backoff_ms > 0);
    push_num(cmd, opts->backoff_max_ms, opts->backoff_max_ms > 0);
    spindle_cmd_str(cmd, opts->proc ? opts->proc : "");
    spindle_cmd_push(cmd, opts->pinfo ? opts->pinfo : "", opts->pinfo ? opts->pinfo_len : 0);
    spindle_cmd_str(cmd, opts->group ? opts->group : "");
    spindle_cmd_str(cmd, anyway ? "1" : "");
    for (size_t i = 0; i < n; i++) {
        spindle_cmd_copy(cmd, base, spindle_key_queue_base(base, s->ns, refs[i].queue));
        spindle_cmd_push(cmd, refs[i].id, strlen(refs[i].id));
    }
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_ENQUEUE_DEPS, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "enqueue with dependencies", r);
    const char *what = r->element[0]->str;
    const redisReply *arg = r->element[1];
    int rc = SPINDLE_OK;
    if (strcmp(what, "missing") == 0 && arg->type == REDIS_REPLY_STRING &&
        arg->len == SPINDLE_ID_LEN) {
        memcpy(missing, arg->str, SPINDLE_ID_LEN + 1);
        rc = SPINDLE_ERR_NOT_FOUND;
    } else if (strcmp(what, "pending") == 0) {
        *start = SPINDLE_DEPS_PENDING;
    } else if (strcmp(what, "waiting") == 0) {
        *start = SPINDLE_DEPS_WAITING;
    } else if (strcmp(what, "failed") == 0) {
        *start = SPINDLE_DEPS_FAILED;
    } else if (strcmp(what, "cancelled") == 0) {
        *start = SPINDLE_DEPS_CANCELLED;
    } else {
        return spindle_store_bad_reply(s, "enqueue with dependencies", r);
    }
    freeReplyObject(r);
    return rc;
}

int spindle_store_dep_outcomes(spindle_store *s, const char *queue, const char *id,
                               const spindle_dep_ref *refs, size_t n, spindle_dep_outcome *outs,
                               int *anyway, redisReply **reply)
{
    char key[SPINDLE_KEY_MAX], field[4 + SPINDLE_ID_LEN + 1];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, "HMGET");
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_str(cmd, "dep_anyway");
    for (size_t i = 0; i < n; i++) {
        snprintf(field, sizeof(field), "dep:%s", refs[i].id);
        spindle_cmd_copy(cmd, field, strlen(field));
    }
    redisReply *r = spindle_store_call(s, "reading the outcomes of its dependencies", cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n + 1)
        return spindle_store_bad_reply(s, "reading the outcomes of its dependencies", r);
    *anyway = r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "1") == 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *v = r->element[i + 1];
        outs[i].tag = 0;
        outs[i].data = NULL;
        outs[i].len = 0;
        if (v->type == REDIS_REPLY_STRING && v->len > 0) {
            outs[i].tag = v->str[0];
            outs[i].data = v->str + 1;
            outs[i].len = v->len - 1;
        }
    }
    *reply = r;
    return SPINDLE_OK;
}
