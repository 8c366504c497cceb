/* Synchronous clients (sync.h): enqueue runs the task in-process at once, and the handle
 * calls answer from memory.
 *
 * Why through spindle_execute(): a task must behave the same under test as in a worker —
 * the same lookup, argument and result checks, middleware chain and messages — so the
 * synchronous client calls the worker's execution path rather than a copy of it. The records
 * (common/sync_task.h) stand in for the task hashes; a linear list, since a unit test runs a
 * handful of tasks and lookups compare 36-byte ids. */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/sync_channel.h"
#include "common/sync_task.h"
#include "producer/client_impl.h"
#include "spindle/sync.h"
#include "store/ops.h"
#include "worker/worker_impl.h"

/* The worker id a task sees in a synchronous client. */
#define SYNC_WORKER_ID "sync"

struct spindle_sync {
    spindle_registry *reg;
    struct spindle_sync_task **tasks;
    size_t n, cap;
    msgpack_zone zone;
    msgpack_sbuffer out;
    spindle_sync_chans chans; /* the channels, lent to every task's record */
    int running;              /* a task is running: its enqueue or retry has not returned */
};

spindle_client *spindle_client_new_sync(spindle_registry *reg)
{
    if (reg == NULL)
        return NULL;
    spindle_client *c = calloc(1, sizeof(*c));
    struct spindle_sync *s = calloc(1, sizeof(*s));
    if (c == NULL || s == NULL) {
        free(c);
        free(s);
        return NULL;
    }
    s->reg = reg;
    msgpack_zone_init(&s->zone, 4096);
    msgpack_sbuffer_init(&s->out);
    c->sync = s;
    return c;
}

int spindle_client_is_sync(const spindle_client *c)
{
    return c->sync != NULL;
}

void spindle_sync_free(struct spindle_sync *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        spindle_sync_task_free(s->tasks[i]);
    free(s->tasks);
    spindle_sync_chans_free(&s->chans);
    msgpack_zone_destroy(&s->zone);
    msgpack_sbuffer_destroy(&s->out);
    free(s);
}

int spindle_sync_refuse(spindle_client *c, const char *what)
{
    return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                             "%s needs Redis: this client is synchronous (spindle_client_new_sync)",
                             what);
}

static int set_text(spindle_client *c, const struct spindle_sync_task *t, char **dst,
                    const char *src, size_t len)
{
    free(*dst);
    *dst = malloc(len + 1);
    if (*dst == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "task %s: out of memory", t->id);
    if (len)
        memcpy(*dst, src, len);
    (*dst)[len] = '\0';
    return SPINDLE_OK;
}

/* Runs t until it is final: attempts retried at once while its retries last. */
static int run_attempts(spindle_client *c, struct spindle_sync_task *t)
{
    struct spindle_sync *s = c->sync;
    for (;;) {
        t->attempts++;
        t->state = SPINDLE_STATE_RUNNING;
        t->started_at_ms = spindle_wall_ms();
        spindle_claimed claimed = {.id = t->id,
                                   .attempt = t->attempts,
                                   .func = t->func,
                                   .args = t->args,
                                   .args_len = t->args_len,
                                   .timeout_s = t->timeout_s,
                                   .result_ttl_s = t->result_ttl_s};
        spindle_task_ctx env = {
            .queue = t->queue, .worker_id = SYNC_WORKER_ID, .cancel = &t->cancel, .sync = t};
        int ok = spindle_execute(s->reg, &claimed, &env, 0, &s->zone, &s->out);
        t->finished_at_ms = spindle_wall_ms();
        const char *p = s->out.data ? s->out.data : "";
        int cancelled = atomic_load(&t->cancel) != 0;
        if (ok && !cancelled) {
            t->state = SPINDLE_STATE_SUCCEEDED;
            free(t->error);
            t->error = NULL;
            t->result_len = s->out.size;
            return set_text(c, t, &t->result, p, s->out.size);
        }
        static const char cancel_msg[] = "cancelled while running";
        int rc = ok ? set_text(c, t, &t->error, cancel_msg, sizeof(cancel_msg) - 1)
                    : set_text(c, t, &t->error, p, s->out.size);
        if (cancelled || rc != SPINDLE_OK || t->retried >= t->max_retries) {
            t->state = cancelled ? SPINDLE_STATE_CANCELLED : SPINDLE_STATE_FAILED;
            return rc;
        }
        t->retried++;
    }
}

