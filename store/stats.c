/* Reads a queue's throughput buckets (stats.h). Why pipelined HMGETs of known keys rather
 * than a SCAN: the bucket names follow from the clock, so one round trip answers, however
 * many keys the namespace holds. */
#include "store/stats.h"

#include <stdio.h>

#include "spindle/status.h"
#include "store/keys.h"

#define MINUTE_BUCKETS SPINDLE_STATS_MINUTE_BUCKETS
#define HOUR_BUCKETS 25 /* the current hour and the 24 before: the last day */

/* Adds the two fields (ok, fail) of one HMGET reply to ok/fail; SPINDLE_ERR_PROTOCOL for a
 * bucket that is not a hash or a count that is not a number >= 0. */
static int add_bucket(spindle_store *s, const char *key, const redisReply *r, long long *ok,
                      long long *fail)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                 "stats bucket '%s' is not a hash (%s)", key,
                                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    long long *to[2] = {ok, fail};
    for (int f = 0; f < 2; f++) {
        const redisReply *v = r->element[f];
        if (v->type == REDIS_REPLY_NIL)
            continue;
        long long n = spindle_reply_ll(v, -1);
        if (n < 0)
            return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                     "stats bucket '%s': field '%s' is not a count", key,
                                     f == 0 ? "ok" : "fail");
        *to[f] += n;
    }
    return SPINDLE_OK;
}

int spindle_store_stats_read(spindle_store *s, const char *queue, int64_t now_ms,
                             long long ok[SPINDLE_STATS_WINDOWS],
                             long long fail[SPINDLE_STATS_WINDOWS],
                             long long by_minute[SPINDLE_STATS_MINUTE_BUCKETS])
{
    for (int w = 0; w < SPINDLE_STATS_WINDOWS; w++)
        ok[w] = fail[w] = 0;
    for (int i = 0; i < MINUTE_BUCKETS; i++)
        by_minute[i] = 0;
    const long long minute = now_ms / 60000, hour = now_ms / 3600000;
    const int total = MINUTE_BUCKETS + HOUR_BUCKETS;
    char key[SPINDLE_KEY_MAX];
    int sent = 0, rc = SPINDLE_OK;
    for (; rc == SPINDLE_OK && sent < total; sent++) {
        if (sent < MINUTE_BUCKETS)
            spindle_key_stats_minute(key, s->ns, queue, minute - sent);
        else
            spindle_key_stats_hour(key, s->ns, queue, hour - (sent - MINUTE_BUCKETS));
        rc = spindle_store_appendf(s, "reading stats buckets", "HMGET %s ok fail", key);
        if (rc != SPINDLE_OK)
            sent--; /* not appended: no reply to read for it */
    }
    for (int i = 0; i < sent; i++) {
        redisReply *r = spindle_store_read(s, "reading stats buckets");
        if (r == NULL)
            return s->err->code;
        if (rc == SPINDLE_OK) {
            long long o = 0, f = 0;
            if (i < MINUTE_BUCKETS)
                spindle_key_stats_minute(key, s->ns, queue, minute - i);
            else
                spindle_key_stats_hour(key, s->ns, queue, hour - (i - MINUTE_BUCKETS));
            rc = add_bucket(s, key, r, &o, &f);
            if (i < 2) {
                ok[0] += o;
                fail[0] += f;
            }
            if (i < MINUTE_BUCKETS) {
                by_minute[i] = o + f;
                ok[1] += o;
                fail[1] += f;
            } else {
                ok[2] += o;
                fail[2] += f;
            }
        }
        freeReplyObject(r);
    }
    return rc;
}
