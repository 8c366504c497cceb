/* The rate-limit admin script (docs/PROTOCOL.md, "Rate limits"): set or remove one limit of a
 * queue.
 *
 * Why a script: a queue's limits are read by every claim of the queue, which costs one read
 * of each bucket, so their number is capped; the check and the write must be one step, and a
 * removed limit takes its bucket with it, so that a limit set again later starts full.
 *
 * KEYS[1] the queue's limits hash NS:{Q}:limits, KEYS[2] the limit's bucket
 * NS:{Q}:bucket:FIELD. ARGV[1] 'set' or 'remove', ARGV[2] the field ('*': the queue, else a
 * function name), ARGV[3] (set) the spec COUNT/INTERVAL_MS/BURST, ARGV[4] (set) the most
 * limits a queue may have. Returns 1 (set, or removed), 0 (remove: there was none), 'full'
 * (set: the queue has the most limits already), or an error for a key of the wrong type. */
const char spindle_lua_limits[] =
    "for i = 1, 2 do\n"
    "  local ty = redis.call('TYPE', KEYS[i]).ok\n"
    "  if ty ~= 'none' and ty ~= 'hash' then\n"
    "    return redis.error_reply('key ' .. KEYS[i] .. ' holds a ' .. ty .. ', not a hash')\n"
    "  end\n"
    "end\n"
    "if ARGV[1] == 'remove' then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  return redis.call('HDEL', KEYS[1], ARGV[2])\n"
    "end\n"
    "if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 and\n"
    "   redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then\n"
    "  return 'full'\n"
    "end\n"
    "redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])\n"
    "return 1\n";
