/* Timing metrics middleware: per function, how many tasks ran, how many failed, and their
 * total and longest time, summarised on stderr as logfmt lines
 *
 *   timing pid=4242 tasks=1000 functions=2
 *   timing pid=4242 func=add count=990 errors=0 total_ms=41.200 avg_ms=0.042 max_ms=0.310
 *
 * every $SPINDLE_TIMING_EVERY tasks (default 1000) or, at the first task after
 * $SPINDLE_TIMING_INTERVAL_S seconds (default 60), whichever comes first. Figures are
 * cumulative since the slot started.
 *
 * The state is per slot process in a process pool (each child counts its own tasks, and the
 * summaries carry the pid to tell them apart) and shared by the slots of a thread pool, hence
 * the mutex. There is no summary at exit: process slots end with _exit(), which runs no exit
 * handlers, so the periodic summary is the one that is reliably printed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "examples/middleware.h"

/* Functions tracked one by one; more than that are summed under "(other)". A worker serves a
 * handful to a few hundred functions. */
#define MAX_FUNCS 256
#define NAME_MAX_BYTES 129

typedef struct stat_entry {
    char func[NAME_MAX_BYTES];
    unsigned long count, errors;
    double total_ms, max_ms;
} stat_entry;

typedef struct timing {
    pthread_mutex_t lock;
    stat_entry funcs[MAX_FUNCS + 1]; /* the last one is "(other)" */
    size_t nfuncs;
    unsigned long tasks, since_report;
    unsigned long every;
    long interval_ms;
    long last_report_ms;
} timing;

static timing T = {.lock = PTHREAD_MUTEX_INITIALIZER};

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static stat_entry *entry_for(const char *func)
{
    for (size_t i = 0; i < T.nfuncs; i++)
        if (strcmp(T.funcs[i].func, func) == 0)
            return &T.funcs[i];
    if (T.nfuncs == MAX_FUNCS) {
        snprintf(T.funcs[MAX_FUNCS].func, NAME_MAX_BYTES, "(other)");
        return &T.funcs[MAX_FUNCS];
    }
    stat_entry *e = &T.funcs[T.nfuncs++];
    snprintf(e->func, sizeof(e->func), "%s", func[0] ? func : "-");
    return e;
}

/* Writes the summary; called with the lock held, so summaries of threads never mix. */
static void report(void)
{
    fprintf(stderr, "timing pid=%ld tasks=%lu functions=%zu\n", (long)getpid(), T.tasks, T.nfuncs);
    for (size_t i = 0; i <= MAX_FUNCS; i++) {
        const stat_entry *e = &T.funcs[i];
        if (e->count == 0)
            continue;
        fprintf(stderr,
                "timing pid=%ld func=%s count=%lu errors=%lu total_ms=%.3f avg_ms=%.3f "
                "max_ms=%.3f\n",
                (long)getpid(), e->func, e->count, e->errors, e->total_ms,
                e->total_ms / (double)e->count, e->max_ms);
    }
    fflush(stderr);
    T.since_report = 0;
    T.last_report_ms = mono_ms();
}

static void record(spindle_task_ctx *ctx, double ms, int failed)
{
    pthread_mutex_lock(&T.lock);
    stat_entry *e = entry_for(spindle_task_func(ctx));
    e->count++;
    e->errors += failed != 0;
    e->total_ms += ms;
    if (ms > e->max_ms)
        e->max_ms = ms;
    T.tasks++;
    T.since_report++;
    if (T.last_report_ms == 0)
        T.last_report_ms = mono_ms();
    if (T.since_report >= T.every || mono_ms() - T.last_report_ms >= T.interval_ms)
        report();
    pthread_mutex_unlock(&T.lock);
}

static void timing_after(spindle_task_ctx *ctx, const char *result, size_t len, double ms,
                         void *userdata)
{
    (void)result;
    (void)len;
    (void)userdata;
    record(ctx, ms, 0);
}

static void timing_error(spindle_task_ctx *ctx, const char *error, double ms, void *userdata)
{
    (void)error;
    (void)userdata;
    record(ctx, ms, 1);
}

/* A positive integer from the environment, or dflt; -1 (with a message) if it is malformed. */
static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return dflt;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n <= 0) {
        fprintf(stderr, "timing middleware: %s='%s' is not a positive integer\n", name, v);
        return -1;
    }
    return n;
}

int example_use_timing(spindle_registry *reg)
{
    long every = env_long("SPINDLE_TIMING_EVERY", 1000);
    long interval_s = env_long("SPINDLE_TIMING_INTERVAL_S", 60);
    if (every < 0 || interval_s < 0)
        return SPINDLE_ERR_INVALID;
    T.every = (unsigned long)every;
    T.interval_ms = interval_s * 1000;
    spindle_middleware mw = {.name = "timing", .after = timing_after, .on_error = timing_error};
    return spindle_registry_use(reg, &mw);
}
