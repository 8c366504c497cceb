/* Processor pairs (include/spindle/processor.h): a client's pre- and post-functions by name,
 * the processed enqueue and the processed wait.
 *
 * Why the static info is stored in the task hash and not kept in the caller's memory: the
 * process that waits is not always the one that enqueued (a web request enqueues, another
 * process collects), so the post-function's input must travel with the task. Why the
 * processor's name is stored too: a caller holding only a task id must know which
 * post-function applies, and must be told clearly when none does. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/msgpack_check.h"
#include "common/sync_task.h"
#include "producer/client_impl.h"
#include "spindle/processor.h"
#include "store/ops.h"

struct processor {
    char name[SPINDLE_NAME_MAX + 1];
    spindle_pre_fn pre;
    spindle_post_fn post;
    void *userdata;
};

struct spindle_processors {
    struct processor *v;
    size_t n, cap;
};

struct spindle_proc_call {
    const char *name;
    spindle_error err; /* set by spindle_proc_fail() */
};

void spindle_processors_free(struct spindle_processors *p)
{
    if (p == NULL)
        return;
    free(p->v);
    free(p);
}

int spindle_proc_fail(spindle_proc_call *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    spindle_error_vset(&call->err, SPINDLE_ERR_INVALID, fmt, ap);
    va_end(ap);
    return SPINDLE_ERR_INVALID;
}

const char *spindle_proc_name(const spindle_proc_call *call)
{
    return call->name;
}

static const struct processor *find(const spindle_client *c, const char *name)
{
    for (size_t i = 0; c->procs && i < c->procs->n; i++)
        if (strcmp(c->procs->v[i].name, name) == 0)
            return &c->procs->v[i];
    return NULL;
}

int spindle_processor_register(spindle_client *c, const char *name, spindle_pre_fn pre,
                               spindle_post_fn post, void *userdata)
{
    int rc = spindle_name_check(name, "processor", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (pre == NULL && post == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "processor '%s': both functions are NULL", name);
    if (find(c, name))
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "processor '%s' is already registered on this client", name);
    if (c->procs == NULL && (c->procs = calloc(1, sizeof(*c->procs))) == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "processor '%s': out of memory", name);
    struct spindle_processors *p = c->procs;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct processor *v = realloc(p->v, cap * sizeof(*v));
        if (v == NULL)
            return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "processor '%s': out of memory",
                                     name);
        p->v = v;
        p->cap = cap;
    }
    struct processor *e = &p->v[p->n++];
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->pre = pre;
    e->post = post;
    e->userdata = userdata;
    return SPINDLE_OK;
}

/* The message of a pre- or post-function that returned rc. */
static int fn_failed(spindle_client *c, const spindle_proc_call *call, const char *which,
                     const char *task, int rc)
{
    return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "processor '%s'%s%s: %s failed: %s",
                             call->name, task ? ", task " : "", task ? task : "", which,
                             call->err.msg[0] ? call->err.msg : spindle_status_name(rc));
}

/* NULL if buf[0..len) is exactly one msgpack value (an array if want_array), else what is
 * wrong with it. */
static const char *one_value(const char *buf, size_t len, int want_array)
{
    const char *bad = spindle_msgpack_check(buf, len, SPINDLE_MSGPACK_MAX_DEPTH);
    unsigned char first = len ? (unsigned char)buf[0] : 0;
    if (bad == NULL && want_array && (first & 0xf0) != 0x90 && first != 0xdc && first != 0xdd)
        bad = "not an array";
    return bad;
}

/* Runs p's pre-function on inputs[0..len) into args and info (both initialized). */
static int run_pre(spindle_client *c, const struct processor *p, const char *inputs, size_t len,
                   msgpack_sbuffer *args, msgpack_sbuffer *info)
{
    spindle_proc_call call = {.name = p->name};
    msgpack_unpacked in;
    msgpack_unpacked_init(&in);
    size_t off = 0;
    if (msgpack_unpack_next(&in, inputs, len, &off) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&in);
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "processor '%s': the inputs are not one msgpack array", p->name);
    }
    msgpack_packer apk, ipk;
    msgpack_packer_init(&apk, args, msgpack_sbuffer_write);
    msgpack_packer_init(&ipk, info, msgpack_sbuffer_write);
    int rc = p->pre(&call, &in.data, &apk, &ipk, p->userdata);
    msgpack_unpacked_destroy(&in);
    if (rc != SPINDLE_OK)
        return fn_failed(c, &call, "pre-function", NULL, rc);
    const char *bad = args->size ? one_value(args->data, args->size, 1) : NULL;
    if (bad)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "processor '%s': the pre-function's args must be exactly one "
                                 "msgpack array (%zu bytes packed: %s)",
                                 p->name, args->size, bad);
    if (args->size > CLIENT_MAX_ARGS(c))
        return spindle_error_set(&c->err, SPINDLE_ERR_TOO_LARGE,
                                 "processor '%s': the pre-function's args are %zu bytes, above "
                                 "the client's max_args_bytes of %zu",
                                 p->name, args->size, CLIENT_MAX_ARGS(c));
    if (info->size > SPINDLE_PINFO_MAX)
        return spindle_error_set(&c->err, SPINDLE_ERR_TOO_LARGE,
                                 "processor '%s': the static info is %zu bytes, more than the %u "
                                 "allowed",
                                 p->name, info->size, SPINDLE_PINFO_MAX);
    bad = info->size ? one_value(info->data, info->size, 0) : NULL;
    if (bad)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "processor '%s': the static info must be exactly one msgpack "
                                 "value (%zu bytes packed: %s)",
                                 p->name, info->size, bad);
    return SPINDLE_OK;
}

