/* Single-file queues: however many workers on however many hosts serve a queue declared
 * single-file, at most one of its tasks runs at any moment, in the order they were enqueued.
 *
 * The declaration lives in Redis (docs/PROTOCOL.md, "Single-file queues"), so the whole fleet
 * obeys it at its next claim, without restarting workers. A task of the queue runs only while
 * it holds the queue's lease, a key naming it that expires unless its worker renews it with
 * each heartbeat: a worker that dies mid-task holds the queue up for one heartbeat TTL at the
 * most, then the next task runs (the lost task is re-run later, once the sweep puts it back).
 * Every way a task leaves `running` frees the lease and wakes a worker, so the next task
 * starts at once. Workers claim one task of such a queue at a time and serve their other
 * queues meanwhile.
 *
 * Order: tasks start in enqueue order. A released task (a worker stopping) and a recovered one
 * (a worker lost) go back to the front and run next. A failed attempt retried after a
 * back-off waits `scheduled` and joins the back of the queue when due, behind the tasks
 * enqueued meanwhile; a task whose worker died loses its turn to those that started after its
 * lease lapsed. A thread-pool worker cannot stop a function past its timeout: the task is
 * failed and the lease freed while the function may still run.
 *
 * Calls are made on a connected client (client.h) and follow its conventions: a
 * spindle_status code, and on failure a message in spindle_errstr() that the next failing
 * call replaces. A synchronous client refuses them (there is no fleet to serialize). */
#ifndef SPINDLE_SINGLE_FILE_H
#define SPINDLE_SINGLE_FILE_H

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declares queue single-file (on 1) or not (on 0). Turning it on does not stop tasks of the
 * queue already running; turning it off lets the next claims run its tasks at once (a task
 * holding the lease still frees it when it ends). The declaration is a field of the queue's
 * limits hash and counts as one of its SPINDLE_LIMITS_PER_QUEUE (limits.h).
 * SPINDLE_ERR_INVALID for a bad queue name, SPINDLE_ERR_REDIS for a limits or lease key of
 * the wrong type (the message names it), SPINDLE_ERR_IO. One round trip, plus one to
 * register the queue in NS:queues if this client has not used it yet. */
int spindle_queue_single_file(spindle_client *c, const char *queue, int on);

/* A queue's single-file state, as read. */
typedef struct spindle_single_file_status {
    int on;          /* 1: the queue is single-file */
    char holder[37]; /* the id of the task holding the lease; "" if none */
    long lease_ms;   /* the lease's time left in ms; -1 if none */
} spindle_single_file_status;

/* Reads whether queue is single-file and which task holds its lease into *out. A lease may
 * outlive the declaration for as long as its task runs. SPINDLE_ERR_INVALID,
 * SPINDLE_ERR_REDIS for a key of the wrong type, SPINDLE_ERR_PROTOCOL for a lease that is not
 * a task's (written by hand, e.g. with no expiry; the message says to delete it), SPINDLE_ERR_IO.
 * One round trip. */
int spindle_queue_single_file_status(spindle_client *c, const char *queue,
                                     spindle_single_file_status *out);

#ifdef __cplusplus
}
#endif
#endif
