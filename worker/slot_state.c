/* The slot state's sequence counter (slot_state.h): one writer (the slot), any readers. */
#include "worker/slot_state.h"

#include <sched.h>
#include <string.h>

#include "worker/cancel_ring.h"

/* Most yields spent waiting for the cancel lock: its holders keep it for well under a
 * microsecond, so running out means the other side died holding it. */
#define LOCK_SPINS 100000

void spindle_slot_state_reset(spindle_slot_state *st)
{
    memset(st, 0, sizeof(*st));
    atomic_init(&st->seq, 0);
    atomic_init(&st->stop, 0);
    atomic_init(&st->ready, 0);
    atomic_init(&st->exited, 0);
    atomic_init(&st->progress_ms, 0);
    atomic_init(&st->processed, 0);
    atomic_init(&st->failed, 0);
    atomic_init(&st->cancel, 0);
    atomic_init(&st->cancel_lock, 0);
}

static int lock(spindle_slot_state *st)
{
    for (int spin = 0; spin < LOCK_SPINS; spin++) {
        if (atomic_exchange(&st->cancel_lock, 1) == 0)
            return 0;
        sched_yield();
    }
    return -1;
}

int spindle_slot_begin(spindle_slot_state *st, const spindle_slot_task *task,
                       struct spindle_cancel_ring *ring)
{
    /* Only the supervisor takes the lock otherwise, and it never dies holding it while the
     * slot lives (the slot dies with it): a slot that cannot get it goes on regardless. */
    int locked = lock(st) == 0;
    atomic_store(&st->cancel, 0);
    int cancelled = spindle_cancel_ring_has(ring, task->id, task->attempt);
    if (!cancelled)
        spindle_slot_publish(st, task);
    if (locked)
        atomic_store(&st->cancel_lock, 0);
    return cancelled;
}

int spindle_slot_flag_cancel(spindle_slot_state *st, const char *id, long attempt)
{
    if (lock(st) != 0)
        return -1;
    spindle_slot_task t;
    int same =
        spindle_slot_snapshot(st, &t) && t.running && t.attempt == attempt && strcmp(t.id, id) == 0;
    if (same)
        atomic_store(&st->cancel, 1);
    atomic_store(&st->cancel_lock, 0);
    return same;
}

void spindle_slot_publish(spindle_slot_state *st, const spindle_slot_task *task)
{
    atomic_fetch_add(&st->seq, 1); /* odd: writing */
    atomic_thread_fence(memory_order_release);
    memcpy(&st->task, task, sizeof(*task));
    atomic_thread_fence(memory_order_release);
    atomic_fetch_add(&st->seq, 1); /* even: consistent */
}

int spindle_slot_snapshot(spindle_slot_state *st, spindle_slot_task *out)
{
    /* A slot publishes in well under a microsecond; one killed in the middle of it never
     * finishes, hence the bound. */
    for (int spin = 0; spin < 100000; spin++) {
        unsigned before = atomic_load(&st->seq);
        if (before & 1u) {
            sched_yield();
            continue;
        }
        atomic_thread_fence(memory_order_acquire);
        memcpy(out, &st->task, sizeof(*out));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load(&st->seq) == before)
            return 1;
    }
    memset(out, 0, sizeof(*out));
    return 0;
}
