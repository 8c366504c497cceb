/* The sentinel:// part of a Redis URL (see url.h):
 *   sentinel://[[user]:password@]host:port[,host:port...]/master-name[?options]
 * Userinfo and the password/user/db options are for the data nodes (the master found);
 * sentinel_user/sentinel_password, when the sentinels themselves require AUTH. Kept apart
 * from url.c so the Redis Cluster URL work in that file and this one do not collide. */
#ifndef SPINDLE_COMMON_SENTINEL_URL_H
#define SPINDLE_COMMON_SENTINEL_URL_H

/* Most sentinels in one URL: deployments run 3 or 5; 8 leaves room without a heap list. */
#define SPINDLE_SENTINEL_MAX 8

typedef struct spindle_sentinel_url {
    int count; /* sentinels listed, 1..SPINDLE_SENTINEL_MAX */
    struct {
        char host[256]; /* brackets removed for IPv6 */
        int port;       /* default 26379 */
    } node[SPINDLE_SENTINEL_MAX];
    char master[128]; /* the monitored master's name */
    char user[128];   /* sentinel AUTH user, "" when absent */
    char password[256];
    int has_password;
} spindle_sentinel_url;

#include <stddef.h>

/* Parses the sentinel list "host:port[,host:port...]" of text[0..len) into out->node and
 * out->count. SPINDLE_OK, or -1 with *why set to a static reason. */
int spindle_sentinel_url_hosts(const char *text, size_t len, spindle_sentinel_url *out,
                               const char **why);
/* Parses the master name of text[0..len) (1-127 bytes of [A-Za-z0-9_.:-]) into out->master.
 * SPINDLE_OK, or -1 with *why set. */
int spindle_sentinel_url_master(const char *text, size_t len, spindle_sentinel_url *out,
                                const char **why);

#endif
