/* What a batch handler sees and does (spindle/batch.h): the requests, and settling each one
 * at most once; registering a batch function; and running one as a batch of one.
 *
 * Why settlements are recorded and not applied at once: the whole batch is settled in one
 * script call after the handler returns (batch_run.c), and a second settlement of a request
 * must be refused with a status, never reach Redis. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/names.h"
#include "worker/batch.h"

static batch_req *req_at(spindle_batch *b, size_t i, const char *what)
{
    if (i >= b->n) {
        spindle_error_set(&b->err, SPINDLE_ERR_INVALID,
                          "%s request %zu of a batch of %zu '%s': out of range", what, i, b->n,
                          b->func);
        return NULL;
    }
    batch_req *r = b->req[i];
    if (r->state != BATCH_OPEN) {
        spindle_error_set(&b->err, SPINDLE_ERR_INVALID,
                          "%s request %zu (task %s) of '%s': already %s", what, i, r->id, b->func,
                          r->state == BATCH_ACCEPTED ? "accepted" : "rejected");
        return NULL;
    }
    return r;
}

size_t spindle_batch_size(const spindle_batch *b)
{
    return b->n;
}

const char *spindle_batch_func(const spindle_batch *b)
{
    return b->func;
}

const char *spindle_batch_queue(const spindle_batch *b)
{
    return b->queue;
}

const msgpack_object *spindle_batch_args(const spindle_batch *b, size_t i)
{
    return i < b->n ? &b->req[i]->args : NULL;
}

const char *spindle_batch_id(const spindle_batch *b, size_t i)
{
    return i < b->n ? b->req[i]->id : NULL;
}

long spindle_batch_attempt(const spindle_batch *b, size_t i)
{
    return i < b->n ? b->req[i]->attempt : 0;
}

int spindle_batch_cancelled(spindle_batch *b, size_t i)
{
    if (i >= b->n)
        return 0;
    batch_req *r = b->req[i];
    atomic_int *flag = r->ctx && r->ctx->cancel ? r->ctx->cancel : &r->cancel;
    if (atomic_load(flag))
        return 1;
    /* The supervisor flags the request it sees running, and rings every request it hears of. */
    if ((i == b->shown && b->slot_cancel && atomic_load(b->slot_cancel)) ||
        spindle_cancel_ring_has(b->ring, r->id, r->attempt)) {
        atomic_store(flag, 1);
        return 1;
    }
    return 0;
}

spindle_task_ctx *spindle_batch_task(spindle_batch *b, size_t i)
{
    return i < b->n ? b->req[i]->ctx : NULL;
}

int spindle_batch_accept(spindle_batch *b, size_t i, const char *result, size_t len)
{
    batch_req *r = req_at(b, i, "accepting");
    if (r == NULL)
        return b->err.code;
    if (len == 0) {
        result = "\xc0"; /* nil */
        len = 1;
    }
    /* Exactly one value, or the caller could not read it back. */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&u, result, len, &off);
    msgpack_unpacked_destroy(&u);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        return spindle_error_set(&b->err, SPINDLE_ERR_INVALID,
                                 "accepting request %zu (task %s) of '%s': the result (%zu bytes) "
                                 "is not exactly one msgpack value",
                                 i, r->id, b->func, len);
    msgpack_sbuffer_clear(&r->out);
    if (msgpack_sbuffer_write(&r->out, result, len) != 0)
        return spindle_error_set(&b->err, SPINDLE_ERR_NOMEM,
                                 "accepting request %zu of '%s': out of memory", i, b->func);
    r->state = BATCH_ACCEPTED;
    return SPINDLE_OK;
}

int spindle_batch_accept_object(spindle_batch *b, size_t i, const msgpack_object *result)
{
    if (req_at(b, i, "accepting") == NULL)
        return b->err.code;
    if (result == NULL)
        return spindle_batch_accept(b, i, NULL, 0);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    int rc = msgpack_pack_object(&pk, *result) == 0
                 ? spindle_batch_accept(b, i, buf.data, buf.size)
                 : spindle_error_set(&b->err, SPINDLE_ERR_NOMEM,
                                     "accepting request %zu of '%s': out of memory", i, b->func);
    msgpack_sbuffer_destroy(&buf);
    return rc;
}

