/* Channel steps on Redis (store/channel.h): every step that checks before it writes runs the
 * channel script (store/script_channel.c); blocking reads BLPOP outside it, since a script
 * cannot block, and check again with the script between slices that the channel exists.
 *
 * Why reads go through the script first even when a message is waiting: the script tells a
 * channel that does not exist (SPINDLE_ERR_NOT_FOUND, a typo) from an empty one, and checks
 * key types, in the same round trip that takes the message. */
#include "store/channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/names.h"
#include "spindle/status.h"
#include "store/keys.h"

/* Longest single BLPOP of a read (ms): a reader blocked on a channel that gets deleted or
 * expires notices within this time instead of waiting out its whole timeout. */
#define CHAN_SLICE_MS 10000
/* Messages taken per round trip by a read of everything. */
#define CHAN_POP_CHUNK 1000

/* The keys of one channel, and how messages name it. */
typedef struct chan_keys {
    char meta[SPINDLE_KEY_MAX], in[SPINDLE_KEY_MAX], out[SPINDLE_KEY_MAX];
    char task[SPINDLE_KEY_MAX]; /* task scope: the owner's hash */
    char label[SPINDLE_NAME_MAX + 64];
} chan_keys;

static void chan_keys_make(const spindle_store *s, const spindle_chan_id *ch, chan_keys *k)
{
    static const char *const parts[] = {"meta", "in", "out"};
    char *bufs[] = {k->meta, k->in, k->out};
    k->task[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (ch->scope == SPINDLE_SCOPE_TASK)
            spindle_key_chan_task(bufs[i], s->ns, ch->queue, ch->id, parts[i]);
        else if (ch->scope == SPINDLE_SCOPE_GROUP)
            spindle_key_chan_group(bufs[i], s->ns, ch->group, parts[i]);
        else
            spindle_key_chan_global(bufs[i], s->ns, parts[i]);
    }
    if (ch->scope == SPINDLE_SCOPE_TASK) {
        spindle_key_task(k->task, s->ns, ch->queue, ch->id);
        snprintf(k->label, sizeof(k->label), "channel of task %s", ch->id);
    } else if (ch->scope == SPINDLE_SCOPE_GROUP) {
        snprintf(k->label, sizeof(k->label), "channel of group '%s'", ch->group);
    } else {
        snprintf(k->label, sizeof(k->label), "global channel");
    }
}

static const char *dir_name(spindle_chan_dir dir)
{
    return dir == SPINDLE_CHAN_IN ? "in" : "out";
}

static const char *dir_text(spindle_chan_dir dir)
{
    return dir == SPINDLE_CHAN_IN ? "input" : "output";
}

static int is(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* Sends the channel script: the channel's keys (and the task hash when with_task), then op
 * and args[0..nargs) with lens. Returns the reply when its status is 'ok', 'full' or
 * 'notask'; turns every other answer into an error with a message naming the channel. */
static redisReply *run(spindle_store *s, const chan_keys *k, int with_task, const char *op,
                       const char *const *args, const size_t *lens, int nargs)
{
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, k->meta);
    spindle_cmd_str(cmd, k->in);
    spindle_cmd_str(cmd, k->out);
    if (with_task)
        spindle_cmd_str(cmd, k->task);
    spindle_cmd_str(cmd, op);
    for (int i = 0; i < nargs; i++)
        spindle_cmd_push(cmd, args[i], lens ? lens[i] : strlen(args[i]));
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_CHANNEL, with_task ? 4 : 3, cmd);
    if (r == NULL) {
        spindle_error_wrap(s->err, "%s: ", k->label);
        return NULL;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        spindle_store_bad_reply(s, "channel script", r);
        spindle_error_wrap(s->err, "%s: ", k->label);
        return NULL;
    }
    const redisReply *st = r->element[0];
    if (is(st, "ok") || is(st, "full") || is(st, "notask"))
        return r;
    if (is(st, "missing"))
        spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                          "%s not created (or expired): create it first", k->label);
    else if (is(st, "wrongtype") && r->elements == 3)
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                          "%s: key %.*s holds a %.*s, not what a channel keeps there "
                          "(written by hand?)",
                          k->label, (int)r->element[1]->len, r->element[1]->str,
                          (int)r->element[2]->len, r->element[2]->str);
    else if (is(st, "badmeta") && r->elements == 3)
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                          "%s: hash %.*s has no valid '%.*s' field (written by hand?)", k->label,
                          (int)r->element[1]->len, r->element[1]->str, (int)r->element[2]->len,
                          r->element[2]->str);
    else
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                          "%s: unexpected answer '%.40s' from the channel script", k->label,
                          st->str);
    freeReplyObject(r);
    return NULL;
}

