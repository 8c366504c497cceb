/* Progress: what a running task reports about how far it has come, and how a caller reads it.
 *
 * A task reports with spindle_task_progress() (worker side); reports are stored in the task
 * hash (docs/PROTOCOL.md, "Progress") and read here. */
#ifndef SPINDLE_PROGRESS_H
#define SPINDLE_PROGRESS_H

#include <stdint.h>

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest progress message kept, in bytes; a longer one is cut at a UTF-8 boundary. */
#define SPINDLE_PROGRESS_MSG_MAX 200

/* The last progress report stored for a task. */
typedef struct spindle_progress {
    int64_t done;                               /* units done */
    int64_t total;                              /* units in all; 0 when unknown */
    char message[SPINDLE_PROGRESS_MSG_MAX + 1]; /* "" if none */
    int64_t updated_at_ms; /* Redis clock, ms since the epoch; 0: no report yet */
    long seq;              /* reports written so far: changes with every stored report */
} spindle_progress;

/* Reads the task's last stored progress report into *out (zeroed when it has none). One
 * round trip. SPINDLE_ERR_NOT_FOUND if the task is unknown or expired. */
int spindle_progress_get(spindle_client *c, const spindle_handle *h, spindle_progress *out);

#ifdef __cplusplus
}
#endif
#endif
