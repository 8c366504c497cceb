/* Bounds on payload sizes: the one place that says how large and how deep anything a producer
 * sends or a worker receives may be (docs/PROTOCOL.md, "Limits"). Rate limits are elsewhere
 * (spindle/limits.h).
 *
 * Why: anything in Redis may have been written by hand or by a buggy producer in another
 * language, so a worker must refuse what it cannot handle safely (a 4 GB args string, args
 * nested a thousand deep) with a message naming the bound, and go on serving. The producer
 * checks the same bounds before sending, so a mistake fails at the call that made it.
 *
 * The args, result and item-count bounds are defaults: spindle_client_options (args) and
 * spindle_worker_options (all three) can lower or raise them (0 there means "the default").
 * The depth and the channel message size are hard bounds that both option structs
 * (max_depth, max_channel_msg_bytes) can only lower: 0 means the bound itself, above it is
 * refused at connect / worker start. The item size and the name length are fixed. Checking a
 * length costs nothing next to the round trip that carries it. */
#ifndef SPINDLE_BOUNDS_H
#define SPINDLE_BOUNDS_H

/* Largest args of one task (msgpack bytes), by default: 1 MiB carries any sane argument list;
 * larger data belongs in a store of its own, passed by reference. */
#define SPINDLE_ARGS_MAX_DEFAULT (1L << 20)
/* Largest result of one task (msgpack bytes), by default: as for args. */
#define SPINDLE_RESULT_MAX_DEFAULT (1L << 20)
/* Deepest msgpack nesting accepted in args and results (containers, the outer args array
 * included): msgpack-c's own decoder stack is 32 levels deep. The default and the highest
 * value of the client's and the worker's max_depth (args only: results, items and outcomes
 * are always checked against this). */
#define SPINDLE_MSGPACK_MAX_DEPTH 32
/* Most items (partial results) one attempt of a task may emit, by default: a stream of
 * 100000 is far beyond a sane progress feed and still bounded in Redis memory. */
#define SPINDLE_ITEMS_MAX_DEFAULT 100000L
/* Largest item spindle_task_emit() accepts, in bytes: far above a sane partial result, far
 * below what would make one XADD stall Redis. */
#define SPINDLE_ITEM_MAX (1u << 20)
/* Largest channel message, in bytes (1 MiB): a channel carries items of work, not files; a
 * larger write answers SPINDLE_ERR_TOO_LARGE. The default and the highest value of the
 * client's and the worker's max_channel_msg_bytes (which bound both sends and receives). */
#define SPINDLE_CHANNEL_MSG_MAX (1L << 20)
/* Names (queue, function, group, channel, cron entry, worker id, namespace): 1 to this many
 * bytes of [A-Za-z0-9_.:-] (common/names.c). */
#define SPINDLE_NAME_MAX 128

#endif
