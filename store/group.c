/* The group's own keys (docs/PROTOCOL.md, "Groups"): the callers of the group script, which
 * keeps NS:{g:NAME}:meta, :names and :order in one atomic step and refreshes their TTL on
 * every use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "store/group.h"
#include "store/keys.h"

size_t spindle_group_ref_format(char *buf, const char *id, const char *queue)
{
    int n = snprintf(buf, SPINDLE_ID_LEN + SPINDLE_NAME_MAX + 1, "%s%s", id, queue);
    return n < 0 ? 0 : (size_t)n;
}

int spindle_group_ref_parse(spindle_store *s, const char *group, const char *name, const char *ref,
                            size_t len, spindle_group_ref *out)
{
    spindle_error scratch;
    out->name = name;
    if (len > SPINDLE_ID_LEN && len <= SPINDLE_ID_LEN + SPINDLE_NAME_MAX &&
        memchr(ref, '\0', len) == NULL) {
        memcpy(out->id, ref, SPINDLE_ID_LEN);
        out->id[SPINDLE_ID_LEN] = '\0';
        memcpy(out->queue, ref + SPINDLE_ID_LEN, len - SPINDLE_ID_LEN);
        out->queue[len - SPINDLE_ID_LEN] = '\0';
        if (spindle_id_check(out->id, &scratch) == SPINDLE_OK &&
            spindle_name_check(out->queue, "queue", &scratch) == SPINDLE_OK)
            return SPINDLE_OK;
    }
    return spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                             "group '%s': member '%s' has a malformed task ref '%.*s' (want a "
                             "task id followed by a queue name)",
                             group, name, (int)(len > 200 ? 200 : len), ref);
}

/* Runs the group script: op, then args[0..n) (may be NULL). *reply is its array reply with a
 * status string first (caller frees). */
static int run(spindle_store *s, const char *group, const char *op, const char *const *args,
               size_t n, redisReply **reply)
{
    char meta[SPINDLE_KEY_MAX], names[SPINDLE_KEY_MAX], order[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, meta, spindle_key_group(meta, s->ns, group, "meta"));
    spindle_cmd_push(cmd, names, spindle_key_group(names, s->ns, group, "names"));
    spindle_cmd_push(cmd, order, spindle_key_group(order, s->ns, group, "order"));
    spindle_cmd_str(cmd, op);
    for (size_t i = 0; i < n; i++)
        spindle_cmd_str(cmd, args[i]);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_GROUP, 3, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "group", r);
    if (strcmp(r->element[0]->str, "missing") == 0) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND,
                                 "group '%s' not found (never created, destroyed or expired)",
                                 group);
    }
    *reply = r;
    return SPINDLE_OK;
}

int spindle_store_group_create(spindle_store *s, const char *group, long ttl_s)
{
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
    const char *args[] = {ttl};
    redisReply *r = NULL;
    int rc = run(s, group, "create", args, 1, &r);
    if (rc != SPINDLE_OK)
        return rc;
    int exists = strcmp(r->element[0]->str, "exists") == 0;
    freeReplyObject(r);
    return exists
               ? spindle_error_set(s->err, SPINDLE_ERR_INVALID, "group '%s' already exists", group)
               : SPINDLE_OK;
}

int spindle_store_group_touch(spindle_store *s, const char *group)
{
    redisReply *r = NULL;
    int rc = run(s, group, "touch", NULL, 0, &r);
    if (rc == SPINDLE_OK)
        freeReplyObject(r);
    return rc;
}

