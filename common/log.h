/* Log lines on stderr: time, level, worker id, task id, message; as text, or as one JSON
 * object per line (--log-format json) that also carries func, queue and duration_ms on the
 * lines of a task's life (null on the others). One process-wide logger,
 * because a worker process serves one worker; a library user that never starts a worker
 * never logs. */
#ifndef SPINDLE_COMMON_LOG_H
#define SPINDLE_COMMON_LOG_H

#include "spindle/worker.h"

/* Sets the lowest level written and the worker id put on every line (copied). */
void spindle_log_setup(int level, const char *worker_id);
/* Sets the worker id put on the calling thread's lines instead (copied; NULL or "" undoes):
 * each slot of a thread pool is a worker of its own. */
void spindle_log_thread_worker(const char *worker_id);
/* Sets the format of the lines: SPINDLE_LOG_FORMAT_TEXT (default) or _JSON. Set it before
 * a pool forks or starts threads. */
void spindle_log_set_format(int format);
/* Parses "text" or "json"; -1 if neither. */
int spindle_log_format_parse(const char *text);
/* Parses "debug", "info", "warn" or "error"; -1 if none of them. */
int spindle_log_level_parse(const char *text);
/* Writes one line if level is enabled. task_id may be NULL. */
void spindle_log(int level, const char *task_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a line about a task's life adds in the JSON format (borrowed for the call): NULL
 * strings and a negative duration are written as null. */
typedef struct spindle_log_fields {
    const char *func, *queue;
    double duration_ms;
} spindle_log_fields;
/* spindle_log() with fields (may be NULL). */
void spindle_log_task(int level, const char *task_id, const spindle_log_fields *fields,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
