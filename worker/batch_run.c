/* Running one batch in a slot (batch.h): checks each request as execute.c checks a task,
 * runs the middleware befores per request, shows the supervisor one request as running,
 * calls the handler once, runs the afters, and settles every request in one script call.
 *
 * Why one request is shown: the supervisor's view of a slot (slot_state.h) is one task,
 * which it kills on timeout, charges with a crash and flags for a cancel. The batch shows the
 * request with the smallest timeout, so the batch runs under that timeout and that request
 * answers for the batch; the others, still in the slot's in-flight list, go back to pending
 * if the slot dies (spindle/batch.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/msgpack_check.h"
#include "worker/batch.h"
#include "worker/metrics.h"

/* The text on_error middleware hooks see for a request the handler left open. */
static const char UNSETTLED[] = "not settled by the batch function: handed back to pending";

/* Decodes the request's args into zone as execute.c does for a task: NULL, or what is wrong
 * with them (in why, size TASK_ERROR_MAX). *refs: 1 if they hold task refs (dependencies). */
static const char *decode(const char *func, const batch_item *it, int max_depth, msgpack_zone *zone,
                          msgpack_object *args, int *refs, char *why)
{
    int deepest = 0;
    const char *bad = spindle_msgpack_check_depth(it->args, it->args_len, SPINDLE_MSGPACK_MAX_DEPTH,
                                                  refs, &deepest);
    if (max_depth <= 0)
        max_depth = SPINDLE_MSGPACK_MAX_DEPTH;
    if (bad == NULL && deepest > max_depth) {
        snprintf(why, TASK_ERROR_MAX,
                 "args of '%s' are nested %d deep, above the worker's max_depth of %d", func,
                 deepest, max_depth);
        return why;
    }
    size_t off = 0;
    if (bad == NULL) {
        msgpack_unpack_return ur = msgpack_unpack(it->args, it->args_len, &off, zone, args);
        if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
            bad = "too large to decode";
        else if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES)
            bad = "not valid msgpack";
        else if (off != it->args_len)
            bad = "followed by junk bytes";
        else if (args->type != MSGPACK_OBJECT_ARRAY)
            bad = "not a msgpack array";
    }
    if (bad == NULL)
        return NULL;
    snprintf(why, TASK_ERROR_MAX, "args of '%s' are %s (%zu bytes)", func, bad, it->args_len);
    return why;
}

static void reject_text(batch_req *r, const char *text)
{
    msgpack_sbuffer_clear(&r->out);
    msgpack_sbuffer_write(&r->out, text, strlen(text));
    r->state = BATCH_REJECTED;
}

/* Shows request j of b to the supervisor as the running task, under timeout_ms. */
static void show(const spindle_batch_env *env, spindle_batch *b, size_t j, const char *queue,
                 long timeout_ms)
{
    /* A request holding a single-file lease is alone in its batch (no other task of its queue
     * can be claimed while it holds it), so it is the one shown and the lease is renewed. */
    spindle_slot_task t = {.running = 1,
                           .attempt = b->req[j]->attempt,
                           .timeout_ms = timeout_ms,
                           .lease = b->req[j]->lease};
    snprintf(t.id, sizeof(t.id), "%s", b->req[j]->id);
    snprintf(t.queue, sizeof(t.queue), "%s", queue);
    t.started_mono_ms = spindle_mono_ms();
    t.started_wall_ms = spindle_wall_ms();
    b->shown = j;
    if (spindle_slot_begin(env->st, &t, env->cfg->cancelled)) {
        /* Cancelled a moment ago: it still answers for the batch, and ends `cancelled`. */
        atomic_store(&b->req[j]->cancel, 1);
        spindle_slot_publish(env->st, &t);
    }
}

/* The settlement of item i from its request's state. */
static void settle_of(spindle_batch *b, const batch_scratch *sc, size_t i)
{
    spindle_settlement *set = &sc->settle[i];
    set->succeeded = -1; /* hand back */
    set->payload = "";
    set->payload_len = 0;
    if (!sc->used[i])
        return;
    batch_req *r = &sc->req[i];
    if (r->state != BATCH_OPEN) {
        set->succeeded = r->state == BATCH_ACCEPTED;
        set->payload = r->out.data ? r->out.data : "";
        set->payload_len = r->out.size;
        return;
    }
    for (size_t j = 0; j < b->n; j++)
        if (b->req[j] == r && spindle_batch_cancelled(b, j)) {
            set->succeeded = SPINDLE_SETTLE_CANCELLED;
            set->payload = "cancelled while running (left unsettled by its batch function)";
            set->payload_len = strlen(set->payload);
        }
}

