/* The fleet's bookkeeping in Redis: heartbeats, the worker index, the sweep lock, recovery
 * of workers whose heartbeat expired, and putting a failed task back by id.
 *
 * Why recovery is driven from here and not from one script: a worker's heartbeat key
 * (NS:worker:ID) and the in-flight lists of the queues it served (NS:{Q}:inflight:ID) live in
 * different Redis Cluster slots, so no single script may read both. The client finds the
 * dead workers with plain reads, then runs the recover script once per (queue, worker), and
 * that script re-checks each task under the queue's slot, so a race with a worker that comes
 * back is harmless: its late settlements are refused by fencing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

int spindle_store_heartbeat(spindle_store *s, const char *worker, long ttl_ms,
                            const char *const *pairs, size_t npairs)
{
    char key[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_worker(key, s->ns, worker));
    spindle_cmd_long(cmd, ttl_ms);
    for (size_t i = 0; i < 2 * npairs; i++)
        spindle_cmd_str(cmd, pairs[i]);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_HEARTBEAT, 1, cmd);
    if (r == NULL)
        return s->err->code;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_worker_add(spindle_store *s, const char *worker)
{
    return spindle_store_workers_add(s, &worker, 1);
}

int spindle_store_workers_add(spindle_store *s, const char *const *workers, size_t n)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_all_workers(key, s->ns);
    return spindle_store_sadd(s, "registering workers", key, workers, n);
}

int spindle_store_worker_remove(spindle_store *s, const char *worker)
{
    char all[SPINDLE_KEY_MAX], key[SPINDLE_KEY_MAX];
    spindle_key_all_workers(all, s->ns);
    spindle_key_worker(key, s->ns, worker);
    if (spindle_store_appendf(s, "unregistering worker", "DEL %s", key) != SPINDLE_OK ||
        spindle_store_appendf(s, "unregistering worker", "SREM %s %s", all, worker) != SPINDLE_OK)
        return s->err->code;
    for (int i = 0; i < 2; i++) {
        redisReply *r = spindle_store_read(s, "unregistering worker");
        if (r == NULL)
            return s->err->code;
        freeReplyObject(r);
    }
    return SPINDLE_OK;
}

int spindle_store_sweep_lock(spindle_store *s, const char *owner, long ms, int *got)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_sweep_lock(key, s->ns);
    redisReply *r =
        spindle_store_callf(s, "taking the sweep lock", "SET %s %s NX PX %ld", key, owner, ms);
    *got = 0;
    if (r == NULL)
        return s->err->code;
    *got = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_sampler_lock(spindle_store *s, const char *owner, long ms, int *got)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_sampler_lock(key, s->ns);
    const char *what = "taking the metrics sampler lock";
    *got = 0;
    redisReply *r = spindle_store_callf(s, what, "SET %s %s NX PX %ld", key, owner, ms);
    if (r == NULL)
        return s->err->code;
    *got = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (*got)
        return SPINDLE_OK;
    r = spindle_store_callf(s, what, "GET %s", key);
    if (r == NULL)
        return s->err->code;
    int mine = r->type == REDIS_REPLY_STRING && strcmp(r->str, owner) == 0;
    freeReplyObject(r);
    if (!mine)
        return SPINDLE_OK;
    r = spindle_store_callf(s, what, "PEXPIRE %s %ld", key, ms);
    if (r == NULL)
        return s->err->code;
    *got = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return SPINDLE_OK;
}

/* Reads the replies of n pipelined commands into out[] (caller frees each). */
static int read_all(spindle_store *s, const char *what, redisReply **out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = spindle_store_read(s, what);
        if (out[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                freeReplyObject(out[j]);
            for (size_t j = i + 1; j < n; j++) /* drain what is left of the pipeline */
                freeReplyObject(spindle_store_read(s, what));
            return s->err->code;
        }
    }
    return SPINDLE_OK;
}

/* What one sweep knows of liveness: the ids its caller vouches for (the slots it beat for
 * moments ago) and the answers it read, so that an idle fleet's sweep sends one EXISTS per
 * other worker, not one per (queue, worker) and index entry. */
typedef struct sweep_memo {
    const char *const *alive;
    size_t nalive;
    char seen[64][SPINDLE_WORKER_ID_MAX];
    int seen_alive[64];
    size_t nseen;
} sweep_memo;

