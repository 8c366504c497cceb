/* Submitting members to a task group (group.h): one task, or a map of many.
 *
 * Order of the two steps: the name is reserved in the group first (the group script, atomic,
 * so two producers cannot both take it), then the task is enqueued with its `group` field;
 * if the enqueue fails, the name is freed. The opposite order could leave a running task that
 * no name reaches. A map does the same per chunk of SPINDLE_GROUP_CHUNK tasks: one
 * reservation and one enqueue script call each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msgpack_check.h"
#include "producer/group_impl.h"
#include "store/ops.h"

static const char empty_array[] = "\x90";

/* The shared checks of a submission: the options (as spindle_enqueue() checks them, plus the
 * two a group refuses), the function, and the queue it is routed to. */
static int prepare(spindle_client *c, spindle_group *g, const char *func,
                   const spindle_enqueue_options *opts, const char **queue, spindle_task_opts *to)
{
    int rc = spindle_enqueue_check_options(c, opts, queue, to);
    if (rc != SPINDLE_OK)
        return rc;
    if (to->result_ttl_s == 0)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "group '%s': result_ttl_s 0 is refused for a member (its result "
                                 "must outlive its end to be read by name)",
                                 g->name);
    if (to->unique_key)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "group '%s': unique_key '%s' is refused for a member (a "
                                 "duplicate would name another group's task)",
                                 g->name, to->unique_key);
    if ((rc = spindle_name_check(func, "function", &c->err)) != SPINDLE_OK ||
        (rc = spindle_client_route(c, func, *queue, queue)) != SPINDLE_OK)
        return rc;
    to->group = g->name;
    return SPINDLE_OK;
}

/* Checks that args[0..len) is one msgpack array. */
static int check_args(spindle_client *c, const char *name, const char *args, size_t len)
{
    const char *bad = len > CLIENT_MAX_ARGS(c)
                          ? "too large"
                          : spindle_msgpack_check(args, len, SPINDLE_MSGPACK_MAX_DEPTH);
    unsigned char first = len ? (unsigned char)args[0] : 0;
    if (!bad && !((first & 0xf0) == 0x90 || first == 0xdc || first == 0xdd))
        bad = "not an array";
    if (bad)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "member '%s': args must be exactly one msgpack array (%zu bytes "
                                 "given: %s)",
                                 name, len, bad);
    return SPINDLE_OK;
}

/* 1 if the task's args hold task refs (dependencies: include/spindle/deps.h). */
static int has_refs(const spindle_new_task *t)
{
    int refs = 0;
    return spindle_msgpack_check_refs(t->args, t->args_len, SPINDLE_MSGPACK_MAX_DEPTH, &refs) ==
               NULL &&
           refs;
}

/* Enqueues tasks[0..n), whose names are reserved: in one call when none holds task refs,
 * else one by one in order, those with refs through the dependency path (which refuses an
 * unknown dependency). *done: how many were enqueued, the first ones. */
static int enqueue_members(spindle_client *c, const char *queue, const spindle_new_task *tasks,
                           size_t n, const spindle_task_opts *to, int anyway, size_t *done)
{
    *done = 0;
    int any = 0;
    for (size_t i = 0; i < n && !any; i++)
        any = has_refs(&tasks[i]);
    int rc = spindle_client_register_queue(c, queue);
    if (rc == SPINDLE_OK && !any) {
        rc = spindle_store_enqueue(&c->store, queue, tasks, n, to);
        *done = rc == SPINDLE_OK ? n : 0;
        return rc;
    }
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        rc = has_refs(&tasks[i])
                 ? spindle_enqueue_deps(c, queue, tasks[i].func, tasks[i].args, tasks[i].args_len,
                                        to, anyway, tasks[i].id, NULL)
                 : spindle_store_enqueue(&c->store, queue, &tasks[i], 1, to);
        if (rc == SPINDLE_OK)
            (*done)++;
    }
    return rc;
}

/* Reserves names[0..n) for tasks[0..n) on queue, then enqueues them; frees the names of those
 * not enqueued if the enqueue fails. */
static int reserve_and_enqueue(spindle_client *c, spindle_group *g, const char *queue,
                               const char *const *names, const spindle_new_task *tasks, size_t n,
                               const spindle_task_opts *to, int anyway)
{
    char(*refs)[SPINDLE_ID_LEN + SPINDLE_NAME_MAX + 1] = malloc(n * sizeof(*refs));
    const char **rp = malloc(n * sizeof(*rp));
    int rc = refs && rp ? SPINDLE_OK
                        : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory",
                                            g->name);
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        spindle_group_ref_format(refs[i], tasks[i].id, queue);
        rp[i] = refs[i];
    }
    if (rc == SPINDLE_OK)
        rc = spindle_store_group_reserve(&c->store, g->name, names, rp, n);
    free(refs);
    free(rp);
    if (rc != SPINDLE_OK)
        return rc;
    size_t done = 0;
    rc = enqueue_members(c, queue, tasks, n, to, anyway, &done);
    if (rc != SPINDLE_OK) {
        spindle_error saved = c->err;
        if (spindle_store_group_release(&c->store, g->name, names + done, n - done) != SPINDLE_OK)
            spindle_error_wrap(&saved, "(and freeing the names failed: %s) ", c->err.msg);
        c->err = saved;
        return spindle_error_wrap(&c->err, "enqueue on queue '%s' (%zu of %zu enqueued): ", queue,
                                  done, n);
    }
    return SPINDLE_OK;
}

