/* Reading back states and executions (audit.h). */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys of docs/PROTOCOL.md for the default namespace and queue. */
#define TASK_KEY "spindle:{default}:task:%s"
#define PENDING_KEY "spindle:{default}:pending"
#define SCHEDULED_KEY "spindle:{default}:scheduled"
/* Commands per pipelined round trip: large enough to make 20,000 reads cheap, small enough
 * that a reply never holds much memory. */
#define CHUNK 1000

redisContext *audit_connect(int port)
{
    struct timeval cto = {.tv_sec = 1, .tv_usec = 0}, cmd = {.tv_sec = 5, .tv_usec = 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, cto);
    if (c == NULL)
        return NULL;
    redisReply *r = c->err ? NULL : redisCommand(c, "PING");
    int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    if (r)
        freeReplyObject(r);
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, cmd);
    return c;
}

long audit_left(redisContext *c)
{
    redisAppendCommand(c, "LLEN %s", PENDING_KEY);
    redisAppendCommand(c, "ZCARD %s", SCHEDULED_KEY);
    long left = 0;
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK)
            return -1;
        if (r->type == REDIS_REPLY_INTEGER)
            left += (long)r->integer;
        else
            ok = 0;
        freeReplyObject(r);
    }
    return ok ? left : -1;
}

int audit_is_final(const audit_task *t)
{
    return strcmp(t->state, "succeeded") == 0 || strcmp(t->state, "failed") == 0 ||
           strcmp(t->state, "cancelled") == 0;
}

static long field_long(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING ? strtol(r->str, NULL, 10) : 0;
}

/* Reads the replies of the HMGETs sent for idx[0..m). 0, or -1 if Redis failed. */
static int read_chunk(redisContext *c, audit_task *t, const size_t *idx, size_t m)
{
    int rc = 0;
    for (size_t j = 0; j < m; j++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK)
            return -1;
        audit_task *x = &t[idx[j]];
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
            rc = -1;
        } else {
            const redisReply *st = r->element[0];
            x->missing = st->type != REDIS_REPLY_STRING;
            snprintf(x->state, sizeof(x->state), "%s", x->missing ? "" : st->str);
            x->attempts = field_long(r->element[1]);
            x->lost = field_long(r->element[2]);
            x->retried = field_long(r->element[3]);
        }
        freeReplyObject(r);
    }
    return rc;
}

long audit_read(redisContext *c, audit_task *t, size_t n, int all)
{
    size_t idx[CHUNK];
    long final = 0;
    size_t i = 0;
    while (i < n) {
        size_t m = 0;
        for (; i < n && m < CHUNK; i++) {
            if (!all && audit_is_final(&t[i])) {
                final++;
                continue;
            }
            char key[96];
            snprintf(key, sizeof(key), TASK_KEY, t[i].id);
            redisAppendCommand(c, "HMGET %s state attempts lost retried", key);
            idx[m++] = i;
        }
        if (read_chunk(c, t, idx, m) != 0)
            return -1;
        for (size_t j = 0; j < m; j++)
            final += audit_is_final(&t[idx[j]]);
    }
    return final;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const audit_task *)a)->id, ((const audit_task *)b)->id);
}

void audit_sort(audit_task *t, size_t n)
{
    qsort(t, n, sizeof(*t), by_id);
}

int audit_count_runs(const char *log, audit_task *t, size_t n, long *executions, long *unknown)
{
    *executions = 0;
    *unknown = 0;
    for (size_t i = 0; i < n; i++)
        t[i].runs = 0;
    FILE *f = fopen(log, "r");
    if (f == NULL)
        return -1;
    char line[128];
    audit_task key;
    memset(&key, 0, sizeof(key));
    while (fgets(line, sizeof(line), f)) {
        *executions += 1;
        size_t len = strcspn(line, "\n");
        audit_task *hit = NULL;
        if (len == sizeof(key.id) - 1) {
            memcpy(key.id, line, len);
            hit = bsearch(&key, t, n, sizeof(*t), by_id);
        }
        if (hit)
            hit->runs++;
        else
            *unknown += 1;
    }
    fclose(f);
    return 0;
}

void audit_show(redisContext *c, const audit_task *t)
{
    char key[96];
    snprintf(key, sizeof(key), TASK_KEY, t->id);
    redisReply *r = c ? redisCommand(c, "HGETALL %s", key) : NULL;
    fprintf(stderr, "  %s (ran %ld time(s)):", t->id, t->runs);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 0)
        fprintf(stderr, " no task hash");
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const char *f = r->element[i]->str;
        if (strcmp(f, "args") != 0 && strcmp(f, "result") != 0)
            fprintf(stderr, " %s=%s", f, r->element[i + 1]->str);
    }
    fprintf(stderr, "\n");
    if (r)
        freeReplyObject(r);
}