/* 1 if worker has a heartbeat, 0 if not; negative status on failure. */
static int worker_alive(spindle_store *s, sweep_memo *memo, const char *worker)
{
    for (size_t i = 0; i < memo->nalive; i++)
        if (strcmp(memo->alive[i], worker) == 0)
            return 1;
    for (size_t i = 0; i < memo->nseen; i++)
        if (strcmp(memo->seen[i], worker) == 0)
            return memo->seen_alive[i];
    char key[SPINDLE_KEY_MAX];
    spindle_key_worker(key, s->ns, worker);
    redisReply *r = spindle_store_callf(s, "reading heartbeat", "EXISTS %s", key);
    if (r == NULL)
        return s->err->code;
    int alive = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    freeReplyObject(r);
    if (memo->nseen < sizeof(memo->seen) / sizeof(memo->seen[0])) {
        snprintf(memo->seen[memo->nseen], sizeof(memo->seen[0]), "%s", worker);
        memo->seen_alive[memo->nseen++] = alive;
    }
    return alive;
}

/* Recovers the workers of one queue (the members of its workers set) that have no heartbeat. */
static int recover_queue(spindle_store *s, sweep_memo *memo, const char *queue,
                         const redisReply *members, long *workers, long *requeued, long *failed)
{
    for (size_t i = 0; i < members->elements; i++) {
        const redisReply *m = members->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len == 0 || m->len >= SPINDLE_WORKER_ID_MAX)
            continue;
        int alive = worker_alive(s, memo, m->str);
        if (alive < 0)
            return alive;
        if (alive)
            continue;
        long back = 0, gone = 0;
        int rc = spindle_store_recover(s, queue, m->str, 1, &back, &gone);
        if (rc == SPINDLE_ERR_REDIS)
            continue; /* a key of the wrong type in this queue: the claim logs it */
        if (rc != SPINDLE_OK)
            return rc;
        *workers += 1;
        *requeued += back;
        *failed += gone;
    }
    return SPINDLE_OK;
}

/* Drops from NS:workers the ids whose heartbeat is gone (listing stays short). */
static int prune_index(spindle_store *s, sweep_memo *memo)
{
    char all[SPINDLE_KEY_MAX];
    spindle_key_all_workers(all, s->ns);
    redisReply *ids = spindle_store_callf(s, "listing workers", "SMEMBERS %s", all);
    if (ids == NULL && s->err->code == SPINDLE_ERR_REDIS)
        return spindle_error_wrap(s->err, "key %s: ", all); /* WRONGTYPE: say which key */
    if (ids == NULL)
        return s->err->code;
    int rc = SPINDLE_OK;
    for (size_t i = 0; rc == SPINDLE_OK && ids->type == REDIS_REPLY_ARRAY && i < ids->elements;
         i++) {
        const redisReply *m = ids->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len >= SPINDLE_WORKER_ID_MAX)
            continue;
        int alive = worker_alive(s, memo, m->str);
        if (alive < 0) {
            rc = alive;
        } else if (!alive) {
            redisReply *r = spindle_store_callf(s, "pruning workers", "SREM %s %s", all, m->str);
            if (r == NULL)
                rc = s->err->code;
            freeReplyObject(r);
        }
    }
    freeReplyObject(ids);
    return rc;
}

int spindle_store_recover_lost(spindle_store *s, const char *const *alive, size_t nalive,
                               char *const *own, size_t nown, long *workers, long *requeued,
                               long *failed)
{
    redisReply *names = NULL;
    int listed = spindle_store_queue_names(s, &names);
    if (listed != SPINDLE_OK && (listed != SPINDLE_ERR_REDIS || nown == 0))
        return listed;
    /* NS:queues garbled by hand: a lost worker's tasks would wait until someone repairs it.
     * Sweep at least the queues this worker serves (fleets mostly share theirs), then answer
     * the error so that it is still logged. */
    spindle_error garbled = *s->err;
    size_t n = names ? names->elements : nown;
    redisReply **sets = calloc(n ? n : 1, sizeof(*sets));
    sweep_memo *memo = malloc(sizeof(*memo));
    if (sets == NULL || memo == NULL) {
        free(sets);
        free(memo);
        freeReplyObject(names);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "recovery: out of memory");
    }
    memo->alive = alive;
    memo->nalive = nalive;
    memo->nseen = 0;
    char key[SPINDLE_KEY_MAX];
    int rc = SPINDLE_OK;
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        spindle_key_workers(key, s->ns, names ? names->element[i]->str : own[i]);
        rc = spindle_store_appendf(s, "listing queue workers", "SMEMBERS %s", key);
    }
    if (rc == SPINDLE_OK)
        rc = read_all(s, "listing queue workers", sets, n);
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++)
        if (sets[i]->type == REDIS_REPLY_ARRAY)
            rc = recover_queue(s, memo, names ? names->element[i]->str : own[i], sets[i], workers,
                               requeued, failed);
    if (rc == SPINDLE_OK)
        rc = prune_index(s, memo);
    free(memo);
    for (size_t i = 0; i < n; i++)
        freeReplyObject(sets[i]);
    free(sets);
    freeReplyObject(names);
    if (rc == SPINDLE_OK && listed != SPINDLE_OK) {
        *s->err = garbled;
        rc = listed;
    }
    return rc;
}