static int run(spindle_client *c, struct spindle_sync_task *t)
{
    c->sync->running = 1;
    int rc = run_attempts(c, t);
    c->sync->running = 0;
    return rc;
}

/* A task that enqueues or retries on the client running it would run inside itself, on the
 * scratch buffers its own run still uses: refused. */
static int refuse_nested(spindle_client *c, const char *what, const char *name)
{
    return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                             "%s '%s': a task cannot %s on the synchronous client running it", what,
                             name, what);
}

/* A new record for the task (pending), added to the client's list; NULL with c->err set. */
static struct spindle_sync_task *add_record(spindle_client *c, const char *queue, const char *func,
                                            const char *args, size_t len,
                                            const spindle_task_opts *to)
{
    struct spindle_sync *s = c->sync;
    if (s->running) {
        refuse_nested(c, "enqueue", func);
        return NULL;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct spindle_sync_task **v = realloc(s->tasks, cap * sizeof(*v));
        if (v == NULL) {
            spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "enqueue '%s': out of memory", func);
            return NULL;
        }
        s->tasks = v;
        s->cap = cap;
    }
    struct spindle_sync_task *t = calloc(1, sizeof(*t));
    if (t == NULL || set_text(c, t, &t->args, args, len) != SPINDLE_OK ||
        (to->pinfo && set_text(c, t, &t->pinfo, to->pinfo, to->pinfo_len) != SPINDLE_OK)) {
        spindle_sync_task_free(t);
        spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "enqueue '%s': out of memory", func);
        return NULL;
    }
    spindle_id_new(t->id);
    snprintf(t->queue, sizeof(t->queue), "%s", queue);
    snprintf(t->func, sizeof(t->func), "%s", func);
    t->args_len = len;
    snprintf(t->proc, sizeof(t->proc), "%s", to->proc ? to->proc : "");
    t->pinfo_len = to->pinfo ? to->pinfo_len : 0;
    t->state = SPINDLE_STATE_PENDING;
    t->max_retries = to->max_retries;
    t->timeout_s = to->timeout_s;
    t->result_ttl_s = to->result_ttl_s;
    t->backoff_ms = to->backoff_ms;
    t->backoff_max_ms = to->backoff_max_ms;
    t->enqueued_at_ms = spindle_wall_ms();
    atomic_init(&t->cancel, 0);
    t->chans = &s->chans;
    s->tasks[s->n++] = t;
    return t;
}

int spindle_sync_enqueue(spindle_client *c, const char *queue, const char *func, const char *args,
                         size_t len, const spindle_task_opts *to, spindle_handle **out)
{
    struct spindle_sync_task *t = add_record(c, queue, func, args, len, to);
    if (t == NULL)
        return c->err.code;
    spindle_handle *h = NULL;
    if (out && (h = spindle_handle_make(c, t->id, queue)) == NULL)
        return SPINDLE_ERR_NOMEM;
    int rc = run(c, t);
    if (rc != SPINDLE_OK) {
        spindle_handle_free(h);
        return rc;
    }
    if (out)
        *out = h;
    return SPINDLE_OK;
}

int spindle_sync_enqueue_ended(spindle_client *c, const char *queue, const char *func,
                               const char *args, size_t len, const spindle_task_opts *to,
                               spindle_state state, const char *why, spindle_handle **out)
{
    struct spindle_sync_task *t = add_record(c, queue, func, args, len, to);
    if (t == NULL)
        return c->err.code;
    t->state = state;
    t->finished_at_ms = t->enqueued_at_ms;
    int rc = set_text(c, t, &t->error, why, strlen(why));
    if (rc == SPINDLE_OK && out && (*out = spindle_handle_make(c, t->id, queue)) == NULL)
        rc = SPINDLE_ERR_NOMEM;
    return rc;
}

