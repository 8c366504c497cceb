/* The Lua functions shared by the scripts that end, reschedule or cancel tasks (scripts.c,
 * script_cancel.c): a macro, so that each script is one string literal built at compile time.
 * Why a header: the scripts live in several files (one per feature), and a task must end the
 * same way whichever script ends it. */
#ifndef SPINDLE_STORE_LUA_PRELUDE_H
#define SPINDLE_STORE_LUA_PRELUDE_H

#include "store/lua_deps.h"        /* SPINDLE_LUA_DEPS, used by finish() */
#include "store/lua_group.h"       /* SPINDLE_LUA_GROUP_DONE, used by finish() */
#include "store/lua_serial.h"      /* SPINDLE_LUA_SERIAL, used by finish() */
#include "store/script_progress.h" /* SPINDLE_LUA_ITEMS_END, used by finish() */

/* release_unique() frees the unique lock NS:{Q}:unique:KEY of task id when the task ends
 * (docs/PROTOCOL.md, "Unique tasks"), but only if the lock still names this task: it may
 * have expired and been taken by another since. A lock of the wrong type is left alone. */
#define SPINDLE_LUA_UNIQUE                                                                         \
    "local function release_unique(base, id, key)\n"                                               \
    "  local uk = base .. 'unique:' .. key\n"                                                      \
    "  if redis.pcall('GET', uk) == id then redis.call('DEL', uk) end\n"                           \
    "end\n"

/* stats_add() counts ok tasks that succeeded and fail that failed for good in the queue's
 * throughput buckets (docs/PROTOCOL.md, "Throughput stats"): one hash per minute (kept 2 h)
 * and one per hour (kept 26 h), so memory per queue stays bounded. Successes are counted
 * once per settle call, not per task (the hot path); failures for good by finish() itself,
 * so every way a task fails (settle, a worker lost too often, garbage met at claim, a
 * failed dependency) is counted. The EXPIRE is sent only when a field was created (HINCRBY
 * answered the increment itself), i.e. at most twice per bucket. pcall: a bucket overwritten
 * by hand with another type is skipped, never aborting a script that has already written. */
#define SPINDLE_LUA_STATS                                                                          \
    "local function stats_add(base, now, ok, fail)\n"                                              \
    "  local m = string.format('%d', math.floor(now / 60000))\n"                                   \
    "  local h = string.format('%d', math.floor(now / 3600000))\n"                                 \
    "  local keys = {{base .. 'stats:m:' .. m, 7200}, {base .. 'stats:h:' .. h, 93600}}\n"         \
    "  for _, b in ipairs(keys) do\n"                                                              \
    "    local fresh = false\n"                                                                    \
    "    if ok > 0 then fresh = redis.pcall('HINCRBY', b[1], 'ok', ok) == ok end\n"                \
    "    if fail > 0 and redis.pcall('HINCRBY', b[1], 'fail', fail) == fail then\n"                \
    "      fresh = true\n"                                                                         \
    "    end\n"                                                                                    \
    "    if fresh then redis.pcall('EXPIRE', b[1], b[2]) end\n"                                    \
    "  end\n"                                                                                      \
    "end\n"

/* Shared by the scripts that end or reschedule tasks (settle, recover, cancel, and claim for
 * expired tasks). Limits are the protocol's: see docs/PROTOCOL.md, "Retries and dead
 * letters". */
