/* Single-file queues in the store (serial.h): the calls behind spindle_queue_single_file(),
 * spindle_queue_single_file_status() and the supervisor's lease renewal. Key layout and
 * scripts: docs/PROTOCOL.md, "Single-file queues"; script sources in script_serial.c. */
#include "store/serial.h"

#include <stdio.h>
#include <string.h>

#include "spindle/status.h"
#include "store/keys.h"

/* Copies a lease holder read from Redis into holder (size SPINDLE_ID_LEN + 1); -1 if it is
 * not a string of that size (a lease written by hand). */
static int copy_holder(char *holder, const redisReply *r)
{
    if (r->type != REDIS_REPLY_STRING || r->len > SPINDLE_ID_LEN)
        return -1;
    memcpy(holder, r->str, r->len);
    holder[r->len] = '\0';
    return 0;
}

int spindle_store_single_file(spindle_store *s, const char *queue, const char *op,
                              spindle_store_serial *out)
{
    char limits[SPINDLE_KEY_MAX], lease[SPINDLE_KEY_MAX];
    memset(out, 0, sizeof(*out));
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, limits, spindle_key_limits(limits, s->ns, queue));
    spindle_cmd_push(cmd, lease, spindle_key_lease(lease, s->ns, queue));
    spindle_cmd_str(cmd, op);
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_SERIAL, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[2]->type != REDIS_REPLY_INTEGER)
        return spindle_store_bad_reply(s, "reading a single-file queue", r);
    /* A lease is always set with an expiry: one without any never lapses, and holds the
     * queue up for good. */
    if (copy_holder(out->holder, r->element[1]) != 0 ||
        (out->holder[0] && r->element[2]->integer < 0)) {
        int rc = spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                                   "lease %s holds '%.64s'%s, not a task's lease (written by "
                                   "hand? delete it)",
                                   lease, r->element[1]->str ? r->element[1]->str : "",
                                   r->element[2]->integer < 0 ? " with no expiry" : "");
        freeReplyObject(r);
        return rc;
    }
    out->on = r->element[0]->integer != 0;
    out->lease_ms = (long)r->element[2]->integer;
    freeReplyObject(r);
    return SPINDLE_OK;
}

int spindle_store_lease_renew(spindle_store *s, const char *queue, const char *id,
                              const char *worker, long attempt, long ttl_ms,
                              enum spindle_lease_renewal *what, char *holder)
{
    char lease[SPINDLE_KEY_MAX], task[SPINDLE_KEY_MAX];
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_push(cmd, lease, spindle_key_lease(lease, s->ns, queue));
    spindle_cmd_push(cmd, task, spindle_key_task(task, s->ns, queue, id));
    spindle_cmd_str(cmd, id);
    spindle_cmd_long(cmd, ttl_ms);
    spindle_cmd_str(cmd, worker);
    spindle_cmd_long(cmd, attempt);
    holder[0] = '\0';
    redisReply *r = spindle_store_eval(s, SPINDLE_SCRIPT_LEASE, 2, cmd);
    if (r == NULL)
        return s->err->code;
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0 && r->integer <= 2)
        *what = r->integer == 0   ? SPINDLE_LEASE_GONE
                : r->integer == 1 ? SPINDLE_LEASE_RENEWED
                                  : SPINDLE_LEASE_RETAKEN;
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[1]->type == REDIS_REPLY_STRING) {
        *what = SPINDLE_LEASE_OTHER;
        snprintf(holder, SPINDLE_ID_LEN + 1, "%s", r->element[1]->str);
    } else
        return spindle_store_bad_reply(s, "renewing a single-file lease", r);
    freeReplyObject(r);
    return SPINDLE_OK;
}
