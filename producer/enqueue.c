/* Enqueue, single and bulk (client.h). Everything is validated before anything is sent, so
 * a refused call leaves nothing half-enqueued. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/deps.h"
#include "common/msgpack_check.h"
#include "producer/client_impl.h"
#include "store/ops.h"

/* Tasks per script call in a bulk enqueue: large enough that round trips stop mattering,
 * small enough that one script call stays well under a millisecond of Redis time. */
#define BULK_CHUNK 1000

static const char empty_array[] = "\x90";

void spindle_enqueue_options_init(spindle_enqueue_options *opts)
{
    opts->queue = NULL;
    opts->result_ttl_s = -1;
    opts->timeout_s = 0;
    opts->max_retries = -1;
    opts->backoff_ms = 0;
    opts->backoff_max_ms = 0;
    opts->run_at_ms = 0;
    opts->delay_ms = 0;
    opts->deadline_ms = 0;
    opts->expires_in_ms = 0;
    opts->unique_key = NULL;
    opts->unique_ttl_s = 0;
    opts->run_anyway = 0;
}

/* Checks a pair of time options: an absolute time and a relative one, at most one set, each
 * 0 (not set) to SPINDLE_MAX_TIME_MS. */
static int check_time_pair(spindle_client *c, const char *abs_name, int64_t abs_ms,
                           const char *rel_name, int64_t rel_ms)
{
    if (abs_ms < 0 || abs_ms > SPINDLE_MAX_TIME_MS || rel_ms < 0 || rel_ms > SPINDLE_MAX_TIME_MS)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "%s %" PRId64 " / %s %" PRId64 " ms: out of range, 0 (not set) "
                                 "to %" PRId64,
                                 abs_name, abs_ms, rel_name, rel_ms, SPINDLE_MAX_TIME_MS);
    if (abs_ms > 0 && rel_ms > 0)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "%s and %s are both set: give one or the other", abs_name,
                                 rel_name);
    return SPINDLE_OK;
}

/* Validates the options of delayed, expiring and unique tasks (client.h) into to. */
static int check_schedule(spindle_client *c, const spindle_enqueue_options *opts,
                          spindle_task_opts *to)
{
    int rc = check_time_pair(c, "run_at_ms", opts->run_at_ms, "delay_ms", opts->delay_ms);
    if (rc == SPINDLE_OK)
        rc = check_time_pair(c, "deadline_ms", opts->deadline_ms, "expires_in_ms",
                             opts->expires_in_ms);
    if (rc != SPINDLE_OK)
        return rc;
    if ((opts->deadline_ms > 0 && opts->deadline_ms <= opts->run_at_ms) ||
        (opts->expires_in_ms > 0 && opts->expires_in_ms <= opts->delay_ms))
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "the task would expire before it could start: %s %" PRId64
                                 " is not after %s %" PRId64,
                                 opts->deadline_ms ? "deadline_ms" : "expires_in_ms",
                                 opts->deadline_ms ? opts->deadline_ms : opts->expires_in_ms,
                                 opts->deadline_ms ? "run_at_ms" : "delay_ms",
                                 opts->deadline_ms ? opts->run_at_ms : opts->delay_ms);
    if (opts->unique_key) {
        if ((rc = spindle_name_check(opts->unique_key, "unique key", &c->err)) != SPINDLE_OK)
            return rc;
        if (opts->unique_ttl_s < 1 || opts->unique_ttl_s > SPINDLE_MAX_UNIQUE_TTL_S)
            return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                     "unique_ttl_s %ld is out of range: 1 to %ld (required with "
                                     "unique_key '%s')",
                                     opts->unique_ttl_s, SPINDLE_MAX_UNIQUE_TTL_S,
                                     opts->unique_key);
    } else if (opts->unique_ttl_s != 0) {
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "unique_ttl_s %ld is set without a unique_key",
                                 opts->unique_ttl_s);
    }
    to->run_at_ms = opts->run_at_ms;
    to->delay_ms = opts->delay_ms;
    to->deadline_ms = opts->deadline_ms;
    to->expires_in_ms = opts->expires_in_ms;
    to->unique_key = opts->unique_key;
    to->unique_ttl_s = opts->unique_ttl_s;
    return SPINDLE_OK;
}

/* Checks one back-off option (0: the protocol default). */
static int check_backoff(spindle_client *c, const char *name, long v)
{
    if (v < 0 || v > SPINDLE_MAX_BACKOFF_MS)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "%s %ld ms is out of range: 0 (the default) to %ld", name, v,
                                 SPINDLE_MAX_BACKOFF_MS);
    return SPINDLE_OK;
}

