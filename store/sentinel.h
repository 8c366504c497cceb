/* Redis Sentinel: finding the master of a sentinel:// URL (common/sentinel_url.h).
 *
 * The store connects through here whenever it (re)connects with such a URL: the sentinels
 * are asked in turn for the master's address, the store connects to it and checks with ROLE
 * that it is a master (a sentinel can be stale right after a failover). A lost connection,
 * or a -READONLY answer (the old master demoted), drops the connection (conn.c), so the
 * next command asks the sentinels again. */
#ifndef SPINDLE_STORE_SENTINEL_H
#define SPINDLE_STORE_SENTINEL_H

#include "store/conn.h"

/* Resolves the master and connects s to it (spindle_store_connect_addr()), retrying a few
 * rounds with a short back-off (about 2 s in all) while a failover is in progress.
 * SPINDLE_ERR_IO with a message naming every sentinel tried and what each said when no
 * master could be reached; SPINDLE_ERR_REDIS if the master refused AUTH or SELECT. */
int spindle_sentinel_connect(spindle_store *s);

#endif