int spindle_store_chan_create(spindle_store *s, const spindle_chan_id *ch, long cap_in,
                              long cap_out, long ttl_ms)
{
    chan_keys k;
    chan_keys_make(s, ch, &k);
    char a[3][24];
    snprintf(a[0], sizeof(a[0]), "%ld", cap_in);
    snprintf(a[1], sizeof(a[1]), "%ld", cap_out);
    snprintf(a[2], sizeof(a[2]), "%ld", ttl_ms);
    const char *args[] = {a[0], a[1], a[2]};
    redisReply *r = run(s, &k, ch->scope == SPINDLE_SCOPE_TASK, "create", args, NULL, 3);
    if (r == NULL)
        return s->err->code;
    int notask = is(r->element[0], "notask");
    freeReplyObject(r);
    if (notask)
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "%s: task not found in queue '%s' (unknown or expired)", k.label,
                                 ch->queue);
    return SPINDLE_OK;
}

int spindle_store_chan_push(spindle_store *s, const spindle_chan_id *ch, spindle_chan_dir dir,
                            const void *data, size_t len)
{
    chan_keys k;
    chan_keys_make(s, ch, &k);
    const char *args[] = {dir_name(dir), data ? (const char *)data : ""};
    const size_t lens[] = {strlen(dir_name(dir)), len};
    redisReply *r = run(s, &k, 0, "push", args, lens, 2);
    if (r == NULL)
        return s->err->code;
    int full = is(r->element[0], "full");
    long long cap =
        r->elements > 1 && r->element[1]->type == REDIS_REPLY_INTEGER ? r->element[1]->integer : 0;
    freeReplyObject(r);
    if (full)
        return spindle_error_set(s->err, SPINDLE_ERR_FULL,
                                 "%s: %s queue is full (capacity %lld); nothing written", k.label,
                                 dir_text(dir), cap);
    return SPINDLE_OK;
}

static int copy_message(spindle_store *s, const char *str, size_t len, spindle_message *out)
{
    out->data = malloc(len + 1);
    if (out->data == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM,
                                 "reading a channel message of %zu bytes: out of memory", len);
    memcpy(out->data, str, len);
    out->data[len] = '\0';
    out->len = len;
    return SPINDLE_OK;
}

/* One pop-script call of up to count messages. *reply holds {'ok', message...}. */
static int pop_some(spindle_store *s, const chan_keys *k, spindle_chan_dir dir, long count,
                    redisReply **reply)
{
    char n[24];
    snprintf(n, sizeof(n), "%ld", count);
    const char *args[] = {dir_name(dir), n};
    *reply = run(s, k, 0, "pop", args, NULL, 2);
    if (*reply == NULL)
        return s->err->code;
    for (size_t i = 1; i < (*reply)->elements; i++)
        if ((*reply)->element[i]->type != REDIS_REPLY_STRING) {
            spindle_store_bad_reply(s, "channel script", *reply);
            *reply = NULL;
            return spindle_error_wrap(s->err, "%s: ", k->label);
        }
    return SPINDLE_OK;
}

/* BLPOP on one queue for ms. *got is 1 with *out filled if a message came. */
static int block_pop(spindle_store *s, const chan_keys *k, spindle_chan_dir dir, long ms, int *got,
                     spindle_message *out)
{
    const char *key = dir == SPINDLE_CHAN_IN ? k->in : k->out;
    char secs[32];
    snprintf(secs, sizeof(secs), "%.3f", (double)ms / 1000.0);
    *got = 0;
    spindle_store_block_timeout(s, ms);
    redisReply *r =
        spindle_store_callf(s, "waiting for a channel message", "BLPOP %s %s", key, secs);
    spindle_store_block_timeout(s, 0);
    if (r == NULL) {
        if (s->err->code == SPINDLE_ERR_REDIS && strstr(s->err->msg, "WRONGTYPE"))
            return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                     "%s: key %s is not a list (written by hand?)", k->label, key);
        return spindle_error_wrap(s->err, "%s: ", k->label);
    }
    int rc = SPINDLE_OK;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING) {
        rc = copy_message(s, r->element[1]->str, r->element[1]->len, out);
        *got = rc == SPINDLE_OK;
    } else if (r->type != REDIS_REPLY_NIL) {
        return spindle_store_bad_reply(s, "waiting for a channel message", r);
    }
    freeReplyObject(r);
    return rc;
}

