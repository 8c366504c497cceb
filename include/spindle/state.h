/* Task states, as stored in the `state` field of a task hash (docs/PROTOCOL.md). */
#ifndef SPINDLE_STATE_H
#define SPINDLE_STATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum spindle_state {
    SPINDLE_STATE_PENDING,
    SPINDLE_STATE_SCHEDULED,
    SPINDLE_STATE_WAITING,
    SPINDLE_STATE_RUNNING,
    SPINDLE_STATE_SUCCEEDED,
    SPINDLE_STATE_FAILED,
    SPINDLE_STATE_CANCELLED,
} spindle_state;

/* The protocol name of a state ("pending", …); "unknown" for an out-of-range value. */
const char *spindle_state_name(spindle_state state);

/* Parses a protocol state name of len bytes. Returns SPINDLE_OK and sets *out, or
 * SPINDLE_ERR_PROTOCOL if the text names no state. */
int spindle_state_parse(const char *text, size_t len, spindle_state *out);

/* 1 for succeeded, failed and cancelled; 0 otherwise. */
int spindle_state_is_final(spindle_state state);

#ifdef __cplusplus
}
#endif
#endif
