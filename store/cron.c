/* Periodic tasks in Redis (store/cron.h): the callers of the cron scripts, and the reading
 * of the table into checked rows.
 *
 * Why every row is checked here: the table is plain Redis hashes that anyone can edit, and a
 * supervisor fires what it reads. A damaged entry is kept in the listing with the reason it
 * cannot fire, and never stops the others. */
#include "store/cron.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msgpack_check.h"
#include "spindle/client.h"
#include "spindle/cron.h"
#include "spindle/status.h"
#include "store/keys.h"

/* Largest args of an entry: they are copied into every task it enqueues and read by every
 * supervisor at each table read, so far less than a task's own limit. */
#define CRON_MAX_ARGS (1u << 20)

int spindle_cron_def_from_entry(const spindle_cron_entry *e, spindle_cron_def *d,
                                spindle_error *err)
{
    static const char empty_array[] = "\x90";
    const spindle_enqueue_options *o = &e->opts;
    spindle_cron_spec parsed;
    int rc;
    memset(d, 0, sizeof(*d));
    d->queue = o->queue ? o->queue : "default";
    if ((rc = spindle_name_check(e->name, "cron entry name", err)) != SPINDLE_OK ||
        (rc = spindle_cron_parse(e->spec, &parsed, err)) != SPINDLE_OK ||
        (rc = spindle_name_check(e->func, "function", err)) != SPINDLE_OK ||
        (rc = spindle_name_check(d->queue, "queue", err)) != SPINDLE_OK)
        return rc;
    if (e->catch_up < 0 || e->catch_up > SPINDLE_CRON_MAX_CATCH_UP)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron entry '%s': catch_up %d is out of range 0-%d", e->name,
                                 e->catch_up, SPINDLE_CRON_MAX_CATCH_UP);
    if (o->timeout_s < 0 || o->max_retries < -1 || o->max_retries > SPINDLE_MAX_RETRIES ||
        o->backoff_ms < 0 || o->backoff_ms > SPINDLE_MAX_BACKOFF_MS || o->backoff_max_ms < 0 ||
        o->backoff_max_ms > SPINDLE_MAX_BACKOFF_MS || o->result_ttl_s > 2147483647L)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron entry '%s': an enqueue option is out of range (timeout "
                                 "%ld, max_retries %d, backoff %ld, backoff_max %ld)",
                                 e->name, o->timeout_s, o->max_retries, o->backoff_ms,
                                 o->backoff_max_ms);
    d->args = e->args ? e->args : empty_array;
    d->args_len = e->args ? e->args_len : 1;
    const char *bad = spindle_msgpack_check(d->args, d->args_len, SPINDLE_MSGPACK_MAX_DEPTH);
    unsigned char first = d->args_len ? *(const unsigned char *)d->args : 0;
    if (bad == NULL && (first & 0xf0) != 0x90 && first != 0xdc && first != 0xdd)
        bad = "not an array";
    if (bad || d->args_len > CRON_MAX_ARGS)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron entry '%s': args must be one msgpack array (%zu bytes: %s)",
                                 e->name, d->args_len, bad ? bad : "too large");
    d->name = e->name;
    d->spec = e->spec;
    d->func = e->func;
    d->catch_up = e->catch_up;
    d->opts = (spindle_task_opts){.result_ttl_s = o->result_ttl_s,
                                  .timeout_s = o->timeout_s,
                                  .max_retries = o->max_retries,
                                  .backoff_ms = o->backoff_ms,
                                  .backoff_max_ms = o->backoff_max_ms};
    return SPINDLE_OK;
}

/* Pushes a number option, or '' when it is absent (below its floor). */
static void push_opt(spindle_cmd *cmd, long long v, long long floor)
{
    if (v >= floor)
        spindle_cmd_long(cmd, v);
    else
        spindle_cmd_str(cmd, "");
}

/* The task options in the order the scripts take them: ttl timeout retries backoff
 * backoff_max, each '' when absent. */
