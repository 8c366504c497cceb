/* The cancel channel's subscriber (cancel_sub.h). */
#include "store/cancel_sub.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/client.h"
#include "spindle/status.h"
#include "store/keys.h"

int spindle_cancel_msg_parse(const char *payload, size_t len, spindle_cancel_msg *m)
{
    char text[SPINDLE_NAME_MAX + SPINDLE_ID_LEN + 64];
    if (len >= sizeof(text))
        return -1;
    memcpy(text, payload, len);
    text[len] = '\0';
    char attempt[24], grace[24];
    int used = 0;
    memset(m, 0, sizeof(*m));
    if (sscanf(text, "%128s %36s %23s %23s%n", m->queue, m->id, attempt, grace, &used) != 4 ||
        (size_t)used != len)
        return -1;
    spindle_error err;
    if (spindle_name_check(m->queue, "queue", &err) != SPINDLE_OK ||
        spindle_id_check(m->id, &err) != SPINDLE_OK)
        return -1;
    char *end = NULL;
    long long a = strtoll(attempt, &end, 10);
    if (*end || a < 1)
        return -1;
    long long g = strtoll(grace, &end, 10);
    if (*end || g < -1 || g > SPINDLE_MAX_CANCEL_GRACE_MS)
        return -1;
    m->attempt = (long)a;
    m->grace_ms = (long)g;
    return 0;
}

static void drop(spindle_cancel_sub *sub)
{
    spindle_store_disconnect(&sub->store);
}

/* SUBSCRIBE to the cancel and cron channels on a fresh connection and read both
 * confirmations. */
static int subscribe(spindle_cancel_sub *sub)
{
    spindle_store *s = &sub->store;
    char channel[SPINDLE_KEY_MAX], cron[SPINDLE_KEY_MAX];
    spindle_key_cancel_channel(channel, s->ns);
    spindle_key_cron_channel(cron, s->ns);
    redisReply *r =
        spindle_store_callf(s, "subscribing to cancel requests", "SUBSCRIBE %s %s", channel, cron);
    if (r == NULL)
        return s->err->code;
    int ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
        ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
             r->element[0]->type == REDIS_REPLY_STRING &&
             strcmp(r->element[0]->str, "subscribe") == 0;
        if (r)
            freeReplyObject(r);
        r = NULL;
        if (ok && i == 0 && redisGetReply(s->rc, (void **)&r) != REDIS_OK)
            ok = 0;
    }
    if (!ok) {
        drop(sub);
        return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                 "subscribing to %s at %s: unexpected reply", channel, s->url_text);
    }
    sub->subscriptions++;
    return SPINDLE_OK;
}

int spindle_cancel_sub_open(spindle_cancel_sub *sub, const char *url, const char *ns,
                            int connect_timeout_ms, int command_timeout_ms, spindle_error *err)
{
    memset(sub, 0, sizeof(*sub));
    int rc = spindle_store_open(&sub->store, url, ns, connect_timeout_ms, command_timeout_ms, err);
    sub->opened = sub->store.url_text[0] != '\0';
    return rc == SPINDLE_OK ? subscribe(sub) : rc;
}

int spindle_cancel_sub_resubscribe(spindle_cancel_sub *sub)
{
    if (!sub->opened)
        return spindle_error_set(sub->store.err, SPINDLE_ERR_INVALID,
                                 "cancel subscription: bad connection options");
    int rc = spindle_store_reconnect(&sub->store);
    return rc == SPINDLE_OK ? subscribe(sub) : rc;
}

int spindle_cancel_sub_fd(const spindle_cancel_sub *sub)
{
    return sub->store.rc ? sub->store.rc->fd : -1;
}

/* Takes one message from a pushed reply into m: 0, or -1 if it is not a well-formed
 * announcement (a subscribe confirmation, garbage). */
static int take(spindle_cancel_sub *sub, const redisReply *r, spindle_cancel_msg *m)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_STRING)
        return -1;
    char cron[SPINDLE_KEY_MAX];
    spindle_key_cron_channel(cron, sub->store.ns);
    if (strcmp(r->element[1]->str, cron) == 0) {
        sub->cron_changes++;
        return -1;
    }
    return spindle_cancel_msg_parse(r->element[2]->str, r->element[2]->len, m);
}

int spindle_cancel_sub_read(spindle_cancel_sub *sub, spindle_cancel_msg *out, size_t cap, size_t *n)
{
    spindle_store *s = &sub->store;
    *n = 0;
    if (s->rc == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_IO, "cancel subscription: not connected");
    struct pollfd pfd = {.fd = s->rc->fd, .events = POLLIN};
    /* Drains what is buffered first; reads the socket only when poll() says it will not
     * block, so a call never waits. */
    for (int reads = 0;;) {
        void *r = NULL;
        while (*n < cap && redisGetReplyFromReader(s->rc, &r) == REDIS_OK && r != NULL) {
            if (take(sub, r, &out[*n]) == 0)
                (*n)++;
            freeReplyObject(r);
            r = NULL;
        }
        if (s->rc->err) {
            spindle_error_set(s->err, SPINDLE_ERR_IO, "cancel subscription at %s: %s", s->url_text,
                              s->rc->errstr);
            drop(sub);
            return SPINDLE_ERR_IO;
        }
        if (*n == cap || reads++ > 0 || poll(&pfd, 1, 0) <= 0)
            return SPINDLE_OK;
        if (redisBufferRead(s->rc) != REDIS_OK) {
            spindle_error_set(s->err, SPINDLE_ERR_IO,
                              "cancel subscription: lost connection to Redis at %s: %s",
                              s->url_text, s->rc->errstr[0] ? s->rc->errstr : "closed");
            drop(sub);
            return SPINDLE_ERR_IO;
        }
    }
}

void spindle_cancel_sub_close(spindle_cancel_sub *sub)
{
    spindle_store_close(&sub->store);
}
