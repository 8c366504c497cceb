/* The scripts of periodic tasks (docs/PROTOCOL.md, "Periodic tasks").
 *
 * Why two scripts, and why firing a tick takes two steps: the table of entries lives in its
 * own hash slot ("NS:{cron}:..."), so that it is one place the whole fleet shares, while the
 * task a tick enqueues lives in its queue's slot ("NS:{Q}:..."). In Redis Cluster no script
 * may touch both, so a tick cannot be claimed and enqueued atomically. The order is:
 *
 *   1. claim (cron table, atomic): compare-and-set the entry's `last_tick` from below the
 *      tick to the tick, and record it in `pending`. Only one supervisor wins a tick.
 *   2. enqueue (queue slot, atomic): create the task with an id derived from (entry, tick),
 *      unless the queue's mark NS:{Q}:cron:NAME already says that tick (or a later one) was
 *      enqueued, or the task hash exists. So running this step twice never makes two tasks.
 *   3. done (cron table): clear `pending` if it still names the tick.
 *
 * A supervisor that dies (or loses Redis) between 1 and 3 leaves `pending` set; the next
 * claim of that entry by any supervisor answers 'pending' instead, and that supervisor runs
 * steps 2 and 3 for the pending tick before claiming the new one. A tick is therefore
 * enqueued exactly once: never lost once claimed, never twice. The C side computes every
 * time (which tick is due, the next one after it) from the spec; the scripts only compare
 * and store numbers, with Redis's TIME as the clock.
 *
 * spindle_lua_cron: KEYS[1] the index NS:{cron}:entries, KEYS[2] an entry hash
 * NS:{cron}:entry:NAME (for `read`: the prefix is ARGV[2] and KEYS[2] is unused, but given
 * for the slot). ARGV[1] the operation:
 *   set NAME CHANNEL spec func args queue catch_up ttl timeout retries backoff backoff_max
 *       ('' = absent): writes the definition; an entry that did not exist gets `created_at`
 *       and `last_tick` = now (it fires from the next tick on); one whose definition
 *       changes gets `rev` + 1 and keeps its `last_tick`. Publishes NAME on CHANNEL unless
 *       nothing changed. Returns 'added', 'replaced' or 'same'.
 *   remove NAME CHANNEL: deletes the hash and the index entry, publishes. Returns 1 or 0.
 *   read PREFIX: returns {now, {NAME, 'ok', field, value, ...} or {NAME, 'wrongtype'}, ...};
 *       drops from the index names whose hash is gone.
 *   fire NAME REV TICK NEXT ID: returns {'missing'}, {'changed', rev} (the definition is not
 *       the one the caller read), {'early', now} (TICK is after Redis's now),
 *       {'pending', tick, now}, {'taken', last_tick, now}, or {'claimed', now} after
 *       `last_tick` TICK, `pending` TICK, `last_run` now, `last_task` ID, `next_at` NEXT.
 *   done NAME TICK: clears `pending` if it is TICK. Returns 1.
 *
 * spindle_lua_cron_enqueue: KEYS[1] pending, KEYS[2] wake, KEYS[3] task key, KEYS[4] the mark
 * NS:{Q}:cron:NAME. ARGV: tick, id, func, args, ttl, timeout, retries, backoff, backoff_max
 * ('' = absent), entry name. Returns 'enqueued' or 'duplicate'. The task hash is an
 * ordinary task's, plus `cron` NAME and `cron_tick` TICK; the mark keeps 7 days. */
#define CRON_NOW                                                                                   \
    "local t = redis.call('TIME')\n"                                                               \
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"                                          \
    "local nows = string.format('%d', now)\n"

