/* The slot state's sequence counter (slot_state.h): one writer (the slot), any readers. */
#include "worker/slot_state.h"

#include <sched.h>
#include <string.h>

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