static void push_task_opts(spindle_cmd *cmd, const spindle_task_opts *o)
{
    push_opt(cmd, o->result_ttl_s, 0);
    push_opt(cmd, o->timeout_s, 1);
    push_opt(cmd, o->max_retries, 0);
    push_opt(cmd, o->backoff_ms, 1);
    push_opt(cmd, o->backoff_max_ms, 1);
}

/* Pushes KEYS (index, entry) and the operation for the cron script. */
static void push_head(spindle_store *s, spindle_cmd *cmd, char *index, char *entry,
                      const char *name, const char *op)
{
    spindle_cmd_push(cmd, index, spindle_key_cron_index(index, s->ns));
    spindle_cmd_push(cmd, entry, spindle_key_cron_entry(entry, s->ns, name));
    spindle_cmd_str(cmd, op);
    spindle_cmd_str(cmd, name);
}

int spindle_store_cron_set(spindle_store *s, const spindle_cron_def *d, int *what)
{
    char index[SPINDLE_KEY_MAX], entry[SPINDLE_KEY_MAX], channel[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    push_head(s, cmd, index, entry, d->name, "set");
    spindle_cmd_push(cmd, channel, spindle_key_cron_channel(channel, s->ns));
    spindle_cmd_str(cmd, d->spec);
    spindle_cmd_str(cmd, d->func);
    spindle_cmd_push(cmd, d->args, d->args_len);
    spindle_cmd_str(cmd, d->queue);
    spindle_cmd_long(cmd, d->catch_up);
    push_task_opts(cmd, &d->opts);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CRON, 2, cmd);
    if (r == NULL)
        return s->err->code;
    int w = r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING ? -1
            : strcmp(r->str, "added") == 0                                 ? 0
            : strcmp(r->str, "replaced") == 0                              ? 1
            : strcmp(r->str, "same") == 0                                  ? 2
                                                                           : -1;
    if (w < 0)
        return spindle_store_bad_reply(s, "writing a cron entry", r);
    freeReplyObject(r);
    if (what)
        *what = w;
    return SPINDLE_OK;
}

int spindle_store_cron_remove(spindle_store *s, const char *name, int *removed)
{
    char index[SPINDLE_KEY_MAX], entry[SPINDLE_KEY_MAX], channel[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    push_head(s, cmd, index, entry, name, "remove");
    spindle_cmd_push(cmd, channel, spindle_key_cron_channel(channel, s->ns));
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CRON, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "removing a cron entry", r);
    *removed = r->integer > 0;
    freeReplyObject(r);
    return SPINDLE_OK;
}

