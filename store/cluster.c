/* Redis Cluster routing (cluster.h). hiredis 0.14 has no cluster support, so this is a small
 * client of our own over plain synchronous contexts: why it routes formatted RESP text
 * rather than argv is that conn.c gets both argv and printf-style commands, and hiredis
 * turns both into the same text, from which the routing key is read back here. */
#include "store/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spindle/status.h"
#include "store/conn.h"
#include "store/crc16.h"

#define MAX_NODES 64
/* MOVED/ASK answers followed for one command before giving up. */
#define MAX_REDIRECTS 5

typedef struct node {
    char host[256];
    int port;
    redisContext *rc;
} node;

/* A command appended to a pipeline: its node, its text (kept to resend it after a redirect)
 * and its reply once read ahead of its turn. */
typedef struct pending {
    int node;
    char *buf;
    size_t len;
    redisReply *got;
} pending;

struct spindle_cluster {
    node nodes[MAX_NODES];
    int nnodes;
    short slot_node[SPINDLE_CLUSTER_SLOTS]; /* -1: unknown */
    int map_stale;
    int home;   /* node of key-less commands, -1 */
    int pinned; /* master (numbered as by spindle_cluster_masters()) of key-less commands, -1 */
    long block_ms;
    int blocked_node; /* node given a longer timeout, -1 */
    pending *fifo;
    size_t head, tail, cap;
};

static struct timeval ms_tv(long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

static void node_drop(spindle_store *s, int i)
{
    spindle_cluster *c = s->cl;
    if (c->nodes[i].rc) {
        if (s->rc == c->nodes[i].rc)
            s->rc = NULL;
        redisFree(c->nodes[i].rc);
        c->nodes[i].rc = NULL;
    }
}

static int find_or_add(spindle_cluster *c, const char *host, size_t hlen, int port)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i].port == port && strlen(c->nodes[i].host) == hlen &&
            memcmp(c->nodes[i].host, host, hlen) == 0)
            return i;
    if (c->nnodes == MAX_NODES || hlen >= sizeof(c->nodes[0].host))
        return -1;
    node *n = &c->nodes[c->nnodes];
    memcpy(n->host, host, hlen);
    n->host[hlen] = '\0';
    n->port = port;
    n->rc = NULL;
    return c->nnodes++;
}

static int node_fail(spindle_store *s, int i, const char *what, const char *why)
{
    spindle_cluster *c = s->cl;
    spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: lost connection to Redis Cluster node %s:%d: %s",
                      what, c->nodes[i].host, c->nodes[i].port, why && *why ? why : "no reply");
    node_drop(s, i);
    c->map_stale = 1;
    return SPINDLE_ERR_IO;
}

/* AUTH (when the URL has a password) and SCRIPT LOAD of every script, pipelined. */
static int node_handshake(spindle_store *s, int i)
{
    spindle_cluster *c = s->cl;
    redisContext *rc = c->nodes[i].rc;
    int auth = s->url.has_password;
    if (auth && s->url.user[0])
        redisAppendCommand(rc, "AUTH %s %s", s->url.user, s->url.password);
    else if (auth)
        redisAppendCommand(rc, "AUTH %s", s->url.password);
    for (int k = 0; k < SPINDLE_SCRIPT_COUNT; k++)
        redisAppendCommand(rc, "SCRIPT LOAD %s", spindle_script_source(k));
    int rc_out = SPINDLE_OK;
    for (int k = -auth; k < SPINDLE_SCRIPT_COUNT; k++) {
        redisReply *r = NULL;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK)
            return node_fail(s, i, "loading scripts", rc->errstr);
        if (r->type == REDIS_REPLY_ERROR && rc_out == SPINDLE_OK)
            rc_out = spindle_error_set(
                s->err, strncmp(r->str, "LOADING", 7) == 0 ? SPINDLE_ERR_IO : SPINDLE_ERR_REDIS,
                "%s at Redis Cluster node %s:%d: %s", k < 0 ? "AUTH" : "loading scripts",
                c->nodes[i].host, c->nodes[i].port, r->str);
        else if (k >= 0 && r->type == REDIS_REPLY_STRING && r->len == 40)
            memcpy(s->sha[k], r->str, 41);
        freeReplyObject(r);
    }
    if (rc_out != SPINDLE_OK)
        node_drop(s, i);
    return rc_out;
}

