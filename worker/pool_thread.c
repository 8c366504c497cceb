/* Thread slots (pool.h). A thread cannot be killed safely, so a thread pool has no forced
 * stop and no crash isolation; the supervisor fails a timed-out task in Redis instead and
 * the thread's late settlement is refused by fencing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "worker/pool.h"

typedef struct thread_arg {
    const spindle_slot_config *cfg;
    spindle_slot_state *st;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg a = *(thread_arg *)p;
    free(p);
    spindle_slot_run(a.cfg, a.st);
    atomic_store(&a.st->exited, 1);
    return NULL;
}

int pool_thread_start(pool_slot *ps, const spindle_slot_config *cfg, spindle_error *err)
{
    spindle_slot_state_reset(ps->st);
    thread_arg *a = malloc(sizeof(*a));
    if (a == NULL)
        return spindle_error_set(err, SPINDLE_ERR_NOMEM, "starting a worker thread: out of memory");
    a->cfg = cfg;
    a->st = ps->st;
    int e = pthread_create(&ps->thread, NULL, thread_main, a);
    if (e != 0) {
        free(a);
        return spindle_error_set(err, SPINDLE_ERR_IO, "starting a worker thread: %s", strerror(e));
    }
    ps->pid = getpid();
    ps->alive = 1;
    ps->started_ms = spindle_mono_ms();
    ps->timed_out = 0;
    ps->stalled = 0;
    return SPINDLE_OK;
}

int pool_thread_reap(pool_slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slots[i].alive && atomic_load(&slots[i].st->exited)) {
            pthread_join(slots[i].thread, NULL);
            slots[i].alive = 0;
            return (int)i;
        }
    return -1;
}
