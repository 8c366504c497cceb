/* The Lua functions of rate limits, used by the claim script (scripts.c): read a queue's
 * limits and token buckets, and write back the buckets a claim took tokens from.
 *
 * Why here and not in the prelude: only the claim script takes tokens, and the prelude is
 * shared by scripts that never do. Why token buckets in Redis, updated inside the claim:
 * every worker of the fleet then agrees on one count, atomically with the claim, with time
 * from Redis's TIME (docs/PROTOCOL.md, "Rate limits"). */
#ifndef SPINDLE_STORE_LUA_LIMITS_H
#define SPINDLE_STORE_LUA_LIMITS_H

/* limits_read(base, lim, now): lim is the HGETALL of NS:{Q}:limits (field '*' for the queue,
 * else a function name; value COUNT/INTERVAL_MS/BURST). Returns a table name -> bucket {key,
 * n, per, burst, tokens} with the tokens refilled up to now, or an error text naming the bad
 * spec or key (read before the claim writes anything). limits_save(b, now) writes a bucket
 * back with an expiry at the time it would be full again (a missing bucket is a full one). */
#define SPINDLE_LUA_LIMITS                                                                         \
    "local function limits_read(base, lim, now)\n"                                                 \
    "  local out = {}\n"                                                                           \
    "  for i = 1, #lim, 2 do\n"                                                                    \
    "    local n, per, burst = string.match(lim[i + 1], '^(%d+)/(%d+)/(%d+)$')\n"                  \
    "    n, per, burst = tonumber(n or ''), tonumber(per or ''), tonumber(burst or '')\n"          \
    "    if not n or n < 1 or per < 1 or burst < 1 then\n"                                         \
    "      return 'rate limit \"' .. lim[i] .. '\" in ' .. base .. 'limits is \"' ..\n"            \
    "             lim[i + 1] .. '\", not COUNT/INTERVAL_MS/BURST'\n"                               \
    "    end\n"                                                                                    \
    "    local key = base .. 'bucket:' .. lim[i]\n"                                                \
    "    local s = redis.pcall('HMGET', key, 'tokens', 'at')\n"                                    \
    "    if s.err ~= nil then return 'rate limit bucket ' .. key .. ' is not a hash' end\n"        \
    "    local tokens, at = tonumber(s[1] or ''), tonumber(s[2] or '')\n"                          \
    "    if not tokens or not at then tokens, at = burst, now end\n"                               \
    "    tokens = math.min(burst, tokens + math.max(0, now - at) * n / per)\n"                     \
    "    out[lim[i]] = {key = key, n = n, per = per, burst = burst, tokens = tokens}\n"            \
    "  end\n"                                                                                      \
    "  return out\n"                                                                               \
    "end\n"                                                                                        \
    "local function limits_save(b, now)\n"                                                         \
    "  redis.call('HSET', b.key, 'tokens', string.format('%.6f', b.tokens), 'at',\n"               \
    "             string.format('%d', now))\n"                                                     \
    "  redis.call('PEXPIRE', b.key,\n"                                                             \
    "             math.ceil((b.burst - b.tokens) * b.per / b.n) + b.per)\n"                        \
    "end\n" /* ms until a bucket holds one whole token again */                                    \
    "local function limits_wait(b)\n"                                                              \
    "  return math.max(1, math.ceil((1 - b.tokens) * b.per / b.n))\n"                              \
    "end\n"

#endif
