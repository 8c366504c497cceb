/* Error records and status names: see error.h. */
#include "common/error.h"

#include <stdio.h>
#include <string.h>

#include "spindle/status.h"

int spindle_error_vset(spindle_error *e, int code, const char *fmt, va_list ap)
{
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return code;
}

int spindle_error_set(spindle_error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    spindle_error_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}

int spindle_error_wrap(spindle_error *e, const char *fmt, ...)
{
    char prefix[SPINDLE_ERROR_MAX];
    char old[SPINDLE_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    size_t plen = strnlen(prefix, sizeof(e->msg) - 1);
    memcpy(e->msg, prefix, plen);
    size_t olen = strnlen(old, sizeof(e->msg) - 1 - plen);
    memcpy(e->msg + plen, old, olen);
    e->msg[plen + olen] = '\0';
    return e->code;
}

void spindle_error_clear(spindle_error *e)
{
    e->code = SPINDLE_OK;
    e->msg[0] = '\0';
}

const char *spindle_status_name(int status)
{
    switch (status) {
    case SPINDLE_OK:
        return "ok";
    case SPINDLE_ERR_INVALID:
        return "invalid input";
    case SPINDLE_ERR_IO:
        return "connection error";
    case SPINDLE_ERR_PROTOCOL:
        return "protocol error";
    case SPINDLE_ERR_NOMEM:
        return "out of memory";
    case SPINDLE_ERR_NOT_FOUND:
        return "not found";
    case SPINDLE_ERR_TIMEOUT:
        return "timeout";
    case SPINDLE_ERR_REDIS:
        return "redis error";
    case SPINDLE_ERR_TASK_FAILED:
        return "task failed";
    case SPINDLE_ERR_CANCELLED:
        return "task cancelled";
    case SPINDLE_ERR_TOO_LARGE:
        return "too large";
    case SPINDLE_ERR_FULL:
        return "full";
    default:
        return "unknown status";
    }
}