int spindle_store_retry(spindle_store *s, const char *queue, const char *id)
{
    char key[SPINDLE_KEY_MAX], base[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, key, spindle_key_task(key, s->ns, queue, id));
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    spindle_cmd_str(cmd, id);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_RETRY, 1, cmd);
    if (r == NULL)
        return s->err->code;
    int rc = SPINDLE_OK;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        rc = spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                               "task %s not found in queue '%s' (unknown or expired)", id, queue);
    else if (r->type == REDIS_REPLY_STRING)
        rc = spindle_error_set(s->err, SPINDLE_ERR_INVALID,
                               "task %s is %.16s: only a failed, cancelled or scheduled task can "
                               "be retried",
                               id, r->str);
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[1]->type == REDIS_REPLY_STRING)
        rc =
            spindle_error_set(s->err, SPINDLE_ERR_INVALID,
                              "task %s ended while it waited for %s dependencies, whose results it "
                              "never received: enqueue it again instead",
                              id, r->element[1]->str);
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
             r->element[1]->type == REDIS_REPLY_STRING && r->element[2]->type == REDIS_REPLY_STRING)
        rc = spindle_error_set(s->err, SPINDLE_ERR_INVALID,
                               "task %s cannot run again: its unique key '%s' is held by task %s, "
                               "which has not ended",
                               id, r->element[1]->str, r->element[2]->str);
    else if (r->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "retry", r);
    freeReplyObject(r);
    return rc;
}

int spindle_store_host_beats(spindle_store *s, const char *host, int64_t *age_ms, int *count)
{
    int64_t newest = 0, now = 0;
    int rc = spindle_store_redis_time(s, &now);
    if (rc != SPINDLE_OK)
        return rc;
    char all[SPINDLE_KEY_MAX], key[SPINDLE_KEY_MAX];
    spindle_key_all_workers(all, s->ns);
    *age_ms = -1;
    *count = 0;
    redisReply *ids = spindle_store_callf(s, "listing workers", "SMEMBERS %s", all);
    if (ids == NULL)
        return s->err->code;
    if (ids->type != REDIS_REPLY_ARRAY)
        return spindle_store_bad_reply(s, "listing workers", ids);
    size_t sent = 0;
    for (; rc == SPINDLE_OK && sent < ids->elements; sent++) {
        const redisReply *m = ids->element[sent];
        spindle_key_worker(key, s->ns, m->type == REDIS_REPLY_STRING ? m->str : "");
        rc = spindle_store_appendf(s, "reading heartbeats", "HMGET %s host beat_at", key);
    }
    for (size_t i = 0; i < sent; i++) {
        redisReply *r = spindle_store_read(s, "reading heartbeats");
        if (r == NULL) {
            rc = s->err->code;
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, host) == 0 &&
            r->element[1]->type == REDIS_REPLY_STRING) {
            int64_t at = strtoll(r->element[1]->str, NULL, 10);
            *count += 1;
            if (at > newest)
                newest = at;
        }
        freeReplyObject(r);
    }
    freeReplyObject(ids);
    if (*count > 0)
        *age_ms = now > newest ? now - newest : 0;
    return rc;
}

int spindle_store_redis_time(spindle_store *s, int64_t *now_ms)
{
    redisReply *r = spindle_store_callf(s, "reading Redis's clock", "TIME");
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "reading Redis's clock", r);
    *now_ms =
        strtoll(r->element[0]->str, NULL, 10) * 1000 + strtoll(r->element[1]->str, NULL, 10) / 1000;
    freeReplyObject(r);
    return SPINDLE_OK;
}
