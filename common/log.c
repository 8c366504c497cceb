/* The logger (see log.h). Each line is formatted in one buffer and written with one
 * write(2), so lines from the processes of a pool never interleave. The JSON format encodes
 * with jansson (one object per line) so that any message text is escaped correctly. */
#include "common/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <limits.h>

#include "common/clock.h"

static int log_level = SPINDLE_LOG_INFO;
static int log_format = SPINDLE_LOG_FORMAT_TEXT;
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

void spindle_log_set_format(int format)
{
    log_format = format == SPINDLE_LOG_FORMAT_JSON ? format : SPINDLE_LOG_FORMAT_TEXT;
}

int spindle_log_format_parse(const char *text)
{
    if (strcmp(text, "text") == 0)
        return SPINDLE_LOG_FORMAT_TEXT;
    return strcmp(text, "json") == 0 ? SPINDLE_LOG_FORMAT_JSON : -1;
}

int spindle_log_level_parse(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(text, level_names[i]) == 0)
            return i;
    return -1;
}

/* Writes len bytes of line and a newline in one write(2); line has room for the newline. */
static void emit(char *line, size_t len)
{
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nothing useful to do if stderr is gone */
}

/* ISO 8601 UTC with milliseconds into buf (at least 32 bytes); returns its length. */
static int format_time(char *buf, size_t len)
{
    int64_t now = spindle_wall_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int n = (int)strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    return n + snprintf(buf + n, len - (size_t)n, ".%03dZ", (int)(now % 1000));
}

/* The longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
static size_t utf8_floor(const char *s, size_t n)
{
    size_t cut = n;
    while (cut > 0 && ((unsigned char)s[cut - 1] & 0xC0) == 0x80)
        cut--; /* continuation bytes of a sequence that may be incomplete */
    if (cut > 0 && (unsigned char)s[cut - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)s[cut - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (n - (cut - 1) < need)
            return cut - 1; /* the last sequence is cut short: drop it */
    }
    return n;
}

/* msg[0..n) as a JSON string; bytes that are not UTF-8 (a task's error text) are refused by
 * jansson: then each byte past ASCII becomes '?'. NULL if out of memory. */
static json_t *message_json(const char *msg, size_t n)
{
    json_t *m = json_stringn(msg, n);
    if (m != NULL)
        return m;
    char safe[2048];
    size_t i = 0;
    for (; i < sizeof(safe) - 1 && i < n; i++)
        safe[i] = (char)((unsigned char)msg[i] < 0x80 ? msg[i] : '?');
    return json_stringn(safe, i);
}

/* One JSON object: the fields not known are null. A line is written with one write(2) of at
 * most PIPE_BUF bytes, so that lines of a pool's processes never interleave in a pipe: a
 * longer one has its message shortened (escapes can make a 2 KiB message 6 times longer).
 * Falls back to nothing if out of memory (the logger has no one to report to). */
static void emit_json(int level, const char *task_id, const spindle_log_fields *f, const char *msg)
{
    char when[40];
    format_time(when, sizeof(when));
    json_t *o = json_object();
    if (o == NULL)
        return;
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "level", json_string(level_names[level]));
    json_object_set_new(o, "worker", json_string(thread_worker[0] ? thread_worker : log_worker));
    json_object_set_new(o, "task", task_id ? json_string(task_id) : json_null());
    json_object_set_new(o, "func", f && f->func ? json_string(f->func) : json_null());
    json_object_set_new(o, "queue", f && f->queue ? json_string(f->queue) : json_null());
    json_object_set_new(o, "duration_ms",
                        f && f->duration_ms >= 0 ? json_real(f->duration_ms) : json_null());
    size_t n = utf8_floor(msg, strlen(msg));
    char *text = NULL;
    for (;;) {
        json_t *m = message_json(msg, n);
        json_object_set_new(o, "message", m ? m : json_null());
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (text == NULL || strlen(text) < PIPE_BUF || n == 0)
            break;
        free(text);
        text = NULL;
        n = utf8_floor(msg, n / 2);
    }
    json_decref(o);
    if (text == NULL)
        return;
    size_t len = strlen(text);
    char *line = realloc(text, len + 1);
    if (line != NULL)
        emit(line, len);
    free(line ? line : text);
}

static void vlog(int level, const char *task_id, const spindle_log_fields *f, const char *fmt,
                 va_list ap)
{
    if (level < log_level || level < 0 || level > SPINDLE_LOG_ERROR)
        return;
    char line[2048];
    if (log_format == SPINDLE_LOG_FORMAT_JSON) {
        int m = vsnprintf(line, sizeof(line), fmt, ap);
        if (m < 0)
            line[0] = '\0';
        emit_json(level, task_id, f, line);
        return;
    }
    int n = format_time(line, sizeof(line));
    n +=
        snprintf(line + n, sizeof(line) - (size_t)n, " %-5s worker=%s task=%s ", level_names[level],
                 thread_worker[0] ? thread_worker : log_worker, task_id ? task_id : "-");
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    emit(line, len);
}

void spindle_log(int level, const char *task_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, task_id, NULL, fmt, ap);
    va_end(ap);
}

void spindle_log_task(int level, const char *task_id, const spindle_log_fields *fields,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, task_id, fields, fmt, ap);
    va_end(ap);
}
