/* Redis URLs, parsed without touching the network:
 *   redis://[[user]:password@]host[:port][/db]      (host may be [IPv6])
 *   unix:///path/to/socket[?db=N&user=U&password=P]
 *   cluster://[[user]:password@]host[:port][,host[:port]...][/][?user=U&password=P]
 *     (Redis Cluster: the hosts are seeds, any reachable one gives the slot map; no database)
 *   sentinel://[[user]:password@]host:port[,host:port...]/master-name[?db=N&user=U&password=P
 *              &sentinel_user=U&sentinel_password=P]   (common/sentinel_url.h)
 * Userinfo and query values may be percent-encoded. */
#ifndef SPINDLE_COMMON_URL_H
#define SPINDLE_COMMON_URL_H

#include <stddef.h>

#include "common/error.h"
#include "common/sentinel_url.h"

#define SPINDLE_URL_DEFAULT "redis://127.0.0.1:6379"

/* Most seed nodes a cluster:// URL may name. */
#define SPINDLE_URL_MAX_SEEDS 16

typedef struct spindle_url_seed {
    char host[256];
    int port;
} spindle_url_seed;

typedef struct spindle_url {
    int is_unix;
    char host[256]; /* TCP host, brackets removed */
    int port;       /* default 6379 */
    char path[256]; /* unix socket path */
    char user[128]; /* "" when absent */
    char password[256];
    int has_password;
    int db;         /* default 0 */
    int is_cluster; /* cluster://: host/port are seeds[0] */
    int nseeds;
    spindle_url_seed seeds[SPINDLE_URL_MAX_SEEDS];
    int is_sentinel; /* sentinel://: host/port are filled by the store with the master found */
    spindle_sentinel_url sentinel;
} spindle_url;

/* Parses text into *out. SPINDLE_ERR_INVALID with a message quoting the URL on any error. */
int spindle_url_parse(const char *text, spindle_url *out, spindle_error *err);

/* Copies text into out (size cap) with any password replaced by "***": the userinfo
 * password (or a bare password before '@') and a password= query value. For messages. */
void spindle_url_redact(const char *text, char *out, size_t cap);

/* The URL to use when the caller gives none: $SPINDLE_REDIS_URL or SPINDLE_URL_DEFAULT. */
const char *spindle_url_default(void);

#endif
