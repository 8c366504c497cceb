/* Task refs in args, and the args a dependent receives (common/deps.h).
 *
 * Why objects rather than bytes: the producer and the worker both hold the args decoded
 * already (msgpack-c objects), and the substitution must splice whole decoded values (a
 * dependency's result) into the tree. Walks are recursive, but bounded: decoded args are
 * never deeper than SPINDLE_MSGPACK_MAX_DEPTH (checked before decoding), and a substituted
 * result is spliced in without being walked. */
#include "common/deps.h"

#include <stdlib.h>
#include <string.h>

#include "common/msgpack_check.h"
#include "spindle/deps.h"
#include "spindle/status.h"

int spindle_arg_dep_error(const msgpack_object *arg, const char **msg, size_t *len)
{
    if (arg == NULL || arg->type != MSGPACK_OBJECT_EXT ||
        arg->via.ext.type != SPINDLE_EXT_DEP_ERROR)
        return 0;
    if (msg)
        *msg = arg->via.ext.ptr;
    if (len)
        *len = arg->via.ext.size;
    return 1;
}

static int is_ref(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == SPINDLE_EXT_TASK_REF;
}

/* Parses one ref's payload: the 36-byte id, then a queue name. */
static int parse_ref(const msgpack_object *o, spindle_dep_ref *r, spindle_error *err)
{
    const char *p = o->via.ext.ptr;
    size_t len = o->via.ext.size;
    spindle_error scratch;
    if (len <= SPINDLE_ID_LEN || len > SPINDLE_ID_LEN + SPINDLE_NAME_MAX)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "a task ref (msgpack ext %d) of %zu bytes: it must be a 36-byte "
                                 "task id followed by a queue name",
                                 SPINDLE_EXT_TASK_REF, len);
    memcpy(r->id, p, SPINDLE_ID_LEN);
    r->id[SPINDLE_ID_LEN] = '\0';
    memcpy(r->queue, p + SPINDLE_ID_LEN, len - SPINDLE_ID_LEN);
    r->queue[len - SPINDLE_ID_LEN] = '\0';
    if (spindle_id_check(r->id, &scratch) != SPINDLE_OK ||
        strlen(r->queue) != len - SPINDLE_ID_LEN ||
        spindle_name_check(r->queue, "queue", &scratch) != SPINDLE_OK)
        return spindle_error_set(err, SPINDLE_ERR_INVALID, "a task ref (msgpack ext %d): %s",
                                 SPINDLE_EXT_TASK_REF, scratch.msg);
    return SPINDLE_OK;
}

typedef struct ref_list {
    spindle_dep_ref *v;
    size_t n, cap;
} ref_list;

