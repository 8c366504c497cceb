/* spindle_watch_rate() (watch_rate.h): the difference of two reads of the per-minute
 * buckets, minute by minute. */
#include "cli/watch_rate.h"

static long long grown(long long before, long long now)
{
    return now > before ? now - before : 0;
}

double spindle_watch_rate(const spindle_queue_throughput *prev, const spindle_queue_throughput *cur)
{
    int64_t elapsed = cur->read_at_ms - prev->read_at_ms;
    if (elapsed <= 0)
        return -1;
    int64_t minutes = cur->read_at_ms / 60000 - prev->read_at_ms / 60000;
    long long ended;
    if (minutes == 0) /* the same bucket, read twice */
        ended = grown(prev->ended_by_minute[0], cur->ended_by_minute[0]);
    else if (minutes == 1) /* prev's current minute is cur's minute before, then a new one */
        ended = grown(prev->ended_by_minute[0], cur->ended_by_minute[1]) + cur->ended_by_minute[0];
    else
        return -1;
    return (double)ended * 1000.0 / (double)elapsed;
}
