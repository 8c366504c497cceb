/* Task groups: sessions of named tasks.
 *
 * A group is a set of tasks each submitted under a name unique in the group (a "member"),
 * which can be waited on (all, or the first to end), read by name, cancelled, summed up and
 * destroyed together. It lives in Redis (docs/PROTOCOL.md, "Groups"): another process opens it
 * by its name and sees the same members and states. Its keys carry a TTL (default 3600 s)
 * that every call on the group refreshes; the members' task hashes keep their own result TTL.
 *
 * Every call takes the client the group is used through (errors in spindle_errstr(c)). A
 * spindle_group is only the group's name: it holds no connection and no state, so any client
 * of the same namespace can use it. A synchronous client (sync.h) has no groups: every call
 * answers SPINDLE_ERR_INVALID ("groups need Redis").
 *
 * Submission reserves the member's name in the group, then enqueues its task; if the enqueue
 * fails, the name is freed again. A producer that dies between the two steps leaves a name
 * whose task never existed: waits and results report such a member (and one whose task hash
 * expired) as failed, "task ID not found: lost at enqueue, or expired" — a wait once it
 * found no task twice, 2 s apart (a submit in progress is not taken for lost), and results
 * with done_only not at all. */
#ifndef SPINDLE_GROUP_H
#define SPINDLE_GROUP_H

#include <stddef.h>

#include "spindle/callbacks.h"
#include "spindle/client.h"
#include "spindle/progress.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spindle_group spindle_group;

/* Default TTL of a group's keys, in s; the longest accepted is 2^31 - 1 (Redis's EXPIRE). */
#define SPINDLE_GROUP_DEFAULT_TTL_S 3600L
#define SPINDLE_GROUP_MAX_TTL_S 2147483647L
/* Members per reservation and per enqueue script call of spindle_group_map(): one round trip
 * each per this many tasks. */
#define SPINDLE_GROUP_CHUNK 500

/* Creates a group named name (1-128 bytes of [A-Za-z0-9_.:-]; NULL: a new random uuid) whose
 * keys expire ttl_s after their last use (0: SPINDLE_GROUP_DEFAULT_TTL_S). *out is freed by the
 * caller with spindle_group_free(). SPINDLE_ERR_INVALID for a bad name or TTL, or a group of
 * that name that exists already. One round trip. */
int spindle_group_create(spindle_client *c, const char *name, long ttl_s, spindle_group **out);
/* Opens an existing group (refreshing its TTL). SPINDLE_ERR_NOT_FOUND if there is none (never
 * created, destroyed or expired). Caller frees *out with spindle_group_free(). */
int spindle_group_open(spindle_client *c, const char *name, spindle_group **out);
/* The group's name, borrowed for the life of g. */
const char *spindle_group_name(const spindle_group *g);
/* Frees g (the group stays in Redis). NULL is a no-op. */
void spindle_group_free(spindle_group *g);

/* Enqueues func(args) as member name (a name as above, unique in the group) with the options
 * of spindle_enqueue() (opts NULL: the defaults; the queue or the route table decides where it
 * goes), and the task field `group` set. Refused with SPINDLE_ERR_INVALID: a name taken (the
 * message says so), a bad name, result_ttl_s 0 (a member's result must outlive its end) and a
 * unique key. Args may hold other tasks' handles (include/spindle/deps.h): the member then
 * waits for them, and a dependency unknown or expired is refused (SPINDLE_ERR_NOT_FOUND) with
 * the name freed again. *out (may be NULL) receives the task's handle, freed by the caller.
 * Two round trips (reserve, enqueue). */
int spindle_group_submit(spindle_client *c, spindle_group *g, const char *name, const char *func,
                         spindle_args *args, const spindle_enqueue_options *opts,
                         spindle_handle **out);
/* As spindle_group_submit(), with the arguments as one msgpack array (borrowed). */
int spindle_group_submit_msgpack(spindle_client *c, spindle_group *g, const char *name,
                                 const char *func, const void *args, size_t len,
                                 const spindle_enqueue_options *opts, spindle_handle **out);
/* *available = 1 if name is not a member of the group (yet). */
int spindle_group_name_available(spindle_client *c, spindle_group *g, const char *name,
                                 int *available);
