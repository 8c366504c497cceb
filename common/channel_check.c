/* Channel options and messages: defaults, checks, and freeing what reads return (see
 * channel_check.h and include/spindle/channel.h). */
#include "common/channel_check.h"

#include <stdlib.h>

#include "spindle/status.h"

void spindle_channel_options_init(spindle_channel_options *opts)
{
    /* 1000 messages each way: a loop feeding a task stays well ahead of it without letting a
     * stalled task pile up unbounded memory in Redis. */
    opts->capacity_in = 1000;
    opts->capacity_out = 1000;
    /* An hour, as task results are kept by default. */
    opts->ttl_s = 3600;
}

static int in_range(long v, long max, const char *what, spindle_error *err)
{
    if (v < 1 || v > max)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "channel %s %ld is out of range (1..%ld)", what, v, max);
    return SPINDLE_OK;
}

int spindle_channel_options_check(const spindle_channel_options *opts, spindle_error *err)
{
    int rc = in_range(opts->capacity_in, SPINDLE_CHANNEL_CAP_MAX, "capacity_in", err);
    if (rc == SPINDLE_OK)
        rc = in_range(opts->capacity_out, SPINDLE_CHANNEL_CAP_MAX, "capacity_out", err);
    if (rc == SPINDLE_OK)
        rc = in_range(opts->ttl_s, SPINDLE_CHANNEL_TTL_MAX, "ttl_s", err);
    return rc;
}

int spindle_channel_message_check(const void *data, size_t len, spindle_error *err)
{
    return spindle_channel_message_bound(data, len, SPINDLE_CHANNEL_MSG_MAX, "the limit", err);
}

int spindle_channel_message_bound(const void *data, size_t len, long max, const char *whose,
                                  spindle_error *err)
{
    if (max <= 0 || max > SPINDLE_CHANNEL_MSG_MAX)
        max = SPINDLE_CHANNEL_MSG_MAX;
    if (data == NULL && len > 0)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "channel message is NULL with a length of %zu bytes", len);
    if (len > (size_t)max)
        return spindle_error_set(err, SPINDLE_ERR_TOO_LARGE,
                                 "channel message of %zu bytes is larger than %s of %ld bytes", len,
                                 whose, max);
    return SPINDLE_OK;
}

void spindle_messages_free(spindle_message *msgs, size_t n)
{
    if (msgs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(msgs[i].data);
    free(msgs);
}