/* Logs and counts what became of the settled requests, as the slot does for tasks; the
 * metrics (metrics.h) count each settled request as an attempt that ran for the whole call
 * (a request handed back is counted when it runs again). */
static void account(const spindle_batch_env *env, const batch_scratch *sc, const char *queue,
                    const char *func, size_t k, double elapsed_ms)
{
    spindle_metrics_row *row = spindle_metrics_row_of(env->cfg->metrics, queue, func);
    for (size_t i = 0; i < k; i++) {
        const spindle_settlement *set = &sc->settle[i];
        enum spindle_outcome o = sc->outcome[i];
        if (o == SPINDLE_OUTCOME_RELEASED)
            continue;
        if (o == SPINDLE_OUTCOME_REFUSED) {
            spindle_log(SPINDLE_LOG_WARN, set->id,
                        "settlement refused: attempt %ld no longer owns the task (it timed out "
                        "or its worker was presumed dead)",
                        set->attempt);
            continue;
        }
        spindle_metrics_started(row);
        spindle_metrics_ran(row, (long long)(elapsed_ms * 1000.0));
        spindle_metrics_outcome(row, (int)o);
        atomic_fetch_add(&env->st->processed, 1);
        if (o == SPINDLE_OUTCOME_CANCELLED) {
            spindle_log(SPINDLE_LOG_INFO, set->id, "cancelled (batch of '%s', attempt %ld)", func,
                        set->attempt);
            continue;
        }
        if (o == SPINDLE_OUTCOME_SUCCEEDED)
            continue;
        atomic_fetch_add(&env->st->failed, 1);
        spindle_log(SPINDLE_LOG_WARN, set->id, "%s rejected (attempt %ld%s): %.*s", func,
                    set->attempt, o == SPINDLE_OUTCOME_SCHEDULED ? ", retry scheduled" : "",
                    (int)set->payload_len, set->payload);
    }
}

/* Item i becomes request i: its args decoded, its context filled, its befores run. Returns
 * 1 if it is to be shown to the handler, 0 if it was rejected first. */
static int prepare(const spindle_batch_env *env, batch_scratch *sc, size_t i, const char *queue,
                   const registry_entry *e, const batch_item *it, msgpack_zone *zone)
{
    batch_req *r = &sc->req[i];
    r->id = it->id;
    r->attempt = it->attempt;
    r->lease = it->lease;
    r->state = BATCH_OPEN;
    r->entered = 0;
    atomic_store(&r->cancel, 0);
    msgpack_sbuffer_clear(&r->out);
    r->ctx = &sc->ctx[i];
    *r->ctx = (spindle_task_ctx){.id = it->id,
                                 .queue = queue,
                                 .func = e->name,
                                 .attempt = it->attempt,
                                 .userdata = e->userdata,
                                 .entry = e,
                                 .store = env->store,
                                 .worker_id = env->st->id,
                                 .cancel = &r->cancel,
                                 .progress_interval_ms = env->cfg->opts->progress_interval_ms,
                                 .max_args_bytes = env->cfg->opts->max_args_bytes,
                                 .max_result_bytes = env->cfg->opts->max_result_bytes,
                                 .max_items = env->cfg->opts->max_items,
                                 .max_depth = env->cfg->opts->max_depth,
                                 .max_channel_msg_bytes = env->cfg->opts->max_channel_msg_bytes};
    sc->used[i] = 1;
    char why[TASK_ERROR_MAX];
    long max_args = r->ctx->max_args_bytes > 0 ? r->ctx->max_args_bytes : SPINDLE_ARGS_MAX_DEFAULT;
    if (it->args_len > (size_t)max_args) {
        snprintf(why, sizeof(why),
                 "args of '%s' are %zu bytes, above the worker's max_args_bytes of %ld", e->name,
                 it->args_len, max_args);
        reject_text(r, why);
        return 0;
    }
    int refs = 0;
    const char *bad = decode(e->name, it, r->ctx->max_depth, zone, &r->args, &refs, why);
    if (bad) {
        reject_text(r, bad);
        return 0;
    }
    /* Dependencies' results in place of their handles, as for any task (one read each). */
    if (refs && spindle_task_deps(r->ctx, &r->args, zone, &r->ctx->call_err) != SPINDLE_OK) {
        reject_text(r, r->ctx->call_err.msg);
        return 0;
    }
    if (spindle_middleware_enter(env->cfg->reg, r->ctx, &r->entered) != SPINDLE_OK) {
        reject_text(r, r->ctx->error);
        return 0;
    }
    return 1;
}

