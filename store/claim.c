/* The worker's side of the protocol: claim a batch, settle a batch, put back what a stopped
 * or lost worker held, sleep until woken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

/* Result TTL when the task hash has no `ttl` field (docs/PROTOCOL.md). */
#define DEFAULT_RESULT_TTL_S 3600

int spindle_store_parse_claimed(const redisReply *e, spindle_claimed *c)
{
    memset(c, 0, sizeof(*c));
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    c->id = e->element[0]->str;
    c->attempt = (long)e->element[1]->integer;
    if (c->attempt == 0) {
        c->skip_reason = e->element[2]->type == REDIS_REPLY_STRING ? e->element[2]->str : "?";
        return 0;
    }
    if ((e->elements != 6 && e->elements != 7) || e->element[2]->type != REDIS_REPLY_STRING ||
        e->element[3]->type != REDIS_REPLY_STRING)
        return -1;
    c->func = e->element[2]->str;
    c->args = e->element[3]->str;
    c->args_len = e->element[3]->len;
    c->timeout_s = (long)spindle_reply_ll(e->element[4], 0);
    c->result_ttl_s = (long)spindle_reply_ll(e->element[5], DEFAULT_RESULT_TTL_S);
    c->lease = e->elements == 7; /* it took its single-file queue's lease */
    return 0;
}

int spindle_store_claim(spindle_store *s, const char *queue, const char *worker, int max,
                        long lease_ttl_ms, spindle_claimed *out, int *n, long *next_due_ms,
                        redisReply **reply)
{
    char pending[SPINDLE_KEY_MAX], inflight[SPINDLE_KEY_MAX], wake[SPINDLE_KEY_MAX];
    char workers[SPINDLE_KEY_MAX], prefix[SPINDLE_KEY_MAX], scheduled[SPINDLE_KEY_MAX];
    char base[SPINDLE_KEY_MAX], limits[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, pending, spindle_key_pending(pending, s->ns, queue));
    spindle_cmd_push(cmd, inflight, spindle_key_inflight(inflight, s->ns, queue, worker));
    spindle_cmd_push(cmd, wake, spindle_key_wake(wake, s->ns, queue));
    spindle_cmd_push(cmd, workers, spindle_key_workers(workers, s->ns, queue));
    spindle_cmd_push(cmd, scheduled, spindle_key_scheduled(scheduled, s->ns, queue));
    spindle_cmd_push(cmd, limits, spindle_key_limits(limits, s->ns, queue));
    spindle_cmd_long(cmd, max);
    spindle_cmd_str(cmd, worker);
    spindle_cmd_push(cmd, prefix, spindle_key_task_prefix(prefix, s->ns, queue));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_long(cmd, lease_ttl_ms);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CLAIM, 6, cmd);
    *n = 0;
    *reply = NULL;
    *next_due_ms = -1;
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->elements > (size_t)max + 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "claim", r);
    for (size_t i = 1; i < r->elements; i++)
        if (spindle_store_parse_claimed(r->element[i], &out[i - 1]) != 0)
            return spindle_store_bad_reply(s, "claim", r);
    *n = (int)r->elements - 1;
    *next_due_ms = (long)r->element[0]->integer;
    *reply = r;
    return SPINDLE_OK;
}

static enum spindle_outcome outcome_of(const redisReply *e)
{
    static const struct {
        const char *name;
        enum spindle_outcome o;
    } map[] = {{"succeeded", SPINDLE_OUTCOME_SUCCEEDED},
               {"failed", SPINDLE_OUTCOME_FAILED},
               {"scheduled", SPINDLE_OUTCOME_SCHEDULED},
               {"released", SPINDLE_OUTCOME_RELEASED},
               {"cancelled", SPINDLE_OUTCOME_CANCELLED}};
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
            if (strcmp(e->str, map[i].name) == 0)
                return map[i].o;
    return SPINDLE_OUTCOME_REFUSED;
}