/* Submits one task of func per argument list args[0..n) (each borrowed; NULL: no arguments),
 * named prefix0, prefix1, ... prefix(n-1), in that order, with the same options. Names are
 * reserved all or none per chunk of SPINDLE_GROUP_CHUNK: two round trips per chunk. Every
 * name is checked before anything is sent; a name taken refuses the chunk. On a failure
 * midway the chunks already sent stay submitted and the message says how many. */
int spindle_group_map(spindle_client *c, spindle_group *g, const char *prefix, const char *func,
                      spindle_args *const *args, size_t n, const spindle_enqueue_options *opts);
/* The handle of member name's task, freed by the caller. SPINDLE_ERR_NOT_FOUND if the group
 * has no such member. */
int spindle_group_handle(spindle_client *c, spindle_group *g, const char *name,
                         spindle_handle **out);
/* The members' names in submission order: *names is an array of *n strings, freed by the
 * caller with spindle_group_names_free(). */
int spindle_group_names(spindle_client *c, spindle_group *g, char ***names, size_t *n);
void spindle_group_names_free(char **names, size_t n);

/* What a wait saw: the names of the members that have ended (those ended when it began, in
 * submission order, then in the order they ended) and of those that have not (submission
 * order). Owned by the struct: free with spindle_group_wait_clear(). */
typedef struct spindle_group_wait_result {
    char **finished;
    size_t nfinished;
    char **unfinished;
    size_t nunfinished;
} spindle_group_wait_result;
void spindle_group_wait_clear(spindle_group_wait_result *w);

/* Waits up to timeout_ms (0: just look; negative: no limit) until every member
 * (SPINDLE_WAIT_ALL) or at least one (SPINDLE_WAIT_ANY) has ended, without polling: it blocks
 * on the streams the members' ends are announced on (one XREAD per queue of the group, in
 * turns of 100 ms when the group spans queues). SPINDLE_OK when that holds,
 * SPINDLE_ERR_TIMEOUT when it did not in time; *out is filled in both cases (and zeroed on
 * any other failure). SPINDLE_ERR_INVALID for SPINDLE_WAIT_ANY on a group without members. */
int spindle_group_wait(spindle_client *c, spindle_group *g, int mode, long timeout_ms,
                       spindle_group_wait_result *out);

/* One member's result. */
typedef struct spindle_group_result {
    char *name;
    char id[37];
    char queue[129];
    spindle_state state; /* the task's state now */
    int ok;              /* 1: succeeded */
    char *value;         /* succeeded: the result's msgpack bytes (one value); else NULL */
    size_t value_len;
    char *error; /* failed or cancelled: the error text; else NULL */
} spindle_group_result;

/* The members' results, in submission order: all of them (done_only 0; a member that has not
 * ended has ok 0, value and error NULL), or only those that have ended (done_only 1). *out
 * (NULL when *n is 0) is freed with spindle_group_results_free(). One round trip for the
 * member list, one for the results. */
int spindle_group_results(spindle_client *c, spindle_group *g, int done_only,
                          spindle_group_result **out, size_t *n);
void spindle_group_results_free(spindle_group_result *r, size_t n);

/* Cancels every member that has not ended, with spindle_cancel()'s script and grace (-1, 0 or
 * ms), pipelined: one round trip. set_event 1 also sets the cancel event of the group's
 * channel (channel.h, SPINDLE_SCOPE_GROUP), creating the channel with the defaults if it does
 * not exist. *cancelled (may be NULL) receives how many ended `cancelled` at once, *requested
 * (may be NULL) how many were running and were asked to stop (they WILL end cancelled). */
int spindle_group_cancel(spindle_client *c, spindle_group *g, long grace_ms, int set_event,
                         size_t *cancelled, size_t *requested);

/* The members' progress added up, as spindle_progress_sum() does (done and total summed,
 * updated_at_ms the latest, seq the sum); a member whose task is gone adds nothing. */
int spindle_group_progress(spindle_client *c, spindle_group *g, spindle_progress *sum);

/* Destroys the group: cancels the members that have not ended (grace -1), deletes the
 * group's keys, the task hashes of the members that have ended (with their items), the
 * group's channel and the streams its ends were announced on. A member still running when
 * this returns keeps its hash until its result TTL. SPINDLE_ERR_NOT_FOUND if there is no such
 * group. g itself stays valid until spindle_group_free(). */
int spindle_group_destroy(spindle_client *c, spindle_group *g);

#ifdef __cplusplus
}
#endif
#endif
