/* Redis Cluster mode of a store (cluster:// URLs): one hiredis connection per master node, a
 * slot map from CLUSTER SLOTS, and every command routed by its first key's hash slot.
 *
 * conn.c hands every command here, already formatted as RESP text (hiredis formats argv and
 * printf-style commands alike), when the store's URL is a cluster one. The cluster follows
 * MOVED (updates the slot, retries) and ASK (ASKING, then the command once on that node) up
 * to a bounded number of redirects, loads the scripts on a node that answers NOSCRIPT and
 * retries, and keeps the replies of a pipeline in the order the commands were appended,
 * whichever nodes they went to. A node that fails is dropped and the slot map refreshed
 * before the next command; the failure is SPINDLE_ERR_IO like a lost single Redis.
 *
 * Key-less commands (PING, TIME, SCRIPT, PUBLISH, SUBSCRIBE, SCAN, INFO, CONFIG) go to the "home"
 * node, whose context is also s->rc (the cancel subscriber reads pushed messages from it). */
#ifndef SPINDLE_STORE_CLUSTER_H
#define SPINDLE_STORE_CLUSTER_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct spindle_store;
typedef struct spindle_cluster spindle_cluster;

/* Allocates the cluster state of s (s->url is a parsed cluster URL): SPINDLE_OK or
 * SPINDLE_ERR_NOMEM. Connects nothing. */
int spindle_cluster_new(struct spindle_store *s);
/* Drops every node connection, then reads the slot map from any reachable node (known
 * nodes first, then the URL's seeds) and connects the home node. */
int spindle_cluster_reconnect(struct spindle_store *s);
/* Drops every node connection (the map is kept but marked for refresh). */
void spindle_cluster_drop(struct spindle_store *s);
void spindle_cluster_free(struct spindle_store *s);

/* Runs the formatted command buf[0..len) (borrowed) on the node owning its key. Returns the
 * reply, error replies included, or NULL with the store's error set (SPINDLE_ERR_IO). */
redisReply *spindle_cluster_exec(struct spindle_store *s, const char *what, const char *buf,
                                 size_t len);
/* Pipelining: append takes ownership of buf (malloc'd, e.g. by redisFormatCommandArgv) even
 * on failure; read returns the replies in append order (error replies as replies; NULL with
 * the error set when a node failed, after which the rest of the pipeline is dropped). */
int spindle_cluster_append(struct spindle_store *s, const char *what, char *buf, size_t len);
redisReply *spindle_cluster_read(struct spindle_store *s, const char *what);

/* The socket timeout of the next command's node: ms + the command timeout (0: back to the
 * command timeout on the node last given a longer one). */
void spindle_cluster_block_timeout(struct spindle_store *s, long ms);

/* The number of masters in the slot map (read again first if stale); 0 with the error set
 * when no node answers. Masters are numbered 0.. in the order of the lowest slot each owns,
 * the same in every process that sees the same map. */
int spindle_cluster_masters(struct spindle_store *s);
/* Sends key-less commands (SCAN) to master k until pinned to -1 (the home node again). */
void spindle_cluster_pin(struct spindle_store *s, int k);

/* 1 if every key keys[0..n) lies in one hash slot. */
int spindle_cluster_same_slot(const char *const *keys, size_t n);

#endif
