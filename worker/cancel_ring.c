/* The ring of cancelled tasks (cancel_ring.h). Each entry is published under its own
 * sequence counter, as the slot state's task is (slot_state.h), so a reader never takes half
 * of one id for another. An entry being written is skipped: its writer, the supervisor, then
 * checks the slots' running tasks under each slot's cancel lock, and a slot publishes its
 * task and looks here under that lock (spindle_slot_begin()), so one of the two sees the
 * other. */
#include "worker/cancel_ring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

spindle_cancel_ring *spindle_cancel_ring_new(int shared)
{
    spindle_cancel_ring *r;
    if (shared) {
        r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (r == MAP_FAILED)
            return NULL;
    } else if ((r = malloc(sizeof(*r))) == NULL) {
        return NULL;
    }
    memset(r, 0, sizeof(*r));
    atomic_init(&r->next, 0);
    for (size_t i = 0; i < SPINDLE_CANCEL_RING; i++)
        atomic_init(&r->e[i].seq, 0);
    return r;
}

void spindle_cancel_ring_free(spindle_cancel_ring *r, int shared)
{
    if (r == NULL)
        return;
    if (shared)
        munmap(r, sizeof(*r));
    else
        free(r);
}

void spindle_cancel_ring_add(spindle_cancel_ring *r, const char *id, long attempt)
{
    unsigned i = atomic_load(&r->next) % SPINDLE_CANCEL_RING;
    spindle_cancel_entry *e = &r->e[i];
    atomic_fetch_add(&e->seq, 1); /* odd: writing */
    atomic_thread_fence(memory_order_release);
    memset(e->id, 0, sizeof(e->id));
    strncpy(e->id, id, SPINDLE_ID_LEN);
    e->attempt = attempt;
    atomic_thread_fence(memory_order_release);
    atomic_fetch_add(&e->seq, 1);
    atomic_store(&r->next, i + 1);
}

int spindle_cancel_ring_has(spindle_cancel_ring *r, const char *id, long attempt)
{
    if (r == NULL || atomic_load(&r->next) == 0)
        return 0; /* nothing cancelled yet: the common case costs one load */
    for (size_t i = 0; i < SPINDLE_CANCEL_RING; i++) {
        spindle_cancel_entry *e = &r->e[i];
        unsigned before = atomic_load(&e->seq);
        if (before == 0 || (before & 1u))
            continue; /* never written, or being written (see the top of the file) */
        atomic_thread_fence(memory_order_acquire);
        int same = e->attempt == attempt && strncmp(e->id, id, SPINDLE_ID_LEN) == 0;
        atomic_thread_fence(memory_order_acquire);
        if (same && atomic_load(&e->seq) == before)
            return 1;
    }
    return 0;
}