/* A field must be a number in [lo, hi] when present; absent: dflt. -1 (error set) if not. */
static int num_field(spindle_cron_row *row, const redisReply *v, const char *name, long long lo,
                     long long hi, long long dflt, long long *out)
{
    *out = dflt;
    if (v == NULL)
        return 0;
    long long x = spindle_reply_ll(v, LLONG_MIN);
    if (x == LLONG_MIN || x < lo || x > hi) {
        snprintf(row->error, sizeof(row->error), "field %s '%.32s' is not a number in %lld-%lld",
                 name, v->str, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* Copies a text field into buf (size cap); "" if absent or too long. */
static void text_field(const redisReply *v, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (v && v->len < cap)
        snprintf(buf, cap, "%.*s", (int)v->len, v->str);
}

/* Fills row from a hash reply's fields (pairs from index 2), checking each. */
static void fill_row(spindle_cron_row *row, const redisReply *h)
{
    const redisReply *f[17] = {0};
    static const char *const names[17] = {
        "spec",     "func",    "args",      "queue",       "catch_up", "ttl",
        "timeout",  "retries", "backoff",   "backoff_max", "rev",      "last_tick",
        "last_run", "pending", "last_task", "created_at",  "next_at"};
    for (size_t i = 2; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        for (size_t j = 0; j < 17; j++)
            if (strcmp(k->str, names[j]) == 0)
                f[j] = v;
    }
    text_field(f[0], row->spec, sizeof(row->spec));
    text_field(f[1], row->func, sizeof(row->func));
    text_field(f[3], row->queue, sizeof(row->queue));
    text_field(f[10], row->rev, sizeof(row->rev));
    text_field(f[14], row->last_task, sizeof(row->last_task));
    row->last_tick = spindle_reply_ll(f[11], 0);
    row->last_run = spindle_reply_ll(f[12], 0);
    row->pending = spindle_reply_ll(f[13], 0);
    if (f[2] && (row->args = malloc(f[2]->len ? f[2]->len : 1)) != NULL) {
        memcpy(row->args, f[2]->str, f[2]->len);
        row->args_len = f[2]->len;
    }
    spindle_error err;
    long long v[6];
    if (spindle_name_check(row->name, "cron entry name", &err) != SPINDLE_OK ||
        spindle_cron_parse(row->spec, &row->parsed, &err) != SPINDLE_OK ||
        spindle_name_check(row->func, "function", &err) != SPINDLE_OK ||
        spindle_name_check(row->queue, "queue", &err) != SPINDLE_OK) {
        snprintf(row->error, sizeof(row->error), "%.159s", err.msg);
        return;
    }
    const char *bad = row->args ? spindle_msgpack_check(row->args, row->args_len, 32) : "missing";
    unsigned char first = row->args_len ? (unsigned char)row->args[0] : 0;
    if (bad == NULL && (first & 0xf0) != 0x90 && first != 0xdc && first != 0xdd)
        bad = "not an array";
    if (bad) {
        snprintf(row->error, sizeof(row->error), "field args: %s", bad);
        return;
    }
    if (row->rev[0] == '\0') {
        snprintf(row->error, sizeof(row->error), "field rev is missing");
        return;
    }
    if (num_field(row, f[4], "catch_up", 0, SPINDLE_CRON_MAX_CATCH_UP, 0, &v[0]) ||
        num_field(row, f[5], "ttl", 0, 2147483647LL, -1, &v[1]) ||
        num_field(row, f[6], "timeout", 1, 2147483647LL, 0, &v[2]) ||
        num_field(row, f[7], "retries", 0, SPINDLE_MAX_RETRIES, -1, &v[3]) ||
        num_field(row, f[8], "backoff", 1, SPINDLE_MAX_BACKOFF_MS, 0, &v[4]) ||
        num_field(row, f[9], "backoff_max", 1, SPINDLE_MAX_BACKOFF_MS, 0, &v[5]))
        return;
    row->catch_up = (int)v[0];
    row->opts.result_ttl_s = (long)v[1];
    row->opts.timeout_s = (long)v[2];
    row->opts.max_retries = (int)v[3];
    row->opts.backoff_ms = (long)v[4];
    row->opts.backoff_max_ms = (long)v[5];
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const spindle_cron_row *)a)->name, ((const spindle_cron_row *)b)->name);
}

int spindle_store_cron_read(spindle_store *s, spindle_cron_row **rows, size_t *n, int64_t *now_ms)
{
    *rows = NULL;
    *n = 0;
    char index[SPINDLE_KEY_MAX], prefix[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, index, spindle_key_cron_index(index, s->ns));
    spindle_cmd_push(cmd, prefix, spindle_key_cron_entry_prefix(prefix, s->ns));
    spindle_cmd_str(cmd, "read");
    spindle_cmd_push(cmd, prefix, strlen(prefix));
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CRON, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || spindle_reply_ll(r->element[0], -1) < 0)
        return spindle_store_bad_reply(s, "reading the cron table", r);
    *now_ms = spindle_reply_ll(r->element[0], 0);
    size_t count = r->elements - 1;
    spindle_cron_row *out = count ? calloc(count, sizeof(*out)) : NULL;
    if (count && out == NULL) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM,
                                 "reading the cron table: out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        const redisReply *e = r->element[i + 1];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_STRING)
            continue;
        spindle_cron_row *row = &out[k++];
        text_field(e->element[0], row->name, sizeof(row->name));
        if (strcmp(e->element[1]->str, "ok") != 0)
            snprintf(row->error, sizeof(row->error), "its key holds a value of the wrong type");
        else
            fill_row(row, e);
    }
    freeReplyObject(r);
    if (k > 1)
        qsort(out, k, sizeof(*out), by_name);
    *rows = out;
    *n = k;
    return SPINDLE_OK;
}

