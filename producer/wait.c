/* Waiting for a task and the results it returns (client.h).
 *
 * A wait never polls: the wait script registers the caller as a waiter on the task hash,
 * and the worker's settle script pushes "STATE:PAYLOAD" onto the task's done list, which the
 * caller BLPOPs. The token carries the result itself, so a waiter needs no extra round trip
 * after it wakes, and it still gets the result of a fire-and-forget task (TTL 0) whose hash
 * is already gone. */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/msgpack_check.h"
#include "producer/client_impl.h"
#include "store/ops.h"

/* A blocked wait wakes at least this often (ms) to check on the task again: a wait survives
 * a lost token (done list expired, flushed by hand) with at most this much delay. */
#define WAIT_SLICE_MS 10000

int spindle_result_make(spindle_client *c, const spindle_handle *h, spindle_state st,
                        const char *payload, size_t len, spindle_result **out)
{
    spindle_result *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "result of %s: out of memory", h->id);
    r->state = st;
    r->nil.type = MSGPACK_OBJECT_NIL;
    msgpack_unpacked_init(&r->unpacked);
    if (st == SPINDLE_STATE_SUCCEEDED) {
        r->raw = malloc(len ? len : 1);
        if (r->raw == NULL) {
            spindle_result_free(r);
            return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "result of %s: out of memory",
                                     h->id);
        }
        if (len)
            memcpy(r->raw, payload, len);
        r->raw_len = len;
        size_t off = 0;
        /* Checked before msgpack-c sees it: a result written by hand that declares a huge
         * container would make the decoder allocate for it (common/msgpack_check.h). */
        if (len &&
            (spindle_msgpack_check(r->raw, len, SPINDLE_MSGPACK_MAX_DEPTH) != NULL ||
             msgpack_unpack_next(&r->unpacked, r->raw, len, &off) != MSGPACK_UNPACK_SUCCESS ||
             off != len)) {
            spindle_result_free(r);
            return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                     "result of task %s is not one msgpack value (%zu bytes)",
                                     h->id, len);
        }
    } else {
        r->error = strndup(payload, len);
        if (r->error == NULL) {
            spindle_result_free(r);
            return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "result of %s: out of memory",
                                     h->id);
        }
    }
    *out = r;
    if (st == SPINDLE_STATE_FAILED)
        return spindle_error_set(&c->err, SPINDLE_ERR_TASK_FAILED, "task %s failed: %s", h->id,
                                 r->error);
    if (st == SPINDLE_STATE_CANCELLED)
        return spindle_error_set(&c->err, SPINDLE_ERR_CANCELLED, "task %s was cancelled: %s", h->id,
                                 r->error);
    return SPINDLE_OK;
}

int spindle_result_from_step(spindle_client *c, const spindle_handle *h, redisReply *r, int *rc,
                             spindle_result **out)
{
    if (r->elements == 0) {
        *rc = spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND,
                                "task %s not found in queue '%s' (unknown or expired)", h->id,
                                h->queue);
        return 1;
    }
    spindle_state st;
    if (spindle_state_parse(r->element[0]->str, r->element[0]->len, &st) != SPINDLE_OK) {
        *rc = spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                "task %s has an unknown state '%.32s'", h->id, r->element[0]->str);
        return 1;
    }
    if (r->elements < 3)
        return 0;
    const redisReply *p = st == SPINDLE_STATE_SUCCEEDED ? r->element[1] : r->element[2];
    *rc = spindle_result_make(c, h, st, p->str, p->len, out);
    return 1;
}

int spindle_result_from_token(spindle_client *c, const spindle_handle *h, const char *tok,
                              size_t len, spindle_result **out)
{
    const char *colon = memchr(tok, ':', len);
    spindle_state st;
    if (colon == NULL || spindle_state_parse(tok, (size_t)(colon - tok), &st) != SPINDLE_OK ||
        !spindle_state_is_final(st))
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                 "malformed completion token for task %s", h->id);
    return spindle_result_make(c, h, st, colon + 1, len - (size_t)(colon - tok) - 1, out);
}