int spindle_group_submit_msgpack(spindle_client *c, spindle_group *g, const char *name,
                                 const char *func, const void *args, size_t len,
                                 const spindle_enqueue_options *opts, spindle_handle **out)
{
    if (args == NULL || len == 0) {
        args = empty_array;
        len = 1;
    }
    int rc = spindle_group_check(c, g, "group submit");
    if (rc == SPINDLE_OK)
        rc = spindle_name_check(name, "member name", &c->err);
    if (rc == SPINDLE_OK)
        rc = check_args(c, name, args, len);
    const char *queue = NULL;
    spindle_task_opts to;
    if (rc == SPINDLE_OK)
        rc = prepare(c, g, func, opts, &queue, &to);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "group '%s', member '%s': ", g ? g->name : "?",
                                  name ? name : "(null)");
    char id[SPINDLE_ID_LEN + 1];
    spindle_id_new(id);
    spindle_new_task t = {.id = id, .func = func, .args = args, .args_len = len};
    rc = reserve_and_enqueue(c, g, queue, &name, &t, 1, &to, opts && opts->run_anyway);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "group '%s', member '%s': ", g->name, name);
    if (out && (*out = spindle_handle_make(c, id, queue)) == NULL)
        return spindle_error_wrap(&c->err, "group '%s', member '%s' (task %s submitted): ", g->name,
                                  name, id);
    return SPINDLE_OK;
}

int spindle_group_submit(spindle_client *c, spindle_group *g, const char *name, const char *func,
                         spindle_args *args, const spindle_enqueue_options *opts,
                         spindle_handle **out)
{
    const char *data = empty_array;
    size_t len = 1;
    if (args) {
        int rc = spindle_args_data(args, &data, &len);
        if (rc != SPINDLE_OK)
            return spindle_error_set(&c->err, rc,
                                     "group submit of '%s': the argument builder failed (%s)",
                                     name ? name : "(null)", spindle_status_name(rc));
    }
    return spindle_group_submit_msgpack(c, g, name, func, data, len, opts, out);
}

/* Scratch space for one chunk of a map. */
typedef struct map_chunk {
    char (*names)[SPINDLE_NAME_MAX + 1];
    const char **np;
    char (*ids)[SPINDLE_ID_LEN + 1];
    spindle_new_task *tasks;
} map_chunk;

/* Validates every name and argument list of a map before anything is sent. */
static int check_map(spindle_client *c, const char *prefix, spindle_args *const *args, size_t n)
{
    char name[SPINDLE_NAME_MAX + 32];
    snprintf(name, sizeof(name), "%s%zu", prefix, n ? n - 1 : 0);
    int rc = spindle_name_check(name, "member name", &c->err);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "prefix '%s' (with %zu members): ", prefix, n);
    for (size_t i = 0; i < n; i++) {
        const char *data;
        size_t len;
        if (args[i] && (rc = spindle_args_data(args[i], &data, &len)) != SPINDLE_OK)
            return spindle_error_set(&c->err, rc,
                                     "member '%s%zu': the argument builder failed (%s)", prefix, i,
                                     spindle_status_name(rc));
        if (args[i] && len > CLIENT_MAX_ARGS(c))
            return spindle_error_set(&c->err, SPINDLE_ERR_TOO_LARGE,
                                     "member '%s%zu': args are %zu bytes, above the client's "
                                     "max_args_bytes of %zu",
                                     prefix, i, len, CLIENT_MAX_ARGS(c));
    }
    return SPINDLE_OK;
}

int spindle_group_map(spindle_client *c, spindle_group *g, const char *prefix, const char *func,
                      spindle_args *const *args, size_t n, const spindle_enqueue_options *opts)
{
    int rc = spindle_group_check(c, g, "group map");
    if (rc == SPINDLE_OK && (prefix == NULL || (n > 0 && args == NULL)))
        rc = spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "no %s given",
                               prefix ? "argument lists" : "prefix");
    if (rc == SPINDLE_OK)
        rc = check_map(c, prefix, args, n);
    const char *queue = NULL;
    spindle_task_opts to;
    if (rc == SPINDLE_OK)
        rc = prepare(c, g, func, opts, &queue, &to);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "group '%s', map '%s': ", g ? g->name : "?",
                                  prefix ? prefix : "(null)");
    size_t chunk = n < SPINDLE_GROUP_CHUNK ? (n ? n : 1) : SPINDLE_GROUP_CHUNK;
    map_chunk m = {malloc(chunk * sizeof(*m.names)), malloc(chunk * sizeof(*m.np)),
                   malloc(chunk * sizeof(*m.ids)), malloc(chunk * sizeof(*m.tasks))};
    if (!m.names || !m.np || !m.ids || !m.tasks)
        rc = spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory", g->name);
    size_t sent = 0;
    while (rc == SPINDLE_OK && sent < n) {
        size_t k = n - sent < chunk ? n - sent : chunk;
        for (size_t i = 0; i < k; i++) {
            snprintf(m.names[i], sizeof(m.names[i]), "%s%zu", prefix, sent + i);
            m.np[i] = m.names[i];
            spindle_id_new(m.ids[i]);
            const char *data = empty_array;
            size_t len = 1;
            if (args[sent + i])
                spindle_args_data(args[sent + i], &data, &len); /* checked above */
            m.tasks[i] =
                (spindle_new_task){.id = m.ids[i], .func = func, .args = data, .args_len = len};
        }
        rc = reserve_and_enqueue(c, g, queue, m.np, m.tasks, k, &to, opts && opts->run_anyway);
        if (rc == SPINDLE_OK)
            sent += k;
    }
    free(m.names);
    free(m.np);
    free(m.ids);
    free(m.tasks);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "group '%s', map '%s' (%zu of %zu submitted): ", g->name,
                                  prefix, sent, n);
    return SPINDLE_OK;
}
