/* Enqueue of a task with dependencies (include/spindle/deps.h, docs/PROTOCOL.md
 * "Dependencies"): the task refs are found in its args, checked, and the task is enqueued
 * through the dependency-aware script (store/deps.c); on a synchronous client, where every
 * task has ended by the time its handle exists, the refs are replaced by their outcomes at
 * once and the task runs (or ends, for a failed dependency) there and then.
 *
 * Only tasks whose args hold a task ref come here: spindle_enqueue_task() knows from the
 * argument builder or from the args check it does anyway. */
#include <stdlib.h>
#include <string.h>

#include "common/deps.h"
#include "common/msgpack_check.h"
#include "common/sync_task.h"
#include "producer/client_impl.h"
#include "store/deps.h"

/* The refs of args, decoded into zone; *refs malloc'd. */
static int find_refs(spindle_client *c, const char *args, size_t len, msgpack_zone *zone,
                     msgpack_object *obj, spindle_dep_ref **refs, size_t *n)
{
    size_t off = 0;
    if (msgpack_unpack(args, len, &off, zone, obj) != MSGPACK_UNPACK_SUCCESS)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "args: not one msgpack value");
    return spindle_deps_collect(obj, refs, n, &c->err);
}

/* On a synchronous client: the outcomes from the records, then run (or end) the task. */
static int sync_deps(spindle_client *c, const char *queue, const char *func,
                     const msgpack_object *obj, const spindle_dep_ref *refs, size_t n,
                     const spindle_task_opts *to, int anyway, msgpack_zone *zone,
                     spindle_handle **out)
{
    spindle_dep_outcome *outs = calloc(n ? n : 1, sizeof(*outs));
    if (outs == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
    int rc = SPINDLE_OK;
    for (size_t i = 0; rc == SPINDLE_OK && i < n; i++) {
        const struct spindle_sync_task *t = spindle_sync_record(c, refs[i].id, refs[i].queue);
        if (t == NULL) {
            rc = spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND,
                                   "dependency %s (queue '%s') is unknown to this synchronous "
                                   "client; nothing was enqueued",
                                   refs[i].id, refs[i].queue);
        } else if (t->state == SPINDLE_STATE_SUCCEEDED) {
            outs[i] = (spindle_dep_outcome){'s', t->result, t->result_len};
        } else {
            const char *e = t->error ? t->error : "";
            outs[i] = (spindle_dep_outcome){t->state == SPINDLE_STATE_CANCELLED ? 'c' : 'f', e,
                                            strlen(e)};
        }
    }
    msgpack_object sub;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    if (rc == SPINDLE_OK)
        rc = spindle_deps_substitute(obj, refs, outs, n, anyway, zone, &sub, &c->err);
    if (rc == SPINDLE_ERR_TASK_FAILED) {
        /* A dependency failed or was cancelled: the first one in the args decides. */
        size_t i = 0;
        while (i < n && outs[i].tag == 's')
            i++;
        spindle_state st =
            i < n && outs[i].tag == 'c' ? SPINDLE_STATE_CANCELLED : SPINDLE_STATE_FAILED;
        char why[SPINDLE_ERROR_MAX];
        snprintf(why, sizeof(why), "%s", c->err.msg);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
        rc = msgpack_pack_object(&pk, *obj) == 0
                 ? spindle_sync_enqueue_ended(c, queue, func, buf.data, buf.size, to, st, why, out)
                 : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
    } else if (rc == SPINDLE_OK) {
        msgpack_packer pk;
        msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
        rc = msgpack_pack_object(&pk, sub) == 0
                 ? spindle_sync_enqueue(c, queue, func, buf.data, buf.size, to, out)
                 : spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
    }
    msgpack_sbuffer_destroy(&buf);
    free(outs);
    return rc;
}

/* Through the enqueue_deps script. */
static int redis_deps(spindle_client *c, const char *queue, const char *func, const char *args,
                      size_t len, const spindle_dep_ref *refs, size_t n,
                      const spindle_task_opts *to, int anyway, const char *given,
                      spindle_handle **out)
{
    char id[SPINDLE_ID_LEN + 1], missing[SPINDLE_ID_LEN + 1] = "";
    if (given)
        snprintf(id, sizeof(id), "%s", given);
    else
        spindle_id_new(id);
    spindle_new_task t = {.id = id, .func = func, .args = args, .args_len = len};
    enum spindle_deps_start start;
    int rc = spindle_client_register_queue(c, queue);
    if (rc == SPINDLE_OK)
        rc = spindle_store_enqueue_deps(&c->store, queue, &t, to, refs, n, anyway, &start, missing);
    if (rc == SPINDLE_ERR_NOT_FOUND) {
        size_t i = 0;
        while (i + 1 < n && strcmp(refs[i].id, missing) != 0)
            i++;
        return spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND,
                                 "enqueue '%s' on queue '%s': dependency %s (queue '%s') is "
                                 "unknown or expired; nothing was enqueued",
                                 func, queue, missing, refs[i].queue);
    }
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "enqueue '%s' on queue '%s': ", func, queue);
    if (out && (*out = spindle_handle_make(c, id, queue)) == NULL)
        return spindle_error_wrap(&c->err, "enqueue '%s' on queue '%s' (task %s enqueued): ", func,
                                  queue, id);
    return SPINDLE_OK;
}

int spindle_enqueue_deps(spindle_client *c, const char *queue, const char *func, const char *args,
                         size_t len, const spindle_task_opts *to, int anyway, const char *id,
                         spindle_handle **out)
{
    if (spindle_task_opts_special(to))
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "enqueue '%s': a task with dependencies cannot also be delayed, "
                                 "expiring or unique",
                                 func);
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048))
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "enqueue '%s': out of memory", func);
    msgpack_object obj;
    spindle_dep_ref *refs = NULL;
    size_t n = 0;
    int rc = find_refs(c, args, len, &zone, &obj, &refs, &n);
    if (rc != SPINDLE_OK)
        rc = spindle_error_wrap(&c->err, "enqueue '%s': ", func);
    else if (c->sync)
        rc = sync_deps(c, queue, func, &obj, refs, n, to, anyway, &zone, out);
    else
        rc = redis_deps(c, queue, func, args, len, refs, n, to, anyway, id, out);
    free(refs);
    msgpack_zone_destroy(&zone);
    return rc;
}
