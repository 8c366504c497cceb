/* The Lua scripts behind every multi-key step of docs/PROTOCOL.md.
 *
 * Why Lua: each step (enqueue, claim, settle, wait) must change several keys of one queue
 * atomically — a task must always be in exactly one of pending or an in-flight list — and
 * must cost one round trip. All keys a script touches are in the queue's hash slot: keys
 * passed in KEYS, plus task and done keys derived from the queue base given in ARGV.
 * Timestamps come from Redis's TIME, so hosts with skewed clocks agree. */
#include "store/scripts.h"

/* KEYS[1] pending, KEYS[2] wake. ARGV[1] task key prefix, then 6 per task:
 * id func args ttl timeout retries ('' = field absent). Returns the number enqueued. */
static const char enqueue_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "local before = redis.call('LLEN', KEYS[1])\n"
    "local names = {'ttl', 'timeout', 'retries'}\n"
    "for i = 2, #ARGV, 6 do\n"
    "  local f = {'func', ARGV[i + 1], 'args', ARGV[i + 2], 'state', 'pending',\n"
    "             'enqueued_at', now}\n"
    "  for j = 1, 3 do\n"
    "    local v = ARGV[i + 2 + j]\n"
    "    if v ~= '' then f[#f + 1] = names[j]; f[#f + 1] = v end\n"
    "  end\n"
    "  redis.call('HSET', ARGV[1] .. ARGV[i], unpack(f))\n"
    "  redis.call('LPUSH', KEYS[1], ARGV[i])\n"
    "end\n"
    "if before == 0 then\n"
    "  redis.call('LPUSH', KEYS[2], '1')\n"
    "  redis.call('LTRIM', KEYS[2], 0, 15)\n"
    "end\n"
    "return (#ARGV - 1) / 6\n";

/* KEYS[1] pending, KEYS[2] in-flight list of this worker, KEYS[3] wake, KEYS[4] workers set.
 * ARGV[1] max count, ARGV[2] worker id, ARGV[3] task key prefix.
 * Returns one entry per id popped: {id, attempt, func, args, timeout, ttl} for a claimed task,
 * {id, 0, reason} for an id that was dropped (reason: missing, wrongtype, or its state). */
static const char claim_lua[] =
    "local ids = redis.call('RPOP', KEYS[1], ARGV[1])\n"
    "if not ids then return {} end\n"
    "local t = redis.call('TIME')\n"
    "local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "redis.call('SADD', KEYS[4], ARGV[2])\n"
    "local out = {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local k = ARGV[3] .. id\n"
    "  local st = redis.pcall('HGET', k, 'state')\n"
    "  if st == 'pending' then\n"
    "    redis.call('LPUSH', KEYS[2], id)\n"
    "    local a = redis.call('HINCRBY', k, 'attempts', 1)\n"
    "    redis.call('HSET', k, 'state', 'running', 'started_at', now, 'worker', ARGV[2])\n"
    "    local f = redis.call('HMGET', k, 'func', 'args', 'timeout', 'ttl')\n"
    "    out[#out + 1] = {id, a, f[1] or '', f[2] or '', f[3] or '', f[4] or ''}\n"
    "  elseif type(st) == 'table' then\n"
    "    out[#out + 1] = {id, 0, 'wrongtype'}\n"
    "  else\n"
    "    out[#out + 1] = {id, 0, st or 'missing'}\n"
    "  end\n"
    "end\n"
    "if redis.call('LLEN', KEYS[1]) > 0 then\n"
    "  redis.call('LPUSH', KEYS[3], '1')\n"
    "  redis.call('LTRIM', KEYS[3], 0, 15)\n"
    "end\n"
    "return out\n";

/* KEYS[1] in-flight list of this worker. ARGV[1] queue base "NS:{Q}:", ARGV[2] worker id,
 * then 5 per task: id attempt state payload ttl. State 'release' hands an unstarted task
 * back: pending again, at the right end of the list so it runs next, its claim undone.
 * Returns one integer per task: 1 settled, 0 refused (the fencing token no longer matches:
 * a newer attempt owns the task). */
