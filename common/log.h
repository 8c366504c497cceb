/* Log lines on stderr: time, level, worker id, task id, message. One process-wide logger,
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
/* Parses "debug", "info", "warn" or "error"; -1 if none of them. */
int spindle_log_level_parse(const char *text);
/* Writes one line if level is enabled. task_id may be NULL. */
void spindle_log(int level, const char *task_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