int spindle_batch_run(const spindle_batch_env *env, batch_scratch *sc, const char *queue,
                      const registry_entry *e, const batch_item *items, size_t k)
{
    const spindle_slot_config *cfg = env->cfg;
    spindle_slot_state *st = env->st;
    spindle_batch b = {.func = e->name,
                       .queue = queue,
                       .userdata = e->userdata,
                       .req = sc->shown,
                       .ring = cfg->cancelled,
                       .slot_cancel = &st->cancel,
                       .shown = SIZE_MAX};
    msgpack_zone zone;
    msgpack_zone_init(&zone, 4096);
    int stop = atomic_load(&st->stop) != 0;
    long timeout_ms = 0;
    size_t answers = 0; /* the shown request with the smallest timeout */
    for (size_t i = 0; i < k; i++) {
        const batch_item *it = &items[i];
        sc->settle[i] =
            (spindle_settlement){.id = it->id,
                                 .attempt = it->attempt,
                                 .jitter = (double)rand_r(env->seed) / ((double)RAND_MAX + 1.0)};
        sc->used[i] = 0;
        /* Not started: handed back (the settle script ends a cancelled one `cancelled`). */
        if (stop || spindle_cancel_ring_has(cfg->cancelled, it->id, it->attempt))
            continue;
        if (!prepare(env, sc, i, queue, e, it, &zone))
            continue;
        long t = it->timeout_s > 0 ? it->timeout_s : cfg->opts->default_timeout_s;
        if (t > 0 && (timeout_ms == 0 || t * 1000 < timeout_ms)) {
            timeout_ms = t * 1000;
            answers = b.n;
        }
        sc->shown[b.n++] = &sc->req[i];
    }
    double elapsed_ms = 0;
    if (b.n > 0) {
        show(env, &b, answers, queue, timeout_ms);
        int64_t t0 = spindle_mono_us();
        spindle_batch_call(&b, e->batch_fn, e->userdata);
        elapsed_ms = (double)(spindle_mono_us() - t0) / 1000.0;
        spindle_slot_task idle = {.running = 0};
        spindle_slot_publish(st, &idle);
        atomic_store(&st->progress_ms, spindle_mono_ms());
    }
    size_t accepted = 0, rejected = 0;
    for (size_t i = 0; i < k; i++) {
        if (!sc->used[i])
            continue;
        batch_req *r = &sc->req[i];
        spindle_task_progress_flush(r->ctx);
        accepted += r->state == BATCH_ACCEPTED;
        rejected += r->state == BATCH_REJECTED;
        /* Exactly one leave per request whose befores ran: after, or on_error. */
        int open = r->state == BATCH_OPEN;
        spindle_middleware_leave(cfg->reg, r->ctx, r->entered, r->state == BATCH_ACCEPTED,
                                 open          ? UNSETTLED
                                 : r->out.data ? r->out.data
                                               : "",
                                 open ? strlen(UNSETTLED) : r->out.size, elapsed_ms);
    }
    for (size_t i = 0; i < k; i++)
        settle_of(&b, sc, i);
    spindle_log(SPINDLE_LOG_DEBUG, NULL,
                "batch of %zu '%s' in %.3f ms: %zu accepted, %zu rejected, %zu handed back", k,
                e->name, elapsed_ms, accepted, rejected, k - accepted - rejected);
    int rc;
    for (;;) {
        rc = spindle_store_settle(env->store, queue, st->id, sc->settle, k, sc->outcome);
        if (rc != SPINDLE_ERR_IO || atomic_load(&st->stop))
            break;
        env->back_off(env->slot);
    }
    if (rc == SPINDLE_OK)
        account(env, sc, queue, e->name, k, elapsed_ms);
    msgpack_zone_destroy(&zone);
    return rc;
}
