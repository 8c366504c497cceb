/* Heartbeat fields (beat.h). */
#include "worker/beat.h"

#include <stdio.h>

#include "common/clock.h"
#include "store/ops.h"

int spindle_beat(spindle_store *s, const spindle_beat_info *b, spindle_slot_state *st)
{
    spindle_slot_task t;
    spindle_slot_snapshot(st, &t);
    char pid[24], sup[24], started[24], task_started[24], processed[24], failed[24], now[24];
    snprintf(pid, sizeof(pid), "%ld", st->pid);
    snprintf(sup, sizeof(sup), "%ld", b->supervisor);
    snprintf(started, sizeof(started), "%lld", (long long)st->started_wall_ms);
    snprintf(task_started, sizeof(task_started), "%lld",
             t.running ? (long long)t.started_wall_ms : 0LL);
    snprintf(processed, sizeof(processed), "%lu", atomic_load(&st->processed));
    snprintf(failed, sizeof(failed), "%lu", atomic_load(&st->failed));
    snprintf(now, sizeof(now), "%lld", (long long)spindle_wall_ms());
    const char *const pairs[] = {"host",
                                 b->host,
                                 "pid",
                                 pid,
                                 "supervisor",
                                 sup,
                                 "pool",
                                 b->pool,
                                 "queues",
                                 b->queues,
                                 "started_at",
                                 started,
                                 "task",
                                 t.running ? t.id : "",
                                 "task_queue",
                                 t.running ? t.queue : "",
                                 "task_started_at",
                                 t.running ? task_started : "",
                                 "processed",
                                 processed,
                                 "failed",
                                 failed,
                                 "beat_at",
                                 now};
    return spindle_store_heartbeat(s, st->id, b->ttl_ms, pairs,
                                   sizeof(pairs) / sizeof(pairs[0]) / 2);
}