int spindle_batch_accept_int(spindle_batch *b, size_t i, int64_t result)
{
    char buf[9];
    msgpack_sbuffer sb = {.size = 0, .data = NULL, .alloc = 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (msgpack_pack_int64(&pk, result) != 0 || sb.size > sizeof(buf)) {
        msgpack_sbuffer_destroy(&sb);
        return spindle_error_set(&b->err, SPINDLE_ERR_NOMEM,
                                 "accepting request %zu of '%s': out of memory", i, b->func);
    }
    size_t len = sb.size;
    memcpy(buf, sb.data, len);
    msgpack_sbuffer_destroy(&sb);
    return spindle_batch_accept(b, i, buf, len);
}

static void reject_v(batch_req *r, const char *fmt, va_list ap)
{
    char msg[TASK_ERROR_MAX];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    msgpack_sbuffer_clear(&r->out);
    msgpack_sbuffer_write(&r->out, msg, len);
    r->state = BATCH_REJECTED;
}

int spindle_batch_reject(spindle_batch *b, size_t i, const char *fmt, ...)
{
    batch_req *r = req_at(b, i, "rejecting");
    if (r == NULL)
        return b->err.code;
    va_list ap;
    va_start(ap, fmt);
    reject_v(r, fmt, ap);
    va_end(ap);
    return SPINDLE_OK;
}

int spindle_batch_fail(spindle_batch *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->error, sizeof(b->error), fmt, ap);
    va_end(ap);
    b->failed = 1;
    for (size_t i = 0; i < b->n; i++)
        if (b->req[i]->state == BATCH_OPEN)
            spindle_batch_reject(b, i, "%s", b->error);
    return SPINDLE_ERR_TASK_FAILED;
}

int spindle_batch_settled(const spindle_batch *b, size_t i)
{
    return i < b->n ? b->req[i]->state : 0;
}

const char *spindle_batch_errstr(const spindle_batch *b)
{
    return b->err.msg;
}

void spindle_batch_call(spindle_batch *b, spindle_batch_fn fn, void *userdata)
{
    int rc = fn(b, userdata);
    if (rc == SPINDLE_OK)
        return;
    for (size_t i = 0; i < b->n; i++) {
        if (b->req[i]->state != BATCH_OPEN)
            continue;
        if (b->failed)
            spindle_batch_reject(b, i, "%s", b->error);
        else
            spindle_batch_reject(b, i, "batch function '%s' returned %d (%s) without a message",
                                 b->func, rc, spindle_status_name(rc));
    }
}

int spindle_batch_single(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    const registry_entry *e = ctx->entry;
    if (e == NULL || e->batch_fn == NULL)
        return spindle_task_fail(ctx, "'%s' is not a batch function", ctx->func);
    batch_req r = {.id = ctx->id, .attempt = ctx->attempt, .args = *args, .ctx = ctx};
    msgpack_sbuffer_init(&r.out);
    atomic_init(&r.cancel, 0);
    batch_req *one = &r;
    spindle_batch b = {.func = ctx->func,
                       .queue = ctx->queue,
                       .userdata = e->userdata,
                       .n = 1,
                       .req = &one,
                       .slot_cancel = ctx->cancel};
    spindle_batch_call(&b, e->batch_fn, e->userdata);
    int rc = SPINDLE_OK;
    if (r.state == BATCH_ACCEPTED)
        rc = result->callback(result->data, r.out.data, r.out.size) == 0
                 ? SPINDLE_OK
                 : spindle_task_fail(ctx, "out of memory packing the result");
    else if (r.state == BATCH_REJECTED)
        rc = spindle_task_fail(ctx, "%.*s", (int)r.out.size, r.out.data ? r.out.data : "");
    else
        rc = spindle_task_fail(ctx,
                               "batch function '%s' left the request unsettled (run as a batch "
                               "of one, it has no queue to go back to)",
                               ctx->func);
    msgpack_sbuffer_destroy(&r.out);
    return rc;
}

int spindle_registry_add_batch(spindle_registry *reg, const char *name, spindle_batch_fn fn,
                               int max_batch, long max_wait_ms, void *userdata)
{
    int rc = spindle_name_check(name, "function", &reg->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (fn == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "batch function '%s' registered with a NULL pointer", name);
    if (max_batch < 1 || max_batch > SPINDLE_BATCH_MAX)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "batch function '%s': max_batch %d is not in 1-%d", name,
                                 max_batch, SPINDLE_BATCH_MAX);
    if (max_wait_ms < 0 || max_wait_ms > SPINDLE_BATCH_MAX_WAIT_MS)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "batch function '%s': max_wait_ms %ld is not in 0-%d", name,
                                 max_wait_ms, SPINDLE_BATCH_MAX_WAIT_MS);
    rc = spindle_registry_add(reg, name, spindle_batch_single, userdata);
    if (rc != SPINDLE_OK)
        return rc;
    registry_entry *e = &reg->entries[reg->n - 1];
    e->batch_fn = fn;
    e->max_batch = max_batch;
    e->max_wait_ms = max_wait_ms;
    reg->nbatch++;
    return SPINDLE_OK;
}