#define SPINDLE_LUA_PRELUDE                                                                        \
    "local function now_ms()\n"                                                                    \
    "  local t = redis.call('TIME')\n"                                                             \
    "  return t[1] * 1000 + math.floor(t[2] / 1000)\n"                                             \
    "end\n"                                                                                        \
    "local function num(v, d) return tonumber(v or '') or d end\n" /* Refuses, before anything is  \
                                                                    * written, a queue whose keys  \
                                                                    * were overwritten by hand     \
                                                                    * with the wrong type: a       \
                                                                    * script failing halfway would \
                                                                    * lose tasks. */               \
    "local function bad_keys(base)\n"                                                              \
    "  local want = {pending = 'list', scheduled = 'zset', dead = 'zset'}\n"                       \
    "  for name, ty in pairs(want) do\n"                                                           \
    "    local got = redis.call('TYPE', base .. name).ok\n"                                        \
    "    if got ~= 'none' and got ~= ty then\n"                                                    \
    "      return redis.error_reply('key ' .. base .. name .. ' holds a ' .. got ..\n"             \
    "                               ', not a ' .. ty)\n"                                           \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "end\n" SPINDLE_LUA_ITEMS_END SPINDLE_LUA_UNIQUE SPINDLE_LUA_SERIAL SPINDLE_LUA_GROUP_DONE     \
        SPINDLE_LUA_DEPS SPINDLE_LUA_STATS /* finish() puts a final state on task id (hash k):     \
                                            * result or error, waiters' tokens, TTL, the end       \
                                            * of its items, the release of its unique lock         \
                                            * and single-file lease, the end hint of its           \
                                            * group, the release of its dependents, and for a      \
                                            * failure the dead-letter set (7 days, 10,000 at       \
                                            * most). pre: the FIN fields of k when the             \
                                            * caller has just read them (settle reads them         \
                                            * with its fencing check: one HMGET per task),         \
                                            * else nil. */                                         \
    "local FIN = {'waiters', 'ttl', 'items', 'unique', 'group', 'dependents', 'lease',\n"          \
    "             'retry_at', 'error'}\n"                                                          \
    "local FIN_LEASE = 7\n"                                                                        \
    "local function finish(base, id, k, st, payload, now, pre)\n"                                  \
    "  local f = pre or redis.call('HMGET', k, unpack(FIN))\n"                                     \
    "  local field = 'error'\n"                                                                    \
    "  if st == 'succeeded' then field = 'result' end\n"                                           \
    "  redis.call('HSET', k, 'state', st, field, payload, 'finished_at',\n"                        \
    "             string.format('%d', now))\n"                                                     \
    "  if f[8] and (f[9] and st == 'succeeded') then redis.call('HDEL', k, 'retry_at', 'error')\n" \
    "  elseif f[8] then redis.call('HDEL', k, 'retry_at')\n"                                       \
    "  elseif f[9] and st == 'succeeded' then redis.call('HDEL', k, 'error') end\n"                \
    "  local w = num(f[1], 0)\n"                                                                   \
    "  if w > 0 then\n"                                                                            \
    "    local dk = base .. 'done:' .. id\n"                                                       \
    "    for _ = 1, math.min(w, 64) do redis.pcall('LPUSH', dk, st .. ':' .. payload) end\n"       \
    "    redis.pcall('EXPIRE', dk, 60)\n"                                                          \
    "    redis.call('HDEL', k, 'waiters')\n"                                                       \
    "  end\n"                                                                                      \
    "  local ttl = num(f[2], 3600)\n"                                                              \
    "  if ttl ~= ttl or ttl < 0 or ttl > 2147483647 then ttl = 3600 end\n"                         \
    "  ttl = math.floor(ttl)\n"                                                                    \
    "  if st == 'failed' then\n"                                                                   \
    "    stats_add(base, now, 0, 1)\n"                                                             \
    "    local dead = base .. 'dead'\n"                                                            \
    "    redis.call('ZADD', dead, now, id)\n"                                                      \
    "    redis.call('EXPIRE', k, math.max(ttl, 604800))\n"                                         \
    "    local old = redis.call('ZRANGEBYSCORE', dead, '-inf', now - 604800000)\n"                 \
    "    local n = redis.call('ZCARD', dead)\n"                                                    \
    "    if n > 10000 then\n"                                                                      \
    "      for _, x in ipairs(redis.call('ZRANGE', dead, 0, n - 10001)) do\n"                      \
    "        old[#old + 1] = x\n"                                                                  \
    "      end\n"                                                                                  \
    "    end\n"                                                                                    \
    "    for _, x in ipairs(old) do\n"                                                             \
    "      redis.call('ZREM', dead, x)\n"                                                          \
    "      local xk = base .. 'task:' .. x\n"                                                      \
    "      if redis.pcall('HGET', xk, 'state') == 'failed' then redis.call('DEL', xk) end\n"       \
    "    end\n"                                                                                    \
    "  elseif ttl == 0 and st == 'succeeded' then redis.call('DEL', k)\n"                          \
    "  elseif ttl > 0 then redis.call('EXPIRE', k, ttl)\n"                                         \
    "  else redis.call('EXPIRE', k, 3600) end\n"                                                   \
    "  if f[3] then items_end(base, id, k, st) end\n"                                              \
    "  if f[4] then release_unique(base, id, f[4]) end\n"                                          \
    "  if f[7] then serial_release(base, id, k) end\n"                                             \
    "  if f[5] then group_done(base, id, f[5], st) end\n"                                          \
    "  if f[6] then deps_release(finish, base, id, st, payload, now) end\n"                        \
    "end\n" /* Adds a wake token for the queue's idle workers (a hint; at most 16 kept). */        \
    "local function wake(base)\n"                                                                  \
    "  redis.pcall('LPUSH', base .. 'wake', '1')\n"                                                \
    "  redis.pcall('LTRIM', base .. 'wake', 0, 15)\n"                                              \
    "end\n" /* A failed attempt: scheduled again after an exponential back-off with jitter (in     \
             * [0,1), from the worker) while retries are left (freeing a single-file lease, and    \
             * waking an idle worker, which learns when the retry is due), else failed for good.   \
             */                                                                                    \
    "local function fail_attempt(base, id, k, err, now, jitter)\n"                                 \
    "  local f = redis.call('HMGET', k, 'retries', 'retried', 'backoff', 'backoff_max',\n"         \
    "                           'lease')\n"                                                        \
    "  local retried = num(f[2], 0)\n"                                                             \
    "  if retried < num(f[1], 0) then\n"                                                           \
    "    local d = math.min(num(f[4], 600000), num(f[3], 1000) * 2 ^ retried)\n"                   \
    "    local due = now + math.floor(d / 2 + d / 2 * jitter)\n"                                   \
    "    redis.call('HSET', k, 'state', 'scheduled', 'error', err,\n"                              \
    "               'retry_at', string.format('%d', due), 'retried', retried + 1)\n"               \
    "    redis.call('ZADD', base .. 'scheduled', due, id)\n"                                       \
    "    if f[5] then serial_release(base, id, k) end\n"                                           \
    "    wake(base)\n"                                                                             \
    "    return 'scheduled'\n"                                                                     \
    "  end\n"                                                                                      \
    "  finish(base, id, k, 'failed', err, now)\n"                                                  \
    "  return 'failed'\n"                                                                          \
    "end\n" /* 1 if a cancel was requested for the task while it ran (docs/PROTOCOL.md,            \
             * "Cancellation"): every way out of `running` then ends it `cancelled`. k must be     \
             * known to be a hash. */                                                              \
    "local function cancel_asked(k)\n"                                                             \
    "  return redis.call('HEXISTS', k, 'cancel') == 1\n"                                           \
    "end\n"

#endif
