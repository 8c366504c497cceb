/* Checks on what a caller or a task hands to a channel, before anything reaches Redis:
 * options in range, messages within the size limit. Pure functions, tested without a
 * server. */
#ifndef SPINDLE_COMMON_CHANNEL_CHECK_H
#define SPINDLE_COMMON_CHANNEL_CHECK_H

#include <stddef.h>

#include "common/error.h"
#include "spindle/channel.h"

/* SPINDLE_OK, or SPINDLE_ERR_INVALID naming the option out of range and its limits. */
int spindle_channel_options_check(const spindle_channel_options *opts, spindle_error *err);
/* SPINDLE_OK, SPINDLE_ERR_INVALID for NULL data with a length, or SPINDLE_ERR_TOO_LARGE above
 * SPINDLE_CHANNEL_MSG_MAX. */
int spindle_channel_message_check(const void *data, size_t len, spindle_error *err);
/* As spindle_channel_message_check() with a configured bound max (<= 0 or above
 * SPINDLE_CHANNEL_MSG_MAX: SPINDLE_CHANNEL_MSG_MAX); whose names it in the message ("the
 * client's max_channel_msg_bytes"). */
int spindle_channel_message_bound(const void *data, size_t len, long max, const char *whose,
                                  spindle_error *err);

#endif
