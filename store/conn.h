/* A connection to Redis as Spindle uses it: one synchronous hiredis context plus what is
 * needed to rebuild it (parsed URL, timeouts) and the SHA1s of the loaded scripts.
 *
 * Every function reports failure through the spindle_error the store was opened with
 * (borrowed from its owner: a client or a worker). A lost connection frees the hiredis
 * context; the next command reconnects first, so owners never hold a dead socket. */
#ifndef SPINDLE_STORE_CONN_H
#define SPINDLE_STORE_CONN_H

#include <hiredis/hiredis.h>

#include "common/error.h"
#include "common/names.h"
#include "common/url.h"
#include "store/cluster.h"
#include "store/cmd.h"
#include "store/scripts.h"

typedef struct spindle_store {
    redisContext *rc;    /* in cluster mode: the home node's, owned by cl */
    spindle_cluster *cl; /* NULL unless the URL is cluster:// (store/cluster.h) */
    spindle_url url;
    char url_text[512];
    char ns[SPINDLE_NAME_MAX + 1];
    int connect_timeout_ms, command_timeout_ms;
    char sha[SPINDLE_SCRIPT_COUNT][41];
    spindle_error *err;  /* borrowed from the owner */
    spindle_cmd evalcmd; /* reused for every EVALSHA: no allocation per call once warm */
    spindle_cmd scratch; /* reused for the arguments of each step, likewise */
} spindle_store;

/* Parses url (NULL: spindle_url_default()), validates ns (NULL: "spindle"), connects,
 * authenticates, selects the database and loads the scripts (SPINDLE_ERR_IO while Redis is
 * loading its dataset). err is borrowed for the life of
 * the store. On failure the store holds no connection but can be retried with
 * spindle_store_reconnect() when the options were valid. */
int spindle_store_open(spindle_store *s, const char *url, const char *ns, int connect_timeout_ms,
                       int command_timeout_ms, spindle_error *err);
int spindle_store_reconnect(spindle_store *s);
void spindle_store_close(spindle_store *s);
/* Drops the connection(s); the next command reconnects. */
void spindle_store_disconnect(spindle_store *s);
/* 1 if the store speaks to a Redis Cluster (cluster:// URL). */
int spindle_store_is_cluster(const spindle_store *s);

/* Sends one command and reads its reply. Returns the reply (caller frees with
 * freeReplyObject) or NULL with the error set: SPINDLE_ERR_IO for a lost connection or a
 * Redis still loading its dataset (-LOADING; the connection is dropped too),
 * SPINDLE_ERR_REDIS when Redis answered another error. what names the step for the
 * message. */
redisReply *spindle_store_call(spindle_store *s, const char *what, const spindle_cmd *cmd);
/* As spindle_store_call() with a printf-style format (hiredis's redisCommand). */
redisReply *spindle_store_callf(spindle_store *s, const char *what, const char *fmt, ...);

/* Pipelining: append commands, then read their replies in order. */
int spindle_store_append(spindle_store *s, const char *what, const spindle_cmd *cmd);
int spindle_store_appendf(spindle_store *s, const char *what, const char *fmt, ...);
/* Reads the next reply. Error replies are returned as replies (type REDIS_REPLY_ERROR), not
 * as failures, so a pipeline can go on; NULL only when the connection failed. */
redisReply *spindle_store_read(spindle_store *s, const char *what);

/* Runs a script with EVALSHA: cmd holds the keys then the arguments (nkeys of them are
 * keys). A NOSCRIPT answer (Redis restarted or flushed its scripts) loads the script again
 * and retries once. Same reply contract as spindle_store_call(). */
redisReply *spindle_store_eval(spindle_store *s, enum spindle_script script, int nkeys,
                               const spindle_cmd *cmd);

/* The store's reusable command, emptied: valid until the next call of this function. The
 * steps in ops.h build their arguments in it instead of allocating per call. */
spindle_cmd *spindle_store_scratch(spindle_store *s);

/* Sets the socket timeout for the next blocking command: ms + the usual command timeout. */
void spindle_store_block_timeout(spindle_store *s, long ms);

/* SADD key members[0..n): one round trip (nothing sent when n is 0). what names the step. */
int spindle_store_sadd(spindle_store *s, const char *what, const char *key,
                       const char *const *members, size_t n);

/* A string reply (a hash field, an ARGV echo) as a whole decimal number: an optional '-' and
 * digits, nothing else, no overflow. dflt if r is NULL, not a string, or not such a number
 * (a field absent, or garbage written by hand). */
long long spindle_reply_ll(const redisReply *r, long long dflt);

/* The entries of an XREAD reply on one stream ({{key, {entry, ...}}}), borrowed from r; NULL
 * if r has another shape. The entries themselves are not checked. */
const redisReply *spindle_reply_xread_entries(const redisReply *r);

/* Turns an unexpected reply shape into SPINDLE_ERR_PROTOCOL with a message; frees r. */
int spindle_store_bad_reply(spindle_store *s, const char *what, redisReply *r);

#endif