int spindle_store_group_reserve(spindle_store *s, const char *group, const char *const *names,
                                const char *const *refs, size_t n)
{
    const char **args = malloc((2 * n + 1) * sizeof(*args));
    if (args == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory", group);
    for (size_t i = 0; i < n; i++) {
        args[2 * i] = names[i];
        args[2 * i + 1] = refs[i];
    }
    redisReply *r = NULL;
    int rc = run(s, group, "reserve", args, 2 * n, &r);
    free(args);
    if (rc != SPINDLE_OK)
        return rc;
    if (strcmp(r->element[0]->str, "taken") == 0 && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        rc = spindle_error_set(s->err, SPINDLE_ERR_INVALID,
                               "group '%s': the name '%s' is taken (names are unique in a group)",
                               group, r->element[1]->str);
    else if (strcmp(r->element[0]->str, "ok") != 0)
        return spindle_store_bad_reply(s, "group reserve", r);
    freeReplyObject(r);
    return rc;
}

int spindle_store_group_release(spindle_store *s, const char *group, const char *const *names,
                                size_t n)
{
    redisReply *r = NULL;
    int rc = run(s, group, "release", names, n, &r);
    if (rc == SPINDLE_OK)
        freeReplyObject(r);
    return rc;
}

int spindle_store_group_has(spindle_store *s, const char *group, const char *name, int *taken)
{
    redisReply *r = NULL;
    int rc = run(s, group, "has", &name, 1, &r);
    if (rc != SPINDLE_OK)
        return rc;
    if (r->elements != 3 || r->element[2]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "group has", r);
    *taken = r->element[2]->integer == 1;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_group_get(spindle_store *s, const char *group, const char *name,
                            spindle_group_ref *out)
{
    redisReply *r = NULL;
    int rc = run(s, group, "get", &name, 1, &r);
    if (rc != SPINDLE_OK)
        return rc;
    if (r->elements != 3 || r->element[2]->type != REDIS_REPLY_STRING)
        return spindle_store_bad_reply(s, "group get", r);
    if (r->element[2]->len == 0)
        rc = spindle_error_set(s->err, SPINDLE_ERR_NOT_FOUND, "group '%s' has no member '%s'",
                               group, name);
    else
        rc = spindle_group_ref_parse(s, group, name, r->element[2]->str, r->element[2]->len, out);
    out->name = NULL;
    freeReplyObject(r);
    return rc;
}

int spindle_store_group_members(spindle_store *s, const char *group, spindle_group_ref **refs,
                                size_t *n, redisReply **reply)
{
    *refs = NULL;
    *n = 0;
    *reply = NULL;
    redisReply *r = NULL;
    int rc = run(s, group, "members", NULL, 0, &r);
    if (rc != SPINDLE_OK)
        return rc;
    if (r->elements < 2 || r->elements % 2 != 0)
        return spindle_store_bad_reply(s, "group members", r);
    size_t m = (r->elements - 2) / 2;
    spindle_group_ref *out = m ? calloc(m, sizeof(*out)) : NULL;
    if (m && out == NULL) {
        freeReplyObject(r);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory", group);
    }
    for (size_t i = 0; i < m && rc == SPINDLE_OK; i++) {
        const redisReply *name = r->element[2 + 2 * i], *ref = r->element[3 + 2 * i];
        if (name->type != REDIS_REPLY_STRING || ref->type != REDIS_REPLY_STRING)
            rc = spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                   "group '%s': unexpected reply for member %zu", group, i);
        else if (ref->len == 0)
            rc = spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                   "group '%s': member '%s' is listed in the order but has no "
                                   "task ref",
                                   group, name->str);
        else
            rc = spindle_group_ref_parse(s, group, name->str, ref->str, ref->len, &out[i]);
    }
    if (rc != SPINDLE_OK) {
        free(out);
        freeReplyObject(r);
        return rc;
    }
    *refs = out;
    *n = m;
    *reply = r;
    return SPINDLE_OK;
}

int spindle_store_group_destroy(spindle_store *s, const char *group, int *existed)
{
    redisReply *r = NULL;
    int rc = run(s, group, "destroy", NULL, 0, &r);
    if (rc != SPINDLE_OK)
        return rc;
    if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "group destroy", r);
    if (existed)
        *existed = r->element[1]->integer > 0;
    freeReplyObject(r);
    return SPINDLE_OK;
}