static const char settle_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "local out = {}\n"
    "for i = 3, #ARGV, 5 do\n"
    "  local id, st, payload = ARGV[i], ARGV[i + 2], ARGV[i + 3]\n"
    "  local k = ARGV[1] .. 'task:' .. id\n"
    "  redis.call('LREM', KEYS[1], 1, id)\n"
    "  local cur = redis.pcall('HMGET', k, 'state', 'attempts', 'worker', 'waiters')\n"
    "  if cur.err == nil and cur[1] == 'running' and cur[2] == ARGV[i + 1]\n"
    "     and cur[3] == ARGV[2] and st == 'release' then\n"
    "    redis.call('HSET', k, 'state', 'pending')\n"
    "    redis.call('HDEL', k, 'started_at', 'worker')\n"
    "    redis.call('HINCRBY', k, 'attempts', -1)\n"
    "    redis.call('RPUSH', ARGV[1] .. 'pending', id)\n"
    "    redis.call('LPUSH', ARGV[1] .. 'wake', '1')\n"
    "    redis.call('LTRIM', ARGV[1] .. 'wake', 0, 15)\n"
    "    out[#out + 1] = 1\n"
    "  elseif cur.err == nil and cur[1] == 'running' and cur[2] == ARGV[i + 1]\n"
    "     and cur[3] == ARGV[2] then\n"
    "    local field = 'error'\n"
    "    if st == 'succeeded' then field = 'result' end\n"
    "    redis.call('HSET', k, 'state', st, field, payload, 'finished_at', now)\n"
    "    local w = tonumber(cur[4] or '0') or 0\n"
    "    if w > 0 then\n"
    "      local dk = ARGV[1] .. 'done:' .. id\n"
    "      for _ = 1, math.min(w, 64) do redis.call('LPUSH', dk, st .. ':' .. payload) end\n"
    "      redis.call('EXPIRE', dk, 60)\n"
    "      redis.call('HDEL', k, 'waiters')\n"
    "    end\n"
    "    local ttl = tonumber(ARGV[i + 4]) or 3600\n"
    "    if ttl == 0 and st == 'succeeded' then redis.call('DEL', k)\n"
    "    elseif ttl > 0 then redis.call('EXPIRE', k, ttl)\n"
    "    else redis.call('EXPIRE', k, 3600) end\n"
    "    out[#out + 1] = 1\n"
    "  else\n"
    "    out[#out + 1] = 0\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS[1] task key. ARGV[1]: '1' to register as a waiter if the task is not final, '-1' to
 * unregister, '0' to only read. Returns {} for a missing task, {state, result, error} for a
 * final one, {state} otherwise. A hash of the wrong type answers {'wrongtype'}. */
static const char wait_lua[] =
    "local f = redis.pcall('HMGET', KEYS[1], 'state', 'result', 'error')\n"
    "if f.err ~= nil then return {'wrongtype'} end\n"
    "if not f[1] then return {} end\n"
    "local s = f[1]\n"
    "if s == 'succeeded' or s == 'failed' or s == 'cancelled' then\n"
    "  return {s, f[2] or '', f[3] or ''}\n"
    "end\n"
    "if ARGV[1] == '1' then redis.call('HINCRBY', KEYS[1], 'waiters', 1)\n"
    "elseif ARGV[1] == '-1' then\n"
    "  local w = tonumber(redis.call('HGET', KEYS[1], 'waiters') or '0') or 0\n"
    "  if w > 1 then redis.call('HINCRBY', KEYS[1], 'waiters', -1)\n"
    "  else redis.call('HDEL', KEYS[1], 'waiters') end\n"
    "end\n"
    "return {s}\n";

static const char *const sources[SPINDLE_SCRIPT_COUNT] = {
    [SPINDLE_SCRIPT_ENQUEUE] = enqueue_lua,
    [SPINDLE_SCRIPT_CLAIM] = claim_lua,
    [SPINDLE_SCRIPT_SETTLE] = settle_lua,
    [SPINDLE_SCRIPT_WAIT] = wait_lua,
};

static const char *const names[SPINDLE_SCRIPT_COUNT] = {
    [SPINDLE_SCRIPT_ENQUEUE] = "enqueue",
    [SPINDLE_SCRIPT_CLAIM] = "claim",
    [SPINDLE_SCRIPT_SETTLE] = "settle",
    [SPINDLE_SCRIPT_WAIT] = "wait",
};

const char *spindle_script_source(enum spindle_script id)
{
    return sources[id];
}

const char *spindle_script_name(enum spindle_script id)
{
    return names[id];
}
