/* The enqueue script of tasks with a delay, a deadline or a unique key (docs/PROTOCOL.md,
 * "Delayed tasks", "Expiry", "Unique tasks").
 *
 * Why a script of its own: the plain enqueue script runs for every task and is a headline
 * benchmark; tasks that use none of these options keep running it unchanged and pay nothing.
 * Why in Redis: the due time and the deadline are computed from Redis's TIME, so producers
 * with skewed clocks agree with the workers that promote and expire the tasks; and the
 * unique key is checked and taken in the same atomic step that creates the task, so
 * concurrent producers create exactly one.
 *
 * KEYS[1] pending, KEYS[2] wake, KEYS[3] scheduled, KEYS[4] the unique lock
 * "NS:{Q}:unique:KEY" (only with a unique key). ARGV[1] task key prefix; ARGV[2..6] ttl
 * timeout retries backoff backoff_max ('' = field absent); ARGV[7] run_at (absolute ms),
 * ARGV[8] delay (ms), ARGV[9] deadline (absolute ms), ARGV[10] expires in (ms), ARGV[11] the
 * unique key, ARGV[12] its TTL (s), ARGV[13] proc, ARGV[14] pinfo (processor pairs), ARGV[15]
 * group ('' = not given); then 3 per task: id func args (one task only with a unique key).
 *
 * A task due later than now is stored `scheduled`, `retry_at` its due time, in the scheduled
 * set scored by the earlier of its due time and its deadline (so that an expiring task is
 * promoted, and expired, at its deadline); one due now is `pending`. A wake token is pushed
 * when the first task goes on an empty pending list, or when a scheduled task is due before
 * every task scheduled so far, so that idle workers re-read the next due time.
 * Returns {created, holder}: the number of tasks created and ''; or {0, ID} when the unique
 * key is held by task ID, which has not ended (nothing written). */
const char spindle_lua_enqueue_opts[] =
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "local want = {{KEYS[1], 'list'}, {KEYS[3], 'zset'}}\n"
    "if KEYS[4] then want[3] = {KEYS[4], 'string'} end\n"
    "for _, w in ipairs(want) do\n"
    "  local ty = redis.call('TYPE', w[1]).ok\n"
    "  if ty ~= 'none' and ty ~= w[2] then\n"
    "    return redis.error_reply('key ' .. w[1] .. ' holds a ' .. ty .. ', not a ' .. w[2])\n"
    "  end\n"
    "end\n"
    /* A lock whose holder is gone or final (the hash deleted or edited by hand) is stale. */
    "if KEYS[4] then\n"
    "  local holder = redis.call('GET', KEYS[4])\n"
    "  if holder then\n"
    "    local st = redis.pcall('HGET', ARGV[1] .. holder, 'state')\n"
    "    if type(st) == 'string' and st ~= 'succeeded' and st ~= 'failed' and\n"
    "       st ~= 'cancelled' then\n"
    "      return {0, holder}\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local function ms(v) return string.format('%d', v) end\n"
    "local due = tonumber(ARGV[7]) or now + (tonumber(ARGV[8]) or 0)\n"
    "local deadline = tonumber(ARGV[9])\n"
    "if not deadline and ARGV[10] ~= '' then deadline = now + tonumber(ARGV[10]) end\n"
    "local later = due > now\n"
    "local f = {'enqueued_at', ms(now)}\n"
    "local names = {'ttl', 'timeout', 'retries', 'backoff', 'backoff_max'}\n"
    "for j = 1, 5 do\n"
    "  if ARGV[1 + j] ~= '' then f[#f + 1] = names[j]; f[#f + 1] = ARGV[1 + j] end\n"
    "end\n"
    "if ARGV[7] ~= '' or ARGV[8] ~= '' then f[#f + 1] = 'run_at'; f[#f + 1] = ms(due) end\n"
    "if later then f[#f + 1] = 'retry_at'; f[#f + 1] = ms(due) end\n"
    "if deadline then f[#f + 1] = 'deadline'; f[#f + 1] = ms(deadline) end\n"
    "if ARGV[13] ~= '' then f[#f + 1] = 'proc'; f[#f + 1] = ARGV[13] end\n"
    "if ARGV[14] ~= '' then f[#f + 1] = 'pinfo'; f[#f + 1] = ARGV[14] end\n"
    "if ARGV[15] ~= '' then f[#f + 1] = 'group'; f[#f + 1] = ARGV[15] end\n"
    "if KEYS[4] then\n"
    "  f[#f + 1] = 'unique'; f[#f + 1] = ARGV[11]\n"
    "  f[#f + 1] = 'unique_ttl'; f[#f + 1] = ARGV[12]\n"
    "end\n"
    "local score = due\n"
    "if deadline and deadline < score then score = deadline end\n"
    "local wake\n"
    "if later then\n"
    "  local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')\n"
    "  wake = not first[2] or score < tonumber(first[2])\n"
    "else\n"
    "  wake = redis.call('LLEN', KEYS[1]) == 0\n"
    "end\n"
    "local st = later and 'scheduled' or 'pending'\n"
    "for i = 16, #ARGV, 3 do\n"
    "  redis.call('HSET', ARGV[1] .. ARGV[i], 'func', ARGV[i + 1], 'args', ARGV[i + 2],\n"
    "             'state', st, unpack(f))\n"
    "  if later then redis.call('ZADD', KEYS[3], score, ARGV[i])\n"
    "  else redis.call('LPUSH', KEYS[1], ARGV[i]) end\n"
    "end\n"
    "if KEYS[4] then redis.call('SET', KEYS[4], ARGV[16], 'EX', ARGV[12]) end\n"
    "if wake then\n"
    "  redis.pcall('LPUSH', KEYS[2], '1')\n"
    "  redis.pcall('LTRIM', KEYS[2], 0, 15)\n"
    "end\n"
    "return {(#ARGV - 15) / 3, ''}\n";
