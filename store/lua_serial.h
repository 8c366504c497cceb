/* The Lua functions of single-file queues (docs/PROTOCOL.md, "Single-file queues"): the
 * claim script reads the declaration and takes the lease; finish(), fail_attempt() and the
 * settle, recover and audit scripts free it when its task leaves `running`.
 *
 * Why a lease key and not a count of running tasks: a count must be given back by whoever
 * holds it, and a worker that dies holds it for good; the lease NS:{Q}:lease names its task
 * and expires (the holder's heartbeat TTL, refreshed with each heartbeat) so a dead worker's
 * lease lapses by itself. Why the declaration is a field of NS:{Q}:limits: the claim script
 * reads that hash already (one HGETALL, empty for most queues), so an ordinary queue pays
 * nothing for the feature; the field's name '!single-file' can never be a function's. */
#ifndef SPINDLE_STORE_LUA_SERIAL_H
#define SPINDLE_STORE_LUA_SERIAL_H

/* serial_flag(lim, key): lim is the HGETALL of the limits hash `key`; removes the
 * declaration from it (so that limits_read() sees rate limits only) and returns true if the
 * queue is single-file, nil if not, or an error text for a value other than '1' (written by
 * hand). serial_lease(base, ttl): reads the lease before the claim writes anything: {key,
 * ttl, held = the holding task's id or false, pttl}, or an error text for a key of the wrong
 * type or a lease that would never expire. serial_take(l, id, k, entry): the claimed task id
 * (hash k) takes the lease; its claim entry says so with a 7th element, 1.
 * serial_release(base, id, k): task id leaves `running`: frees the lease if it still names
 * it, and adds a wake token if the lease is free now, so the next task starts at once. */
#define SPINDLE_LUA_SERIAL                                                                         \
    "local function serial_flag(lim, key)\n"                                                       \
    "  for i = 1, #lim, 2 do\n"                                                                    \
    "    if lim[i] == '!single-file' then\n"                                                       \
    "      local v = lim[i + 1]\n"                                                                 \
    "      table.remove(lim, i)\n"                                                                 \
    "      table.remove(lim, i)\n"                                                                 \
    "      if v ~= '1' then\n"                                                                     \
    "        return 'single-file flag \"!single-file\" in ' .. key .. ' is \"' .. v ..\n"          \
    "               '\", not 1 (written by hand? set it again or remove it)'\n"                    \
    "      end\n"                                                                                  \
    "      return true\n"                                                                          \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "end\n"                                                                                        \
    "local function serial_lease(base, ttl)\n"                                                     \
    "  local key = base .. 'lease'\n"                                                              \
    "  local held = redis.pcall('GET', key)\n"                                                     \
    "  if type(held) == 'table' then\n"                                                            \
    "    return 'key ' .. key .. ' holds a ' .. redis.call('TYPE', key).ok ..\n"                   \
    "           ', not a string (the lease of a single-file queue)'\n"                             \
    "  end\n"                                                                                      \
    "  local pttl = 0\n"                                                                           \
    "  if held then\n"                                                                             \
    "    pttl = redis.call('PTTL', key)\n"                                                         \
    "    if pttl < 0 then\n"                                                                       \
    "      return 'lease ' .. key .. ' of a single-file queue holds \"' .. held ..\n"              \
    "             '\" with no expiry (written by hand? delete it)'\n"                              \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "  local t = tonumber(ttl or '')\n"                                                            \
    "  if not t or t < 1 then return 'single-file lease TTL \"' .. tostring(ttl) ..\n"             \
    "    '\" is not a positive number of ms' end\n"                                                \
    "  return {key = key, ttl = t, held = held, pttl = pttl}\n"                                    \
    "end\n"                                                                                        \
    "local function serial_take(l, id, k, entry)\n"                                                \
    "  redis.call('SET', l.key, id, 'PX', l.ttl)\n"                                                \
    "  redis.call('HSET', k, 'lease', '1')\n"                                                      \
    "  l.taken = true\n"                                                                           \
    "  entry[7] = 1\n"                                                                             \
    "end\n"                                                                                        \
    "local function serial_release(base, id, k)\n"                                                 \
    "  local key = base .. 'lease'\n"                                                              \
    "  local held = redis.pcall('GET', key)\n"                                                     \
    "  if held == id then redis.call('DEL', key) end\n"                                            \
    "  redis.call('HDEL', k, 'lease')\n"                                                           \
    "  if held == id or not held then\n"                                                           \
    "    redis.pcall('LPUSH', base .. 'wake', '1')\n"                                              \
    "    redis.pcall('LTRIM', base .. 'wake', 0, 15)\n"                                            \
    "  end\n"                                                                                      \
    "end\n"

#endif
