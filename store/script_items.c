/* The item scripts (docs/PROTOCOL.md, "Partial results (items)"): a task appends items to
 * its stream, fenced like every task-side write; a reader opens the stream and marks the
 * task hash so that the task's end closes the stream with an end entry.
 *
 * Why the `items` field: finish() runs for every task, and most tasks neither emit items
 * nor have a reader. One more field in its HMGET is all it costs them; only a task marked
 * `items` gets the end entry and the stream's TTL. */
#include "store/script_progress.h"

/* KEYS[1] task hash, KEYS[2] item stream. ARGV[1] attempt, ARGV[2] worker id, ARGV[3] the
 * item (msgpack bytes, checked by the worker). XADD * v ITEM a ATTEMPT, and `items` 1 in the
 * hash. Returns {1, cancel, entry id}, or the fence's refusal {0, state, attempts, worker}.
 * The stream has no expiry while the task runs, like its hash; finish() applies the TTL. */
const char spindle_lua_emit[] =
    SPINDLE_LUA_FENCE "local ty = redis.call('TYPE', KEYS[2]).ok\n"
                      "if ty ~= 'none' and ty ~= 'stream' then\n"
                      "  return redis.error_reply('key ' .. KEYS[2] .. ' holds a ' .. ty ..\n"
                      "                           ', not a stream')\n"
                      "end\n"
                      "local id = redis.call('XADD', KEYS[2], '*', 'v', ARGV[3], 'a', ARGV[1])\n"
                      "redis.call('HSET', KEYS[1], 'items', '1')\n"
                      "return {1, cancel, id}\n";

/* KEYS[1] task hash, KEYS[2] item stream. Returns {state, has_stream}: state '' when the
 * hash is gone (a TTL-0 task whose stream outlives it briefly, or an unknown task), and
 * marks a task that is not final with `items` 1, so that its end writes the end entry a
 * reader blocks for (HSETNX: a reader that looks again writes nothing). */
const char spindle_lua_items_open[] =
    "local st = redis.pcall('HGET', KEYS[1], 'state')\n"
    "if type(st) == 'table' then\n"
    "  return redis.error_reply('task key ' .. KEYS[1] .. ' is not a hash')\n"
    "end\n"
    "local ty = redis.call('TYPE', KEYS[2]).ok\n"
    "if ty ~= 'none' and ty ~= 'stream' then\n"
    "  return redis.error_reply('key ' .. KEYS[2] .. ' holds a ' .. ty .. ', not a stream')\n"
    "end\n"
    "local has = 0\n"
    "if ty == 'stream' then has = 1 end\n"
    "if not st then return {'', has} end\n"
    "if st ~= 'succeeded' and st ~= 'failed' and st ~= 'cancelled' then\n"
    "  redis.call('HSETNX', KEYS[1], 'items', '1')\n"
    "end\n"
    "return {st, has}\n";