int spindle_enqueue_check_options(spindle_client *c, const spindle_enqueue_options *opts,
                                  const char **queue, spindle_task_opts *to)
{
    spindle_enqueue_options dflt;
    if (opts == NULL) {
        spindle_enqueue_options_init(&dflt);
        opts = &dflt;
    }
    *queue = opts->queue;
    int rc = *queue ? spindle_name_check(*queue, "queue", &c->err) : SPINDLE_OK;
    if (rc != SPINDLE_OK)
        return rc;
    if (opts->timeout_s < 0)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "timeout %ld s is negative",
                                 opts->timeout_s);
    if (opts->max_retries < -1 || opts->max_retries > SPINDLE_MAX_RETRIES)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "max_retries %d is out of range: -1 (unset) to %d",
                                 opts->max_retries, SPINDLE_MAX_RETRIES);
    if ((rc = check_backoff(c, "backoff_ms", opts->backoff_ms)) != SPINDLE_OK ||
        (rc = check_backoff(c, "backoff_max_ms", opts->backoff_max_ms)) != SPINDLE_OK ||
        (rc = check_schedule(c, opts, to)) != SPINDLE_OK)
        return rc;
    /* Every field: the store reads them all, and `to` is the caller's uninitialized stack. */
    to->result_ttl_s = opts->result_ttl_s;
    to->timeout_s = opts->timeout_s;
    to->max_retries = opts->max_retries;
    to->backoff_ms = opts->backoff_ms;
    to->backoff_max_ms = opts->backoff_max_ms;
    to->proc = NULL;
    to->pinfo = NULL;
    to->pinfo_len = 0;
    to->group = NULL;
    return SPINDLE_OK;
}

/* Checks that buf is exactly one msgpack array; *refs (may be NULL) is 1 if it holds task
 * refs (dependencies). */
static int check_args(spindle_client *c, const char *func, const void *buf, size_t len, int *refs)
{
    if (len > CLIENT_MAX_ARGS(c))
        return spindle_error_set(&c->err, SPINDLE_ERR_TOO_LARGE,
                                 "args of '%s' are %zu bytes, above the client's max_args_bytes "
                                 "of %zu",
                                 func, len, CLIENT_MAX_ARGS(c));
    int deepest = 0;
    const char *bad =
        spindle_msgpack_check_depth(buf, len, SPINDLE_MSGPACK_MAX_DEPTH, refs, &deepest);
    if (bad == NULL && deepest > CLIENT_MAX_DEPTH(c))
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "args of '%s' are nested %d deep, above the client's max_depth "
                                 "of %d",
                                 func, deepest, CLIENT_MAX_DEPTH(c));
    unsigned char first = len ? *(const unsigned char *)buf : 0;
    int is_array = (first & 0xf0) == 0x90 || first == 0xdc || first == 0xdd;
    if (bad || !is_array)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "args of '%s' must be exactly one msgpack array (%zu bytes "
                                 "given: %s)",
                                 func, len, bad ? bad : "not an array");
    return SPINDLE_OK;
}

int spindle_enqueue_task(spindle_client *c, const char *func, const char *args, size_t len,
                         const spindle_enqueue_options *opts, const spindle_proc_fields *pf,
                         int refs, spindle_handle **out)
{
    const char *queue;
    spindle_task_opts to;
    int rc = spindle_enqueue_check_options(c, opts, &queue, &to);
    if (rc == SPINDLE_OK)
        rc = spindle_name_check(func, "function", &c->err);
    if (rc == SPINDLE_OK)
        rc = spindle_client_route(c, func, queue, &queue);
    if (rc != SPINDLE_OK)
        return rc;
    if (pf) {
        to.proc = pf->proc;
        to.pinfo = pf->pinfo;
        to.pinfo_len = pf->pinfo_len;
    }
    if (refs < 0 && spindle_msgpack_check_refs(args, len, SPINDLE_MSGPACK_MAX_DEPTH, &refs))
        refs = 0;
    if (refs)
        return spindle_enqueue_deps(c, queue, func, args, len, &to, opts && opts->run_anyway, NULL,
                                    out);
    if (c->sync && spindle_task_opts_special(&to))
        return spindle_sync_refuse(c, "a delayed, expiring or unique task");
    if (c->sync)
        return spindle_sync_enqueue(c, queue, func, args, len, &to, out);
    spindle_new_task t = {.func = func, .args = args, .args_len = len};
    char id[SPINDLE_ID_LEN + 1], holder[SPINDLE_ID_LEN + 1] = "";
    spindle_id_new(id);
    t.id = id;
    rc = spindle_client_register_queue(c, queue);
    if (rc == SPINDLE_OK && spindle_task_opts_special(&to))
        rc = spindle_store_enqueue_opts(&c->store, queue, &t, 1, &to, holder);
    else if (rc == SPINDLE_OK)
        rc = spindle_store_enqueue(&c->store, queue, &t, 1, &to);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "enqueue '%s' on queue '%s': ", func, queue);
    /* The handle after the call: a duplicate's is the holder's. A failure to allocate it
     * leaves the task enqueued, and says so. */
    if (out && (*out = spindle_handle_make(c, holder[0] ? holder : id, queue)) == NULL)
        return spindle_error_wrap(&c->err, "enqueue '%s' on queue '%s' (task %s enqueued): ", func,
                                  queue, id);
    if (out)
        (*out)->deduplicated = holder[0] != '\0';
    return SPINDLE_OK;
}

