/* What one frame of `spindle watch` shows, read from Redis in one go: the queues with their
 * depths and throughput, the live workers, and the progress of each running task. Why apart
 * from the drawing: cmd_watch.c is the terminal, this is the reading, and each can be
 * followed on its own. */
#ifndef SPINDLE_CLI_WATCH_SNAPSHOT_H
#define SPINDLE_CLI_WATCH_SNAPSHOT_H

#include <stddef.h>

#include "spindle/admin.h"
#include "spindle/progress.h"

typedef struct spindle_watch_snapshot {
    spindle_queue_stat *queues;      /* depths, sorted by name (filtered by the --queues list) */
    spindle_queue_throughput *rates; /* rates[i] is the throughput of queues[i]; NULL if it
                                        could not be read (shown as "-") */
    size_t nqueues;
    spindle_worker_info *workers;
    size_t nworkers;
    spindle_progress *progress; /* progress[i] of workers[i]'s task; updated_at_ms 0: none */
} spindle_watch_snapshot;

/* Reads a snapshot into *s (zeroed first). only[0..nonly) restricts the queues shown (nonly
 * 0: all). Returns SPINDLE_OK or the status of the first failed read (message in
 * spindle_errstr(c)); *s is then empty. Free with spindle_watch_snapshot_free(). */
int spindle_watch_snapshot_read(spindle_client *c, const char *const *only, size_t nonly,
                                spindle_watch_snapshot *s);

void spindle_watch_snapshot_free(spindle_watch_snapshot *s);

#endif
