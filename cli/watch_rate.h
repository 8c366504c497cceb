/* The live rate `spindle watch` shows per queue: tasks ended per second between two screens.
 * Why from the per-minute stats buckets and not from a counter of its own: the buckets are
 * what the settle script already writes (docs/PROTOCOL.md, "Throughput stats"), so the rate
 * costs no Redis write, and two reads of the current and previous minute say exactly how
 * many tasks ended in between as long as the reads are at most one minute boundary apart. */
#ifndef SPINDLE_CLI_WATCH_RATE_H
#define SPINDLE_CLI_WATCH_RATE_H

#include "spindle/admin.h"

/* Tasks of a queue ended per second from read prev to read cur (Redis's clock), or -1 when
 * it cannot be told: no time elapsed, or more than one minute boundary between the reads. A
 * bucket that went down (edited by hand, expired) counts as 0 for its minute. */
double spindle_watch_rate(const spindle_queue_throughput *prev,
                          const spindle_queue_throughput *cur);

#endif
