/* The cancel script (docs/PROTOCOL.md, "Cancellation").
 *
 * Why one script: a cancel races the task's own progress (a claim, a settlement), and both
 * sides must agree on the outcome. Reading the state and acting on it in one atomic step
 * means a task is cancelled at once only if nothing holds it, a running task is marked so
 * that whichever transition takes it out of `running` ends it `cancelled` (the settle, recover
 * and audit scripts check the mark), and a task already final is left as it is: the
 * completion won, and the caller is told which way it ended.
 *
 * KEYS[1] task key. ARGV[1] queue base "NS:{Q}:", ARGV[2] task id, ARGV[3] grace in ms ('':
 * the worker's default), ARGV[4] the namespace's cancel channel, ARGV[5] the queue name.
 * Returns {what, state}: {'missing', ''} for no such task; {'final', STATE} for a task that
 * already ended (unchanged); {'cancelled', 'cancelled'} for a pending, waiting or scheduled
 * task (a retry, or a delayed task that never ran), now cancelled (a waiting one also leaves
 * NS:{Q}:waiting); {'requested', 'running'} for a running task, now marked (`cancel` set to
 * Redis's time unless already set, `cancel_grace` when a grace is given) and announced with
 * PUBLISH "QUEUE ID ATTEMPT GRACE" (GRACE -1: the worker's default). */
#include "store/lua_prelude.h"

const char spindle_lua_cancel[] = SPINDLE_LUA_PRELUDE
    "local f = redis.pcall('HMGET', KEYS[1], 'state', 'attempts', 'cancel_grace')\n"
    "if f.err ~= nil then return redis.error_reply('task key ' .. KEYS[1] .. ' is not a hash') "
    "end\n"
    "local st = f[1]\n"
    "if not st then return {'missing', ''} end\n"
    "if st == 'succeeded' or st == 'failed' or st == 'cancelled' then return {'final', st} end\n"
    "if st == 'running' then\n"
    "  redis.call('HSETNX', KEYS[1], 'cancel', string.format('%d', now_ms()))\n"
    "  local grace = f[3] or '-1'\n"
    "  if ARGV[3] ~= '' then\n"
    "    grace = ARGV[3]\n"
    "    redis.call('HSET', KEYS[1], 'cancel_grace', grace)\n"
    "  end\n"
    "  redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. ARGV[2] .. ' ' .. (f[2] or '0') .. ' ' ..\n"
    "             grace)\n"
    "  return {'requested', 'running'}\n"
    "end\n"
    "local why = 'cancelled before it started'\n"
    "if st == 'scheduled' then\n"
    "  if f[2] then why = 'cancelled while waiting for a retry' end\n"
    "elseif st ~= 'pending' and st ~= 'waiting' then\n"
    "  return redis.error_reply('task ' .. ARGV[2] .. ' has an unknown state: ' .. st)\n"
    "end\n"
    "local bad = bad_keys(ARGV[1])\n"
    "if bad then return bad end\n"
    "if st == 'waiting' then redis.pcall('ZREM', ARGV[1] .. 'waiting', ARGV[2]) end\n"
    "redis.call('ZREM', ARGV[1] .. 'scheduled', ARGV[2])\n"
    "finish(ARGV[1], ARGV[2], KEYS[1], 'cancelled', why, now_ms())\n"
    "return {'cancelled', 'cancelled'}\n";
