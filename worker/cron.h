/* Firing periodic tasks (include/spindle/cron.h) from the supervisor loop. */
#ifndef SPINDLE_WORKER_CRON_H
#define SPINDLE_WORKER_CRON_H

#include "worker/supervisor.h"

/* Writes the entries of the worker's options (opts.cron) to Redis, each added or replacing
 * the one of its name. At start, before the loop: an invalid entry is SPINDLE_ERR_INVALID
 * (w->err names it) and the worker does not start. */
int spindle_worker_cron_declare(spindle_worker *w);
/* One look, from every supervisor tick: reads the table when it changed (or, with entries,
 * every sweep interval) and fires the ticks that are due. Sends nothing when no entry is due
 * and nothing changed. Failures are logged (once per outage) and retried later. */
void spindle_worker_cron_run(spindle_worker *w);
/* Frees what the loop kept (w->cron). */
void spindle_worker_cron_free(spindle_worker *w);

#endif
