/* Single-file queues in the store (docs/PROTOCOL.md, "Single-file queues"): the admin side
 * (declare, read) and the supervisor's renewal of a running task's lease. The claim, settle,
 * recover and audit scripts take and free the lease themselves (lua_serial.h). */
#ifndef SPINDLE_STORE_SERIAL_H
#define SPINDLE_STORE_SERIAL_H

#include "store/conn.h"

/* The field of the queue's limits hash (store/limits.h) that declares it single-file, value
 * "1": not a valid function name, so it never clashes with a function's rate limit. */
#define SPINDLE_SINGLE_FILE_FIELD "!single-file"

/* What the single-file script reports of a queue. */
typedef struct spindle_store_serial {
    int on;                          /* 1: the queue is single-file */
    char holder[SPINDLE_ID_LEN + 1]; /* the task holding the lease; "" if none */
    long lease_ms;                   /* the lease's time left; -1 if none */
} spindle_store_serial;

/* op "on" or "off" declares queue single-file or not; "get" only reads. Fills *out with the
 * state after the call. SPINDLE_ERR_REDIS for a limits or lease key of the wrong type (the
 * message names it), SPINDLE_ERR_PROTOCOL for a lease that is not a task's (too long, or with no
 * expiry). One script call. */
int spindle_store_single_file(spindle_store *s, const char *queue, const char *op,
                              spindle_store_serial *out);

/* What spindle_store_lease_renew() found. */
enum spindle_lease_renewal {
    SPINDLE_LEASE_GONE,    /* the task is no longer running as that attempt: nothing done */
    SPINDLE_LEASE_RENEWED, /* the lease named the task: its TTL starts again */
    SPINDLE_LEASE_RETAKEN, /* the lease had lapsed: the task took it again */
    SPINDLE_LEASE_OTHER,   /* another task holds it (its id in holder) */
};

/* Renews the lease of single-file queue for task id, running as attempt of worker, for
 * ttl_ms. holder (size SPINDLE_ID_LEN + 1) receives the other holder's id for
 * SPINDLE_LEASE_OTHER, else "". SPINDLE_ERR_REDIS for a lease key of the wrong type. One
 * script call. */
int spindle_store_lease_renew(spindle_store *s, const char *queue, const char *id,
                              const char *worker, long attempt, long ttl_ms,
                              enum spindle_lease_renewal *what, char *holder);

#endif