int spindle_store_chan_pop(spindle_store *s, const spindle_chan_id *ch, spindle_chan_dir dir,
                           long timeout_ms, spindle_message *out)
{
    memset(out, 0, sizeof(*out));
    chan_keys k;
    chan_keys_make(s, ch, &k);
    int64_t deadline = spindle_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        redisReply *r = NULL;
        int rc = pop_some(s, &k, dir, 1, &r);
        if (rc != SPINDLE_OK)
            return rc;
        if (r->elements > 1) {
            rc = copy_message(s, r->element[1]->str, r->element[1]->len, out);
            freeReplyObject(r);
            return rc;
        }
        freeReplyObject(r);
        long slice = spindle_slice_ms(deadline, timeout_ms, CHAN_SLICE_MS);
        if (slice == 0)
            break;
        int got = 0;
        rc = block_pop(s, &k, dir, slice, &got, out);
        if (rc != SPINDLE_OK || got)
            return rc;
    }
    return spindle_error_set(s->err, SPINDLE_ERR_TIMEOUT,
                             "%s: no message in the %s queue within %ld ms", k.label, dir_text(dir),
                             timeout_ms);
}

int spindle_store_chan_pop_all(spindle_store *s, const spindle_chan_id *ch, spindle_chan_dir dir,
                               spindle_message **msgs, size_t *n)
{
    *msgs = NULL;
    *n = 0;
    chan_keys k;
    chan_keys_make(s, ch, &k);
    size_t cap = 0;
    /* A writer as fast as the reader could keep this going: stop after one full queue's
     * worth at the largest capacity, and let the caller come back for more. */
    while (*n < (size_t)SPINDLE_CHANNEL_CAP_MAX) {
        redisReply *r = NULL;
        int rc = pop_some(s, &k, dir, CHAN_POP_CHUNK, &r);
        if (rc != SPINDLE_OK)
            return rc;
        size_t got = r->elements - 1;
        if (*n + got > cap) {
            size_t ncap = cap ? cap * 2 : 16;
            while (ncap < *n + got)
                ncap *= 2;
            spindle_message *m = realloc(*msgs, ncap * sizeof(*m));
            if (m == NULL) {
                /* The messages popped in this round trip are lost with the reply: say so. */
                freeReplyObject(r);
                return spindle_error_set(s->err, SPINDLE_ERR_NOMEM,
                                         "%s: out of memory reading %zu messages (%zu lost)",
                                         k.label, *n + got, got);
            }
            *msgs = m;
            cap = ncap;
        }
        for (size_t i = 0; i < got; i++) {
            if (copy_message(s, r->element[i + 1]->str, r->element[i + 1]->len, &(*msgs)[*n]) !=
                SPINDLE_OK) {
                freeReplyObject(r);
                return spindle_error_wrap(s->err, "%s: %zu messages lost: ", k.label, got - i);
            }
            (*n)++;
        }
        freeReplyObject(r);
        if (got < CHAN_POP_CHUNK)
            break;
    }
    return SPINDLE_OK;
}

int spindle_store_chan_event(spindle_store *s, const spindle_chan_id *ch, int op, int *set)
{
    chan_keys k;
    chan_keys_make(s, ch, &k);
    const char *name = op > 0 ? "set" : op < 0 ? "clear" : "event";
    redisReply *r = run(s, &k, 0, name, NULL, NULL, 0);
    if (r == NULL)
        return s->err->code;
    if (op == 0) {
        if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_STRING)
            return spindle_store_bad_reply(s, "channel script", r);
        *set = r->element[1]->len > 0;
    } else if (set) {
        *set = op > 0;
    }
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_chan_delete(spindle_store *s, const spindle_chan_id *ch, int *existed)
{
    chan_keys k;
    chan_keys_make(s, ch, &k);
    redisReply *r =
        spindle_store_callf(s, "deleting a channel", "DEL %s %s %s", k.meta, k.in, k.out);
    if (r == NULL)
        return spindle_error_wrap(s->err, "%s: ", k.label);
    if (r->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "deleting a channel", r);
    if (existed)
        *existed = r->integer > 0;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_task_group(spindle_store *s, const char *queue, const char *id, char *group)
{
    char key[SPINDLE_KEY_MAX];
    spindle_key_task(key, s->ns, queue, id);
    redisReply *r = spindle_store_callf(s, "reading the task's group", "HGET %s group", key);
    if (r == NULL) {
        if (s->err->code == SPINDLE_ERR_REDIS && strstr(s->err->msg, "WRONGTYPE"))
            return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                     "task key %s is not a hash (written by hand?)", key);
        return s->err->code;
    }
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND, "task %s is in no group", id);
    }
    if (r->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "reading the task's group", r);
    spindle_error check;
    int ok = r->len <= SPINDLE_NAME_MAX && strlen(r->str) == r->len &&
             spindle_name_check(r->str, "group", &check) == SPINDLE_OK;
    if (ok)
        memcpy(group, r->str, r->len + 1);
    else
        spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                          "task %s has a 'group' field '%.64s' that is not a valid group name", id,
                          r->str);
    freeReplyObject(r);
    return ok ? SPINDLE_OK : SPINDLE_ERR_PROTOCOL;
}
