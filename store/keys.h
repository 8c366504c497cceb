/* The Redis key layout of docs/PROTOCOL.md — the only place key names are built.
 *
 * Every per-queue key starts with the queue base "NS:{Q}:", so all keys of one queue share a
 * Redis Cluster hash slot. Each function writes a NUL-terminated key into buf (size
 * SPINDLE_KEY_MAX) and returns its length. Inputs are validated names, so a key always fits. */
#ifndef SPINDLE_STORE_KEYS_H
#define SPINDLE_STORE_KEYS_H

#include <stddef.h>

/* Bytes of a worker id (HOST:PID:RANDOM), NUL included: ids are built to fit, and ids read
 * back from Redis that do not are skipped. */
#define SPINDLE_WORKER_ID_MAX 160

/* namespace 128 + queue 128 + worker id 160 + fixed parts, rounded up. */
#define SPINDLE_KEY_MAX 512

size_t spindle_key_queues(char *buf, const char *ns);
size_t spindle_key_queue_base(char *buf, const char *ns, const char *queue);
size_t spindle_key_pending(char *buf, const char *ns, const char *queue);
size_t spindle_key_wake(char *buf, const char *ns, const char *queue);
size_t spindle_key_workers(char *buf, const char *ns, const char *queue);
size_t spindle_key_task(char *buf, const char *ns, const char *queue, const char *id);
size_t spindle_key_done(char *buf, const char *ns, const char *queue, const char *id);
/* The stream of items (partial results) a task emits, "NS:{Q}:items:ID". */
size_t spindle_key_items(char *buf, const char *ns, const char *queue, const char *id);
size_t spindle_key_inflight(char *buf, const char *ns, const char *queue, const char *worker);
size_t spindle_key_scheduled(char *buf, const char *ns, const char *queue);
size_t spindle_key_dead(char *buf, const char *ns, const char *queue);
/* The index of the queue's tasks waiting for dependencies, "NS:{Q}:waiting" (a ZSET scored by
 * enqueued_at; docs/PROTOCOL.md, "Dependencies"). */
size_t spindle_key_waiting(char *buf, const char *ns, const char *queue);
/* The lock of a unique key on a queue, "NS:{Q}:unique:KEY" (docs/PROTOCOL.md, "Unique
 * tasks"); key is a validated name. */
size_t spindle_key_unique(char *buf, const char *ns, const char *queue, const char *key);
/* Rate limits: the queue's limits hash, and the token bucket of one of its limits (field
 * "*" for the queue's own, else a function name). */
size_t spindle_key_limits(char *buf, const char *ns, const char *queue);
size_t spindle_key_bucket(char *buf, const char *ns, const char *queue, const char *field);
/* The lease of a single-file queue: the id of the one task of it that may run. */
size_t spindle_key_lease(char *buf, const char *ns, const char *queue);
/* A throughput bucket of a queue (docs/PROTOCOL.md, "Throughput stats"): per minute
 * "NS:{Q}:stats:m:MINUTE" (MINUTE = ms since the epoch / 60000), per hour
 * "NS:{Q}:stats:h:HOUR" (HOUR = ms / 3600000). */
size_t spindle_key_stats_minute(char *buf, const char *ns, const char *queue, long long minute);
size_t spindle_key_stats_hour(char *buf, const char *ns, const char *queue, long long hour);
/* A worker's heartbeat hash, "NS:worker:ID". */
size_t spindle_key_worker(char *buf, const char *ns, const char *worker);
/* The set of worker ids that have registered, "NS:workers". */
size_t spindle_key_all_workers(char *buf, const char *ns);
/* The fleet-wide sweep lock and the consistency audit's SCAN cursor. */
size_t spindle_key_sweep_lock(char *buf, const char *ns);
/* The metrics sampler lock: the worker holding it samples queue depths for the fleet. */
size_t spindle_key_sampler_lock(char *buf, const char *ns);
size_t spindle_key_audit_cursor(char *buf, const char *ns);
/* The SCAN pattern matching every task hash of the namespace. */
size_t spindle_key_task_pattern(char *buf, const char *ns);
/* The pub/sub channel on which cancel requests for running tasks are announced to the
 * workers of the namespace, "NS:cancel" (docs/PROTOCOL.md, "Cancellation"). */
size_t spindle_key_cancel_channel(char *buf, const char *ns);
/* The prefix the scripts append a task id to: "NS:{Q}:task:". */
size_t spindle_key_task_prefix(char *buf, const char *ns, const char *queue);
/* A key of a channel (docs/PROTOCOL.md, "Channels"); part is "in", "out" or "meta". All keys
 * of one channel share a hash slot: a task's share its queue's. */
size_t spindle_key_chan_task(char *buf, const char *ns, const char *queue, const char *id,
                             const char *part); /* NS:{Q}:chan:ID:part */
size_t spindle_key_chan_group(char *buf, const char *ns, const char *group, const char *part);
/*                                                                            NS:{g:NAME}:chan:part
 */
size_t spindle_key_chan_global(char *buf, const char *ns,
                               const char *part); /* NS:{global}:chan:part */
/* Periodic tasks (docs/PROTOCOL.md, "Periodic tasks"): the index of entry names
 * "NS:{cron}:entries", the prefix of entry hashes "NS:{cron}:entry:" and one entry's hash,
 * all in the {cron} slot; the queue's mark of the last tick an entry enqueued on it,
 * "NS:{Q}:cron:NAME" (in the queue's slot); the pub/sub channel announcing changes to the
 * table, "NS:cron". */
size_t spindle_key_cron_index(char *buf, const char *ns);
size_t spindle_key_cron_entry_prefix(char *buf, const char *ns);
size_t spindle_key_cron_entry(char *buf, const char *ns, const char *name);
size_t spindle_key_cron_mark(char *buf, const char *ns, const char *queue, const char *name);
size_t spindle_key_cron_channel(char *buf, const char *ns);

/* Task groups (docs/PROTOCOL.md, "Groups"): a key of the group NAME, "NS:{g:NAME}:part" (part
 * "meta", "names" or "order"; the group's own slot, shared with its channel), and the stream
 * of ends of the group's members on a queue, "NS:{Q}:gdone:NAME" (the queue's slot). */
size_t spindle_key_group(char *buf, const char *ns, const char *group, const char *part);
size_t spindle_key_group_done(char *buf, const char *ns, const char *queue, const char *group);

#endif
