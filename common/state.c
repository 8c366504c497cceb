/* Task state names: the text stored in a task hash's `state` field (docs/PROTOCOL.md). */
#include <string.h>

#include "spindle/state.h"
#include "spindle/status.h"

static const char *const state_names[] = {
    [SPINDLE_STATE_PENDING] = "pending",     [SPINDLE_STATE_SCHEDULED] = "scheduled",
    [SPINDLE_STATE_WAITING] = "waiting",     [SPINDLE_STATE_RUNNING] = "running",
    [SPINDLE_STATE_SUCCEEDED] = "succeeded", [SPINDLE_STATE_FAILED] = "failed",
    [SPINDLE_STATE_CANCELLED] = "cancelled",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *spindle_state_name(spindle_state state)
{
    if ((unsigned)state >= NSTATES)
        return "unknown";
    return state_names[state];
}

int spindle_state_parse(const char *text, size_t len, spindle_state *out)
{
    for (size_t i = 0; i < NSTATES; i++) {
        if (strlen(state_names[i]) == len && memcmp(state_names[i], text, len) == 0) {
            *out = (spindle_state)i;
            return SPINDLE_OK;
        }
    }
    return SPINDLE_ERR_PROTOCOL;
}

int spindle_state_is_final(spindle_state state)
{
    return state == SPINDLE_STATE_SUCCEEDED || state == SPINDLE_STATE_FAILED ||
           state == SPINDLE_STATE_CANCELLED;
}
