/* The argument builder (include/spindle/args.h).
 *
 * Values are packed into a body buffer as they come; the array header that wraps them can
 * only be written once their count is known, so spindle_args_data() writes header + body
 * into a second buffer on demand. A stack of open containers counts how many values each
 * still expects: a value appended while the stack is empty is a top-level argument. */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/deps.h"
#include "spindle/args.h"
#include "spindle/bounds.h"
#include "spindle/client.h"
#include "spindle/deps.h"
#include "spindle/status.h"

/* Open containers nested deeper than this are refused: workers refuse args nested deeper than
 * SPINDLE_MSGPACK_MAX_DEPTH, the outer args array included (found by tests/fuzz/args.c: 64
 * here let the builder make args that every worker refused). */
#define ARGS_MAX_DEPTH (SPINDLE_MSGPACK_MAX_DEPTH - 1)

struct spindle_args {
    msgpack_sbuffer body;
    msgpack_packer pk;
    msgpack_sbuffer out;
    size_t top_count;
    uint64_t open[ARGS_MAX_DEPTH]; /* values still expected by each open container */
    int depth;
    int refs; /* a handle was appended: the task has dependencies */
    int error;
    int out_valid;
};

spindle_args *spindle_args_new(void)
{
    spindle_args *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    msgpack_sbuffer_init(&a->body);
    msgpack_sbuffer_init(&a->out);
    msgpack_packer_init(&a->pk, &a->body, msgpack_sbuffer_write);
    return a;
}

void spindle_args_free(spindle_args *a)
{
    if (a == NULL)
        return;
    msgpack_sbuffer_destroy(&a->body);
    msgpack_sbuffer_destroy(&a->out);
    free(a);
}

/* Accounts for one value about to be appended. */
static int count_value(spindle_args *a)
{
    if (a->error)
        return a->error;
    a->out_valid = 0;
    if (a->depth == 0) {
        a->top_count++;
        return SPINDLE_OK;
    }
    a->open[a->depth - 1]--;
    return SPINDLE_OK;
}

/* Closes every container whose last value has just been appended. */
static void close_full(spindle_args *a)
{
    while (a->depth > 0 && a->open[a->depth - 1] == 0)
        a->depth--;
}

static int finish(spindle_args *a, int rc)
{
    if (rc != 0) {
        a->error = SPINDLE_ERR_NOMEM;
        return a->error;
    }
    close_full(a);
    return SPINDLE_OK;
}

int spindle_args_int(spindle_args *a, int64_t v)
{
    int rc = count_value(a);
    return rc ? rc : finish(a, msgpack_pack_int64(&a->pk, v));
}

int spindle_args_uint(spindle_args *a, uint64_t v)
{
    int rc = count_value(a);
    return rc ? rc : finish(a, msgpack_pack_uint64(&a->pk, v));
}

int spindle_args_double(spindle_args *a, double v)
{
    int rc = count_value(a);
    return rc ? rc : finish(a, msgpack_pack_double(&a->pk, v));
}

int spindle_args_bool(spindle_args *a, int v)
{
    int rc = count_value(a);
    if (rc)
        return rc;
    return finish(a, v ? msgpack_pack_true(&a->pk) : msgpack_pack_false(&a->pk));
}

int spindle_args_nil(spindle_args *a)
{
    int rc = count_value(a);
    return rc ? rc : finish(a, msgpack_pack_nil(&a->pk));
}

int spindle_args_strn(spindle_args *a, const char *s, size_t len)
{
    if (s == NULL && len > 0)
        return a->error = SPINDLE_ERR_INVALID;
    if (len > UINT32_MAX)
        return a->error = SPINDLE_ERR_TOO_LARGE;
    int rc = count_value(a);
    if (rc)
        return rc;
    rc = msgpack_pack_str(&a->pk, len);
    if (rc == 0 && len > 0)
        rc = msgpack_pack_str_body(&a->pk, s, len);
    return finish(a, rc);
}

int spindle_args_str(spindle_args *a, const char *s)
{
    if (s == NULL)
        return a->error = SPINDLE_ERR_INVALID;
    return spindle_args_strn(a, s, strlen(s));
}

int spindle_args_bin(spindle_args *a, const void *p, size_t len)
{
    if (p == NULL && len > 0)
        return a->error = SPINDLE_ERR_INVALID;
    if (len > UINT32_MAX)
        return a->error = SPINDLE_ERR_TOO_LARGE;
    int rc = count_value(a);
    if (rc)
        return rc;
    rc = msgpack_pack_bin(&a->pk, len);
    if (rc == 0 && len > 0)
        rc = msgpack_pack_bin_body(&a->pk, p, len);
    return finish(a, rc);
}

int spindle_args_handle(spindle_args *a, const spindle_handle *h)
{
    if (h == NULL)
        return a->error = SPINDLE_ERR_INVALID;
    const char *id = spindle_handle_id(h), *queue = spindle_handle_queue(h);
    size_t il = strlen(id), ql = strlen(queue);
    int rc = count_value(a);
    if (rc)
        return rc;
    rc = msgpack_pack_ext(&a->pk, il + ql, SPINDLE_EXT_TASK_REF);
    if (rc == 0)
        rc = msgpack_pack_ext_body(&a->pk, id, il);
    if (rc == 0)
        rc = msgpack_pack_ext_body(&a->pk, queue, ql);
    a->refs = 1;
    return finish(a, rc);
}

int spindle_args_has_refs(const spindle_args *a)
{
    return a->refs;
}

/* Opens a container expecting `values` values (n for an array, 2n for a map). */
static int open_container(spindle_args *a, uint64_t values, int rc_pack)
{
    if (rc_pack != 0)
        return a->error = SPINDLE_ERR_NOMEM;
    if (values == 0) {
        close_full(a);
        return SPINDLE_OK;
    }
    a->open[a->depth++] = values;
    return SPINDLE_OK;
}

int spindle_args_array(spindle_args *a, uint32_t n)
{
    if (!a->error && a->depth >= ARGS_MAX_DEPTH)
        a->error = SPINDLE_ERR_INVALID;
    int rc = count_value(a);
    return rc ? rc : open_container(a, n, msgpack_pack_array(&a->pk, n));
}

int spindle_args_map(spindle_args *a, uint32_t n)
{
    if (!a->error && a->depth >= ARGS_MAX_DEPTH)
        a->error = SPINDLE_ERR_INVALID;
    int rc = count_value(a);
    return rc ? rc : open_container(a, (uint64_t)n * 2, msgpack_pack_map(&a->pk, n));
}

int spindle_args_data(spindle_args *a, const char **data, size_t *len)
{
    if (a->error)
        return a->error;
    if (a->depth != 0)
        return SPINDLE_ERR_INVALID;
    if (!a->out_valid) {
        msgpack_sbuffer_clear(&a->out);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &a->out, msgpack_sbuffer_write);
        if (a->top_count > UINT32_MAX || msgpack_pack_array(&pk, a->top_count) != 0 ||
            (a->body.size > 0 && msgpack_sbuffer_write(&a->out, a->body.data, a->body.size) != 0))
            return a->error = SPINDLE_ERR_NOMEM;
        a->out_valid = 1;
    }
    *data = a->out.data;
    *len = a->out.size;
    return SPINDLE_OK;
}

size_t spindle_args_count(const spindle_args *a)
{
    return a->top_count;
}
