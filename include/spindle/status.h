/* Status codes shared by every Spindle call.
 *
 * One convention everywhere: SPINDLE_OK (0) on success, a negative code naming the kind of
 * failure otherwise. The details ("which input, what failed") are in the error string of the
 * object the call was made on (spindle_errstr() for a client, spindle_worker_errstr() for a
 * worker). */
#ifndef SPINDLE_STATUS_H
#define SPINDLE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum spindle_status {
    SPINDLE_OK = 0,
    SPINDLE_ERR_INVALID = -1,     /* bad input from the caller: a name, an option, an argument */
    SPINDLE_ERR_IO = -2,          /* cannot reach Redis, lost the connection, or Redis is
                                     still loading its dataset (-LOADING): retry later */
    SPINDLE_ERR_PROTOCOL = -3,    /* Redis holds or returned something Spindle did not expect */
    SPINDLE_ERR_NOMEM = -4,       /* out of memory */
    SPINDLE_ERR_NOT_FOUND = -5,   /* unknown or expired task id */
    SPINDLE_ERR_TIMEOUT = -6,     /* a wait ran out of time; the task is still going */
    SPINDLE_ERR_REDIS = -7,       /* Redis answered with an error (OOM, READONLY, NOAUTH, …) */
    SPINDLE_ERR_TASK_FAILED = -8, /* the task ended in state failed */
    SPINDLE_ERR_CANCELLED = -9,   /* the task ended in state cancelled */
    SPINDLE_ERR_TOO_LARGE = -10,  /* a payload exceeds a configured limit */
    SPINDLE_ERR_FULL = -11,       /* a bounded channel queue is at its capacity */
};

/* A short constant name for a status code ("ok", "io", "not found", …). Never NULL. */
const char *spindle_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif
