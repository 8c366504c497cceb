/* Per-function rate limiter middleware: a token bucket per function name, configured by
 *
 *   SPINDLE_RATE_LIMIT="add=10/s,echo=5/m:3"     FUNC=N/UNIT[:BURST], UNIT one of s, m, h
 *
 * A function gets N tokens per unit of time, and a bucket holds at most BURST tokens
 * (default 1: calls evenly spaced, at most one every unit/N). Functions not named are not
 * limited. The before hook takes a token, waiting for it in the slot if there is none (the
 * wait counts against the task's timeout, and a cancel request stops it: the task then fails
 * saying so). So N calls of a function at R per second take at least (N - 1) / R seconds.
 *
 * The limit is per slot process: with --pool process every slot is a child with its own
 * buckets (a worker of concurrency C runs up to C times the rate, and every worker adds its
 * own); with --pool thread the slots share one set of buckets under a mutex, so the limit is
 * per worker. A fleet-wide limit needs a shared counter in Redis, which belongs in the store
 * layer, not in an example. A malformed variable fails the library's loading with a message
 * on stderr. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/middleware.h"

/* Longest single sleep while waiting for a token (ms): how soon a cancel request is seen. */
#define WAIT_STEP_MS 50
#define MAX_LIMITS 64
#define NAME_MAX_BYTES 129

typedef struct bucket {
    char func[NAME_MAX_BYTES];
    double rate_per_ms; /* tokens added per ms */
    double burst;       /* most tokens held */
    double tokens;      /* may go below 0: tokens promised to callers already waiting */
    double last_ms;     /* time of the last refill */
} bucket;

typedef struct limits {
    pthread_mutex_t lock;
    bucket b[MAX_LIMITS];
    size_t n;
} limits;

static limits L = {.lock = PTHREAD_MUTEX_INITIALIZER};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static bucket *find(const char *func)
{
    for (size_t i = 0; i < L.n; i++)
        if (strcmp(L.b[i].func, func) == 0)
            return &L.b[i];
    return NULL;
}

/* Reserves a token of b; returns how long (ms) the caller must wait before using it. */
static double reserve(bucket *b)
{
    pthread_mutex_lock(&L.lock);
    double t = now_ms();
    b->tokens += (t - b->last_ms) * b->rate_per_ms;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    b->last_ms = t;
    b->tokens -= 1.0;
    double wait = b->tokens >= 0 ? 0 : -b->tokens / b->rate_per_ms;
    pthread_mutex_unlock(&L.lock);
    return wait;
}

/* Gives back a reserved token that will not be used (the task was cancelled while waiting). */
static void unreserve(bucket *b)
{
    pthread_mutex_lock(&L.lock);
    b->tokens += 1.0;
    pthread_mutex_unlock(&L.lock);
}

static void sleep_ms(double ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000.0),
                          .tv_nsec = (long)((ms - (double)(long)(ms / 1000.0) * 1000.0) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int limit_before(spindle_task_ctx *ctx, void *userdata)
{
    (void)userdata;
    bucket *b = find(spindle_task_func(ctx));
    if (b == NULL)
        return SPINDLE_OK;
    double until = now_ms() + reserve(b);
    for (;;) {
        double left = until - now_ms();
        if (left <= 0)
            break;
        if (spindle_task_cancelled(ctx)) {
            unreserve(b);
            return spindle_task_fail(ctx, "cancelled while waiting for a rate-limit token of '%s'",
                                     b->func);
        }
        sleep_ms(left < WAIT_STEP_MS ? left : WAIT_STEP_MS);
    }
    return SPINDLE_OK;
}

/* Parses one "FUNC=N/UNIT[:BURST]" of length len into b; 0 on success. */
static int parse_one(const char *s, size_t len, bucket *b)
{
    char item[256];
    if (len == 0 || len >= sizeof(item))
        return -1;
    memcpy(item, s, len);
    item[len] = '\0';
    char *eq = strchr(item, '=');
    if (eq == NULL || eq == item || (size_t)(eq - item) >= NAME_MAX_BYTES)
        return -1;
    *eq = '\0';
    char *end = NULL;
    double n = strtod(eq + 1, &end);
    if (end == eq + 1 || *end != '/' || !(n > 0))
        return -1;
    double unit_ms = end[1] == 's' ? 1000.0 : end[1] == 'm' ? 60000.0 : end[1] == 'h' ? 3.6e6 : 0;
    if (unit_ms == 0)
        return -1;
    double burst = 1;
    if (end[2] == ':') {
        char *bend = NULL;
        burst = strtod(end + 3, &bend);
        if (bend == end + 3 || *bend != '\0' || !(burst >= 1))
            return -1;
    } else if (end[2] != '\0') {
        return -1;
    }
    memcpy(b->func, item, (size_t)(eq - item) + 1); /* checked to fit above */
    b->rate_per_ms = n / unit_ms;
    b->burst = burst;
    b->tokens = burst; /* a fresh slot may run a burst at once */
    b->last_ms = now_ms();
    return 0;
}

static int parse(const char *spec)
{
    L.n = 0;
    for (const char *p = spec; *p;) {
        size_t len = strcspn(p, ",");
        if (L.n == MAX_LIMITS) {
            fprintf(stderr, "ratelimit middleware: SPINDLE_RATE_LIMIT has more than %d entries\n",
                    MAX_LIMITS);
            return -1;
        }
        if (parse_one(p, len, &L.b[L.n]) != 0) {
            fprintf(stderr,
                    "ratelimit middleware: SPINDLE_RATE_LIMIT entry '%.*s' is not "
                    "FUNC=N/UNIT[:BURST] (UNIT s, m or h; N > 0; BURST >= 1)\n",
                    (int)len, p);
            return -1;
        }
        L.n++;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

int example_use_ratelimit(spindle_registry *reg)
{
    const char *spec = getenv("SPINDLE_RATE_LIMIT");
    if (parse(spec ? spec : "") != 0)
        return SPINDLE_ERR_INVALID;
    spindle_middleware mw = {.name = "ratelimit", .before = limit_before};
    return spindle_registry_use(reg, &mw);
}
