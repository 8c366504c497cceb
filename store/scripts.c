/* The Lua scripts behind every multi-key step of docs/PROTOCOL.md.
 *
 * Why Lua: each step (enqueue, claim, settle, recover, retry, wait) must change several keys
 * of one queue atomically — a task must always be in exactly one of pending, scheduled or an
 * in-flight list, or be final — and must cost one round trip. All keys a script touches are
 * in the queue's hash slot: keys passed in KEYS, plus task, done, pending, scheduled and
 * dead keys derived from the queue base "NS:{Q}:" given in ARGV.
 *
 * Why the checks before the first write: Redis does not roll a script back when a command
 * inside it fails, so a script that wrote half its changes and then hit a key of the wrong
 * type (written by hand) would lose a task. Every script reads and type-checks first
 * (redis.pcall), then writes with redis.call on keys it knows are right.
 *
 * Timestamps come from Redis's TIME, so hosts with skewed clocks agree. */
#include "store/scripts.h"

#include "store/lua_limits.h"
#include "store/lua_prelude.h"
#include "store/script_progress.h"

/* KEYS[1] pending, KEYS[2] wake. ARGV[1] task key prefix; ARGV[2..9] the options shared by
 * the batch: ttl timeout retries backoff backoff_max proc pinfo group ('' = field absent); then 3
 * per task: id func args (one LPUSH per 1,000 ids). Returns the number enqueued. */
static const char enqueue_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "local before = redis.pcall('LLEN', KEYS[1])\n"
    "if type(before) ~= 'number' then return redis.error_reply('pending list ' .. KEYS[1] ..\n"
    "  ' is not a list') end\n"
    "local names = {'ttl', 'timeout', 'retries', 'backoff', 'backoff_max', 'proc', 'pinfo',\n"
    "               'group'}\n"
    "local opt = {}\n"
    "for j = 1, #names do\n"
    "  if ARGV[1 + j] ~= '' then opt[#opt + 1] = names[j]; opt[#opt + 1] = ARGV[1 + j] end\n"
    "end\n"
    "local first = #names + 2\n"
    "local ids = {}\n"
    "for i = first, #ARGV, 3 do\n"
    "  local k = ARGV[1] .. ARGV[i]\n"
    "  redis.call('HSET', k, 'func', ARGV[i + 1], 'args', ARGV[i + 2], 'state', 'pending',\n"
    "             'enqueued_at', now, unpack(opt))\n"
    "  ids[#ids + 1] = ARGV[i]\n"
    "end\n"
    "for j = 1, #ids, 1000 do\n"
    "  redis.call('LPUSH', KEYS[1], unpack(ids, j, math.min(j + 999, #ids)))\n"
    "end\n"
    "if before == 0 then\n"
    "  redis.pcall('LPUSH', KEYS[2], '1')\n"
    "  redis.pcall('LTRIM', KEYS[2], 0, 15)\n"
    "end\n"
    "return (#ARGV - first + 1) / 3\n";

/* KEYS[1] pending, KEYS[2] in-flight list of this worker, KEYS[3] wake, KEYS[4] workers set,
 * KEYS[5] scheduled, KEYS[6] limits. ARGV[1] max count, ARGV[2] worker id, ARGV[3] task key
 * prefix, ARGV[4] queue base, ARGV[5] the worker's heartbeat TTL (ms: a single-file lease's
 * life). First moves up to 1000 due scheduled tasks (retries, delayed
 * tasks, tasks that waited for a rate-limit token: those to the front) to pending, then
 * claims. A task past its `deadline` (docs/PROTOCOL.md, "Expiry") is neither promoted nor
 * claimed: it ends `cancelled`, "expired". Returns {next, entries...}: next is the time in ms
 * until the queue may have work again (the next scheduled task, or the next token of an
 * exhausted queue rate limit; -1: none), so an idle worker sleeps no longer than that; then
 * one entry per id popped: {id, attempt, func, args, timeout, ttl} for a claimed task, {id, 0,
 * reason} for an id that was dropped (reason: missing, wrongtype, expired, or its state) or
 * deferred by a function's rate limit ('throttled').
 *
 * Rate limits (docs/PROTOCOL.md, "Rate limits") cost a queue without any one HGETALL of an
 * empty hash. With limits: at most as many ids are popped as the queue's bucket has whole
 * tokens, and no wake token is added while it is empty; a task whose function's bucket is
 * empty reserves the next token anyway (the bucket goes below 0) and waits for it in
 * scheduled, `throttle_until` marking the reservation, which its next claim uses.
 *
 * Single-file queues (docs/PROTOCOL.md, "Single-file queues", lua_serial.h), declared by a
 * field of the same hash: while NS:{Q}:lease is held nothing is claimed (next is then at
 * most the lease's time left); else at most one task is, which takes the lease (its entry
 * has a 7th element, 1), and no wake token is added for the rest. */
