/* The example middleware library: build/lib/spindle-example-middleware.so.
 *
 *   log        one logfmt line per task event (start, ok, error) on stderr
 *   timing     per-function count, errors, total and max ms, summarised on stderr every
 *              $SPINDLE_TIMING_EVERY tasks (default 1000) or $SPINDLE_TIMING_INTERVAL_S
 *              seconds (default 60), whichever comes first
 *   ratelimit  per-function token buckets from $SPINDLE_RATE_LIMIT, e.g. "add=10/s,echo=5/m:3"
 *
 * Load it next to a task library:
 *   spindle-worker --load build/lib/spindle-example-tasks.so \
 *                  --load build/lib/spindle-example-middleware.so
 * The chain runs in this order: log, timing, ratelimit; so the log's start line comes before
 * the limiter's wait, and timing measures the function alone. */
#include "examples/middleware.h"

int spindle_register_tasks(spindle_registry *reg);
int spindle_register_tasks(spindle_registry *reg)
{
    int rc = example_use_log(reg);
    if (rc == SPINDLE_OK)
        rc = example_use_timing(reg);
    if (rc == SPINDLE_OK)
        rc = example_use_ratelimit(reg);
    return rc;
}
