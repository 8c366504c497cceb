/* Reading a queue's throughput buckets, the per-minute and per-hour counters that the settle
 * script adds to (docs/PROTOCOL.md, "Throughput stats"). Why separate: the counters are an
 * operator's read, kept apart from the task paths of ops.h. */
#ifndef SPINDLE_STORE_STATS_H
#define SPINDLE_STORE_STATS_H

#include <stdint.h>

#include "store/conn.h"

/* The windows read, in this order: the last minute, hour and day. */
#define SPINDLE_STATS_WINDOWS 3
/* The minute buckets read: the current minute and the 60 before (the last hour). */
#define SPINDLE_STATS_MINUTE_BUCKETS 61

/* Sums the buckets of queue at now_ms (Redis's clock): ok[w] tasks succeeded and fail[w]
 * failed for good in window w, each window being the whole buckets that cover it plus the
 * current one (minute: 2 minute buckets; hour: 61 minute buckets; day: 25 hour buckets). One
 * pipelined round trip of 86 HMGETs. SPINDLE_ERR_PROTOCOL if a bucket is not a hash or holds
 * a count that is not a whole number >= 0 (written by hand); SPINDLE_ERR_IO. by_minute[i]
 * gets ok + fail of the minute bucket MINUTE - i (MINUTE: the current one). */
int spindle_store_stats_read(spindle_store *s, const char *queue, int64_t now_ms,
                             long long ok[SPINDLE_STATS_WINDOWS],
                             long long fail[SPINDLE_STATS_WINDOWS],
                             long long by_minute[SPINDLE_STATS_MINUTE_BUCKETS]);

#endif
