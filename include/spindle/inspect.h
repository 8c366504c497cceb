/* Operator views of tasks for tools such as `spindle inspect` and `spindle list`: every raw
 * field of one task, and one page of a queue's tasks in a given state. Calls are made on a
 * connected client (client.h) and follow its conventions: a spindle_status code, and on
 * failure a message in spindle_errstr(). Pages are read in windows (LRANGE/ZRANGE), never by
 * loading a whole queue, so a page costs the same on a queue of ten tasks or of a million. */
#ifndef SPINDLE_INSPECT_H
#define SPINDLE_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One field of a task hash (docs/PROTOCOL.md "Task hash fields"), as raw bytes. */
typedef struct spindle_task_field {
    char *name;  /* NUL-terminated */
    char *value; /* len bytes, NUL-terminated after them; may hold msgpack (args, result) */
    size_t len;
} spindle_task_field;

/* Every field of a task, with its key's TTL and Redis's clock at the read. */
typedef struct spindle_task_dump {
    spindle_task_field *fields; /* sorted by name; owned, freed by spindle_task_dump_clear() */
    size_t n;
    long ttl_s;     /* seconds until the task hash expires; -1: no TTL (not ended yet) */
    int64_t now_ms; /* Redis's TIME when read, for ages */
} spindle_task_dump;

/* Reads every field of the task of h (HGETALL, PTTL, TIME: one round trip plus one). On
 * failure *out is empty: SPINDLE_ERR_NOT_FOUND for an unknown or expired task,
 * SPINDLE_ERR_PROTOCOL if its key is not a hash, SPINDLE_ERR_IO, SPINDLE_ERR_REDIS,
 * SPINDLE_ERR_NOMEM. Free with spindle_task_dump_clear() either way. */
int spindle_task_dump_read(spindle_client *c, const spindle_handle *h, spindle_task_dump *out);
/* Frees what spindle_task_dump_read() filled and empties d. */
void spindle_task_dump_clear(spindle_task_dump *d);

/* The states a page can list: where a queue keeps the ids of its tasks. */
typedef enum spindle_list_state {
    SPINDLE_LIST_PENDING,   /* NS:{Q}:pending, next to run first */
    SPINDLE_LIST_SCHEDULED, /* NS:{Q}:scheduled, soonest due first */
    SPINDLE_LIST_RUNNING,   /* the in-flight lists of the queue's workers, by worker id */
    SPINDLE_LIST_DEAD,      /* NS:{Q}:dead, latest failure first */
    SPINDLE_LIST_WAITING,   /* NS:{Q}:waiting (for dependencies), longest waiting first */
} spindle_list_state;

/* Parses "pending", "scheduled", "running", "dead" or "waiting" into *st; -1 for anything
 * else. */
int spindle_list_state_parse(const char *text, spindle_list_state *st);

/* One task of a page. Fields its hash lacks (it ended and expired meanwhile) are 0 or "". */
typedef struct spindle_task_row {
    char id[37];
    char func[129];
    char state[16]; /* the state field as read now (may have moved on) */
    int64_t at_ms;  /* scheduled: due time; dead: failure time; waiting: since when; else 0 */
    int64_t enqueued_at_ms;
    int64_t started_at_ms;
    long attempts;
    char worker[161]; /* running: the worker holding it; else "" */
    char error[121];  /* the start of the last error, cut to fit */
    long deps;        /* dependencies not yet ended (the `deps` field; 0 when absent) */
} spindle_task_row;

/* Reads one page of at most limit (1-1000) tasks of queue in state st, starting at cursor
 * (0: the start; else a value a previous page returned in *next). *next is the cursor of the
 * following page, 0 when this page is the last. Two round trips (one range read, one
 * pipelined HMGET per id; running: SMEMBERS then the in-flight lists). On success *out holds
 * *n rows (NULL when none), freed with free(). SPINDLE_ERR_INVALID for a bad queue or limit,
 * SPINDLE_ERR_PROTOCOL for a key of the wrong type, SPINDLE_ERR_IO, SPINDLE_ERR_REDIS,
 * SPINDLE_ERR_NOMEM. The cursor is a position: tasks added or removed between pages shift
 * it, as in any paged view of a live queue. */
int spindle_task_page(spindle_client *c, const char *queue, spindle_list_state st, uint64_t cursor,
                      size_t limit, spindle_task_row **out, size_t *n, uint64_t *next);

/* What spindle_retry_all_dead() did with each dead letter it tried. */
typedef struct spindle_retry_tally {
    size_t retried;   /* back on pending */
    size_t held;      /* left dead: its unique key is held by another task that has not ended */
    size_t bad_state; /* left: its state is not failed, cancelled or scheduled (by hand) */
    size_t gone;      /* its task hash expired: nothing left to run */
    size_t errors;    /* a member that is not a task id, or a task key of the wrong type */
} spindle_retry_tally;

/* Runs every dead letter of queue again (at most limit of them, 0: all), oldest first, as
 * spindle_retry() does, in pipelined pages of 100; a task that fails again meanwhile is not
 * retried twice. *t (zeroed first) says what became of each. Errors: SPINDLE_ERR_INVALID for
 * a bad queue name, SPINDLE_ERR_PROTOCOL, SPINDLE_ERR_IO, SPINDLE_ERR_REDIS; *t then counts
 * what was done before the failure. */
int spindle_retry_all_dead(spindle_client *c, const char *queue, size_t limit,
                           spindle_retry_tally *t);

/* Deletes the tasks of queue in state st (pending, scheduled or dead; running is refused:
 * SPINDLE_ERR_INVALID), in pages of 100, each one atomic script: only a task still in that
 * list and in that state is deleted, so a task claimed meanwhile is left alone. A pending or
 * scheduled task is ended `cancelled` ("purged") first, so that its waiters, unique key,
 * group and dependents hear of it, then its hash is deleted. Stops once as many entries as
 * the list held at the start were taken. *deleted counts the tasks deleted, *stale the
 * entries removed whose task was gone or in another state (left alone). Errors:
 * SPINDLE_ERR_INVALID, SPINDLE_ERR_REDIS (a key of the wrong type), SPINDLE_ERR_IO,
 * SPINDLE_ERR_PROTOCOL; the counts then say what was done before. */
int spindle_purge(spindle_client *c, const char *queue, spindle_list_state st, size_t *deleted,
                  size_t *stale);

#ifdef __cplusplus
}
#endif
#endif
