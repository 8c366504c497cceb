/* The supervisor's side of --metrics-addr: the HTTP endpoint (libmicrohttpd, on its own
 * thread, so a scrape never waits on the supervisor loop nor on a task) and the fleet-wide
 * queue depth sampler. */
#ifndef SPINDLE_WORKER_METRICS_SERVER_H
#define SPINDLE_WORKER_METRICS_SERVER_H

struct spindle_worker;

/* With opts.metrics_addr set: makes the shared counter table (w->metrics; before the pool
 * forks) and binds the endpoint. SPINDLE_ERR_INVALID for a bad address, SPINDLE_ERR_IO if it
 * cannot be bound, with the message in w->err. Does nothing without an address. */
int spindle_metrics_server_start(struct spindle_worker *w);
/* Once per supervisor tick: every sweep interval, takes or renews the sampler lock
 * (NS:sampler, three intervals long) and, while it holds it, samples the depth of every
 * queue in NS:queues for the endpoint. Others export no depth. No Redis command when
 * metrics are off. */
void spindle_metrics_sample(struct spindle_worker *w);
/* Stops the endpoint and frees what start made. Safe to call when it never started. */
void spindle_metrics_server_stop(struct spindle_worker *w);

#endif
