/* The bench's own task library (build/lib/spindle-bench-tasks.so), loaded by the bench's
 * workers next to the example tasks. clock_us returns the worker's CLOCK_MONOTONIC time in
 * microseconds when it runs: the clock is the machine's, shared by every process, so the
 * producer can tell how long a task waited before it started (latency-pickup) and how long
 * its end took to reach a waiting handle (latency-wait). */
#include <time.h>

#include "spindle.h"

static int task_clock_us(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return msgpack_pack_int64(result, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000) == 0
               ? SPINDLE_OK
               : SPINDLE_ERR_NOMEM;
}

int spindle_register_tasks(spindle_registry *reg);
int spindle_register_tasks(spindle_registry *reg)
{
    return spindle_registry_add(reg, "clock_us", task_clock_us, NULL);
}
