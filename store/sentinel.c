/* Master discovery through Redis Sentinel (sentinel.h). Sentinel is Redis's own high
 * availability: Spindle adds no broker of its own, it only asks the sentinels where the
 * master is, each time it has to (re)connect. */
#include "store/sentinel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spindle/status.h"

/* Rounds over all sentinels, and the back-off before each next round: 50 ms doubling to
 * 800 ms, ~1.5 s of sleeping in all. A Sentinel failover (promotion, then the replicas
 * reconfigured) takes about a second on a healthy network; callers retry SPINDLE_ERR_IO
 * with their own back-off beyond that. */
#define ROUNDS 6
#define FIRST_BACKOFF_MS 50

/* The port a sentinel answered, as text: 1..65535, or -1. */
static int port_of(const char *text)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && v >= 1 && v <= 65535 ? (int)v : -1;
}
static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Appends "host:port: what; " to the trail of sentinels tried (truncated when full). */
static void note(char *trail, size_t cap, const char *host, int port, const char *what)
{
    size_t used = strlen(trail);
    if (used + 1 < cap)
        snprintf(trail + used, cap - used, "%s%s:%d: %s", used ? "; " : "", host, port, what);
}

/* Asks one sentinel for the master's address: SPINDLE_OK with host/port filled, else -1
 * with why (a buffer of why_cap bytes) set. */
static int ask(const spindle_store *s, int i, char *host, size_t host_cap, int *port, char *why,
               size_t why_cap)
{
    const spindle_sentinel_url *su = &s->url.sentinel;
    struct timeval cto = {.tv_sec = s->connect_timeout_ms / 1000,
                          .tv_usec = (s->connect_timeout_ms % 1000) * 1000L};
    redisContext *rc = redisConnectWithTimeout(su->node[i].host, su->node[i].port, cto);
    if (rc == NULL || rc->err) {
        snprintf(why, why_cap, "cannot connect: %s", rc ? rc->errstr : "out of memory");
        redisFree(rc);
        return -1;
    }
    struct timeval tv = {.tv_sec = s->command_timeout_ms / 1000,
                         .tv_usec = (s->command_timeout_ms % 1000) * 1000L};
    redisSetTimeout(rc, tv);
    redisReply *r = NULL;
    int ok = -1;
    if (su->has_password) {
        r = su->user[0] ? redisCommand(rc, "AUTH %s %s", su->user, su->password)
                        : redisCommand(rc, "AUTH %s", su->password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(why, why_cap, "AUTH refused: %s", r ? r->str : rc->errstr);
            goto out;
        }
        freeReplyObject(r);
    }
    r = redisCommand(rc, "SENTINEL get-master-addr-by-name %s", su->master);
    if (r == NULL)
        snprintf(why, why_cap, "no reply: %s", rc->errstr);
    else if (r->type == REDIS_REPLY_ERROR)
        snprintf(why, why_cap, "answered: %s", r->str);
    else if (r->type == REDIS_REPLY_NIL)
        snprintf(why, why_cap, "does not monitor a master named '%s'", su->master);
    else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
             r->element[0]->type != REDIS_REPLY_STRING ||
             r->element[1]->type != REDIS_REPLY_STRING || r->element[0]->len >= host_cap ||
             (*port = port_of(r->element[1]->str)) <= 0)
        snprintf(why, why_cap, "answered something other than [host, port]");
    else {
        memcpy(host, r->element[0]->str, r->element[0]->len + 1);
        ok = SPINDLE_OK;
    }
out:
    if (r)
        freeReplyObject(r);
    redisFree(rc);
    return ok;
}

/* 1 if the freshly connected node says ROLE master; else why is set. */
static int is_master(spindle_store *s, char *why, size_t why_cap)
{
    redisReply *r = redisCommand(s->rc, "ROLE");
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
             r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
    if (!ok)
        snprintf(why, why_cap, "but ROLE there says %s",
                 r == NULL                      ? "nothing (connection lost)"
                 : r->type == REDIS_REPLY_ERROR ? r->str
                 : r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                         r->element[0]->type == REDIS_REPLY_STRING
                     ? r->element[0]->str
                     : "something unexpected");
    if (r)
        freeReplyObject(r);
    return ok;
}

/* One pass over the sentinels: SPINDLE_OK once connected to a master; SPINDLE_ERR_REDIS if
 * the master refused AUTH/SELECT (s->err set, not worth retrying); else SPINDLE_ERR_IO with
 * what happened added to trail. */
static int one_round(spindle_store *s, char *trail, size_t cap)
{
    const spindle_sentinel_url *su = &s->url.sentinel;
    for (int i = 0; i < su->count; i++) {
        char why[256];
        int port = 0;
        if (ask(s, i, s->url.host, sizeof(s->url.host), &port, why, sizeof(why)) != SPINDLE_OK) {
            note(trail, cap, su->node[i].host, su->node[i].port, why);
            continue;
        }
        s->url.port = port;
        int rc = spindle_store_connect_addr(s);
        if (rc == SPINDLE_OK && is_master(s, why, sizeof(why)))
            return SPINDLE_OK;
        if (rc == SPINDLE_ERR_REDIS || rc == SPINDLE_ERR_NOMEM)
            return rc;
        char what[1024];
        snprintf(what, sizeof(what), "master at %s:%d %s", s->url.host, port,
                 rc == SPINDLE_OK ? why : s->err->msg);
        note(trail, cap, su->node[i].host, su->node[i].port, what);
        spindle_store_disconnect(s);
    }
    return SPINDLE_ERR_IO;
}

int spindle_sentinel_connect(spindle_store *s)
{
    char trail[2048];
    long backoff = FIRST_BACKOFF_MS;
    for (int round = 0; round < ROUNDS; round++) {
        if (round > 0) {
            sleep_ms(backoff);
            backoff *= 2;
        }
        trail[0] = '\0';
        int rc = one_round(s, trail, sizeof(trail));
        if (rc != SPINDLE_ERR_IO)
            return rc;
    }
    return spindle_error_set(s->err, SPINDLE_ERR_IO,
                             "no master '%s' reachable through the sentinels of %s after %d "
                             "rounds (%s)",
                             s->url.sentinel.master, s->url_text, ROUNDS, trail);
}
