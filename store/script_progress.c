/* The progress script (docs/PROTOCOL.md, "Progress"). A fenced write, so that an attempt
 * that lost its task (timed out, presumed dead) cannot overwrite the progress of the attempt
 * that owns it now; its reply also carries the cancel request, so that a task reporting
 * progress learns of a cancel without another round trip. */
#include "store/script_progress.h"

/* KEYS[1] task hash. ARGV[1] attempt, ARGV[2] worker id, ARGV[3] done, ARGV[4] total,
 * ARGV[5] message. Sets progress_done, progress_total, progress_msg, progress_at (Redis
 * clock, ms) and progress_seq + 1 in one HSET. Returns {1, cancel, seq}, or the fence's
 * refusal {0, state, attempts, worker}. */
const char spindle_lua_progress[] =
    SPINDLE_LUA_FENCE "local t = redis.call('TIME')\n"
                      "local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
                      "local seq = math.floor(tonumber(cur[5] or '0') or 0) + 1\n"
                      "redis.call('HSET', KEYS[1], 'progress_done', ARGV[3], 'progress_total',\n"
                      "           ARGV[4], 'progress_msg', ARGV[5], 'progress_at', now,\n"
                      "           'progress_seq', string.format('%d', seq))\n"
                      "return {1, cancel, seq}\n";
