/* The scripts of single-file queues outside the claim (docs/PROTOCOL.md, "Single-file
 * queues"): declaring a queue single-file or not, and keeping a running task's lease alive.
 *
 * Why scripts: the declaration shares its hash with the rate limits, and both keys must be
 * type-checked with a clear message before anything is written; the refresh must check the
 * task and the lease in one step, or it could revive the lease of a task that ended a moment
 * before (holding the queue up for a whole TTL) or steal the lease of the next task. */

/* KEYS[1] the queue's limits hash NS:{Q}:limits, KEYS[2] its lease NS:{Q}:lease. ARGV[1]
 * 'on', 'off' or 'get'. Sets or removes the field '!single-file' (value 1), then returns
 * {on, holder, pttl}: on 1 or 0, holder the id of the task holding the lease ('' if none),
 * pttl its time left in ms (-1 if none). An error names a key of the wrong type. */
const char spindle_lua_serial[] =
    "local function bad(key, want)\n"
    "  local ty = redis.call('TYPE', key).ok\n"
    "  if ty ~= 'none' and ty ~= want then\n"
    "    return redis.error_reply('key ' .. key .. ' holds a ' .. ty .. ', not a ' .. want)\n"
    "  end\n"
    "end\n"
    "local e = bad(KEYS[1], 'hash') or bad(KEYS[2], 'string')\n"
    "if e then return e end\n"
    "if ARGV[1] == 'on' then redis.call('HSET', KEYS[1], '!single-file', '1')\n"
    "elseif ARGV[1] == 'off' then redis.call('HDEL', KEYS[1], '!single-file') end\n"
    "local on = redis.call('HEXISTS', KEYS[1], '!single-file')\n"
    "local holder = redis.call('GET', KEYS[2])\n"
    "if not holder then return {on, '', -1} end\n"
    "return {on, holder, redis.call('PTTL', KEYS[2])}\n";

/* KEYS[1] the lease NS:{Q}:lease, KEYS[2] the running task's hash. ARGV[1] task id, ARGV[2]
 * TTL in ms, ARGV[3] worker id, ARGV[4] attempt. Called by the supervisor with each round of
 * heartbeats for a task that took a lease. If the task is still `running` as that attempt of
 * that worker: a lease naming it gets a fresh TTL (returns 1); a lease that lapsed (the
 * heartbeats were late) is taken again (2); a lease held by another task is left alone
 * ({'other', ID}: two tasks of the queue ran at once). Else returns 0: the task ended or
 * moved on, and its lease is none of this worker's business. */
const char spindle_lua_lease[] =
    "local f = redis.pcall('HMGET', KEYS[2], 'state', 'worker', 'attempts')\n"
    "if f.err ~= nil or f[1] ~= 'running' or f[2] ~= ARGV[3] or f[3] ~= ARGV[4] then\n"
    "  return 0\n"
    "end\n"
    "local held = redis.pcall('GET', KEYS[1])\n"
    "if type(held) == 'table' then\n"
    "  return redis.error_reply('key ' .. KEYS[1] .. ' holds a ' ..\n"
    "    redis.call('TYPE', KEYS[1]).ok .. ', not a string (the lease of a single-file queue)')\n"
    "end\n"
    "if held == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "if held then return {'other', held} end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return 2\n";
