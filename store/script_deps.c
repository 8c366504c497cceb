/* The enqueue script of a task with dependencies (docs/PROTOCOL.md, "Dependencies").
 *
 * Why a script of its own: tasks without task refs in their args keep the plain enqueue
 * script and pay nothing. Why one step: each dependency is checked, and either resolved
 * (it has ended: its outcome is copied into the new task now) or told about the new task
 * (an entry in its dependents list, which finish() reads when it ends), atomically with the
 * creation of the task, so no dependency can end in between unnoticed.
 *
 * KEYS[1] pending, KEYS[2] wake (the new task's queue). ARGV[1] its queue base "NS:{Q}:",
 * ARGV[2] its id, ARGV[3] func, ARGV[4] args, ARGV[5..9] ttl timeout retries backoff
 * backoff_max, ARGV[10] proc, ARGV[11] pinfo, ARGV[12] group ('' = field absent), ARGV[13]
 * '1' to run anyway (else ''); then 2 per dependency: its queue base, its id (distinct ids). The
 * dependencies' keys are derived from their bases: with a dependency on another queue the script
 * crosses hash slots (single Redis or Sentinel only; see PROTOCOL.md).
 *
 * Reads and type-checks everything first: a dependency whose hash is missing (unknown or
 * expired) answers {'missing', ID} with nothing written. Then the task is created: with a
 * dependency that already failed or was cancelled (and no run anyway) it ends at once like
 * its dependents would (finish()), answering {'failed'|'cancelled', 0}; with dependencies
 * still to end it is `waiting`, `deps` their number, each of them given `dependents 1` and
 * an entry ID..BASE in NS:{Qd}:dependents:ID, and it is added to the queue's index of
 * waiting tasks NS:{Q}:waiting (scored by enqueued_at), answering {'waiting', N}; else it is
 * `pending` on its queue, answering {'pending', 0}. A waiting index of the wrong type (by
 * hand) is refused before anything is written. */
#include "store/lua_prelude.h"

const char spindle_lua_enqueue_deps[] = SPINDLE_LUA_PRELUDE
    "local base, id = ARGV[1], ARGV[2]\n"
    "local k = base .. 'task:' .. id\n"
    "local bad = bad_keys(base)\n"
    "if bad then return bad end\n"
    "local wk = base .. 'waiting'\n"
    "local wty = redis.call('TYPE', wk).ok\n"
    "if wty ~= 'none' and wty ~= 'zset' then\n"
    "  return redis.error_reply('key ' .. wk .. ' holds a ' .. wty .. ', not a zset')\n"
    "end\n"
    "local deps = {}\n"
    "for i = 14, #ARGV, 2 do\n"
    "  local db, did = ARGV[i], ARGV[i + 1]\n"
    "  local dk = db .. 'task:' .. did\n"
    "  local f = redis.pcall('HMGET', dk, 'state', 'result', 'error')\n"
    "  if f.err ~= nil then return redis.error_reply('task key ' .. dk .. ' is not a hash') end\n"
    "  if not f[1] then return {'missing', did} end\n"
    "  local lk = db .. 'dependents:' .. did\n"
    "  local ty = redis.call('TYPE', lk).ok\n"
    "  if ty ~= 'none' and ty ~= 'list' then\n"
    "    return redis.error_reply('key ' .. lk .. ' holds a ' .. ty .. ', not a list')\n"
    "  end\n"
    "  deps[#deps + 1] = {db, did, dk, lk, f}\n"
    "end\n"
    "local now = now_ms()\n"
    "local anyway = ARGV[13] == '1'\n"
    "local fields = {'func', ARGV[3], 'args', ARGV[4], 'state', 'waiting',\n"
    "                'enqueued_at', string.format('%d', now)}\n"
    "local names = {'ttl', 'timeout', 'retries', 'backoff', 'backoff_max', 'proc', 'pinfo',\n"
    "               'group'}\n"
    "for j = 1, #names do\n"
    "  if ARGV[4 + j] ~= '' then fields[#fields + 1] = names[j]; fields[#fields + 1] = ARGV[4 + j] "
    "end\n"
    "end\n"
    "if anyway then fields[#fields + 1] = 'dep_anyway'; fields[#fields + 1] = '1' end\n"
    "redis.call('HSET', k, unpack(fields))\n"
    "local open, ended = {}, nil\n"
    "for _, d in ipairs(deps) do\n"
    "  local st = d[5][1]\n"
    "  if st == 'succeeded' or st == 'failed' or st == 'cancelled' then\n"
    "    local p = d[5][3] or ''\n"
    "    if st == 'succeeded' then p = d[5][2] or '' end\n"
    "    redis.call('HSET', k, 'dep:' .. d[2], string.sub(st, 1, 1) .. p)\n"
    "    if st ~= 'succeeded' and not anyway and not ended then\n"
    "      ended = {st, 'dependency ' .. d[2] .. ' ' .. st .. ': ' .. p}\n"
    "    end\n"
    "  else\n"
    "    open[#open + 1] = d\n"
    "  end\n"
    "end\n"
    "if ended then\n"
    "  finish(base, id, k, ended[1], ended[2], now)\n"
    "  return {ended[1], 0}\n"
    "end\n"
    "if #open > 0 then\n"
    "  for _, d in ipairs(open) do\n"
    "    redis.call('RPUSH', d[4], id .. base)\n"
    "    redis.call('HSET', d[3], 'dependents', '1')\n"
    "  end\n"
    "  redis.call('HSET', k, 'deps', #open)\n"
    "  redis.call('ZADD', wk, now, id)\n"
    "  return {'waiting', #open}\n"
    "end\n"
    "redis.call('HSET', k, 'state', 'pending')\n"
    "local before = redis.call('LLEN', KEYS[1])\n"
    "redis.call('LPUSH', KEYS[1], id)\n"
    "if before == 0 then wake(base) end\n"
    "return {'pending', 0}\n";
