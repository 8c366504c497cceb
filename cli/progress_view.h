/* How `spindle` shows a task's progress: the line of `status` and the bar that
 * `result --wait` draws on a terminal. Pure formatting over a spindle_progress, so that
 * status and result share one way of saying it. */
#ifndef SPINDLE_CLI_PROGRESS_VIEW_H
#define SPINDLE_CLI_PROGRESS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "spindle/progress.h"

/* Writes "DONE/TOTAL (PCT%)" or "DONE (total unknown)", then ", MESSAGE" if any, then
 * ", AGE ago" (age from now_ms, both on the epoch in ms; skipped if the report has no time)
 * into buf (NUL-terminated, cut to cap). The percentage is capped at 100. */
void spindle_cli_progress_text(const spindle_progress *p, int64_t now_ms, char *buf, size_t cap);

/* Writes a one-line bar "[#####-----]  50%  50/100  MESSAGE" of at most width columns
 * (bytes; the message is cut to fit) into buf; an unknown total draws "[  ...  ]  50 done". */
void spindle_cli_progress_bar(const spindle_progress *p, size_t width, char *buf, size_t cap);

/* A spindle_wait_progress() callback drawing the bar on stderr (userdata unused), over the
 * previous one; spindle_cli_progress_bar_clear() erases it. For terminals only. */
void spindle_cli_progress_bar_draw(const spindle_progress *p, void *userdata);
void spindle_cli_progress_bar_clear(void);

#endif
