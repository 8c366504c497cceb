/* The scripts of task groups (docs/PROTOCOL.md, "Groups").
 *
 * Why a script for the group's own keys: a name is reserved, checked or released together
 * with the order list and the TTL of every key of the group, and that must be one atomic step
 * so that two producers submitting under the same name create one member, and a map's names
 * are reserved all or none. Every operation refreshes the TTL of the group's keys ("refreshed
 * by every use"), and type-checks them first, since Redis does not roll a script back.
 *
 * group: KEYS[1] meta (HASH), KEYS[2] names (HASH name -> task ref), KEYS[3] order (LIST of
 * names in submission order), all "NS:{g:NAME}:..." (one slot). ARGV[1] the operation:
 *  create TTL          -> {'exists'} if meta exists, else meta = {created_at, ttl}: {'ok', TTL}
 *  destroy             -> {'ok', number of keys deleted}
 * and, on an existing group ({'missing'} otherwise), after refreshing the TTL:
 *  touch               -> {'ok', TTL}
 *  reserve N1 R1 ...   -> {'taken', N} if a name is taken (or given twice), nothing written;
 *                         else HSET names N R and RPUSH order N for each: {'ok', TTL}
 *  release N1 ...      -> HDEL names and LREM order of each: {'ok', TTL}
 *  has N               -> {'ok', TTL, 0 or 1}
 *  get N               -> {'ok', TTL, REF or ''}
 *  members             -> {'ok', TTL, N1, R1, N2, R2, ...} in submission order (R '' when a
 *                         name of the order list has no ref: damage the caller reports)
 * A task ref is the 36-byte task id followed by the queue name. */
const char spindle_lua_group[] =
    "local want = {{KEYS[1], 'hash'}, {KEYS[2], 'hash'}, {KEYS[3], 'list'}}\n"
    "for _, w in ipairs(want) do\n"
    "  local ty = redis.call('TYPE', w[1]).ok\n"
    "  if ty ~= 'none' and ty ~= w[2] then\n"
    "    return redis.error_reply('group key ' .. w[1] .. ' holds a ' .. ty .. ', not a ' ..\n"
    "                             w[2])\n"
    "  end\n"
    "end\n"
    "local op = ARGV[1]\n"
    "if op == 'create' then\n"
    "  if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end\n"
    "  local t = redis.call('TIME')\n"
    "  redis.call('HSET', KEYS[1], 'created_at',\n"
    "             string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000)), 'ttl', ARGV[2])\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "  return {'ok', ARGV[2]}\n"
    "end\n"
    "if op == 'destroy' then return {'ok', redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])} end\n"
    "local ttl = redis.call('HGET', KEYS[1], 'ttl')\n"
    "if not ttl then\n"
    "  if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then\n"
    "    return redis.error_reply('group key ' .. KEYS[1] .. ' is missing or has no ttl, but '\n"
    "                             .. 'the group has members')\n"
    "  end\n"
    "  return {'missing'}\n"
    "end\n"
    "local n = tonumber(ttl)\n"
    "if not n or n < 1 or n > 2147483647 or n ~= math.floor(n) then\n"
    "  return redis.error_reply('group key ' .. KEYS[1] .. ': field ttl is not a whole number '\n"
    "                           .. 'of seconds from 1 to 2147483647: ' .. ttl)\n"
    "end\n"
    "local out = {'ok', ttl}\n"
    "if op == 'reserve' then\n"
    "  local seen = {}\n"
    "  for i = 2, #ARGV, 2 do\n"
    "    if seen[ARGV[i]] or redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then\n"
    "      return {'taken', ARGV[i]}\n"
    "    end\n"
    "    seen[ARGV[i]] = true\n"
    "  end\n"
    "  for i = 2, #ARGV, 2 do\n"
    "    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])\n"
    "    redis.call('RPUSH', KEYS[3], ARGV[i])\n"
    "  end\n"
    "elseif op == 'release' then\n"
    "  for i = 2, #ARGV do\n"
    "    redis.call('HDEL', KEYS[2], ARGV[i])\n"
    "    redis.call('LREM', KEYS[3], -1, ARGV[i])\n"
    "  end\n"
    "elseif op == 'has' then\n"
    "  out[3] = redis.call('HEXISTS', KEYS[2], ARGV[2])\n"
    "elseif op == 'get' then\n"
    "  out[3] = redis.call('HGET', KEYS[2], ARGV[2]) or ''\n"
    "elseif op == 'members' then\n"
    "  local names = redis.call('LRANGE', KEYS[3], 0, -1)\n"
    "  for i = 1, #names, 1000 do\n"
    "    local part = {}\n"
    "    for j = i, math.min(i + 999, #names) do part[#part + 1] = names[j] end\n"
    "    local refs = redis.call('HMGET', KEYS[2], unpack(part))\n"
    "    for j = 1, #part do\n"
    "      out[#out + 1] = part[j]\n"
    "      out[#out + 1] = refs[j] or ''\n"
    "    end\n"
    "  end\n"
    "elseif op ~= 'touch' then\n"
    "  return redis.error_reply('group: unknown operation ' .. op)\n"
    "end\n"
    "for i = 1, 3 do redis.call('EXPIRE', KEYS[i], n) end\n"
    "return out\n";

/* group_purge: no KEYS, every key is derived from the queue base ARGV[1] "NS:{Q}:" (one
 * slot). ARGV[2] the group name, ARGV[3..] ids of the group's members on that queue. Deletes
 * each member that has ended and still says it belongs to this group (its hash, its items
 * stream and its done list), then the group's end stream NS:{Q}:gdone:NAME. A member that has
 * not ended is left alone (its hash expires with its result TTL). Returns the number of task
 * hashes deleted. */
const char spindle_lua_group_purge[] =
    "local n = 0\n"
    "for i = 3, #ARGV do\n"
    "  local k = ARGV[1] .. 'task:' .. ARGV[i]\n"
    "  local f = redis.pcall('HMGET', k, 'state', 'group')\n"
    "  if f.err == nil and f[2] == ARGV[2] and (f[1] == 'succeeded' or f[1] == 'failed' or\n"
    "     f[1] == 'cancelled') then\n"
    "    redis.call('DEL', k, ARGV[1] .. 'items:' .. ARGV[i], ARGV[1] .. 'done:' .. ARGV[i])\n"
    "    redis.pcall('ZREM', ARGV[1] .. 'dead', ARGV[i])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', ARGV[1] .. 'gdone:' .. ARGV[2])\n"
    "return n\n";
