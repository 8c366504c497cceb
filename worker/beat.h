/* A worker's heartbeat: the fields of NS:worker:ID (docs/PROTOCOL.md) built from what its
 * slot publishes, written with a TTL. Slots write their first beat themselves, before their
 * first claim; the supervisor writes every beat after that, since a slot busy running a long
 * task cannot. */
#ifndef SPINDLE_WORKER_BEAT_H
#define SPINDLE_WORKER_BEAT_H

#include "store/conn.h"
#include "worker/slot_state.h"

/* What every slot of one pool shares in its heartbeat. */
typedef struct spindle_beat_info {
    char host[256];
    long supervisor;  /* pid */
    const char *pool; /* "process" or "thread" */
    char queues[SPINDLE_NAME_MAX * 4];
    long ttl_ms;
} spindle_beat_info;

/* Writes the heartbeat of the slot st (its id, pid, start time, task and counts). */
int spindle_beat(spindle_store *s, const spindle_beat_info *b, spindle_slot_state *st);

#endif
