/* Structured logging middleware: one logfmt line per task event on stderr,
 *
 *   ts=2024-05-01T12:00:00.123Z event=start id=… queue=default func=add attempt=1 pid=4242
 *   ts=… event=ok id=… queue=default func=add attempt=1 pid=4242 ms=0.041 bytes=1
 *   ts=… event=error id=… queue=default func=fail attempt=1 pid=4242 ms=0.020 error="boom"
 *
 * logfmt rather than JSON so the library needs nothing beyond libc: values that could hold
 * spaces or quotes (the error) are quoted and escaped. Each line is one write(2) on fd 2, so
 * the lines of slot processes sharing a log file never interleave. Stateless, hence safe in
 * both pools. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "examples/middleware.h"

/* One log line: long enough for ids, names and a 1 KiB error escaped (at most doubled). */
#define LINE_MAX_BYTES 3072

typedef struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
} line;

static void add(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(line *l, const char *fmt, ...)
{
    if (l->len >= sizeof(l->buf))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len = l->len + (size_t)n < sizeof(l->buf) ? l->len + (size_t)n : sizeof(l->buf) - 1;
}

/* Appends key="value" with quotes, backslashes and control characters escaped. */
static void add_quoted(line *l, const char *key, const char *v)
{
    add(l, " %s=\"", key);
    for (; *v && l->len + 8 < sizeof(l->buf); v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            add(l, "\\%c", c);
        else if (c == '\n')
            add(l, "\\n");
        else if (c < 0x20)
            add(l, "\\x%02x", c);
        else
            l->buf[l->len++] = (char)c;
    }
    add(l, "\"");
}

static void start_line(line *l, spindle_task_ctx *ctx, const char *event)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    l->len = 0;
    add(l,
        "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ event=%s id=%s queue=%s func=%s attempt=%ld "
        "pid=%ld",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        (long)(tv.tv_usec / 1000), event, spindle_task_id(ctx), spindle_task_queue(ctx),
        spindle_task_func(ctx)[0] ? spindle_task_func(ctx) : "-", spindle_task_attempt(ctx),
        (long)getpid());
}

static void emit(line *l)
{
    if (l->len >= sizeof(l->buf) - 1)
        l->len = sizeof(l->buf) - 2;
    l->buf[l->len++] = '\n';
    ssize_t w = write(2, l->buf, l->len);
    (void)w; /* a log line that cannot be written is not worth failing a task for */
}

static int log_before(spindle_task_ctx *ctx, void *userdata)
{
    (void)userdata;
    line l;
    start_line(&l, ctx, "start");
    emit(&l);
    return SPINDLE_OK;
}

static void log_after(spindle_task_ctx *ctx, const char *result, size_t len, double ms,
                      void *userdata)
{
    (void)userdata;
    (void)result;
    line l;
    start_line(&l, ctx, "ok");
    add(&l, " ms=%.3f bytes=%zu", ms, len);
    emit(&l);
}

static void log_error(spindle_task_ctx *ctx, const char *error, double ms, void *userdata)
{
    (void)userdata;
    line l;
    start_line(&l, ctx, "error");
    add(&l, " ms=%.3f", ms);
    add_quoted(&l, "error", error);
    emit(&l);
}

int example_use_log(spindle_registry *reg)
{
    spindle_middleware mw = {
        .name = "log", .before = log_before, .after = log_after, .on_error = log_error};
    return spindle_registry_use(reg, &mw);
}