int spindle_wait(spindle_client *c, const spindle_handle *h, long timeout_ms, spindle_result **out)
{
    return spindle_wait_sliced(c, h, timeout_ms, WAIT_SLICE_MS, NULL, NULL, out);
}

int spindle_wait_sliced(spindle_client *c, const spindle_handle *h, long timeout_ms, long slice_ms,
                        spindle_wait_hook hook, void *arg, spindle_result **out)
{
    *out = NULL;
    if (c->sync)
        return spindle_sync_wait(c, h, out);
    int64_t deadline = spindle_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    redisReply *r = NULL;
    int rc = spindle_store_wait_step(&c->store, h->queue, h->id, timeout_ms != 0, &r);
    if (rc != SPINDLE_OK)
        return rc;
    int over = spindle_result_from_step(c, h, r, &rc, out);
    freeReplyObject(r);
    if (over)
        return rc;
    int64_t looked = spindle_mono_ms();
    for (;;) {
        if (hook && (rc = hook(c, h, arg)) != SPINDLE_OK)
            return rc;
        long slice = spindle_slice_ms(deadline, timeout_ms, slice_ms);
        if (slice == 0)
            break;
        const char *tok;
        size_t len;
        rc = spindle_store_block_done(&c->store, h->queue, h->id, slice, &r, &tok, &len);
        if (rc != SPINDLE_OK)
            return rc;
        if (tok) {
            rc = spindle_result_from_token(c, h, tok, len, out);
            freeReplyObject(r);
            return rc;
        }
        freeReplyObject(r);
        if (timeout_ms < 0 && spindle_mono_ms() - looked >= WAIT_SLICE_MS) {
            /* Forever: look again in case the token was lost, staying registered. */
            looked = spindle_mono_ms();
            rc = spindle_store_wait_step(&c->store, h->queue, h->id, 0, &r);
            if (rc != SPINDLE_OK)
                return rc;
            over = spindle_result_from_step(c, h, r, &rc, out);
            freeReplyObject(r);
            if (over)
                return rc;
        }
    }
    if (timeout_ms == 0)
        return spindle_error_set(&c->err, SPINDLE_ERR_TIMEOUT, "task %s is not finished", h->id);
    /* Out of time: unregister, and take the result if the task ended meanwhile. A TTL-0
     * task that ended in that window is gone from Redis but left its token behind. */
    rc = spindle_store_wait_step(&c->store, h->queue, h->id, -1, &r);
    if (rc != SPINDLE_OK)
        return rc;
    int missing = r->elements == 0;
    over = spindle_result_from_step(c, h, r, &rc, out);
    freeReplyObject(r);
    if (missing) {
        const char *tok;
        size_t len;
        int prc = spindle_store_pop_done(&c->store, h->queue, h->id, &r, &tok, &len);
        if (prc == SPINDLE_OK && tok)
            rc = spindle_result_from_token(c, h, tok, len, out);
        if (r)
            freeReplyObject(r);
        return prc == SPINDLE_OK ? rc : prc;
    }
    if (over)
        return rc;
    return spindle_error_set(&c->err, SPINDLE_ERR_TIMEOUT, "task %s did not finish within %ld ms",
                             h->id, timeout_ms);
}

spindle_state spindle_result_state(const spindle_result *r)
{
    return r->state;
}

const msgpack_object *spindle_result_value(const spindle_result *r)
{
    return r->raw_len ? &r->unpacked.data : &r->nil;
}

const char *spindle_result_raw(const spindle_result *r, size_t *len)
{
    *len = r->raw_len;
    return r->raw;
}

const char *spindle_result_error(const spindle_result *r)
{
    return r->error;
}

void spindle_result_free(spindle_result *r)
{
    if (r == NULL)
        return;
    msgpack_unpacked_destroy(&r->unpacked);
    free(r->raw);
    free(r->error);
    free(r);
}