int spindle_store_settle(spindle_store *s, const char *queue, const char *worker,
                         const spindle_settlement *v, size_t n, enum spindle_outcome *outcome)
{
    char inflight[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, inflight, spindle_key_inflight(inflight, s->ns, queue, worker));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_str(cmd, worker);
    for (size_t i = 0; i < n; i++) {
        char jitter[16];
        int jl = snprintf(jitter, sizeof(jitter), "%.4f", v[i].jitter);
        spindle_cmd_str(cmd, v[i].id);
        spindle_cmd_long(cmd, v[i].attempt);
        spindle_cmd_str(cmd, v[i].succeeded > 0                           ? "succeeded"
                             : v[i].succeeded == 0                        ? "failed"
                             : v[i].succeeded == SPINDLE_SETTLE_CANCELLED ? "cancelled"
                                                                          : "release");
        spindle_cmd_push(cmd, v[i].payload, v[i].payload_len);
        spindle_cmd_copy(cmd, jitter, jl > 0 ? (size_t)jl : 0);
    }
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_SETTLE, 1, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
        return spindle_store_bad_reply(s, "settle", r);
    for (size_t i = 0; i < n; i++)
        outcome[i] = outcome_of(r->element[i]);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_recover(spindle_store *s, const char *queue, const char *worker, int lost,
                          long *requeued, long *failed)
{
    char inflight[SPINDLE_KEY_MAX], workers[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, inflight, spindle_key_inflight(inflight, s->ns, queue, worker));
    spindle_cmd_push(cmd, workers, spindle_key_workers(workers, s->ns, queue));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_str(cmd, worker);
    spindle_cmd_str(cmd, lost ? "lost" : "release");
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_RECOVER, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "recover", r);
    if (requeued)
        *requeued = (long)r->element[0]->integer;
    if (failed)
        *failed = (long)r->element[1]->integer;
    freeReplyObject(r);
    return SPINDLE_OK;
}

/* One BRPOP on the wake lists keys[0..n) for ms. */
static int brpop_wake(spindle_store *s, const char *const *keys, size_t n, long ms, int *woken)
{
    /* BRPOP takes its timeout in seconds; fractions are accepted since Redis 6.0. */
    char secs[32];
    snprintf(secs, sizeof(secs), "%.3f", (double)ms / 1000.0);
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, "BRPOP");
    for (size_t i = 0; i < n; i++)
        spindle_cmd_str(cmd, keys[i]);
    spindle_cmd_str(cmd, secs);
    spindle_store_block_timeout(s, ms);
    redisReply *r = spindle_store_call(s, "waiting for tasks", cmd);
    spindle_store_block_timeout(s, 0);
    *woken = 0;
    if (r == NULL && s->err->code == SPINDLE_ERR_REDIS) {
        /* Redis refused the wait itself (WRONGTYPE: a wake list written by hand): say which
         * key. Only on this error path, so an idle wait costs no command more. */
        for (size_t i = 0; i < n && i < SPINDLE_STORE_MAX_QUEUES; i++) {
            redisReply *t = spindle_store_callf(s, "checking a wake list", "TYPE %s", keys[i]);
            int bad = t && t->type == REDIS_REPLY_STATUS && strcmp(t->str, "none") != 0 &&
                      strcmp(t->str, "list") != 0;
            if (bad)
                spindle_error_set(s->err, SPINDLE_ERR_REDIS,
                                  "waiting for tasks: key %s holds a %s, not a list", keys[i],
                                  t->str);
            if (t)
                freeReplyObject(t);
            if (bad || t == NULL)
                break;
        }
        return s->err->code;
    }
    if (r == NULL)
        return s->err->code;
    *woken = r->type == REDIS_REPLY_ARRAY;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_wait_wake(spindle_store *s, const char *const *queues, size_t n, long ms,
                            int *woken)
{
    char keys[SPINDLE_STORE_MAX_QUEUES][SPINDLE_KEY_MAX];
    const char *ptrs[SPINDLE_STORE_MAX_QUEUES];
    if (n > SPINDLE_STORE_MAX_QUEUES)
        n = SPINDLE_STORE_MAX_QUEUES;
    for (size_t i = 0; i < n; i++) {
        spindle_key_wake(keys[i], s->ns, queues[i]);
        ptrs[i] = keys[i];
    }
    if (!spindle_store_is_cluster(s) || spindle_cluster_same_slot(ptrs, n))
        return brpop_wake(s, ptrs, n, ms, woken);
    /* Redis Cluster: the wake lists of several queues lie in several slots, and one BRPOP
     * may not span them (CROSSSLOT). Wait on each queue in turn for its share of ms: an idle
     * worker sends n BRPOPs per wait instead of one, and a task on a queue waits up to
     * ms - ms/n longer to be noticed than on a single Redis (docs/PROTOCOL.md, "Redis
     * Cluster"). */
    long share = n > 0 && ms / (long)n > 0 ? ms / (long)n : 1;
    for (size_t i = 0; i < n; i++) {
        int rc = brpop_wake(s, &ptrs[i], 1, share, woken);
        if (rc != SPINDLE_OK || *woken)
            return rc;
    }
    return SPINDLE_OK;
}
