/* The example middleware library (build/lib/spindle-example-middleware.so): each file
 * registers one middleware; middleware.c is the library's entry point. Private to examples/. */
#ifndef SPINDLE_EXAMPLES_MIDDLEWARE_H
#define SPINDLE_EXAMPLES_MIDDLEWARE_H

#include "spindle/middleware.h"

/* Structured logging: one logfmt line per task event on stderr (middleware_log.c). */
int example_use_log(spindle_registry *reg);
/* Per-function counts and times, summarised on stderr (middleware_timing.c). */
int example_use_timing(spindle_registry *reg);
/* Per-function token buckets from $SPINDLE_RATE_LIMIT (middleware_ratelimit.c). */
int example_use_ratelimit(spindle_registry *reg);

#endif
