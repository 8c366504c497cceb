/* The Lua scripts of task-side writes: progress reports and items (partial results), plus
 * the prelude function that closes a task's item stream when it ends. Their sources are in
 * script_progress.c and script_items.c; scripts.c lists them in its table. The contracts
 * are in docs/PROTOCOL.md, "Progress" and "Partial results (items)". */
#ifndef SPINDLE_STORE_SCRIPT_PROGRESS_H
#define SPINDLE_STORE_SCRIPT_PROGRESS_H

/* The fence every task-side write starts with. KEYS[1] is the task hash, ARGV[1] the
 * attempt, ARGV[2] the worker id. Reads state, attempts, worker, cancel and progress_seq
 * into `cur` (type-checked before anything is written), returns {0, state, attempts,
 * worker} when the task is no longer running as this attempt of this worker, and sets
 * `cancel` to 1 when the hash has a cancel request. */
#define SPINDLE_LUA_FENCE                                                                          \
    "local cur = redis.pcall('HMGET', KEYS[1], 'state', 'attempts', 'worker', 'cancel',\n"         \
    "                        'progress_seq')\n"                                                    \
    "if cur.err ~= nil then\n"                                                                     \
    "  return redis.error_reply('task key ' .. KEYS[1] .. ' is not a hash')\n"                     \
    "end\n"                                                                                        \
    "if cur[1] ~= 'running' or cur[2] ~= ARGV[1] or cur[3] ~= ARGV[2] then\n"                      \
    "  return {0, cur[1] or 'missing', cur[2] or '', cur[3] or ''}\n"                              \
    "end\n"                                                                                        \
    "local cancel = 0\n"                                                                           \
    "if cur[4] then cancel = 1 end\n"

/* A prelude function for finish(): called when a task whose hash has the `items` field
 * reaches a final state, after its TTL was applied. Appends the end entry {end = STATE} to
 * the task's item stream (pcall: a key of the wrong type written by hand is left alone) and
 * gives the stream the hash's remaining TTL; a hash already deleted (TTL 0) leaves the
 * stream 60 s for readers to drain, as long as a completion token lives. */
#define SPINDLE_LUA_ITEMS_END                                                                      \
    "local function items_end(base, id, k, st)\n"                                                  \
    "  local ik = base .. 'items:' .. id\n"                                                        \
    "  redis.pcall('XADD', ik, '*', 'end', st)\n"                                                  \
    "  local ttl = redis.call('PTTL', k)\n"                                                        \
    "  if ttl > 0 then redis.call('PEXPIRE', ik, ttl)\n"                                           \
    "  elseif ttl == -2 then redis.call('EXPIRE', ik, 60)\n"                                       \
    "  else redis.call('PERSIST', ik) end\n"                                                       \
    "end\n"

extern const char spindle_lua_progress[];
extern const char spindle_lua_emit[];
extern const char spindle_lua_items_open[];

#endif
