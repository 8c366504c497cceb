/* The supervisor's side of single-file queues (include/spindle/single_file.h): renewing the
 * lease of each running task that holds one, with each round of heartbeats. */
#ifndef SPINDLE_WORKER_LEASE_H
#define SPINDLE_WORKER_LEASE_H

#include "worker/supervisor.h"

/* Renews the lease of task t, run by slot slot_id, for one heartbeat TTL; a task that holds
 * none (t->lease 0) costs nothing. A lease found lapsed, held by another task, or of the
 * wrong type is logged; a Redis failure is returned (SPINDLE_ERR_IO: the caller's outage
 * handling applies), anything else is SPINDLE_OK. */
int spindle_lease_renew(spindle_worker *w, const char *slot_id, const spindle_slot_task *t);

#endif
