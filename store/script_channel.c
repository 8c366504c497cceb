/* The channel script: every channel step that must check before it writes (docs/PROTOCOL.md,
 * "Channels").
 *
 * Why Lua: a bounded queue's "is there room?" and "push" must be one step, or two writers
 * could both see room for one message and overfill it; the same step refreshes the TTL of
 * every key of the channel, so they expire together. Why one script with an operation
 * argument: the operations share the same three keys and the same checks (key types, the
 * channel exists, its meta hash is sound), which are the part worth writing once.
 *
 * KEYS[1] meta (hash), KEYS[2] in (list), KEYS[3] out (list); for `create` of a task's
 * channel, KEYS[4] the task hash, which must exist. ARGV[1] the operation:
 *   create CAP_IN CAP_OUT TTL_MS -> {'ok', 'created' | 'updated'} | {'notask'}
 *   push DIR DATA                -> {'ok', length after} | {'full', capacity}
 *   pop DIR COUNT                -> {'ok', message...} (none: the queue is empty)
 *   event                        -> {'ok', set_at_ms} ('' when clear)
 *   set | clear                  -> {'ok'}
 * DIR is 'in' or 'out'. Any operation but create answers {'missing'} when the channel does
 * not exist, {'wrongtype', key, type} when a key holds another type (written by hand), and
 * {'badmeta', key, field} when the meta hash lacks a sound capacity or TTL. Nothing is
 * written before every check has passed. */

const char spindle_lua_channel[] =
    "local want = {'hash', 'list', 'list'}\n"
    "for i = 1, 3 do\n"
    "  local got = redis.call('TYPE', KEYS[i]).ok\n"
    "  if got ~= 'none' and got ~= want[i] then return {'wrongtype', KEYS[i], got} end\n"
    "end\n"
    "local op = ARGV[1]\n"
    "local function refresh(ttl)\n"
    "  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end\n"
    "end\n"
    "if op == 'create' then\n"
    "  if KEYS[4] then\n"
    "    local t = redis.call('TYPE', KEYS[4]).ok\n"
    "    if t == 'none' then return {'notask'} end\n"
    "    if t ~= 'hash' then return {'wrongtype', KEYS[4], t} end\n"
    "  end\n"
    "  local new = redis.call('EXISTS', KEYS[1]) == 0\n"
    "  redis.call('HSET', KEYS[1], 'cap_in', ARGV[2], 'cap_out', ARGV[3], 'ttl', ARGV[4])\n"
    "  if new then\n"
    "    local t = redis.call('TIME')\n"
    "    redis.call('HSET', KEYS[1], 'created_at',\n"
    "               string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000)))\n"
    "  end\n"
    "  refresh(tonumber(ARGV[4]))\n"
    "  if new then return {'ok', 'created'} end\n"
    "  return {'ok', 'updated'}\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end\n"
    "local m = redis.call('HMGET', KEYS[1], 'cap_in', 'cap_out', 'ttl')\n"
    "local names = {'cap_in', 'cap_out', 'ttl'}\n"
    "for i = 1, 3 do\n"
    "  local v = tonumber(m[i] or '')\n"
    "  if v == nil or v < 1 or v ~= math.floor(v) then\n"
    "    return {'badmeta', KEYS[1], names[i]}\n"
    "  end\n"
    "  m[i] = v\n"
    "end\n"
    "local q, cap = KEYS[2], m[1]\n"
    "if ARGV[2] == 'out' then q, cap = KEYS[3], m[2] end\n"
    "if op == 'push' then\n"
    "  local n = redis.call('LLEN', q)\n"
    "  if n >= cap then return {'full', cap} end\n"
    "  redis.call('RPUSH', q, ARGV[3])\n"
    "  refresh(m[3])\n"
    "  return {'ok', n + 1}\n"
    "elseif op == 'pop' then\n"
    "  local out = {'ok'}\n"
    "  local got = redis.call('LPOP', q, ARGV[3])\n"
    "  if got then\n"
    "    for _, v in ipairs(got) do out[#out + 1] = v end\n"
    "  end\n"
    "  return out\n"
    "elseif op == 'event' then\n"
    "  return {'ok', redis.call('HGET', KEYS[1], 'event') or ''}\n"
    "elseif op == 'set' then\n"
    "  local t = redis.call('TIME')\n"
    "  redis.call('HSET', KEYS[1], 'event',\n"
    "             string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000)))\n"
    "  refresh(m[3])\n"
    "  return {'ok'}\n"
    "elseif op == 'clear' then\n"
    "  redis.call('HDEL', KEYS[1], 'event')\n"
    "  refresh(m[3])\n"
    "  return {'ok'}\n"
    "end\n"
    "return redis.error_reply('channel script: unknown operation ' .. tostring(op))\n";
