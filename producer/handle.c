/* Handles: make, rebuild from an id, read status and metadata (client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/client_impl.h"
#include "store/ops.h"

spindle_handle *spindle_handle_make(spindle_client *c, const char *id, const char *queue)
{
    spindle_handle *h = malloc(sizeof(*h));
    if (h == NULL) {
        spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "handle for task %s: out of memory", id);
        return NULL;
    }
    snprintf(h->id, sizeof(h->id), "%s", id);
    snprintf(h->queue, sizeof(h->queue), "%s", queue);
    h->deduplicated = 0;
    return h;
}

int spindle_handle_open(spindle_client *c, const char *id, const char *queue, spindle_handle **out)
{
    *out = NULL;
    int rc = spindle_id_check(id, &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        return spindle_sync_open(c, id, queue, out);
    char found[SPINDLE_NAME_MAX + 1];
    if (queue) {
        rc = spindle_name_check(queue, "queue", &c->err);
        if (rc == SPINDLE_OK) {
            char state[16];
            rc = spindle_store_task_state(&c->store, queue, id, state);
        }
        if (rc != SPINDLE_OK)
            return rc;
        snprintf(found, sizeof(found), "%s", queue);
    } else if ((rc = spindle_store_find_queue(&c->store, id, found)) != SPINDLE_OK) {
        return rc;
    }
    *out = spindle_handle_make(c, id, found);
    return *out ? SPINDLE_OK : SPINDLE_ERR_NOMEM;
}

const char *spindle_handle_id(const spindle_handle *h)
{
    return h->id;
}

const char *spindle_handle_queue(const spindle_handle *h)
{
    return h->queue;
}

int spindle_handle_deduplicated(const spindle_handle *h)
{
    return h->deduplicated;
}

void spindle_handle_free(spindle_handle *h)
{
    free(h);
}

int spindle_status(spindle_client *c, const spindle_handle *h, spindle_state *state)
{
    if (c->sync)
        return spindle_sync_status(c, h, state);
    char text[16];
    int rc = spindle_store_task_state(&c->store, h->queue, h->id, text);
    if (rc != SPINDLE_OK)
        return rc;
    if (spindle_state_parse(text, strlen(text), state) != SPINDLE_OK)
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL, "task %s has an unknown state '%s'",
                                 h->id, text);
    return SPINDLE_OK;
}

int spindle_is_ready(spindle_client *c, const spindle_handle *h, int *ready)
{
    spindle_state st;
    int rc = spindle_status(c, h, &st);
    if (rc == SPINDLE_OK)
        *ready = spindle_state_is_final(st);
    return rc;
}

static int64_t field_i64(const redisReply *v)
{
    return strtoll(v->str, NULL, 10);
}

/* Copies one hash field into info. Unknown fields are ignored: later protocol versions may
 * add some. */
static int apply_field(spindle_client *c, const spindle_handle *h, const redisReply *k,
                       const redisReply *v, spindle_task_info *info)
{
    const char *f = k->str;
    if (strcmp(f, "state") == 0) {
        if (spindle_state_parse(v->str, v->len, &info->state) != SPINDLE_OK)
            return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                     "task %s has an unknown state '%.32s'", h->id, v->str);
    } else if (strcmp(f, "func") == 0) {
        snprintf(info->func, sizeof(info->func), "%s", v->str);
    } else if (strcmp(f, "enqueued_at") == 0) {
        info->enqueued_at_ms = field_i64(v);
    } else if (strcmp(f, "started_at") == 0) {
        info->started_at_ms = field_i64(v);
    } else if (strcmp(f, "finished_at") == 0) {
        info->finished_at_ms = field_i64(v);
    } else if (strcmp(f, "attempts") == 0) {
        info->attempts = (long)field_i64(v);
    } else if (strcmp(f, "ttl") == 0) {
        info->result_ttl_s = (long)field_i64(v);
    } else if (strcmp(f, "timeout") == 0) {
        info->timeout_s = (long)field_i64(v);
    } else if (strcmp(f, "retries") == 0) {
        info->max_retries = (long)field_i64(v);
    } else if (strcmp(f, "backoff") == 0) {
        info->backoff_ms = (long)field_i64(v);
    } else if (strcmp(f, "backoff_max") == 0) {
        info->backoff_max_ms = (long)field_i64(v);
    } else if (strcmp(f, "retried") == 0) {
        info->retried = (long)field_i64(v);
    } else if (strcmp(f, "retry_at") == 0) {
        info->retry_at_ms = field_i64(v);
    } else if (strcmp(f, "run_at") == 0) {
        info->run_at_ms = field_i64(v);
    } else if (strcmp(f, "deadline") == 0) {
        info->deadline_ms = field_i64(v);
    } else if (strcmp(f, "unique") == 0) {
        snprintf(info->unique_key, sizeof(info->unique_key), "%s", v->str);
    } else if (strcmp(f, "lost") == 0) {
        info->lost = (long)field_i64(v);
    } else if (strcmp(f, "cancel") == 0) {
        info->cancel_requested_at_ms = field_i64(v);
    } else if (strcmp(f, "cancel_grace") == 0) {
        info->cancel_grace_ms = (long)field_i64(v);
    } else if (strcmp(f, "deps") == 0) {
        info->deps_waiting = (long)field_i64(v);
    } else if (strcmp(f, "dep_anyway") == 0) {
        info->run_anyway = 1;
    } else if (strcmp(f, "worker") == 0) {
        snprintf(info->worker, sizeof(info->worker), "%s", v->str);
    } else if (strcmp(f, "error") == 0) {
        free(info->error);
        info->error = strndup(v->str, v->len);
        if (info->error == NULL)
            return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "task %s: out of memory", h->id);
    }
    return SPINDLE_OK;
}

int spindle_info(spindle_client *c, const spindle_handle *h, spindle_task_info *info)
{
    if (c->sync)
        return spindle_sync_info(c, h, info);
    memset(info, 0, sizeof(*info));
    info->result_ttl_s = -1;
    info->max_retries = -1;
    info->cancel_grace_ms = -1;
    info->state = (spindle_state)-1;
    redisReply *hash = NULL;
    long long ttl = -1;
    int rc = spindle_store_task_fields(&c->store, h->queue, h->id, &hash, &ttl);
    if (rc != SPINDLE_OK)
        return rc;
    info->expires_in_s = (long)ttl;
    for (size_t i = 0; rc == SPINDLE_OK && i + 1 < hash->elements; i += 2)
        rc = apply_field(c, h, hash->element[i], hash->element[i + 1], info);
    freeReplyObject(hash);
    if (rc == SPINDLE_OK && (int)info->state == -1)
        rc = spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL, "task %s has no state field", h->id);
    if (rc != SPINDLE_OK)
        spindle_task_info_clear(info);
    return rc;
}

void spindle_task_info_clear(spindle_task_info *info)
{
    free(info->error);
    info->error = NULL;
}