int spindle_enqueue(spindle_client *c, const char *func, spindle_args *args,
                    const spindle_enqueue_options *opts, spindle_handle **out)
{
    const char *data = empty_array;
    size_t len = 1;
    if (args) {
        int rc = spindle_args_data(args, &data, &len);
        if (rc != SPINDLE_OK)
            return spindle_error_set(
                &c->err, rc, "enqueue '%s': the argument builder failed (%s)%s",
                func ? func : "(null)", spindle_status_name(rc),
                rc == SPINDLE_ERR_INVALID ? ": a container is still open" : "");
        if (len > CLIENT_MAX_ARGS(c))
            return check_args(c, func ? func : "(null)", data, len, NULL);
    }
    return spindle_enqueue_task(c, func, data, len, opts, NULL, args && spindle_args_has_refs(args),
                                out);
}

int spindle_enqueue_msgpack(spindle_client *c, const char *func, const void *args, size_t len,
                            const spindle_enqueue_options *opts, spindle_handle **out)
{
    if (args == NULL || len == 0) {
        args = empty_array;
        len = 1;
    }
    int refs = 0;
    int rc = check_args(c, func ? func : "(null)", args, len, &refs);
    return rc ? rc : spindle_enqueue_task(c, func, args, len, opts, NULL, refs, out);
}

/* A bulk enqueue on a synchronous client: each task runs in turn, in the caller's order,
 * on its own queue. */
static int sync_bulk(spindle_client *c, const char *const *queues, const spindle_task_spec *specs,
                     size_t n, const spindle_task_opts *to, spindle_handle **out)
{
    if (out)
        memset(out, 0, n * sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const spindle_task_spec *sp = &specs[i];
        int has = sp->args && sp->args_len;
        int rc = spindle_sync_enqueue(c, queues[i], sp->func, has ? sp->args : empty_array,
                                      has ? sp->args_len : 1, to, out ? &out[i] : NULL);
        if (rc != SPINDLE_OK)
            return spindle_error_wrap(
                &c->err, "bulk enqueue on queue '%s' (%zu of %zu run): ", queues[i], i, n);
    }
    return SPINDLE_OK;
}

/* Scratch space for sending one queue's share of a bulk enqueue, chunk by chunk. */
typedef struct bulk_scratch {
    spindle_new_task *tasks;
    char (*ids)[SPINDLE_ID_LEN + 1];
    size_t chunk;
} bulk_scratch;

/* Sends the m tasks specs[idx[0..m)] (idx NULL: specs[0..m)) on queue, in that order, in
 * chunks; their handles go to out[idx[i]]. *sent counts the tasks sent. On a failure the
 * handles of the failed chunk are freed and NULL. */
static int bulk_queue(spindle_client *c, const char *queue, const spindle_task_spec *specs,
                      const size_t *idx, size_t m, const spindle_task_opts *to, bulk_scratch *b,
                      spindle_handle **out, size_t *sent)
{
    int rc = spindle_client_register_queue(c, queue);
    size_t done = 0;
    while (rc == SPINDLE_OK && done < m) {
        size_t k = m - done < b->chunk ? m - done : b->chunk;
        for (size_t i = 0; i < k; i++) {
            size_t at = idx ? idx[done + i] : done + i;
            const spindle_task_spec *sp = &specs[at];
            spindle_id_new(b->ids[i]);
            b->tasks[i].id = b->ids[i];
            b->tasks[i].func = sp->func;
            b->tasks[i].args = sp->args && sp->args_len ? sp->args : empty_array;
            b->tasks[i].args_len = sp->args && sp->args_len ? sp->args_len : 1;
            if (out && (out[at] = spindle_handle_make(c, b->ids[i], queue)) == NULL)
                rc = SPINDLE_ERR_NOMEM;
        }
        if (rc == SPINDLE_OK)
            rc = spindle_store_enqueue(&c->store, queue, b->tasks, k, to);
        if (rc != SPINDLE_OK && out)
            for (size_t i = 0; i < k; i++) {
                size_t at = idx ? idx[done + i] : done + i;
                spindle_handle_free(out[at]);
                out[at] = NULL;
            }
        if (rc == SPINDLE_OK) {
            done += k;
            *sent += k;
        }
    }
    if (rc != SPINDLE_OK)
        spindle_error_wrap(&c->err, "queue '%s': ", queue);
    return rc;
}