/* The record of id (in queue, unless queue is NULL), or NULL with c->err set. */
static struct spindle_sync_task *find(spindle_client *c, const char *id, const char *queue)
{
    for (size_t i = 0; i < c->sync->n; i++) {
        struct spindle_sync_task *t = c->sync->tasks[i];
        if (strcmp(t->id, id) == 0 && (queue == NULL || strcmp(t->queue, queue) == 0))
            return t;
    }
    if (queue)
        spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND,
                          "task %s not found in queue '%s' (unknown to this synchronous client)",
                          id, queue);
    else
        spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND,
                          "task %s not found (unknown to this synchronous client)", id);
    return NULL;
}

const struct spindle_sync_task *spindle_sync_record(spindle_client *c, const char *id,
                                                    const char *queue)
{
    return find(c, id, queue);
}

spindle_sync_chans *spindle_sync_channels(spindle_client *c)
{
    return &c->sync->chans;
}

int spindle_sync_open(spindle_client *c, const char *id, const char *queue, spindle_handle **out)
{
    if (queue) {
        int rc = spindle_name_check(queue, "queue", &c->err);
        if (rc != SPINDLE_OK)
            return rc;
    }
    const struct spindle_sync_task *t = find(c, id, queue);
    if (t == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    *out = spindle_handle_make(c, t->id, t->queue);
    return *out ? SPINDLE_OK : SPINDLE_ERR_NOMEM;
}

int spindle_sync_status(spindle_client *c, const spindle_handle *h, spindle_state *state)
{
    const struct spindle_sync_task *t = find(c, h->id, h->queue);
    if (t == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    *state = t->state;
    return SPINDLE_OK;
}

int spindle_sync_info(spindle_client *c, const spindle_handle *h, spindle_task_info *info)
{
    memset(info, 0, sizeof(*info));
    const struct spindle_sync_task *t = find(c, h->id, h->queue);
    if (t == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    info->state = t->state;
    snprintf(info->func, sizeof(info->func), "%s", t->func);
    info->enqueued_at_ms = t->enqueued_at_ms;
    info->started_at_ms = t->started_at_ms;
    info->finished_at_ms = t->finished_at_ms;
    info->attempts = t->attempts;
    info->result_ttl_s = t->result_ttl_s;
    info->timeout_s = t->timeout_s;
    info->max_retries = t->max_retries;
    info->backoff_ms = t->backoff_ms > 0 ? t->backoff_ms : 0;
    info->backoff_max_ms = t->backoff_max_ms > 0 ? t->backoff_max_ms : 0;
    snprintf(info->worker, sizeof(info->worker), "%s", SYNC_WORKER_ID);
    info->expires_in_s = -1;
    info->retried = t->retried;
    if (t->error && (info->error = strdup(t->error)) == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "task %s: out of memory", t->id);
    return SPINDLE_OK;
}

int spindle_sync_wait(spindle_client *c, const spindle_handle *h, spindle_result **out)
{
    const struct spindle_sync_task *t = find(c, h->id, h->queue);
    if (t == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    if (t->state == SPINDLE_STATE_SUCCEEDED)
        return spindle_result_make(c, h, t->state, t->result, t->result_len, out);
    const char *e = t->error ? t->error : "";
    return spindle_result_make(c, h, t->state, e, strlen(e), out);
}

int spindle_sync_retry(spindle_client *c, const spindle_handle *h)
{
    if (c->sync->running)
        return refuse_nested(c, "retry", h->id);
    struct spindle_sync_task *t = find(c, h->id, h->queue);
    if (t == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    if (t->state != SPINDLE_STATE_FAILED && t->state != SPINDLE_STATE_CANCELLED)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "task %s is %s: only a failed, cancelled or scheduled task can "
                                 "be retried",
                                 t->id, spindle_state_name(t->state));
    t->retried = 0;
    atomic_store(&t->cancel, 0);
    free(t->result);
    t->result = NULL;
    t->result_len = 0;
    return run(c, t);
}

int spindle_sync_progress(spindle_client *c, const spindle_handle *h, spindle_progress *out)
{
    const struct spindle_sync_task *t = find(c, h->id, h->queue);
    if (t == NULL) {
        memset(out, 0, sizeof(*out));
        return SPINDLE_ERR_NOT_FOUND;
    }
    *out = t->progress;
    return SPINDLE_OK;
}
