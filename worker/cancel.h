/* The supervisor's side of cancellation: hearing requests (the NS:cancel subscription, and
 * the heartbeat's probe as a backstop), telling the slot that runs the task (its cancel flag)
 * or that may still start it (the ring), and forcing a task that ignores the request once its
 * grace runs out. supervisor.c calls these from its loop. */
#ifndef SPINDLE_WORKER_CANCEL_H
#define SPINDLE_WORKER_CANCEL_H

#include "worker/supervisor.h"

/* Subscribes to the namespace's cancel channel; a failure is logged and retried later. */
void spindle_cancel_start(spindle_worker *w);
/* Closes the subscription. */
void spindle_cancel_stop(spindle_worker *w);
/* Sleeps ms (the rest of a tick), handling cancel requests the moment they arrive, and
 * subscribes again when the subscription was lost and it is time to retry. Returns early on
 * a signal. */
void spindle_cancel_wait(spindle_worker *w, long ms);
/* The heartbeat's backstop: asks Redis whether the tasks the slots run have a cancel request
 * nobody heard (one pipelined round trip; none when no slot runs a task). Returns the status
 * of that round trip. */
int spindle_cancel_check(spindle_worker *w);
/* Forces the tasks whose grace after a cancel request ran out: kills a process slot (the
 * grave then ends its task `cancelled`), ends a thread slot's task in Redis. */
void spindle_cancel_police(spindle_worker *w);
/* Called when slot ps ended: if it was killed for a cancel request while running task t,
 * returns 1 and writes the reason into cause (size len). */
int spindle_cancel_killed(const pool_slot *ps, const spindle_slot_task *t, char *cause, size_t len);

#endif
