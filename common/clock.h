/* Clocks. Task timestamps come from Redis (TIME inside the scripts); these host clocks only
 * measure local durations and deadlines. */
#ifndef SPINDLE_COMMON_CLOCK_H
#define SPINDLE_COMMON_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds, for timeouts and durations. */
int64_t spindle_mono_ms(void);
/* Monotonic microseconds, for latency measurements. */
int64_t spindle_mono_us(void);
/* Wall-clock milliseconds since the epoch, for log lines. */
int64_t spindle_wall_ms(void);

/* The next slice of a wait that blocks in slices of at most slice_ms until deadline (a
 * spindle_mono_ms() time): slice_ms, or less when the deadline is nearer; 0 once it has
 * passed. timeout_ms < 0 means the wait has no deadline: always slice_ms. */
long spindle_slice_ms(int64_t deadline, long timeout_ms, long slice_ms);

#endif