const char spindle_lua_cron[] = CRON_NOW
    "local op = ARGV[1]\n"
    "local ity = redis.call('TYPE', KEYS[1]).ok\n"
    "if ity ~= 'none' and ity ~= 'set' then\n"
    "  return redis.error_reply('cron index ' .. KEYS[1] .. ' holds a ' .. ity .. ', not a set')\n"
    "end\n"
    "if op == 'read' then\n"
    "  local out = {nows}\n"
    "  for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "    local h = redis.pcall('HGETALL', ARGV[2] .. name)\n"
    "    if h.err ~= nil then out[#out + 1] = {name, 'wrongtype'}\n"
    "    elseif #h == 0 then redis.call('SREM', KEYS[1], name)\n"
    "    else\n"
    "      table.insert(h, 1, 'ok')\n"
    "      table.insert(h, 1, name)\n"
    "      out[#out + 1] = h\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local ety = redis.call('TYPE', KEYS[2]).ok\n"
    "if op == 'remove' then\n"
    "  local n = redis.call('SREM', KEYS[1], ARGV[2])\n"
    "  n = n + redis.call('DEL', KEYS[2])\n"
    "  if n > 0 then redis.call('PUBLISH', ARGV[3], ARGV[2]) end\n"
    "  return n > 0 and 1 or 0\n"
    "end\n"
    "if ety ~= 'none' and ety ~= 'hash' then\n"
    "  return redis.error_reply('cron entry ' .. KEYS[2] .. ' holds a ' .. ety .. ', not a hash')\n"
    "end\n"
    "if op == 'set' then\n"
    "  local names = {'spec', 'func', 'args', 'queue', 'catch_up', 'ttl', 'timeout', 'retries',\n"
    "                 'backoff', 'backoff_max'}\n"
    "  local cur = redis.call('HMGET', KEYS[2], unpack(names))\n"
    "  local same = ety == 'hash'\n"
    "  local put, del = {}, {}\n"
    "  for i, n in ipairs(names) do\n"
    "    local v = ARGV[3 + i]\n"
    "    if (cur[i] or '') ~= v then same = false end\n"
    "    if v ~= '' then put[#put + 1] = n; put[#put + 1] = v else del[#del + 1] = n end\n"
    "  end\n"
    "  redis.call('SADD', KEYS[1], ARGV[2])\n"
    "  if same then return 'same' end\n"
    "  redis.call('HSET', KEYS[2], unpack(put))\n"
    "  if #del > 0 then redis.call('HDEL', KEYS[2], unpack(del)) end\n"
    "  redis.call('HINCRBY', KEYS[2], 'rev', 1)\n"
    "  if ety == 'none' then\n"
    "    redis.call('HSET', KEYS[2], 'created_at', nows, 'last_tick', nows)\n"
    "  end\n"
    "  redis.call('PUBLISH', ARGV[3], ARGV[2])\n"
    "  return ety == 'none' and 'added' or 'replaced'\n"
    "end\n"
    "if ety == 'none' then return {'missing'} end\n"
    "if op == 'done' then\n"
    "  if redis.call('HGET', KEYS[2], 'pending') == ARGV[3] then\n"
    "    redis.call('HDEL', KEYS[2], 'pending')\n"
    "  end\n"
    "  return 1\n"
    "end\n"
    "if op ~= 'fire' then return redis.error_reply('cron script: unknown operation ' .. op) end\n"
    "local f = redis.call('HMGET', KEYS[2], 'rev', 'last_tick', 'pending')\n"
    "if (f[1] or '') ~= ARGV[3] then return {'changed', f[1] or ''} end\n"
    "local tick = tonumber(ARGV[4])\n"
    "if tick > now then return {'early', nows} end\n"
    "if f[3] then return {'pending', f[3], nows} end\n"
    "local last = tonumber(f[2] or '') or 0\n"
    "if last >= tick then return {'taken', string.format('%d', last), nows} end\n"
    "redis.call('HSET', KEYS[2], 'last_tick', ARGV[4], 'pending', ARGV[4], 'last_run', nows,\n"
    "           'last_task', ARGV[6], 'next_at', ARGV[5])\n"
    "return {'claimed', nows}\n";

const char spindle_lua_cron_enqueue[] = CRON_NOW
    "local before = redis.pcall('LLEN', KEYS[1])\n"
    "if type(before) ~= 'number' then\n"
    "  return redis.error_reply('pending list ' .. KEYS[1] .. ' is not a list')\n"
    "end\n"
    "local mark = redis.pcall('GET', KEYS[4])\n"
    "if type(mark) == 'table' and mark.err ~= nil then\n"
    "  return redis.error_reply('cron mark ' .. KEYS[4] .. ' is not a string')\n"
    "end\n"
    "if mark and (tonumber(mark) or 0) >= tonumber(ARGV[1]) then return 'duplicate' end\n"
    "if redis.call('EXISTS', KEYS[3]) == 1 then return 'duplicate' end\n"
    "local names = {'ttl', 'timeout', 'retries', 'backoff', 'backoff_max'}\n"
    "local opt = {}\n"
    "for j = 1, 5 do\n"
    "  if ARGV[4 + j] ~= '' then opt[#opt + 1] = names[j]; opt[#opt + 1] = ARGV[4 + j] end\n"
    "end\n"
    "redis.call('HSET', KEYS[3], 'func', ARGV[3], 'args', ARGV[4], 'state', 'pending',\n"
    "           'enqueued_at', nows, 'cron', ARGV[10], 'cron_tick', ARGV[1], unpack(opt))\n"
    "redis.call('LPUSH', KEYS[1], ARGV[2])\n"
    "redis.call('SET', KEYS[4], ARGV[1], 'EX', 604800)\n"
    "if before == 0 then\n"
    "  redis.pcall('LPUSH', KEYS[2], '1')\n"
    "  redis.pcall('LTRIM', KEYS[2], 0, 15)\n"
    "end\n"
    "return 'enqueued'\n";
