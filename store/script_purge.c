/* The purge script: one page of `spindle purge` (docs/PROTOCOL.md, "Purge").
 *
 * Why the script reads its own page: a task may be claimed, retried or settled between two
 * round trips of the caller, and a purge must never delete a task that left the list it
 * purges (a running task above all). Taking the page out of the list or set and checking
 * each task's state in one atomic step means only tasks that are still there, and still in
 * that state, are deleted. A task not yet ended (pending, scheduled) is first ended
 * `cancelled` ("purged") by finish(), so that its waiters, unique key, group and dependents
 * hear of its end as for a cancel; then its hash is deleted. An entry whose task is gone or
 * in another state is a stale index entry: it leaves the list, the task is left alone.
 *
 * KEYS[1] NS:{Q}:pending, NS:{Q}:scheduled or NS:{Q}:dead. ARGV[1] queue base "NS:{Q}:",
 * ARGV[2] 'pending', 'scheduled' or 'dead', ARGV[3] the page size (1-1000): the right end of
 * pending (next to run), the soonest scheduled, the oldest dead letters.
 * Returns {deleted, stale, taken}: tasks deleted, stale entries removed, entries taken. */
#include "store/lua_prelude.h"

const char spindle_lua_purge[] = SPINDLE_LUA_PRELUDE
    "local bad = bad_keys(ARGV[1])\n"
    "if bad then return bad end\n"
    "local st, n = ARGV[2], tonumber(ARGV[3])\n"
    "local ids\n"
    "if st == 'pending' then\n"
    "  ids = redis.call('LRANGE', KEYS[1], -n, -1)\n"
    "  redis.call('LTRIM', KEYS[1], 0, -n - 1)\n"
    "else\n"
    "  ids = redis.call('ZRANGE', KEYS[1], 0, n - 1)\n"
    "  if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end\n"
    "end\n"
    "local want = st\n"
    "if st == 'dead' then want = 'failed' end\n"
    "local now = now_ms()\n"
    "local deleted, stale = 0, 0\n"
    "for _, id in ipairs(ids) do\n"
    "  local k = ARGV[1] .. 'task:' .. id\n"
    "  if redis.pcall('HGET', k, 'state') == want then\n"
    "    if st ~= 'dead' then finish(ARGV[1], id, k, 'cancelled', 'purged', now) end\n"
    "    redis.call('DEL', k)\n"
    "    deleted = deleted + 1\n"
    "  else\n"
    "    stale = stale + 1\n"
    "  end\n"
    "end\n"
    "return {deleted, stale, #ids}\n";
