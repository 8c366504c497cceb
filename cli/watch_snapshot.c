/* Reads a frame of `spindle watch` (watch_snapshot.h) through the public operator calls of
 * admin.h and progress.h: the queue counts, their throughput, the workers, then the progress
 * of each task a worker is running. A task that ended between two reads simply shows no
 * progress. */
#include "cli/watch_snapshot.h"

#include <stdlib.h>
#include <string.h>

static int wanted(const char *name, const char *const *only, size_t nonly)
{
    if (nonly == 0)
        return 1;
    for (size_t i = 0; i < nonly; i++)
        if (strcmp(name, only[i]) == 0)
            return 1;
    return 0;
}

/* Keeps the queues of the --queues list (all without one), and reads their throughput. */
static int read_queues(spindle_client *c, const char *const *only, size_t nonly,
                       spindle_watch_snapshot *s)
{
    int rc = spindle_queue_list(c, &s->queues, &s->nqueues);
    if (rc != SPINDLE_OK)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < s->nqueues; i++)
        if (wanted(s->queues[i].name, only, nonly))
            s->queues[kept++] = s->queues[i];
    s->nqueues = kept;
    if (kept == 0)
        return SPINDLE_OK;
    const char **names = calloc(kept, sizeof(*names));
    if (names == NULL)
        return SPINDLE_ERR_NOMEM;
    for (size_t i = 0; i < kept; i++)
        names[i] = s->queues[i].name;
    size_t n = 0;
    rc = spindle_queue_throughput_list(c, names, kept, &s->rates, &n);
    free(names);
    if (rc != SPINDLE_OK || n != kept) { /* a stats bucket written by hand: depths still show */
        spindle_queue_throughput_free(s->rates);
        s->rates = NULL;
    }
    return SPINDLE_OK;
}

static void read_progress(spindle_client *c, spindle_watch_snapshot *s)
{
    for (size_t i = 0; i < s->nworkers; i++) {
        const spindle_worker_info *w = &s->workers[i];
        spindle_handle *h = NULL;
        if (w->task[0] == '\0' ||
            spindle_handle_open(c, w->task, w->task_queue[0] ? w->task_queue : NULL, &h) !=
                SPINDLE_OK)
            continue;
        if (spindle_progress_get(c, h, &s->progress[i]) != SPINDLE_OK)
            memset(&s->progress[i], 0, sizeof(s->progress[i]));
        spindle_handle_free(h);
    }
}

int spindle_watch_snapshot_read(spindle_client *c, const char *const *only, size_t nonly,
                                spindle_watch_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    int rc = read_queues(c, only, nonly, s);
    if (rc == SPINDLE_OK)
        rc = spindle_worker_list(c, &s->workers, &s->nworkers);
    if (rc == SPINDLE_OK && s->nworkers > 0) {
        s->progress = calloc(s->nworkers, sizeof(*s->progress));
        if (s->progress == NULL)
            rc = SPINDLE_ERR_NOMEM;
        else
            read_progress(c, s);
    }
    if (rc != SPINDLE_OK)
        spindle_watch_snapshot_free(s);
    return rc;
}

void spindle_watch_snapshot_free(spindle_watch_snapshot *s)
{
    spindle_queue_list_free(s->queues);
    spindle_queue_throughput_free(s->rates);
    spindle_worker_list_free(s->workers, s->nworkers);
    free(s->progress);
    memset(s, 0, sizeof(*s));
}
