/* The consistency audit: an incremental SCAN over the namespace's task hashes that repairs
 * tasks in no list their state calls for.
 *
 * Why it exists when every step is one atomic script: a script that fails halfway is not
 * rolled back (the scripts check key types before their first write to avoid exactly that,
 * but a Redis killed mid-way through an AOF rewrite, a replica promoted before it had the
 * last writes, or an operator's DEL can still leave a `running` task in no in-flight list or
 * a `pending` one in no pending list). Such a task would never run and never end. The audit
 * finds it within a full SCAN cycle: each sweep reads a few pages and keeps its cursor in
 * NS:audit, so the cost per sweep is bounded however large the keyspace is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"
#include "store/ops.h"

/* Task keys per SCAN page. */
#define AUDIT_COUNT 1000

/* Extracts the queue name from "NS:{Q}:task:ID" into q (size SPINDLE_NAME_MAX + 1) and
 * returns a pointer to ID, or NULL if the key does not have that shape. */
static const char *split_task_key(const spindle_store *s, const char *key, char *q)
{
    size_t nl = strlen(s->ns);
    if (strncmp(key, s->ns, nl) != 0 || strncmp(key + nl, ":{", 2) != 0)
        return NULL;
    const char *start = key + nl + 2;
    const char *end = strstr(start, "}:task:");
    if (end == NULL || end == start || (size_t)(end - start) > SPINDLE_NAME_MAX)
        return NULL;
    memcpy(q, start, (size_t)(end - start));
    q[end - start] = '\0';
    const char *id = end + strlen("}:task:");
    return strlen(id) == SPINDLE_ID_LEN ? id : NULL;
}

/* Runs the audit script on the ids of one queue found in a page. */
static int audit_queue(spindle_store *s, const char *queue, const redisReply *keys, long *repaired)
{
    char base[SPINDLE_KEY_MAX], q[SPINDLE_NAME_MAX + 1];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, base, spindle_key_queue_base(base, s->ns, queue));
    int n = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        const char *id = split_task_key(s, keys->element[i]->str, q);
        if (id && strcmp(q, queue) == 0) {
            spindle_cmd_str(cmd, id);
            n++;
        }
    }
    if (n == 0)
        return SPINDLE_OK;
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_AUDIT, 0, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type == REDIS_REPLY_INTEGER)
        *repaired += (long)r->integer;
    freeReplyObject(r);
    return SPINDLE_OK;
}

/* Audits the task keys of one SCAN page, queue by queue (each queue once, in the order its
 * first key appears). */
static int audit_page(spindle_store *s, const redisReply *keys, long *repaired)
{
    char q[SPINDLE_NAME_MAX + 1], seen[SPINDLE_NAME_MAX + 1];
    for (size_t i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING ||
            split_task_key(s, keys->element[i]->str, q) == NULL)
            continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = keys->element[j]->type != REDIS_REPLY_STRING ||
                    split_task_key(s, keys->element[j]->str, seen) == NULL || strcmp(seen, q) != 0;
        if (!first)
            continue;
        int rc = audit_queue(s, q, keys, repaired);
        if (rc == SPINDLE_ERR_IO)
            return rc; /* other errors: a queue with keys of the wrong type; the claim logs it */
    }
    return SPINDLE_OK;
}

/* Redis Cluster: SCAN sees one node's keys, so the audit walks the masters in turn; the
 * cursor is then "K:CURSOR", CURSOR being master K's (numbered as spindle_cluster_masters()
 * does). A cursor of another form starts again at master 0. */
static int cluster_cursor(spindle_store *s, char *cursor, size_t cap, int *master)
{
    int n = spindle_cluster_masters(s);
    if (n == 0)
        return s->err->code;
    char *colon = strchr(cursor, ':');
    long k = colon ? strtol(cursor, NULL, 10) : -1;
    if (colon == NULL || k < 0 || k >= n || colon[1] == '\0') {
        k = 0;
        snprintf(cursor, cap, "0");
    } else {
        memmove(cursor, colon + 1, strlen(colon + 1) + 1);
    }
    *master = (int)k;
    return SPINDLE_OK;
}

int spindle_store_audit(spindle_store *s, int pages, long *repaired)
{
    char ckey[SPINDLE_KEY_MAX], pattern[SPINDLE_KEY_MAX], cursor[32] = "0";
    spindle_key_audit_cursor(ckey, s->ns);
    spindle_key_task_pattern(pattern, s->ns);
    redisReply *r = spindle_store_callf(s, "reading the audit cursor", "GET %s", ckey);
    if (r == NULL)
        return s->err->code;
    int cluster = spindle_store_is_cluster(s), master = 0;
    if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < sizeof(cursor) &&
        strspn(r->str, cluster ? "0123456789:" : "0123456789") == r->len)
        memcpy(cursor, r->str, r->len + 1);
    freeReplyObject(r);
    if (cluster && cluster_cursor(s, cursor, sizeof(cursor), &master) != SPINDLE_OK)
        return s->err->code;
    for (int p = 0; p < pages; p++) {
        if (cluster)
            spindle_cluster_pin(s, master);
        r = spindle_store_callf(s, "auditing tasks", "SCAN %s MATCH %s COUNT %d", cursor, pattern,
                                AUDIT_COUNT);
        if (cluster)
            spindle_cluster_pin(s, -1);
        if (r == NULL)
            return s->err->code;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof(cursor) ||
            r->element[1]->type != REDIS_REPLY_ARRAY)
            return spindle_store_bad_reply(s, "auditing tasks", r);
        memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        int rc = audit_page(s, r->element[1], repaired);
        freeReplyObject(r);
        if (rc != SPINDLE_OK)
            return rc;
        if (strcmp(cursor, "0") == 0) {
            master++; /* this master done: the next one (cluster) starts at the next audit */
            break;
        }
    }
    char saved[48];
    if (cluster)
        snprintf(saved, sizeof(saved), "%d:%s", master, cursor);
    else
        snprintf(saved, sizeof(saved), "%s", cursor);
    r = spindle_store_callf(s, "saving the audit cursor", "SET %s %s", ckey, saved);
    if (r == NULL)
        return s->err->code;
    freeReplyObject(r);
    return SPINDLE_OK;
}
