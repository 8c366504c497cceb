/* spindle_watch_rate() (watch_rate.h): the difference of two reads of the per-minute
 * buckets, minute by minute. Why minute by minute and not the difference of two sums: a
 * minute that left the older read's window, or a bucket edited down by hand, would otherwise
 * subtract the tasks of other minutes. */
#include "cli/watch_rate.h"

#include <stddef.h>

#define MS_PER_MINUTE 60000

static long long grown(long long before, long long now)
{
    return now > before ? now - before : 0;
}

double spindle_watch_rate(const spindle_queue_throughput *prev, const spindle_queue_throughput *cur)
{
    if (prev == NULL)
        return -1;
    int64_t elapsed = cur->read_at_ms - prev->read_at_ms;
    if (elapsed <= 0)
        return -1;
    int64_t prev_minute = prev->read_at_ms / MS_PER_MINUTE;
    int64_t cur_minute = cur->read_at_ms / MS_PER_MINUTE;
    if (cur_minute - prev_minute >= SPINDLE_THROUGHPUT_MINUTES)
        return -1; /* prev's own minute is out of cur's window: its last tasks unseen */
    long long ended = 0;
    for (int64_t i = 0; i < SPINDLE_THROUGHPUT_MINUTES; i++) {
        int64_t minute = cur_minute - i;
        long long now = cur->ended_by_minute[i];
        if (minute > prev_minute) /* begun since prev: all of it ended in between */
            ended += now;
        else /* in prev's window too, since cur_minute >= prev_minute */
            ended += grown(prev->ended_by_minute[prev_minute - minute], now);
    }
    return (double)ended * 1000.0 / (double)elapsed;
}
