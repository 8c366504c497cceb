/* Enqueue of delayed, expiring and unique tasks (docs/PROTOCOL.md, "Delayed tasks", "Expiry",
 * "Unique tasks"): the arguments of the enqueue_opts script. A file of its own so that the
 * plain enqueue (store/enqueue.c), which every task without these options takes, stays as
 * it was. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/names.h"
#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"
#include "store/wait_replicas.h"

int spindle_task_opts_special(const spindle_task_opts *opts)
{
    return opts->run_at_ms > 0 || opts->delay_ms > 0 || opts->deadline_ms > 0 ||
           opts->expires_in_ms > 0 || opts->unique_key != NULL;
}

/* Pushes v as decimal text if given, else "" (the script's "not given"). */
static void push_num(spindle_cmd *cmd, int64_t v, int given)
{
    char buf[24] = "";
    if (given)
        snprintf(buf, sizeof(buf), "%" PRId64, v);
    spindle_cmd_copy(cmd, buf, strlen(buf));
}

int spindle_store_enqueue_opts(spindle_store *s, const char *queue, const spindle_new_task *tasks,
                               size_t n, const spindle_task_opts *opts, char *holder)
{
    char pending[SPINDLE_KEY_MAX], wake[SPINDLE_KEY_MAX], scheduled[SPINDLE_KEY_MAX];
    /* At this scope, not in the if below: cmd keeps a pointer to it until the command is sent. */
    // cppcheck-suppress variableScope
    char lock[SPINDLE_KEY_MAX], prefix[SPINDLE_KEY_MAX];
    if (holder)
        holder[0] = '\0';
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, pending, spindle_key_pending(pending, s->ns, queue));
    spindle_cmd_push(cmd, wake, spindle_key_wake(wake, s->ns, queue));
    spindle_cmd_push(cmd, scheduled, spindle_key_scheduled(scheduled, s->ns, queue));
    if (opts->unique_key)
        spindle_cmd_push(cmd, lock, spindle_key_unique(lock, s->ns, queue, opts->unique_key));
    spindle_cmd_push(cmd, prefix, spindle_key_task_prefix(prefix, s->ns, queue));
    push_num(cmd, opts->result_ttl_s, opts->result_ttl_s >= 0);
    push_num(cmd, opts->timeout_s, opts->timeout_s > 0);
    push_num(cmd, opts->max_retries, opts->max_retries >= 0);
    push_num(cmd, opts->backoff_ms, opts->backoff_ms > 0);
    push_num(cmd, opts->backoff_max_ms, opts->backoff_max_ms > 0);
    push_num(cmd, opts->run_at_ms, opts->run_at_ms > 0);
    push_num(cmd, opts->delay_ms, opts->delay_ms > 0);
    push_num(cmd, opts->deadline_ms, opts->deadline_ms > 0);
    push_num(cmd, opts->expires_in_ms, opts->expires_in_ms > 0);
    spindle_cmd_str(cmd, opts->unique_key ? opts->unique_key : "");
    push_num(cmd, opts->unique_ttl_s, opts->unique_key != NULL);
    spindle_cmd_str(cmd, opts->proc ? opts->proc : "");
    spindle_cmd_push(cmd, opts->pinfo ? opts->pinfo : "", opts->pinfo ? opts->pinfo_len : 0);
    spindle_cmd_str(cmd, opts->group ? opts->group : "");
    for (size_t i = 0; i < n; i++) {
        spindle_cmd_push(cmd, tasks[i].id, strlen(tasks[i].id));
        spindle_cmd_str(cmd, tasks[i].func);
        spindle_cmd_push(cmd, tasks[i].args, tasks[i].args_len);
    }
    redisReply *r =
        spindle_store_eval_acked(s, SPINDLE_SCRIPT_ENQUEUE_OPTS, opts->unique_key ? 4 : 3, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "enqueue", r);
    long long created = r->element[0]->integer;
    const redisReply *id = r->element[1];
    if (created == 0 && id->len == SPINDLE_ID_LEN && opts->unique_key && n == 1) {
        if (holder)
            memcpy(holder, id->str, SPINDLE_ID_LEN + 1);
    } else if (created != (long long)n || id->len != 0) {
        return spindle_store_bad_reply(s, "enqueue", r);
    }
    freeReplyObject(r);
    return SPINDLE_OK;
}