static int collect(const msgpack_object *o, ref_list *l, spindle_error *err)
{
    if (is_ref(o)) {
        spindle_dep_ref r;
        int rc = parse_ref(o, &r, err);
        if (rc != SPINDLE_OK)
            return rc;
        for (size_t i = 0; i < l->n; i++)
            if (strcmp(l->v[i].id, r.id) == 0)
                return SPINDLE_OK;
        if (l->n == SPINDLE_MAX_DEPS)
            return spindle_error_set(err, SPINDLE_ERR_INVALID, "more than %d distinct dependencies",
                                     SPINDLE_MAX_DEPS);
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 8;
            spindle_dep_ref *v = realloc(l->v, cap * sizeof(*v));
            if (v == NULL)
                return spindle_error_set(err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = r;
        return SPINDLE_OK;
    }
    int rc = SPINDLE_OK;
    if (o->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; rc == SPINDLE_OK && i < o->via.array.size; i++)
            rc = collect(&o->via.array.ptr[i], l, err);
    if (o->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; rc == SPINDLE_OK && i < o->via.map.size; i++) {
            rc = collect(&o->via.map.ptr[i].key, l, err);
            if (rc == SPINDLE_OK)
                rc = collect(&o->via.map.ptr[i].val, l, err);
        }
    return rc;
}

int spindle_deps_collect(const msgpack_object *o, spindle_dep_ref **refs, size_t *n,
                         spindle_error *err)
{
    ref_list l = {0};
    int rc = collect(o, &l, err);
    if (rc != SPINDLE_OK) {
        free(l.v);
        l.v = NULL;
        l.n = 0;
    }
    *refs = l.v;
    *n = l.n;
    return rc;
}

typedef struct subst {
    const spindle_dep_ref *refs;
    const spindle_dep_outcome *outs;
    size_t n;
    int anyway;
    msgpack_zone *zone;
    spindle_error *err;
} subst;

static const char *state_of(char tag)
{
    return tag == 'f' ? "failed" : tag == 'c' ? "cancelled" : "succeeded";
}

/* The value standing in for ref o. */
static int replace(const subst *s, const msgpack_object *o, msgpack_object *out)
{
    spindle_dep_ref r;
    int rc = parse_ref(o, &r, s->err);
    if (rc != SPINDLE_OK)
        return rc;
    size_t i = 0;
    while (i < s->n && strcmp(s->refs[i].id, r.id) != 0)
        i++;
    const spindle_dep_outcome *oc = i < s->n ? &s->outs[i] : NULL;
    if (oc == NULL || (oc->tag != 's' && oc->tag != 'f' && oc->tag != 'c'))
        return spindle_error_set(s->err, SPINDLE_ERR_TASK_FAILED,
                                 "dependency %s (queue '%s') has not ended: no outcome was handed "
                                 "over (was this task retried or edited by hand?)",
                                 r.id, r.queue);
    if (oc->tag == 's') {
        const char *bad = spindle_msgpack_check(oc->data, oc->len, SPINDLE_MSGPACK_MAX_DEPTH);
        size_t off = 0;
        if (bad == NULL &&
            msgpack_unpack(oc->data, oc->len, &off, s->zone, out) == MSGPACK_UNPACK_SUCCESS)
            return SPINDLE_OK;
        return spindle_error_set(s->err, SPINDLE_ERR_TASK_FAILED,
                                 "the result of dependency %s is not one msgpack value (%s)", r.id,
                                 bad ? bad : "undecodable");
    }
    if (!s->anyway)
        return spindle_error_set(s->err, SPINDLE_ERR_TASK_FAILED, "dependency %s %s: %.*s", r.id,
                                 state_of(oc->tag), (int)(oc->len > 400 ? 400 : oc->len), oc->data);
    char *text = msgpack_zone_malloc(s->zone, oc->len ? oc->len : 1);
    if (text == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
    if (oc->len)
        memcpy(text, oc->data, oc->len);
    out->type = MSGPACK_OBJECT_EXT;
    out->via.ext.type = SPINDLE_EXT_DEP_ERROR;
    out->via.ext.ptr = text;
    out->via.ext.size = (uint32_t)oc->len;
    return SPINDLE_OK;
}

static int copy(const subst *s, const msgpack_object *in, msgpack_object *out)
{
    if (is_ref(in))
        return replace(s, in, out);
    *out = *in;
    if (in->type == MSGPACK_OBJECT_ARRAY && in->via.array.size > 0) {
        uint32_t n = in->via.array.size;
        msgpack_object *v = msgpack_zone_malloc(s->zone, n * sizeof(*v));
        if (v == NULL)
            return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
        out->via.array.ptr = v;
        for (uint32_t i = 0; i < n; i++) {
            int rc = copy(s, &in->via.array.ptr[i], &v[i]);
            if (rc != SPINDLE_OK)
                return rc;
        }
    } else if (in->type == MSGPACK_OBJECT_MAP && in->via.map.size > 0) {
        uint32_t n = in->via.map.size;
        msgpack_object_kv *v = msgpack_zone_malloc(s->zone, n * sizeof(*v));
        if (v == NULL)
            return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "dependencies: out of memory");
        out->via.map.ptr = v;
        for (uint32_t i = 0; i < n; i++) {
            int rc = copy(s, &in->via.map.ptr[i].key, &v[i].key);
            if (rc == SPINDLE_OK)
                rc = copy(s, &in->via.map.ptr[i].val, &v[i].val);
            if (rc != SPINDLE_OK)
                return rc;
        }
    }
    return SPINDLE_OK;
}

int spindle_deps_substitute(const msgpack_object *in, const spindle_dep_ref *refs,
                            const spindle_dep_outcome *outs, size_t n, int anyway,
                            msgpack_zone *zone, msgpack_object *out, spindle_error *err)
{
    subst s = {refs, outs, n, anyway, zone, err};
    return copy(&s, in, out);
}
