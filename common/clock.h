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

#endif