/* Sends the tasks grouped by queue: for each queue, in the order of its first task, its
 * tasks in the caller's order. One queue (the usual case) needs no grouping. */
static int bulk_send(spindle_client *c, const char *const *queues, const spindle_task_spec *specs,
                     size_t n, const spindle_task_opts *to, bulk_scratch *b, spindle_handle **out,
                     size_t *sent)
{
    size_t first_other = 1;
    while (first_other < n && strcmp(queues[first_other], queues[0]) == 0)
        first_other++;
    if (first_other >= n)
        return n ? bulk_queue(c, queues[0], specs, NULL, n, to, b, out, sent) : SPINDLE_OK;
    size_t *idx = malloc(n * sizeof(*idx));
    unsigned char *taken = calloc(n, 1);
    int rc = idx && taken
                 ? SPINDLE_OK
                 : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "bulk enqueue: out of memory");
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        if (taken[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!taken[j] && strcmp(queues[j], queues[i]) == 0) {
                taken[j] = 1;
                idx[m++] = j;
            }
        rc = bulk_queue(c, queues[i], specs, idx, m, to, b, out, sent);
    }
    free(idx);
    free(taken);
    return rc;
}

int spindle_enqueue_bulk(spindle_client *c, const spindle_task_spec *specs, size_t n,
                         const spindle_enqueue_options *opts, spindle_handle **out)
{
    const char *explicit_queue;
    spindle_task_opts to;
    int rc = spindle_enqueue_check_options(c, opts, &explicit_queue, &to);
    if (rc != SPINDLE_OK)
        return rc;
    if (to.unique_key)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "bulk enqueue: unique_key '%s' is not supported (one key for "
                                 "%zu tasks); enqueue unique tasks one by one",
                                 to.unique_key, n);
    if (c->sync && spindle_task_opts_special(&to))
        return spindle_sync_refuse(c, "a delayed or expiring task");
    for (size_t i = 0; i < n; i++) {
        rc = spindle_name_check(specs[i].func, "function", &c->err);
        int refs = 0;
        if (rc == SPINDLE_OK && specs[i].args && specs[i].args_len)
            rc = check_args(c, specs[i].func, specs[i].args, specs[i].args_len, &refs);
        if (rc == SPINDLE_OK && refs)
            rc = spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                   "'%s' has task handles in its args: enqueue tasks with "
                                   "dependencies one by one",
                                   specs[i].func);
        if (rc != SPINDLE_OK)
            return spindle_error_wrap(&c->err, "bulk enqueue, task %zu: ", i);
    }
    /* Every task's queue, decided before anything is sent (borrowed from the route table). */
    const char **queues = malloc((n ? n : 1) * sizeof(*queues));
    if (queues == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "bulk enqueue: out of memory");
    for (size_t i = 0; i < n && rc == SPINDLE_OK; i++)
        rc = spindle_client_route(c, specs[i].func, explicit_queue, &queues[i]);
    if (rc != SPINDLE_OK) {
        free(queues);
        return rc;
    }
    if (c->sync) {
        rc = sync_bulk(c, queues, specs, n, &to, out);
        free(queues);
        return rc;
    }
    bulk_scratch b = {.chunk = n < BULK_CHUNK ? (n ? n : 1) : BULK_CHUNK};
    b.tasks = malloc(b.chunk * sizeof(*b.tasks));
    b.ids = malloc(b.chunk * sizeof(*b.ids));
    size_t sent = 0;
    if (b.tasks == NULL || b.ids == NULL) {
        rc = spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "bulk enqueue: out of memory");
    } else {
        if (out)
            memset(out, 0, n * sizeof(*out));
        rc = bulk_send(c, queues, specs, n, &to, &b, out, &sent);
    }
    free(b.tasks);
    free(b.ids);
    free(queues);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "bulk enqueue (%zu of %zu sent): ", sent, n);
    return SPINDLE_OK;
}