void spindle_store_cron_rows_free(spindle_cron_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].args);
    free(rows);
}

int spindle_store_cron_fire(spindle_store *s, const spindle_cron_row *row, int64_t tick,
                            int64_t next, const char *id, enum spindle_cron_claim *what,
                            int64_t *value, int64_t *now_ms)
{
    char index[SPINDLE_KEY_MAX], entry[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    push_head(s, cmd, index, entry, row->name, "fire");
    spindle_cmd_str(cmd, row->rev);
    spindle_cmd_long(cmd, tick);
    spindle_cmd_long(cmd, next);
    spindle_cmd_str(cmd, id);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CRON, 2, cmd);
    if (r == NULL)
        return s->err->code;
    static const struct {
        const char *name;
        enum spindle_cron_claim what;
        size_t elements;
    } map[] = {{"claimed", SPINDLE_CRON_CLAIMED, 2}, {"taken", SPINDLE_CRON_TAKEN, 3},
               {"pending", SPINDLE_CRON_PENDING, 3}, {"early", SPINDLE_CRON_EARLY, 2},
               {"changed", SPINDLE_CRON_CHANGED, 2}, {"missing", SPINDLE_CRON_MISSING, 1}};
    size_t i = 0, nmap = sizeof(map) / sizeof(map[0]);
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
        r->element[0]->type == REDIS_REPLY_STRING)
        while (i < nmap && strcmp(r->element[0]->str, map[i].name) != 0)
            i++;
    if (r->type != REDIS_REPLY_ARRAY || i == nmap || r->elements != map[i].elements)
        return spindle_store_bad_reply(s, "firing a cron tick", r);
    *what = map[i].what;
    *value = 0;
    if (*what == SPINDLE_CRON_TAKEN || *what == SPINDLE_CRON_PENDING)
        *value = spindle_reply_ll(r->element[1], 0);
    if (*what != SPINDLE_CRON_CHANGED && *what != SPINDLE_CRON_MISSING)
        *now_ms = spindle_reply_ll(r->element[r->elements - 1], *now_ms);
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_cron_done(spindle_store *s, const char *name, int64_t tick)
{
    char index[SPINDLE_KEY_MAX], entry[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    push_head(s, cmd, index, entry, name, "done");
    spindle_cmd_long(cmd, tick);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CRON, 2, cmd);
    if (r == NULL)
        return s->err->code;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_cron_enqueue(spindle_store *s, const spindle_cron_row *row, int64_t tick,
                               const char *id, int *created)
{
    char pending[SPINDLE_KEY_MAX], wake[SPINDLE_KEY_MAX], task[SPINDLE_KEY_MAX],
        mark[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, pending, spindle_key_pending(pending, s->ns, row->queue));
    spindle_cmd_push(cmd, wake, spindle_key_wake(wake, s->ns, row->queue));
    spindle_cmd_push(cmd, task, spindle_key_task(task, s->ns, row->queue, id));
    spindle_cmd_push(cmd, mark, spindle_key_cron_mark(mark, s->ns, row->queue, row->name));
    spindle_cmd_long(cmd, tick);
    spindle_cmd_str(cmd, id);
    spindle_cmd_str(cmd, row->func);
    spindle_cmd_push(cmd, row->args, row->args_len);
    push_task_opts(cmd, &row->opts);
    spindle_cmd_str(cmd, row->name);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CRON_ENQUEUE, 4, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "enqueueing a cron tick", r);
    *created = strcmp(r->str, "enqueued") == 0;
    freeReplyObject(r);
    return SPINDLE_OK;
}