int spindle_enqueue_processed(spindle_client *c, const char *name, spindle_args *inputs,
                              const spindle_enqueue_options *opts, spindle_handle **out)
{
    int rc = spindle_name_check(name, "processor", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    const struct processor *p = find(c, name);
    if (p == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "no processor '%s' is registered on this client", name);
    const char *data = "\x90";
    size_t len = 1;
    if (inputs && (rc = spindle_args_data(inputs, &data, &len)) != SPINDLE_OK)
        return spindle_error_set(&c->err, rc, "processor '%s': the input builder failed (%s)", name,
                                 spindle_status_name(rc));
    spindle_proc_fields pf = {.proc = name};
    if (p->pre == NULL)
        return spindle_enqueue_task(c, name, data, len, opts, &pf, -1, out);
    msgpack_sbuffer args, info;
    msgpack_sbuffer_init(&args);
    msgpack_sbuffer_init(&info);
    rc = run_pre(c, p, data, len, &args, &info);
    if (rc == SPINDLE_OK) {
        pf.pinfo = info.size ? info.data : NULL;
        pf.pinfo_len = info.size;
        rc = args.size ? spindle_enqueue_task(c, name, args.data, args.size, opts, &pf, -1, out)
                       : spindle_enqueue_task(c, name, "\x90", 1, opts, &pf, 0, out);
    }
    msgpack_sbuffer_destroy(&args);
    msgpack_sbuffer_destroy(&info);
    return rc;
}

/* Replaces the succeeded result *r with what p's post-function makes of it and of the static
 * info pinfo[0..len) (NULL: none). On failure *r is freed and NULL. */
static int run_post(spindle_client *c, const spindle_handle *h, const struct processor *p,
                    const char *pinfo, size_t len, spindle_result **r)
{
    spindle_proc_call call = {.name = p->name};
    msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    msgpack_unpacked info;
    msgpack_unpacked_init(&info);
    const msgpack_object *iobj = &nil;
    int rc = SPINDLE_OK;
    if (pinfo) {
        size_t off = 0;
        const char *bad = one_value(pinfo, len, 0);
        if (bad || msgpack_unpack_next(&info, pinfo, len, &off) != MSGPACK_UNPACK_SUCCESS)
            rc = spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                   "processor '%s', task %s: the static info in Redis is not one "
                                   "msgpack value (%zu bytes: %s)",
                                   p->name, h->id, len, bad ? bad : "undecodable");
        else
            iobj = &info.data;
    }
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    if (rc == SPINDLE_OK) {
        msgpack_packer pk;
        msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
        int frc = p->post(&call, spindle_result_value(*r), iobj, &pk, p->userdata);
        const char *bad = buf.size ? one_value(buf.data, buf.size, 0) : NULL;
        if (frc != SPINDLE_OK)
            rc = fn_failed(c, &call, "post-function", h->id, frc);
        else if (bad)
            rc = spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                   "processor '%s', task %s: the post-function must pack exactly "
                                   "one value, or none (%zu bytes packed: %s)",
                                   p->name, h->id, buf.size, bad);
    }
    msgpack_unpacked_destroy(&info);
    spindle_result *made = NULL;
    if (rc == SPINDLE_OK)
        rc = buf.size
                 ? spindle_result_make(c, h, SPINDLE_STATE_SUCCEEDED, buf.data, buf.size, &made)
                 : spindle_result_make(c, h, SPINDLE_STATE_SUCCEEDED, "\xc0", 1, &made);
    msgpack_sbuffer_destroy(&buf);
    spindle_result_free(*r);
    *r = made;
    return rc;
}

int spindle_wait_processed(spindle_client *c, const spindle_handle *h, long timeout_ms,
                           spindle_result **out)
{
    *out = NULL;
    spindle_proc_read pr = {0};
    redisReply *reply = NULL;
    if (c->sync) {
        const struct spindle_sync_task *t = spindle_sync_record(c, h->id, h->queue);
        if (t == NULL)
            return c->err.code;
        pr.func = t->func;
        pr.proc = t->proc[0] ? t->proc : NULL;
        pr.pinfo = t->pinfo;
        pr.pinfo_len = t->pinfo_len;
    } else {
        int rc = spindle_store_task_processor(&c->store, h->queue, h->id, &pr, &reply);
        if (rc != SPINDLE_OK)
            return rc;
    }
    const struct processor *p = pr.proc ? find(c, pr.proc) : NULL;
    int rc = SPINDLE_OK;
    if (pr.proc == NULL)
        rc = spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                               "task %s ('%s') was enqueued without a processor: read its result "
                               "with spindle_wait()",
                               h->id, pr.func);
    else if (p == NULL)
        rc = spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                               "processor '%.128s' of task %s is not registered on this client",
                               pr.proc, h->id);
    if (rc == SPINDLE_OK)
        rc = spindle_wait(c, h, timeout_ms, out);
    if (rc == SPINDLE_OK && p->post)
        rc = run_post(c, h, p, pr.pinfo, pr.pinfo_len, out);
    if (reply)
        freeReplyObject(reply);
    return rc;
}
