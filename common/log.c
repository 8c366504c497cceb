/* The logger (see log.h). Each line is formatted in one buffer and written with one
 * write(2), so lines from the processes of a pool never interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

static int log_level = SPINDLE_LOG_INFO;
static char log_worker[160] = "-";
/* A thread slot's own worker id, which overrides log_worker on its thread's lines. */
static _Thread_local char thread_worker[160];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void spindle_log_setup(int level, const char *worker_id)
{
    log_level = level;
    snprintf(log_worker, sizeof(log_worker), "%s", worker_id ? worker_id : "-");
}

void spindle_log_thread_worker(const char *worker_id)
{
    snprintf(thread_worker, sizeof(thread_worker), "%s", worker_id ? worker_id : "");
}

int spindle_log_level_parse(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(text, level_names[i]) == 0)
            return i;
    return -1;
}

void spindle_log(int level, const char *task_id, const char *fmt, ...)
{
    if (level < log_level || level < 0 || level > SPINDLE_LOG_ERROR)
        return;
    char line[2048];
    int64_t now = spindle_wall_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03dZ %-5s worker=%s task=%s ",
                  (int)(now % 1000), level_names[level],
                  thread_worker[0] ? thread_worker : log_worker, task_id ? task_id : "-");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nothing useful to do if stderr is gone */
}
