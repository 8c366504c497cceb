/* Enqueue: one script call puts a batch of task hashes and their ids on a queue. */
#include <stdio.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"
#include "store/wait_replicas.h"

int spindle_store_enqueue(spindle_store *s, const char *queue, const spindle_new_task *tasks,
                          size_t n, const spindle_task_opts *opts)
{
    if (spindle_task_opts_special(opts))
        return spindle_store_enqueue_opts(s, queue, tasks, n, opts, NULL);
    char pending[SPINDLE_KEY_MAX], wake[SPINDLE_KEY_MAX], prefix[SPINDLE_KEY_MAX];
    size_t pl = spindle_key_pending(pending, s->ns, queue);
    size_t wl = spindle_key_wake(wake, s->ns, queue);
    size_t xl = spindle_key_task_prefix(prefix, s->ns, queue);
    char ttl[24] = "", timeout[24] = "", retries[24] = "", backoff[24] = "", backoff_max[24] = "";
    if (opts->result_ttl_s >= 0)
        snprintf(ttl, sizeof(ttl), "%ld", opts->result_ttl_s);
    if (opts->timeout_s > 0)
        snprintf(timeout, sizeof(timeout), "%ld", opts->timeout_s);
    if (opts->max_retries >= 0)
        snprintf(retries, sizeof(retries), "%d", opts->max_retries);
    if (opts->backoff_ms > 0)
        snprintf(backoff, sizeof(backoff), "%ld", opts->backoff_ms);
    if (opts->backoff_max_ms > 0)
        snprintf(backoff_max, sizeof(backoff_max), "%ld", opts->backoff_max_ms);

    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, pending, pl);
    spindle_cmd_push(cmd, wake, wl);
    spindle_cmd_push(cmd, prefix, xl);
    spindle_cmd_str(cmd, ttl);
    spindle_cmd_str(cmd, timeout);
    spindle_cmd_str(cmd, retries);
    spindle_cmd_str(cmd, backoff);
    spindle_cmd_str(cmd, backoff_max);
    spindle_cmd_str(cmd, opts->proc ? opts->proc : "");
    spindle_cmd_push(cmd, opts->pinfo ? opts->pinfo : "", opts->pinfo ? opts->pinfo_len : 0);
    spindle_cmd_str(cmd, opts->group ? opts->group : "");
    for (size_t i = 0; i < n; i++) {
        spindle_cmd_push(cmd, tasks[i].id, strlen(tasks[i].id));
        spindle_cmd_str(cmd, tasks[i].func);
        spindle_cmd_push(cmd, tasks[i].args, tasks[i].args_len);
    }
    redisReply *r = spindle_store_eval_acked(s, SPINDLE_SCRIPT_ENQUEUE, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_INTEGER || (size_t)r->integer != n)
        return spindle_store_bad_reply(s, "enqueue", r);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_register_queues(spindle_store *s, const char *const *queues, size_t n)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_queues(key, s->ns);
    return spindle_store_sadd(s, "registering queues", key, queues, n);
}
