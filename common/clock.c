/* Host clocks (see clock.h). */
#include "common/clock.h"

#include <time.h>

int64_t spindle_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t spindle_mono_ms(void)
{
    return spindle_mono_us() / 1000;
}

int64_t spindle_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long spindle_slice_ms(int64_t deadline, long timeout_ms, long slice_ms)
{
    if (timeout_ms < 0)
        return slice_ms;
    int64_t left = deadline - spindle_mono_ms();
    return left <= 0 ? 0 : left < slice_ms ? (long)left : slice_ms;
}