static const char claim_lua[] = SPINDLE_LUA_PRELUDE SPINDLE_LUA_LIMITS
    "local now = now_ms()\n"
    /* Fields written by hand that a claim cannot use (attempts "x": the fencing token must
     * be a count) or that would leave a task in no list (a state no version has): the task
     * ends `failed` saying so. Costs one string compare for an ordinary task. */
    "local known = {pending = 1, scheduled = 1, waiting = 1, running = 1, succeeded = 1,\n"
    "               failed = 1, cancelled = 1}\n"
    "local function garbage_fields(st, att)\n"
    "  if st and not known[st] then\n"
    "    return 'unknown state \\'' .. string.sub(st, 1, 64) .. '\\' in the task hash'\n"
    "  end\n"
    "  if st == 'pending' and att and not (#att < 16 and string.match(att, '^%d+$')) then\n"
    "    return 'field attempts is not a count (\\'' .. string.sub(att, 1, 64) .. '\\')'\n"
    "  end\n"
    "  return false\n"
    "end\n"
    "local ty = redis.call('TYPE', KEYS[2]).ok\n"
    "if ty ~= 'none' and ty ~= 'list' then\n"
    "  return redis.error_reply('key ' .. KEYS[2] .. ' holds a ' .. ty .. ', not a list')\n"
    "end\n"
    "local lim = redis.pcall('HGETALL', KEYS[6])\n"
    "if lim.err ~= nil then\n"
    "  return redis.error_reply('key ' .. KEYS[6] .. ' holds a ' ..\n"
    "    redis.call('TYPE', KEYS[6]).ok .. ', not a hash of rate limits')\n"
    "end\n"
    "local limits, qb, lease = nil, nil, nil\n"
    "if #lim > 0 then\n"
    "  local sf = serial_flag(lim, KEYS[6])\n"
    "  if type(sf) == 'string' then return redis.error_reply(sf) end\n"
    "  if sf then lease = serial_lease(ARGV[4], ARGV[5]) end\n"
    "  if type(lease) == 'string' then return redis.error_reply(lease) end\n"
    "  if #lim > 0 then limits = limits_read(string.sub(KEYS[6], 1, -7), lim, now) end\n"
    "  if type(limits) == 'string' then return redis.error_reply(limits) end\n"
    "  qb = limits and limits['*']\n"
    "end\n"
    /* Claimed ids are pushed on the in-flight list after the loop, 1,000 per LPUSH: nothing
     * in between may raise an error (a claimed task would be `running` in no list), so the
     * loop only reads (pcall) and writes the hashes it has just read, and the tasks that end
     * here (expired, garbage) are ended by finish() after the push, since finish() writes
     * keys a hand could have spoilt (bad_keys() checks the queue's lists first). */
    "local badk = bad_keys(ARGV[4])\n"
    "if badk then return badk end\n"
    "local due = redis.pcall('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 1000)\n"
    "if due.err ~= nil then\n"
    "  return redis.error_reply('key ' .. KEYS[5] .. ' holds a ' ..\n"
    "    redis.call('TYPE', KEYS[5]).ok .. ', not a zset')\n"
    "end\n"
    "if #due > 0 or limits then\n"
    "  ty = redis.call('TYPE', KEYS[1]).ok\n"
    "  if ty ~= 'none' and ty ~= 'list' then\n"
    "    return redis.error_reply('key ' .. KEYS[1] .. ' holds a ' .. ty .. ', not a list')\n"
    "  end\n"
    "end\n"
    "local function expired(dl) return dl and now >= (tonumber(dl) or now + 1) end\n"
    "local front = {}\n"
    "for _, id in ipairs(due) do\n"
    "  redis.call('ZREM', KEYS[5], id)\n"
    "  local k = ARGV[3] .. id\n"
    "  local f = redis.pcall('HMGET', k, 'state', 'deadline', 'throttle_until')\n"
    "  if f[1] == 'scheduled' and expired(f[2]) then\n"
    "    finish(ARGV[4], id, k, 'cancelled', 'expired', now)\n"
    "  elseif f[1] == 'scheduled' then\n"
    "    redis.call('HSET', k, 'state', 'pending')\n"
    "    if f[3] then front[#front + 1] = id else redis.call('LPUSH', KEYS[1], id) end\n"
    "  end\n"
    "end\n"
    "for j = #front, 1, -1 do redis.call('RPUSH', KEYS[1], front[j]) end\n"
    "local out = {-1}\n"
    "if #due < 1000 then\n"
    "  local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')\n"
    "  if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end\n"
    "else\n"
    "  out[1] = 0\n"
    "end\n"
    "local function soon(ms) if out[1] < 0 or ms < out[1] then out[1] = ms end end\n"
    "if lease and lease.held then soon(lease.pttl) return out end\n"
    "local max = tonumber(ARGV[1])\n"
    "if qb then max = math.min(max, math.floor(qb.tokens)) end\n"
    "if lease then max = math.min(max, 1) end\n"
    "local ids = false\n"
    "if max > 0 then ids = redis.call('RPOP', KEYS[1], max) end\n"
    "local throttled = qb and qb.tokens < 1\n"
    "if not ids then\n"
    "  if throttled and redis.call('LLEN', KEYS[1]) > 0 then soon(limits_wait(qb)) end\n"
    "  return out\n"
    "end\n"
    "local nows = string.format('%d', now)\n"
    "redis.pcall('SADD', KEYS[4], ARGV[2])\n"
    "local claimed, later = {}, {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local k = ARGV[3] .. id\n"
    "  local f = redis.pcall('HMGET', k, 'state', 'func', 'args', 'timeout', 'ttl', 'deadline',\n"
    "                       'throttle_until', 'attempts')\n"
    "  local fb = nil\n"
    "  if limits and f.err == nil and f[1] == 'pending' and not f[7] then\n"
    "    fb = limits[f[2] or '']\n"
    "  end\n"
    "  local bad = f.err == nil and garbage_fields(f[1], f[8])\n"
    "  if f.err ~= nil then\n"
    "    out[#out + 1] = {id, 0, 'wrongtype'}\n"
    "  elseif bad then\n"
    "    later[#later + 1] = {id, k, 'failed', bad}\n"
    "    out[#out + 1] = {id, 0, 'failed: ' .. bad}\n"
    "  elseif f[1] ~= 'pending' then\n"
    "    out[#out + 1] = {id, 0, f[1] or 'missing'}\n"
    "  elseif expired(f[6]) then\n"
    "    later[#later + 1] = {id, k, 'cancelled', 'expired'}\n"
    "    out[#out + 1] = {id, 0, 'expired'}\n"
    "  elseif fb and fb.tokens < 1 then\n"
    "    fb.tokens = fb.tokens - 1\n"
    "    fb.used = true\n"
    "    local at = now + math.ceil(-fb.tokens * fb.per / fb.n)\n"
    "    redis.call('HSET', k, 'state', 'scheduled', 'throttle_until', string.format('%d', at))\n"
    "    redis.pcall('HINCRBY', k, 'throttled', 1)\n"
    "    redis.call('ZADD', KEYS[5], at, id)\n"
    "    soon(at - now)\n"
    "    out[#out + 1] = {id, 0, 'throttled'}\n"
    "  else\n"
    "    if fb then fb.tokens = fb.tokens - 1; fb.used = true end\n"
    "    claimed[#claimed + 1] = id\n"
    "    local a = math.floor(num(f[8], 0)) + 1\n"
    "    redis.call('HSET', k, 'state', 'running', 'started_at', nows, 'worker', ARGV[2],\n"
    "               'attempts', string.format('%d', a))\n"
    "    if f[7] then redis.call('HDEL', k, 'throttle_until') end\n"
    "    if qb then qb.tokens = qb.tokens - 1; qb.used = true end\n"
    "    out[#out + 1] = {id, a, f[2] or '', f[3] or '', f[4] or '', f[5] or ''}\n"
    "    if lease then serial_take(lease, id, k, out[#out]) end\n"
    "  end\n"
    "end\n"
    "for j = 1, #claimed, 1000 do\n"
    "  redis.call('LPUSH', KEYS[2], unpack(claimed, j, math.min(j + 999, #claimed)))\n"
    "end\n"
    "for _, e in ipairs(later) do finish(ARGV[4], e[1], e[2], e[3], e[4], now) end\n"
    "if limits then\n"
    "  for _, b in pairs(limits) do if b.used then limits_save(b, now) end end\n"
    "  throttled = qb and qb.tokens < 1\n"
    "end\n"
    "if lease and lease.taken then return out end\n"
    "if redis.call('LLEN', KEYS[1]) > 0 then\n"
    "  if throttled then\n"
    "    soon(limits_wait(qb))\n"
    "  else\n"
    "    redis.pcall('LPUSH', KEYS[3], '1')\n"
    "    redis.pcall('LTRIM', KEYS[3], 0, 15)\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS[1] in-flight list of the worker (its oldest claims at the tail, and tasks settle
 * roughly in claim order: LREM searches from the tail). ARGV[1] queue base "NS:{Q}:", ARGV[2]
 * worker id, then 5 per task: id attempt state payload jitter. State 'succeeded' or 'failed' (the
 * attempt failed: retried per the task's policy, else failed for good); 'release' hands an
 * unstarted task back: pending again, at the right end of the list so it runs next, its
 * claim undone. Released tasks are pushed last to first, so that they keep their claim
 * order: the first claimed is the next to run, as it would have been. 'cancelled': the worker
 * ended the task for a cancel request, payload the reason (a failed attempt if the hash has
 * no `cancel`). A task whose hash has `cancel` ends `cancelled` whatever the state given.
 * Returns one entry per task: 'succeeded', 'failed', 'scheduled' (a retry is due later),
 * 'released', 'cancelled', or 0 when refused (the fencing token no longer matches: a newer
 * attempt owns the task). */
static const char settle_lua[] = SPINDLE_LUA_PRELUDE
    "local bad = bad_keys(ARGV[1])\n"
    "if bad then return bad end\n"
    "local now = now_ms()\n"
    "local out, released, nok = {}, {}, 0\n"
    "local rd, n = {unpack(FIN)}, #FIN\n"
    "rd[n + 1], rd[n + 2], rd[n + 3], rd[n + 4] = 'state', 'attempts', 'worker', 'cancel'\n"
    "if redis.call('TYPE', KEYS[1]).ok == 'list' then\n"
    "  for i = 3, #ARGV, 5 do redis.call('LREM', KEYS[1], -1, ARGV[i]) end\n"
    "end\n"
    "for i = 3, #ARGV, 5 do\n"
    "  local id, st, payload = ARGV[i], ARGV[i + 2], ARGV[i + 3]\n"
    "  local k = ARGV[1] .. 'task:' .. id\n"
    "  local cur = redis.pcall('HMGET', k, unpack(rd))\n"
    "  if cur.err ~= nil or cur[n + 1] ~= 'running' or cur[n + 2] ~= ARGV[i + 1]\n"
    "     or cur[n + 3] ~= ARGV[2] then\n"
    "    out[#out + 1] = 0\n"
    "  elseif cur[n + 4] then\n"
    "    local why = 'cancelled while running'\n"
    "    if st == 'release' then why = 'cancelled before it started'\n"
    "    elseif st == 'cancelled' then why = payload\n"
    "    elseif st == 'failed' then\n"
    "      why = 'cancelled while running (the attempt failed: ' .. payload .. ')'\n"
    "    end\n"
    "    finish(ARGV[1], id, k, 'cancelled', why, now, cur)\n"
    "    out[#out + 1] = 'cancelled'\n"
    "  elseif st == 'release' then\n"
    "    redis.call('HSET', k, 'state', 'pending')\n"
    "    redis.call('HDEL', k, 'started_at', 'worker')\n"
    "    redis.call('HINCRBY', k, 'attempts', -1)\n"
    "    if cur[FIN_LEASE] then serial_release(ARGV[1], id, k) end\n"
    "    released[#released + 1] = id\n"
    "    out[#out + 1] = 'released'\n"
    "  elseif st == 'failed' or st == 'cancelled' then\n"
    "    out[#out + 1] = fail_attempt(ARGV[1], id, k, payload, now, num(ARGV[i + 4], 0))\n"
    "  else\n"
    "    finish(ARGV[1], id, k, 'succeeded', payload, now, cur)\n"
    "    nok = nok + 1\n"
    "    out[#out + 1] = 'succeeded'\n"
    "  end\n"
    "end\n"
    "if nok > 0 then stats_add(ARGV[1], now, nok, 0) end\n"
    "for j = #released, 1, -1 do redis.call('RPUSH', ARGV[1] .. 'pending', released[j]) end\n"
    "if #released > 0 then wake(ARGV[1]) end\n"
    "return out\n";

/* KEYS[1] in-flight list of a worker that is gone, KEYS[2] the queue's workers set.
 * ARGV[1] queue base, ARGV[2] worker id, ARGV[3] 'release' (the worker is known to have
 * stopped: its tasks go back as they were) or 'lost' (its heartbeat expired: each task's
 * `lost` count grows, and a task lost more than 5 times fails for good, since it is likely
 * what kills its workers). Every task the worker still holds goes back to the front of
 * pending in claim order (or ends `cancelled` if a cancel was requested for it); ids whose
 * task is no longer the worker's are dropped. Then the
 * list is deleted and the worker leaves the set. Returns {requeued, failed}. */
static const char recover_lua[] = SPINDLE_LUA_PRELUDE
    "local bad = bad_keys(ARGV[1])\n"
    "if bad then return bad end\n"
    "local now = now_ms()\n"
    "local ids = {}\n"
    "if redis.call('TYPE', KEYS[1]).ok == 'list' then\n"
    "  ids = redis.call('LRANGE', KEYS[1], 0, -1)\n"
    "end\n"
    "local back, failed = 0, 0\n"
    "for _, id in ipairs(ids) do\n"
    "  local k = ARGV[1] .. 'task:' .. id\n"
    "  local cur = redis.pcall('HMGET', k, 'state', 'worker', 'lost', 'lease')\n"
    "  if cur.err == nil and cur[1] == 'running' and cur[2] == ARGV[2] then\n"
    "    local lost = num(cur[3], 0)\n"
    "    if ARGV[3] == 'lost' then lost = lost + 1 end\n"
    "    if cancel_asked(k) then\n"
    "      finish(ARGV[1], id, k, 'cancelled', 'cancelled while running (its worker ' ..\n"
    "             (ARGV[3] == 'lost' and 'was lost' or 'stopped') .. ')', now)\n"
    "    elseif lost > 5 then\n"
    "      finish(ARGV[1], id, k, 'failed', 'its worker was lost ' .. lost ..\n"
    "             ' times (last: ' .. ARGV[2] .. ')', now)\n"
    "      failed = failed + 1\n"
    "    else\n"
    "      redis.call('HSET', k, 'state', 'pending')\n"
    "      if lost > 0 then redis.call('HSET', k, 'lost', lost) end\n"
    "      redis.call('HDEL', k, 'started_at', 'worker')\n"
    "      redis.call('RPUSH', ARGV[1] .. 'pending', id)\n"
    "      if cur[4] then serial_release(ARGV[1], id, k) end\n"
    "      back = back + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('SREM', KEYS[2], ARGV[2])\n"
    "if back > 0 then wake(ARGV[1]) end\n"
    "return {back, failed}\n";

/* KEYS[1] task key. ARGV[1] queue base, ARGV[2] task id. Puts a failed or cancelled task
 * (dead-lettered or not), or a scheduled one (a retry or a delayed task), back on pending now
 * with a fresh retry budget and no deadline; `attempts` keeps growing, since it is the
 * fencing token. Its items are dropped (the stream and the `items` mark): the new run emits
 * afresh. A unique task takes its lock again (for `unique_ttl` s) unless another task that
 * has not ended holds it. Returns 1, 0 if the task is missing, its state when it cannot be
 * retried, {'held', KEY, HOLDER} when its unique key is held by another task, or {'deps', N}
 * for a task that ended (cancelled) while it waited for N dependencies: their results were
 * never handed over, so it could not run. */
static const char retry_lua[] = SPINDLE_LUA_PRELUDE
    "local f = redis.pcall('HMGET', KEYS[1], 'state', 'unique', 'unique_ttl', 'deps')\n"
    "if f.err ~= nil then return redis.error_reply('task key ' .. KEYS[1] ..\n"
    "  ' is not a hash') end\n"
    "local st = f[1]\n"
    "if not st then return 0 end\n"
    "local bad = bad_keys(ARGV[1])\n"
    "if bad then return bad end\n"
    "if st ~= 'failed' and st ~= 'cancelled' and st ~= 'scheduled' then return st end\n"
    "if f[4] then return {'deps', f[4]} end\n"
    "if f[2] then\n"
    "  local uk = ARGV[1] .. 'unique:' .. f[2]\n"
    "  local holder = redis.pcall('GET', uk)\n"
    "  if type(holder) == 'table' then return redis.error_reply('key ' .. uk ..\n"
    "    ' is not a string') end\n"
    "  if holder and holder ~= ARGV[2] then\n"
    "    local hs = redis.pcall('HGET', ARGV[1] .. 'task:' .. holder, 'state')\n"
    "    if type(hs) == 'string' and hs ~= 'succeeded' and hs ~= 'failed' and\n"
    "       hs ~= 'cancelled' then return {'held', f[2], holder} end\n"
    "  end\n"
    "  redis.call('SET', uk, ARGV[2], 'EX', num(f[3], 3600))\n"
    "end\n"
    "redis.call('ZREM', ARGV[1] .. 'dead', ARGV[2])\n"
    "redis.call('ZREM', ARGV[1] .. 'scheduled', ARGV[2])\n"
    "redis.call('HSET', KEYS[1], 'state', 'pending', 'retried', 0)\n"
    "redis.call('HDEL', KEYS[1], 'finished_at', 'result', 'retry_at', 'worker', 'started_at',\n"
    "           'lost', 'items', 'cancel', 'cancel_grace', 'deadline')\n"
    "redis.call('DEL', ARGV[1] .. 'items:' .. ARGV[2])\n"
    "redis.call('PERSIST', KEYS[1])\n"
    "redis.call('LPUSH', ARGV[1] .. 'pending', ARGV[2])\n"
    "wake(ARGV[1])\n"
    "return 1\n";

/* No KEYS: every key is derived from the queue base ARGV[1] (one slot). ARGV[2..] task ids
 * found by the audit's SCAN. Repairs a task that is in no list its state calls for: a
 * `running` task absent from its worker's in-flight list (or with no worker) and a `pending`
 * task absent from pending go to the front of pending (when pending is short enough to
 * search: 10,000), or ends `cancelled` if it is `running` with a cancel requested; a
 * `scheduled` task absent from the scheduled set is put back in it, a `waiting` one absent
 * from the waiting index NS:{Q}:waiting is added to it (scored by its enqueued_at; this also
 * indexes tasks that began waiting before the index existed).
 * Returns the number of tasks repaired. */
static const char audit_lua[] = SPINDLE_LUA_PRELUDE
    "local bad = bad_keys(ARGV[1])\n"
    "if bad then return bad end\n"
    "local pending = ARGV[1] .. 'pending'\n"
    "local short = redis.call('LLEN', pending) <= 10000\n"
    "local fixed = 0\n"
    "for i = 2, #ARGV do\n"
    "  local id = ARGV[i]\n"
    "  local k = ARGV[1] .. 'task:' .. id\n"
    "  local f = redis.pcall('HMGET', k, 'state', 'worker', 'retry_at', 'deadline', 'lease')\n"
    "  if f.err == nil and f[1] then\n"
    "    local lost = false\n"
    "    if f[1] == 'running' then\n"
    "      local inflight = ARGV[1] .. 'inflight:' .. (f[2] or '')\n"
    "      lost = not f[2] or redis.call('TYPE', inflight).ok ~= 'list'\n"
    "             or not redis.call('LPOS', inflight, id)\n"
    "    elseif f[1] == 'pending' and short then\n"
    "      lost = not redis.call('LPOS', pending, id)\n"
    "    elseif f[1] == 'scheduled' and\n"
    "           not redis.call('ZSCORE', ARGV[1] .. 'scheduled', id) then\n"
    "      redis.call('ZADD', ARGV[1] .. 'scheduled',\n"
    "                 math.min(num(f[3], now_ms()), num(f[4], math.huge)), id)\n"
    "      fixed = fixed + 1\n"
    "    elseif f[1] == 'waiting' and redis.pcall('ZSCORE', ARGV[1] .. 'waiting', id) == false\n"
    "           then\n"
    "      redis.pcall('ZADD', ARGV[1] .. 'waiting',\n"
    "                  num(redis.call('HGET', k, 'enqueued_at'), now_ms()), id)\n"
    "      fixed = fixed + 1\n"
    "    end\n"
    "    if lost and cancel_asked(k) then\n"
    "      finish(ARGV[1], id, k, 'cancelled',\n"
    "             'cancelled while running (found in no in-flight list)', now_ms())\n"
    "      fixed = fixed + 1\n"
    "    elseif lost then\n"
    "      redis.call('HSET', k, 'state', 'pending')\n"
    "      redis.call('HDEL', k, 'worker', 'started_at')\n"
    "      redis.call('RPUSH', pending, id)\n"
    "      if f[5] then serial_release(ARGV[1], id, k) end\n"
    "      wake(ARGV[1])\n"
    "      fixed = fixed + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return fixed\n";

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

/* KEYS[1] a worker's heartbeat hash. ARGV[1] TTL in ms, then field/value pairs (every field,
 * every time, so nothing stale survives). Writes the hash, stamps `beat_at` with Redis's
 * clock (so ages read elsewhere do not depend on the worker host's clock) and sets the
 * expiry, in one step. */
static const char heartbeat_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "redis.call('HSET', KEYS[1], 'beat_at', now, unpack(ARGV, 2))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
    "return 1\n";

/* Scripts kept in files of their own (store/script_*.c). */
extern const char spindle_lua_channel[];
extern const char spindle_lua_cancel[];
extern const char spindle_lua_cron[];
extern const char spindle_lua_cron_enqueue[];
extern const char spindle_lua_enqueue_opts[];
extern const char spindle_lua_limits[];
extern const char spindle_lua_group[];
extern const char spindle_lua_group_purge[];
extern const char spindle_lua_enqueue_deps[];
extern const char spindle_lua_serial[];
extern const char spindle_lua_lease[];
extern const char spindle_lua_purge[];

static const char *const sources[SPINDLE_SCRIPT_COUNT] = {
    [SPINDLE_SCRIPT_ENQUEUE] = enqueue_lua,
    [SPINDLE_SCRIPT_CLAIM] = claim_lua,
    [SPINDLE_SCRIPT_SETTLE] = settle_lua,
    [SPINDLE_SCRIPT_RECOVER] = recover_lua,
    [SPINDLE_SCRIPT_RETRY] = retry_lua,
    [SPINDLE_SCRIPT_WAIT] = wait_lua,
    [SPINDLE_SCRIPT_HEARTBEAT] = heartbeat_lua,
    [SPINDLE_SCRIPT_AUDIT] = audit_lua,
    [SPINDLE_SCRIPT_CHANNEL] = spindle_lua_channel,
    [SPINDLE_SCRIPT_PROGRESS] = spindle_lua_progress,
    [SPINDLE_SCRIPT_EMIT] = spindle_lua_emit,
    [SPINDLE_SCRIPT_ITEMS_OPEN] = spindle_lua_items_open,
    [SPINDLE_SCRIPT_CANCEL] = spindle_lua_cancel,
    [SPINDLE_SCRIPT_CRON] = spindle_lua_cron,
    [SPINDLE_SCRIPT_CRON_ENQUEUE] = spindle_lua_cron_enqueue,
    [SPINDLE_SCRIPT_ENQUEUE_OPTS] = spindle_lua_enqueue_opts,
    [SPINDLE_SCRIPT_LIMITS] = spindle_lua_limits,
    [SPINDLE_SCRIPT_GROUP] = spindle_lua_group,
    [SPINDLE_SCRIPT_GROUP_PURGE] = spindle_lua_group_purge,
    [SPINDLE_SCRIPT_ENQUEUE_DEPS] = spindle_lua_enqueue_deps,
    [SPINDLE_SCRIPT_SERIAL] = spindle_lua_serial,
    [SPINDLE_SCRIPT_LEASE] = spindle_lua_lease,
    [SPINDLE_SCRIPT_PURGE] = spindle_lua_purge,
};

static const char *const names[SPINDLE_SCRIPT_COUNT] = {
    [SPINDLE_SCRIPT_ENQUEUE] = "enqueue",
    [SPINDLE_SCRIPT_CLAIM] = "claim",
    [SPINDLE_SCRIPT_SETTLE] = "settle",
    [SPINDLE_SCRIPT_RECOVER] = "recover",
    [SPINDLE_SCRIPT_RETRY] = "retry",
    [SPINDLE_SCRIPT_WAIT] = "wait",
    [SPINDLE_SCRIPT_HEARTBEAT] = "heartbeat",
    [SPINDLE_SCRIPT_AUDIT] = "audit",
    [SPINDLE_SCRIPT_CHANNEL] = "channel",
    [SPINDLE_SCRIPT_PROGRESS] = "progress",
    [SPINDLE_SCRIPT_EMIT] = "emit",
    [SPINDLE_SCRIPT_ITEMS_OPEN] = "items_open",
    [SPINDLE_SCRIPT_CANCEL] = "cancel",
    [SPINDLE_SCRIPT_CRON] = "cron",
    [SPINDLE_SCRIPT_CRON_ENQUEUE] = "cron_enqueue",
    [SPINDLE_SCRIPT_ENQUEUE_OPTS] = "enqueue_opts",
    [SPINDLE_SCRIPT_LIMITS] = "limits",
    [SPINDLE_SCRIPT_GROUP] = "group",
    [SPINDLE_SCRIPT_GROUP_PURGE] = "group_purge",
    [SPINDLE_SCRIPT_ENQUEUE_DEPS] = "enqueue_deps",
    [SPINDLE_SCRIPT_SERIAL] = "single_file",
    [SPINDLE_SCRIPT_LEASE] = "lease",
    [SPINDLE_SCRIPT_PURGE] = "purge",
};

const char *spindle_script_source(enum spindle_script id)
{
    return sources[id];
}

const char *spindle_script_name(enum spindle_script id)
{
    return names[id];
}
