/* Task groups in Redis (docs/PROTOCOL.md, "Groups"): the group's own keys, kept by the group
 * script in the group's slot, and the reads and writes on its members' task hashes and end
 * streams, in their queues' slots. Shared by producer/group*.c; names are validated by the
 * callers. Errors go to the store's error record. */
#ifndef SPINDLE_STORE_GROUP_H
#define SPINDLE_STORE_GROUP_H

#include <stddef.h>

#include "common/names.h"
#include "spindle/progress.h"
#include "store/conn.h"

/* A member of a group: its name (borrowed from the reply it came from) and its task. */
typedef struct spindle_group_ref {
    const char *name;
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
} spindle_group_ref;

/* Writes the task ref of (id, queue), the id followed by the queue name, into buf (size
 * SPINDLE_ID_LEN + SPINDLE_NAME_MAX + 1); returns its length. */
size_t spindle_group_ref_format(char *buf, const char *id, const char *queue);
/* Parses a task ref; SPINDLE_ERR_PROTOCOL (naming the group and the member) if malformed. */
int spindle_group_ref_parse(spindle_store *s, const char *group, const char *name, const char *ref,
                            size_t len, spindle_group_ref *out);

/* Creates the group with a TTL in s. SPINDLE_ERR_INVALID if it exists already. */
int spindle_store_group_create(spindle_store *s, const char *group, long ttl_s);
/* Refreshes the TTL of an existing group. SPINDLE_ERR_NOT_FOUND if there is none. */
int spindle_store_group_touch(spindle_store *s, const char *group);
/* Reserves names[i] for refs[i] (task refs), i < n, all or none, in one step.
 * SPINDLE_ERR_INVALID naming the first name taken (or given twice); SPINDLE_ERR_NOT_FOUND if
 * the group does not exist. */
int spindle_store_group_reserve(spindle_store *s, const char *group, const char *const *names,
                                const char *const *refs, size_t n);
/* Frees names[0..n) (an enqueue that failed after the reservation). */
int spindle_store_group_release(spindle_store *s, const char *group, const char *const *names,
                                size_t n);
/* *taken = 1 if name is a member. */
int spindle_store_group_has(spindle_store *s, const char *group, const char *name, int *taken);
/* The member name's task into *out (out->name is NULL). SPINDLE_ERR_NOT_FOUND if the group or
 * the name does not exist. */
int spindle_store_group_get(spindle_store *s, const char *group, const char *name,
                            spindle_group_ref *out);
/* Every member in submission order: *refs (malloc'd, caller frees; NULL when *n is 0) whose
 * names are borrowed from *reply (caller frees with freeReplyObject() after the refs). */
int spindle_store_group_members(spindle_store *s, const char *group, spindle_group_ref **refs,
                                size_t *n, redisReply **reply);
/* Deletes the group's own keys; *existed (may be NULL) is 1 if it had any. */
int spindle_store_group_destroy(spindle_store *s, const char *group, int *existed);

/* ---- members (store/group_members.c) ---- */

/* Size of a stream id as text with its NUL ("18446744073709551615-18446744073709551615"). */
#define SPINDLE_STREAM_ID_MAX 48

/* In one round trip: the last id of the group's end stream of each queues[0..nq) into
 * last[q] ("0-0" when it has none), THEN the state of each refs[idx[i]], i < n, into
 * states[i] ("" for a missing hash). The ids are read first, so an end after them is in the
 * stream after last[q] even if the state read missed it. */
int spindle_store_group_states(spindle_store *s, const char *group, const char *const *queues,
                               size_t nq, char (*last)[SPINDLE_STREAM_ID_MAX],
                               const spindle_group_ref *refs, const size_t *idx, size_t n,
                               char (*states)[16]);
/* XREAD BLOCK ms (0: no wait) of the group's end stream on queue after *last, which is moved
 * past what was read. The ids of the entries go to ids[0..*n), at most cap of them. */
int spindle_store_group_read_ends(spindle_store *s, const char *group, const char *queue,
                                  char *last, long ms, char (*ids)[SPINDLE_ID_LEN + 1], size_t cap,
                                  size_t *n);
/* HMGET state result error of each refs[idx[i]], i < n, pipelined: replies[i] (caller frees
 * each; a missing hash gives {nil, nil, nil}; a key of the wrong type an error reply). */
int spindle_store_group_fields(spindle_store *s, const spindle_group_ref *refs, const size_t *idx,
                               size_t n, redisReply **replies);
/* The cancel script on each refs[idx[i]], pipelined. Adds to *cancelled the members ended now
 * and to *requested the running ones asked to stop. */
int spindle_store_group_cancel(spindle_store *s, const spindle_group_ref *refs, const size_t *idx,
                               size_t n, long grace_ms, size_t *cancelled, size_t *requested);
/* The progress fields of each refs[idx[i]] into out[i] (zeroed for a missing task). */
int spindle_store_group_progress(spindle_store *s, const spindle_group_ref *refs, const size_t *idx,
                                 size_t n, spindle_progress *out);
/* The purge script on queue for the group's members ids[0..n): *deleted task hashes. */
int spindle_store_group_purge(spindle_store *s, const char *group, const char *queue,
                              const char *const *ids, size_t n, long long *deleted);

#endif
