/* The release of a task's dependents when it ends (docs/PROTOCOL.md, "Dependencies"), run by
 * finish() in the same atomic step that makes the task final: no dependent ever polls.
 *
 * Why a work list: a dependent that ends because its dependency failed releases its own
 * dependents in turn, and so on down a chain of any length. finish() calls deps_release()
 * for each task it ends; the first call owns the list and processes it, calls made while it
 * runs (from the finish() of a dependent) only append to it, so the Lua stack stays two
 * levels deep however long the chain.
 *
 * Why finish is a parameter: it is defined after this code (it calls deps_release()), and
 * Lua has no forward declaration of a local function.
 *
 * Each entry of NS:{Qd}:dependents:ID is the dependent's 36-byte id followed by its queue
 * base "NS:{Qc}:", so a dependent on another queue is found without a lookup; that step
 * crosses hash slots (see PROTOCOL.md). Nothing here is read before a write in a way that can
 * fail: a key of the wrong type (written by hand) is skipped with redis.pcall, and a dependent
 * on another queue whose pending, scheduled or dead key has the wrong type is left waiting
 * (bad_keys), since ending it there would fail halfway; so the settlement of the task that
 * ends is never cut short. A dependent that leaves `waiting` (to pending, or ended) leaves
 * its queue's index NS:{Qc}:waiting too, and so does one whose hash is gone or no longer
 * waiting (a stale entry: deleted by hand); pcall: an index of the wrong type is skipped, as
 * the index is a view for operators and the hash is the truth. */
#ifndef SPINDLE_STORE_LUA_DEPS_H
#define SPINDLE_STORE_LUA_DEPS_H

#define SPINDLE_LUA_DEPS                                                                           \
    "local deps_work\n"                                                                            \
    "local function deps_release(finish, base, id, st, payload, now)\n"                            \
    "  local item = {base, id, st, payload}\n"                                                     \
    "  if deps_work then deps_work[#deps_work + 1] = item; return end\n"                           \
    "  deps_work = {item}\n"                                                                       \
    "  local i = 1\n"                                                                              \
    "  while i <= #deps_work do\n"                                                                 \
    "    local b, d, s, p = unpack(deps_work[i])\n"                                                \
    "    i = i + 1\n"                                                                              \
    "    local lk = b .. 'dependents:' .. d\n"                                                     \
    "    local kids = redis.pcall('LRANGE', lk, 0, -1)\n"                                          \
    "    if kids.err == nil then\n"                                                                \
    "      redis.call('DEL', lk)\n"                                                                \
    "      redis.pcall('HDEL', b .. 'task:' .. d, 'dependents')\n"                                 \
    "      for _, e in ipairs(kids) do\n"                                                          \
    "        local cid, cb = string.sub(e, 1, 36), string.sub(e, 37)\n"                            \
    "        local ck = cb .. 'task:' .. cid\n"                                                    \
    "        local c = redis.pcall('HMGET', ck, 'state', 'dep_anyway', 'deps')\n"                  \
    "        if c.err == nil and c[1] == 'waiting' and (cb == b or not bad_keys(cb)) then\n"       \
    "          redis.call('HSET', ck, 'dep:' .. d, string.sub(s, 1, 1) .. p)\n"                    \
    "          local left = num(c[3], 1) - 1\n"                                                    \
    "          if s ~= 'succeeded' and c[2] ~= '1' then\n"                                         \
    "            redis.pcall('ZREM', cb .. 'waiting', cid)\n"                                      \
    "            finish(cb, cid, ck, s, 'dependency ' .. d .. ' ' .. s .. ': ' .. p, now)\n"       \
    "          elseif left > 0 then\n"                                                             \
    "            redis.call('HSET', ck, 'deps', left)\n"                                           \
    "          else\n"                                                                             \
    "            redis.pcall('ZREM', cb .. 'waiting', cid)\n"                                      \
    "            redis.call('HSET', ck, 'state', 'pending')\n"                                     \
    "            redis.call('HDEL', ck, 'deps')\n"                                                 \
    "            redis.pcall('LPUSH', cb .. 'pending', cid)\n"                                     \
    "            redis.pcall('LPUSH', cb .. 'wake', '1')\n"                                        \
    "            redis.pcall('LTRIM', cb .. 'wake', 0, 15)\n"                                      \
    "          end\n"                                                                              \
    "        elseif c.err ~= nil or c[1] ~= 'waiting' then\n"                                      \
    "          redis.pcall('ZREM', cb .. 'waiting', cid)\n"                                        \
    "        end\n"                                                                                \
    "      end\n"                                                                                  \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "  deps_work = nil\n"                                                                          \
    "end\n"

#endif
