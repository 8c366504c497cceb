/* The args a dependent task's function receives (docs/PROTOCOL.md, "Dependencies"): each
 * task ref replaced by what that dependency handed over when it ended (its result, or with
 * run anyway its error).
 *
 * Why a read here rather than at release: the outcomes are copied into the dependent's hash
 * by the step that ends each dependency (so that a TTL-0 dependency, whose hash is deleted
 * at once, still hands its result over), and the worker reads them back with one HMGET, only
 * for tasks whose args hold a ref: execute.c learns that from the args check it does
 * anyway. */
#include <stdlib.h>
#include <string.h>

#include "common/deps.h"
#include "store/deps.h"
#include "worker/worker_impl.h"

int spindle_task_deps(spindle_task_ctx *ctx, msgpack_object *args, msgpack_zone *zone,
                      spindle_error *err)
{
    /* A synchronous client replaced the refs at enqueue (producer/deps.c). */
    if (ctx->store == NULL)
        return SPINDLE_OK;
    spindle_dep_ref *refs = NULL;
    size_t n = 0;
    int rc = spindle_deps_collect(args, &refs, &n, err);
    spindle_dep_outcome *outs = rc == SPINDLE_OK && n ? calloc(n, sizeof(*outs)) : NULL;
    if (rc != SPINDLE_OK || n == 0) {
        free(refs);
        return rc;
    }
    redisReply *reply = NULL;
    int anyway = 0;
    if (outs == NULL)
        rc = spindle_error_set(err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
    else if ((rc = spindle_store_dep_outcomes(ctx->store, ctx->queue, ctx->id, refs, n, outs,
                                              &anyway, &reply)) != SPINDLE_OK)
        spindle_error_set(err, rc, "%s", ctx->store->err->msg);
    /* The outcomes are copied into the zone, which lives as long as the args it backs. */
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        if (outs[i].len == 0)
            continue;
        char *copy = msgpack_zone_malloc(zone, outs[i].len);
        if (copy == NULL)
            rc = spindle_error_set(err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
        else
            outs[i].data = memcpy(copy, outs[i].data, outs[i].len);
    }
    if (reply)
        freeReplyObject(reply);
    msgpack_object sub;
    if (rc == SPINDLE_OK &&
        (rc = spindle_deps_substitute(args, refs, outs, n, anyway, zone, &sub, err)) == SPINDLE_OK)
        *args = sub;
    free(outs);
    free(refs);
    return rc;
}
