/* The live rate `spindle watch` shows per queue: tasks ended per second between two screens.
 * Why from the per-minute stats buckets and not from a counter of its own: the buckets are
 * what the settle script already writes (docs/PROTOCOL.md, "Throughput stats"), so the rate
 * costs no Redis write, and two reads of the last hour's minute buckets say exactly how many
 * tasks ended in between, minute by minute, as long as the reads are at most 60 minute
 * boundaries apart. Pure: unit-tested without a server (tests/test_watch_rate.c). */
#ifndef SPINDLE_CLI_WATCH_RATE_H
#define SPINDLE_CLI_WATCH_RATE_H

#include "spindle/admin.h"

/* Tasks of a queue ended per second from read prev to read cur (Redis's clock): for each
 * minute bucket of cur, its growth since prev if prev read that minute too, else (a minute
 * begun since prev) its whole count; divided by the seconds between the reads. A bucket that
 * went down (edited by hand, expired) counts 0 for its minute. -1 when it cannot be told:
 * prev NULL (the first screen), no time elapsed or the clock went back, or more than 60
 * minute boundaries between the reads (a minute neither read saw). Both are borrowed. */
double spindle_watch_rate(const spindle_queue_throughput *prev,
                          const spindle_queue_throughput *cur);

#endif
