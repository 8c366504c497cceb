/* group_done(): the hint finish() leaves when a member of a task group ends (docs/PROTOCOL.md,
 * "Groups"). Why a stream in the queue's slot: finish() runs in the queue's slot, so it can
 * only write there (Redis Cluster); a stream is not consumed, so every waiter of every process
 * wakes on the same entry, and a waiter that notes the last id before it reads the members'
 * states cannot miss an end in between. The entry is a hint: the task hash stays the truth.
 * MAXLEN ~ 10000 bounds the stream (a waiter reads up to 1000 entries per wake, and re-reads
 * every member's state every 10 s anyway); the TTL of an hour after the last end removes it
 * when the group is forgotten. A key of the wrong type is left alone: the task still ends. */
#ifndef SPINDLE_STORE_LUA_GROUP_H
#define SPINDLE_STORE_LUA_GROUP_H

#define SPINDLE_LUA_GROUP_DONE                                                                     \
    "local function group_done(base, id, g, st)\n"                                                 \
    "  local sk = base .. 'gdone:' .. g\n"                                                         \
    "  local r = redis.pcall('XADD', sk, 'MAXLEN', '~', '10000', '*', 'id', id, 's', st)\n"        \
    "  if type(r) == 'string' then redis.call('EXPIRE', sk, 3600) end\n"                           \
    "end\n"

#endif