static int node_connect(spindle_store *s, int i)
{
    spindle_cluster *c = s->cl;
    node *n = &c->nodes[i];
    if (n->rc)
        return SPINDLE_OK;
    n->rc = redisConnectWithTimeout(n->host, n->port, ms_tv(s->connect_timeout_ms));
    if (n->rc == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "connecting to %s:%d: out of memory",
                                 n->host, n->port);
    if (n->rc->err) {
        spindle_error_set(s->err, SPINDLE_ERR_IO, "cannot connect to Redis Cluster node %s:%d: %s",
                          n->host, n->port, n->rc->errstr);
        redisFree(n->rc);
        n->rc = NULL;
        c->map_stale = 1;
        return SPINDLE_ERR_IO;
    }
    redisSetTimeout(n->rc, ms_tv(s->command_timeout_ms));
    int rc = node_handshake(s, i);
    if (rc == SPINDLE_OK && i == c->home)
        s->rc = n->rc; /* the home node back (after a NOSCRIPT reload, a lost connection) */
    return rc;
}

/* Fills the slot map from a CLUSTER SLOTS reply got from node `from`. 0, or -1 if the reply
 * has another shape. */
static int read_slots(spindle_cluster *c, int from, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return -1;
    for (int i = 0; i < SPINDLE_CLUSTER_SLOTS; i++)
        c->slot_node[i] = -1;
    for (size_t e = 0; e < r->elements; e++) {
        const redisReply *x = r->element[e];
        if (x->type != REDIS_REPLY_ARRAY || x->elements < 3 ||
            x->element[0]->type != REDIS_REPLY_INTEGER ||
            x->element[1]->type != REDIS_REPLY_INTEGER ||
            x->element[2]->type != REDIS_REPLY_ARRAY || x->element[2]->elements < 2 ||
            x->element[2]->element[0]->type != REDIS_REPLY_STRING ||
            x->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
            return -1;
        long long lo = x->element[0]->integer, hi = x->element[1]->integer;
        const redisReply *ip = x->element[2]->element[0];
        if (lo < 0 || hi >= SPINDLE_CLUSTER_SLOTS || lo > hi)
            return -1;
        /* An empty address means "the node you asked". */
        const char *host = ip->len ? ip->str : c->nodes[from].host;
        int n = find_or_add(c, host, strlen(host), (int)x->element[2]->element[1]->integer);
        if (n < 0)
            return -1;
        for (long long sl = lo; sl <= hi; sl++)
            c->slot_node[sl] = (short)n;
    }
    return 0;
}

/* The home node: connected, else the first node that connects. -1 with the error set. */
static int home(spindle_store *s)
{
    spindle_cluster *c = s->cl;
    if (c->home >= 0 && c->nodes[c->home].rc)
        return c->home;
    int found = -1;
    for (int i = 0; i < c->nnodes && found < 0; i++)
        if (c->nodes[i].rc)
            found = i;
    for (int i = 0; i < c->nnodes && found < 0; i++)
        if (node_connect(s, i) == SPINDLE_OK)
            found = i;
    if (found >= 0) {
        c->home = found;
        s->rc = c->nodes[found].rc;
    }
    return found;
}

static int refresh(spindle_store *s)
{
    spindle_cluster *c = s->cl;
    for (int k = 0; k < s->url.nseeds; k++)
        find_or_add(c, s->url.seeds[k].host, strlen(s->url.seeds[k].host), s->url.seeds[k].port);
    int rc = spindle_error_set(s->err, SPINDLE_ERR_IO, "no Redis Cluster node reachable at %s",
                               s->url_text);
    /* Connected nodes first: asking them costs no connect timeout. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < c->nnodes; i++) {
            if ((pass == 0) != (c->nodes[i].rc != NULL))
                continue;
            if (node_connect(s, i) != SPINDLE_OK) {
                rc = s->err->code;
                continue;
            }
            redisReply *r = redisCommand(c->nodes[i].rc, "CLUSTER SLOTS");
            if (r == NULL) {
                rc = node_fail(s, i, "reading the slot map", c->nodes[i].rc->errstr);
                continue;
            }
            int bad = r->type == REDIS_REPLY_ERROR ? 1 : read_slots(c, i, r) != 0;
            if (bad)
                rc = spindle_error_set(s->err, SPINDLE_ERR_REDIS,
                                       "reading the slot map from %s:%d (is it a Redis Cluster "
                                       "node?): %s",
                                       c->nodes[i].host, c->nodes[i].port,
                                       r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject(r);
            if (!bad) {
                c->map_stale = 0;
                return home(s) >= 0 ? SPINDLE_OK : s->err->code;
            }
        }
    }
    return rc;
}

int spindle_cluster_new(spindle_store *s)
{
    s->cl = calloc(1, sizeof(*s->cl));
    if (s->cl == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "cluster state: out of memory");
    for (int i = 0; i < SPINDLE_CLUSTER_SLOTS; i++)
        s->cl->slot_node[i] = -1;
    s->cl->map_stale = 1;
    s->cl->home = -1;
    s->cl->pinned = -1;
    s->cl->blocked_node = -1;
    return SPINDLE_OK;
}

static void fifo_clear(spindle_cluster *c)
{
    for (size_t i = c->head; i < c->tail; i++) {
        free(c->fifo[i].buf);
        if (c->fifo[i].got)
            freeReplyObject(c->fifo[i].got);
    }
    c->head = c->tail = 0;
}

void spindle_cluster_drop(spindle_store *s)
{
    if (s->cl == NULL)
        return;
    fifo_clear(s->cl);
    for (int i = 0; i < s->cl->nnodes; i++)
        node_drop(s, i);
    s->cl->map_stale = 1;
    s->rc = NULL;
}

int spindle_cluster_reconnect(spindle_store *s)
{
    spindle_cluster_drop(s);
    return refresh(s);
}

void spindle_cluster_free(spindle_store *s)
{
    if (s->cl == NULL)
        return;
    spindle_cluster_drop(s);
    free(s->cl->fifo);
    free(s->cl);
    s->cl = NULL;
}

/* Reads one "$len\r\n<bytes>\r\n" (or "*n\r\n" when star) at *p; 0 or -1. */
static int resp_len(const char **p, const char *end, char mark, long *out)
{
    const char *q = *p;
    if (q >= end || *q != mark)
        return -1;
    char *stop = NULL;
    long v = strtol(q + 1, &stop, 10);
    if (stop == NULL || stop + 2 > end || stop[0] != '\r' || v < 0)
        return -1;
    *out = v;
    *p = stop + 2;
    return 0;
}

static int arg_is(const char *a, long len, const char *word)
{
    return (size_t)len == strlen(word) && strncasecmp(a, word, (size_t)len) == 0;
}

/* The hash slot of the formatted command's routing key, or -1 for a key-less command: the
 * first key after numkeys for EVAL/EVALSHA (with no keys: the hash tag of the first
 * argument, if any), after STREAMS for XREAD, else the first argument; PING, TIME, SCRIPT,
 * PUBLISH, SUBSCRIBE, SCAN, INFO, CLUSTER, CONFIG have none. */
static int route(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    long argc = 0, l = 0;
    if (resp_len(&p, end, '*', &argc) != 0 || argc < 1)
        return -1;
    int mode = 0; /* 0: key at 1; 1: EVAL, numkeys at 2, key at 3; 2: XREAD, after STREAMS */
    int after_streams = 0, keyless = 0;
    for (long i = 0; i < argc; i++) {
        if (resp_len(&p, end, '$', &l) != 0 || p + l + 2 > end)
            return -1;
        const char *a = p;
        p += l + 2;
        if (i == 0) {
            if (arg_is(a, l, "PING") || arg_is(a, l, "TIME") || arg_is(a, l, "SCRIPT") ||
                arg_is(a, l, "PUBLISH") || arg_is(a, l, "SUBSCRIBE") || arg_is(a, l, "SCAN") ||
                arg_is(a, l, "INFO") || arg_is(a, l, "CLUSTER") || arg_is(a, l, "CONFIG"))
                return -1;
            mode = arg_is(a, l, "EVALSHA") || arg_is(a, l, "EVAL")       ? 1
                   : arg_is(a, l, "XREAD") || arg_is(a, l, "XREADGROUP") ? 2
                                                                         : 0;
        } else if (mode == 2) {
            if (after_streams)
                return spindle_key_slot(a, (size_t)l);
            after_streams = arg_is(a, l, "STREAMS");
        } else if (mode == 1) {
            if (i == 2 && strtol(a, NULL, 10) <= 0)
                keyless = 1;
            /* A script without KEYS (audit, group_purge) is routed by the hash tag of its
             * first argument, the queue base "NS:{Q}:" its keys derive from. */
            if (i == 3 && (!keyless || (memchr(a, '{', (size_t)l) && memchr(a, '}', (size_t)l))))
                return spindle_key_slot(a, (size_t)l);
            if (i == 3)
                return -1;
        } else {
            return spindle_key_slot(a, (size_t)l);
        }
    }
    return -1;
}

/* The masters' nodes into out (room for MAX_NODES), in the order of the lowest slot each
 * owns; returns how many. */
static int masters_list(const spindle_cluster *c, int *out)
{
    int seen[MAX_NODES] = {0}, found = 0;
    for (int sl = 0; sl < SPINDLE_CLUSTER_SLOTS; sl++) {
        int n = c->slot_node[sl];
        if (n >= 0 && !seen[n]) {
            seen[n] = 1;
            out[found++] = n;
        }
    }
    return found;
}

/* The node of master k, -1 if there is no such. */
static int master_node(const spindle_cluster *c, int k)
{
    int list[MAX_NODES];
    int n = masters_list(c, list);
    return k >= 0 && k < n ? list[k] : -1;
}

int spindle_cluster_masters(spindle_store *s)
{
    if (s->cl->map_stale && refresh(s) != SPINDLE_OK)
        return 0;
    int list[MAX_NODES];
    return masters_list(s->cl, list);
}

void spindle_cluster_pin(spindle_store *s, int k)
{
    s->cl->pinned = k;
}

/* The node serving slot (-1: the home node); refreshes a stale or incomplete map first. */
static int node_for(spindle_store *s, int slot)
{
    spindle_cluster *c = s->cl;
    if ((c->map_stale || (slot >= 0 && c->slot_node[slot] < 0)) && refresh(s) != SPINDLE_OK)
        return -1;
    int pinned = slot < 0 && c->pinned >= 0 ? master_node(c, c->pinned) : -1;
    if (pinned >= 0)
        return pinned;
    if (slot < 0)
        return home(s);
    if (c->slot_node[slot] < 0) {
        spindle_error_set(s->err, SPINDLE_ERR_IO, "no Redis Cluster node serves slot %d (%s)", slot,
                          s->url_text);
        return -1;
    }
    return c->slot_node[slot];
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK ...": the node it names (added if new), -1 if none;
 * *slot gets the slot. */
static int redirect_target(spindle_cluster *c, const char *msg, int *slot)
{
    const char *sp = strchr(msg, ' ');
    if (sp == NULL)
        return -1;
    char *stop = NULL;
    long sl = strtol(sp + 1, &stop, 10);
    if (stop == NULL || *stop != ' ' || sl < 0 || sl >= SPINDLE_CLUSTER_SLOTS)
        return -1;
    const char *addr = stop + 1, *colon = strrchr(addr, ':');
    if (colon == NULL)
        return -1;
    long port = strtol(colon + 1, NULL, 10);
    if (port < 1 || port > 65535)
        return -1;
    *slot = (int)sl;
    return find_or_add(c, addr, (size_t)(colon - addr), (int)port);
}

static void apply_block(spindle_store *s, int n)
{
    spindle_cluster *c = s->cl;
    if (c->blocked_node >= 0 && c->blocked_node != n && c->nodes[c->blocked_node].rc)
        redisSetTimeout(c->nodes[c->blocked_node].rc, ms_tv(s->command_timeout_ms));
    c->blocked_node = -1;
    if (c->block_ms > 0 && c->nodes[n].rc) {
        redisSetTimeout(c->nodes[n].rc, ms_tv(c->block_ms + s->command_timeout_ms));
        c->blocked_node = n;
    }
}

/* Sends buf to node n (after ASKING when asking) and reads the reply. NULL on I/O failure
 * (the node is dropped, the error set). */
static redisReply *send_one(spindle_store *s, const char *what, int n, int asking, const char *buf,
                            size_t len)
{
    spindle_cluster *c = s->cl;
    if (node_connect(s, n) != SPINDLE_OK)
        return NULL;
    apply_block(s, n);
    redisContext *rc = c->nodes[n].rc;
    if (asking)
        redisAppendCommand(rc, "ASKING");
    if (redisAppendFormattedCommand(rc, buf, len) != REDIS_OK) {
        spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    redisReply *r = NULL;
    for (int k = 0; k <= asking; k++) {
        if (r)
            freeReplyObject(r);
        r = NULL;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
            node_fail(s, n, what, rc->errstr);
            return NULL;
        }
    }
    return r;
}

/* Runs buf from node n on, following redirects and reloading scripts; first is a reply
 * already read from n for it (or NULL to send it). */
static redisReply *run(spindle_store *s, const char *what, int n, const char *buf, size_t len,
                       redisReply *first)
{
    spindle_cluster *c = s->cl;
    int asking = 0, reloaded = 0;
    redisReply *r = first;
    for (int hop = 0; hop <= MAX_REDIRECTS + 1; hop++) {
        if (r == NULL)
            r = send_one(s, what, n, asking, buf, len);
        if (r == NULL)
            return NULL;
        asking = 0;
        if (r->type != REDIS_REPLY_ERROR)
            return r;
        int slot = -1, to = -1;
        if (strncmp(r->str, "MOVED ", 6) == 0 && (to = redirect_target(c, r->str, &slot)) >= 0) {
            c->slot_node[slot] = (short)to;
        } else if (strncmp(r->str, "ASK ", 4) == 0 &&
                   (to = redirect_target(c, r->str, &slot)) >= 0) {
            asking = 1;
        } else if (strncmp(r->str, "NOSCRIPT", 8) == 0 && !reloaded) {
            reloaded = 1;
            to = n;
            node_drop(s, n); /* reconnecting loads every script again */
        } else if (strncmp(r->str, "CLUSTERDOWN", 11) == 0 || strncmp(r->str, "TRYAGAIN", 8) == 0) {
            /* A failover or a migration under way: an outage to wait out, like a lost node. */
            spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: Redis Cluster node %s:%d answered: %s",
                              what, c->nodes[n].host, c->nodes[n].port, r->str);
            freeReplyObject(r);
            c->map_stale = 1;
            return NULL;
        } else {
            return r;
        }
        if (hop == MAX_REDIRECTS) {
            spindle_error_set(s->err, SPINDLE_ERR_IO,
                              "%s: more than %d redirects in Redis Cluster %s (last: %s)", what,
                              MAX_REDIRECTS, s->url_text, r->str);
            freeReplyObject(r);
            c->map_stale = 1;
            return NULL;
        }
        freeReplyObject(r);
        r = NULL;
        n = to;
    }
    return NULL;
}

redisReply *spindle_cluster_exec(spindle_store *s, const char *what, const char *buf, size_t len)
{
    int n = node_for(s, route(buf, len));
    if (n < 0)
        return NULL;
    return run(s, what, n, buf, len, NULL);
}

/* Drops the pipeline and every node it was waiting on: the replies still due are lost, as a
 * single Redis's are when its connection drops. */
static void pipeline_fail(spindle_store *s)
{
    spindle_cluster *c = s->cl;
    for (size_t i = c->head; i < c->tail; i++)
        if (c->fifo[i].got == NULL && c->fifo[i].node >= 0)
            node_drop(s, c->fifo[i].node);
    fifo_clear(c);
    c->map_stale = 1;
}

int spindle_cluster_append(spindle_store *s, const char *what, char *buf, size_t len)
{
    spindle_cluster *c = s->cl;
    if (c->tail == c->cap) {
        if (c->head > 0) {
            memmove(c->fifo, c->fifo + c->head, (c->tail - c->head) * sizeof(pending));
            c->tail -= c->head;
            c->head = 0;
        } else {
            size_t cap = c->cap ? c->cap * 2 : 64;
            pending *f = realloc(c->fifo, cap * sizeof(pending));
            if (f == NULL) {
                free(buf);
                return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
            }
            c->fifo = f;
            c->cap = cap;
        }
    }
    int n = node_for(s, route(buf, len));
    if (n < 0 || node_connect(s, n) != SPINDLE_OK) {
        free(buf);
        return s->err->code;
    }
    if (redisAppendFormattedCommand(c->nodes[n].rc, buf, len) != REDIS_OK) {
        free(buf);
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
    }
    c->fifo[c->tail++] = (pending){.node = n, .buf = buf, .len = len, .got = NULL};
    return SPINDLE_OK;
}

/* Reads every reply still due into its entry, so the nodes are free for a resend. */
static int read_ahead(spindle_store *s, const char *what)
{
    spindle_cluster *c = s->cl;
    for (size_t i = c->head; i < c->tail; i++) {
        pending *e = &c->fifo[i];
        if (e->got)
            continue;
        redisContext *rc = c->nodes[e->node].rc;
        if (rc == NULL || redisGetReply(rc, (void **)&e->got) != REDIS_OK) {
            if (rc)
                node_fail(s, e->node, what, rc->errstr);
            else
                spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: lost a Redis Cluster node", what);
            return -1;
        }
    }
    return 0;
}

redisReply *spindle_cluster_read(spindle_store *s, const char *what)
{
    spindle_cluster *c = s->cl;
    if (c->head == c->tail) {
        spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: no command pending", what);
        return NULL;
    }
    pending e = c->fifo[c->head++];
    redisReply *r = e.got;
    if (r == NULL) {
        redisContext *rc = c->nodes[e.node].rc;
        if (rc == NULL || redisGetReply(rc, (void **)&r) != REDIS_OK) {
            if (rc)
                node_fail(s, e.node, what, rc->errstr);
            else
                spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: lost a Redis Cluster node", what);
            free(e.buf);
            pipeline_fail(s);
            return NULL;
        }
    }
    if (r->type == REDIS_REPLY_ERROR &&
        (strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0 ||
         strncmp(r->str, "NOSCRIPT", 8) == 0)) {
        if (read_ahead(s, what) != 0) {
            freeReplyObject(r);
            free(e.buf);
            pipeline_fail(s);
            return NULL;
        }
        r = run(s, what, e.node, e.buf, e.len, r);
    }
    free(e.buf);
    if (c->head == c->tail)
        c->head = c->tail = 0;
    return r;
}

void spindle_cluster_block_timeout(spindle_store *s, long ms)
{
    spindle_cluster *c = s->cl;
    c->block_ms = ms;
    if (ms <= 0 && c->blocked_node >= 0) {
        if (c->nodes[c->blocked_node].rc)
            redisSetTimeout(c->nodes[c->blocked_node].rc, ms_tv(s->command_timeout_ms));
        c->blocked_node = -1;
    }
}

int spindle_cluster_same_slot(const char *const *keys, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (spindle_key_slot(keys[i], strlen(keys[i])) !=
            spindle_key_slot(keys[0], strlen(keys[0])))
            return 0;
    return 1;
}
