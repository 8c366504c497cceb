/* Connections to Redis (see conn.h): connect, authenticate, select, load scripts, run
 * commands and scripts, and turn every failure into a status with a message that names the
 * step, the server and what Redis said. */
#include "store/conn.h"

#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "store/sentinel.h"

static struct timeval ms_to_tv(long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

static void drop(spindle_store *s)
{
    if (s->cl) {
        spindle_cluster_drop(s);
        return;
    }
    if (s->rc) {
        redisFree(s->rc);
        s->rc = NULL;
    }
}

/* Records a failed command: an I/O failure drops the connection. */
static redisReply *fail_io(spindle_store *s, const char *what)
{
    spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: lost connection to Redis at %s: %s", what,
                      s->url_text, s->rc && s->rc->errstr[0] ? s->rc->errstr : "no reply");
    drop(s);
    return NULL;
}

/* 1 for the -LOADING error Redis answers while it loads its dataset (an AOF or RDB after a
 * restart, a replica's full sync). Redis is not usable yet, but will be: that is an outage
 * to wait out (SPINDLE_ERR_IO, which every caller retries with back-off), not a refusal
 * (SPINDLE_ERR_REDIS, which callers give up on). */
static int is_loading(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0;
}

static int load_scripts(spindle_store *s)
{
    for (int i = 0; i < SPINDLE_SCRIPT_COUNT; i++)
        redisAppendCommand(s->rc, "SCRIPT LOAD %s", spindle_script_source(i));
    int rc = SPINDLE_OK;
    for (int i = 0; i < SPINDLE_SCRIPT_COUNT; i++) {
        redisReply *r = NULL;
        if (redisGetReply(s->rc, (void **)&r) != REDIS_OK) {
            fail_io(s, "loading scripts");
            return SPINDLE_ERR_IO;
        }
        if (r->type == REDIS_REPLY_STRING && r->len == 40) {
            memcpy(s->sha[i], r->str, 41);
        } else if (rc == SPINDLE_OK && is_loading(r)) {
            rc = spindle_error_set(s->err, SPINDLE_ERR_IO,
                                   "loading scripts: Redis at %s is loading its dataset",
                                   s->url_text);
        } else if (rc == SPINDLE_OK) {
            rc = spindle_error_set(s->err, SPINDLE_ERR_REDIS,
                                   "loading script '%s' into Redis at %s: %s",
                                   spindle_script_name(i), s->url_text,
                                   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        }
        freeReplyObject(r);
    }
    return rc;
}

static int handshake(spindle_store *s)
{
    redisReply *r = NULL;
    if (s->url.has_password) {
        if (s->url.user[0])
            r = redisCommand(s->rc, "AUTH %s %s", s->url.user, s->url.password);
        else
            r = redisCommand(s->rc, "AUTH %s", s->url.password);
        if (r == NULL) {
            fail_io(s, "AUTH");
            return SPINDLE_ERR_IO;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            spindle_error_set(s->err, SPINDLE_ERR_REDIS, "AUTH as '%s' at %s refused: %s",
                              s->url.user[0] ? s->url.user : "default", s->url_text, r->str);
            freeReplyObject(r);
            drop(s);
            return SPINDLE_ERR_REDIS;
        }
        freeReplyObject(r);
    }
    if (s->url.db != 0) {
        r = redisCommand(s->rc, "SELECT %d", s->url.db);
        if (r == NULL) {
            fail_io(s, "SELECT");
            return SPINDLE_ERR_IO;
        }
        int bad = r->type == REDIS_REPLY_ERROR;
        if (bad)
            spindle_error_set(s->err, SPINDLE_ERR_REDIS, "SELECT %d at %s refused: %s", s->url.db,
                              s->url_text, r->str);
        freeReplyObject(r);
        if (bad) {
            drop(s);
            return SPINDLE_ERR_REDIS;
        }
    }
    int rc = load_scripts(s);
    if (rc != SPINDLE_OK)
        drop(s);
    return rc;
}

int spindle_store_reconnect(spindle_store *s)
{
    if (s->cl)
        return spindle_cluster_reconnect(s);
    drop(s);
    return s->url.is_sentinel ? spindle_sentinel_connect(s) : spindle_store_connect_addr(s);
}

int spindle_store_connect_addr(spindle_store *s)
{
    drop(s);
    struct timeval cto = ms_to_tv(s->connect_timeout_ms);
    if (s->url.is_unix)
        s->rc = redisConnectUnixWithTimeout(s->url.path, cto);
    else
        s->rc = redisConnectWithTimeout(s->url.host, s->url.port, cto);
    if (s->rc == NULL)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "connecting to %s: out of memory",
                                 s->url_text);
    if (s->rc->err) {
        spindle_error_set(s->err, SPINDLE_ERR_IO, "cannot connect to Redis at %s: %s", s->url_text,
                          s->rc->errstr);
        drop(s);
        return SPINDLE_ERR_IO;
    }
    redisSetTimeout(s->rc, ms_to_tv(s->command_timeout_ms));
    return handshake(s);
}

int spindle_store_open(spindle_store *s, const char *url, const char *ns, int connect_timeout_ms,
                       int command_timeout_ms, spindle_error *err)
{
    memset(s, 0, sizeof(*s));
    spindle_cmd_init(&s->evalcmd);
    spindle_cmd_init(&s->scratch);
    s->err = err;
    if (url == NULL)
        url = spindle_url_default();
    int rc = spindle_url_parse(url, &s->url, err);
    if (ns == NULL)
        ns = "spindle";
    if (rc == SPINDLE_OK)
        rc = spindle_name_check(ns, "namespace", err);
    if (rc != SPINDLE_OK) {
        /* Leave nothing a later call could connect with. */
        memset(&s->url, 0, sizeof(s->url));
        return rc;
    }
    /* Set only once the options are valid: ensure() reconnects only a store that has it. */
    spindle_url_redact(url, s->url_text, sizeof(s->url_text));
    snprintf(s->ns, sizeof(s->ns), "%s", ns);
    s->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 2000;
    s->command_timeout_ms = command_timeout_ms > 0 ? command_timeout_ms : 5000;
    if (s->url.is_cluster && spindle_cluster_new(s) != SPINDLE_OK) {
        s->url_text[0] = '\0';
        return err->code;
    }
    return spindle_store_reconnect(s);
}

void spindle_store_disconnect(spindle_store *s)
{
    drop(s);
}

int spindle_store_is_cluster(const spindle_store *s)
{
    return s->cl != NULL;
}

void spindle_store_close(spindle_store *s)
{
    drop(s);
    spindle_cluster_free(s);
    spindle_cmd_free(&s->evalcmd);
    spindle_cmd_free(&s->scratch);
}

spindle_cmd *spindle_store_scratch(spindle_store *s)
{
    spindle_cmd_reset(&s->scratch);
    return &s->scratch;
}

/* Reconnects if the previous connection was lost. */
static int ensure(spindle_store *s)
{
    s->refused_for_now = 0; /* only the reply to this command may set it */
    if (s->rc || (s->cl && s->url_text[0]))
        return SPINDLE_OK; /* a cluster connects each node on demand */
    if (s->url_text[0] == '\0')
        return spindle_error_set(s->err, SPINDLE_ERR_IO,
                                 "not connected to Redis (connect was refused: fix the URL or "
                                 "namespace and connect again)");
    return spindle_store_reconnect(s);
}

static redisReply *check(spindle_store *s, const char *what, redisReply *r)
{
    if (r == NULL)
        return s->cl ? NULL : fail_io(s, what); /* the cluster has set the error */
    if (is_loading(r)) {
        spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: Redis at %s is loading its dataset", what,
                          s->url_text);
        freeReplyObject(r);
        drop(s);
        return NULL;
    }
    if (s->url.is_sentinel && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0) {
        /* The master we knew was demoted by a failover: ask the sentinels again next time. */
        spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: Redis at %s:%d is no longer the master: %s",
                          what, s->url.host, s->url.port, r->str);
        freeReplyObject(r);
        drop(s);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        static const char *const passing[] = {"READONLY", "OOM", "MASTERDOWN", "MISCONF",
                                              "UNBLOCKED"};
        s->refused_for_now = 0;
        for (size_t i = 0; i < sizeof(passing) / sizeof(passing[0]); i++)
            s->refused_for_now |= strncmp(r->str, passing[i], strlen(passing[i])) == 0;
        spindle_error_set(s->err, SPINDLE_ERR_REDIS, "%s: Redis at %s answered: %s", what,
                          s->url_text, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Cluster mode: formats the command as hiredis would send it and lets the cluster route it. */
static redisReply *cluster_argv(spindle_store *s, const char *what, int argc, const char **argv,
                                const size_t *lens)
{
    char *buf = NULL;
    int len = redisFormatCommandArgv(&buf, argc, argv, lens);
    if (len < 0) {
        spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    redisReply *r = spindle_cluster_exec(s, what, buf, (size_t)len);
    free(buf);
    return r;
}

static redisReply *cluster_fmt(spindle_store *s, const char *what, const char *fmt, va_list ap)
{
    char *buf = NULL;
    int len = redisvFormatCommand(&buf, fmt, ap);
    if (len < 0) {
        spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    redisReply *r = spindle_cluster_exec(s, what, buf, (size_t)len);
    free(buf);
    return r;
}

redisReply *spindle_store_check_reply(spindle_store *s, const char *what, redisReply *r)
{
    return check(s, what, r);
}

redisReply *spindle_store_call(spindle_store *s, const char *what, const spindle_cmd *cmd)
{
    if (spindle_cmd_failed(cmd)) {
        spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    if (ensure(s) != SPINDLE_OK)
        return NULL;
    if (s->cl)
        return check(s, what, cluster_argv(s, what, cmd->argc, cmd->argv, cmd->lens));
    return check(s, what, redisCommandArgv(s->rc, cmd->argc, cmd->argv, cmd->lens));
}

redisReply *spindle_store_callf(spindle_store *s, const char *what, const char *fmt, ...)
{
    if (ensure(s) != SPINDLE_OK)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = s->cl ? cluster_fmt(s, what, fmt, ap) : redisvCommand(s->rc, fmt, ap);
    va_end(ap);
    return check(s, what, r);
}

int spindle_store_append(spindle_store *s, const char *what, const spindle_cmd *cmd)
{
    if (spindle_cmd_failed(cmd))
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
    if (ensure(s) != SPINDLE_OK)
        return s->err->code;
    if (s->cl) {
        char *buf = NULL;
        int len = redisFormatCommandArgv(&buf, cmd->argc, cmd->argv, cmd->lens);
        if (len < 0)
            return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return spindle_cluster_append(s, what, buf, (size_t)len);
    }
    if (redisAppendCommandArgv(s->rc, cmd->argc, cmd->argv, cmd->lens) != REDIS_OK)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
    return SPINDLE_OK;
}

int spindle_store_appendf(spindle_store *s, const char *what, const char *fmt, ...)
{
    if (ensure(s) != SPINDLE_OK)
        return s->err->code;
    va_list ap;
    va_start(ap, fmt);
    int rc;
    if (s->cl) {
        char *buf = NULL;
        int len = redisvFormatCommand(&buf, fmt, ap);
        va_end(ap);
        if (len < 0)
            return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
        return spindle_cluster_append(s, what, buf, (size_t)len);
    }
    rc = redisvAppendCommand(s->rc, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK)
        return spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
    return SPINDLE_OK;
}

redisReply *spindle_store_read(spindle_store *s, const char *what)
{
    if (s->cl)
        return spindle_cluster_read(s, what);
    if (s->rc == NULL) {
        spindle_error_set(s->err, SPINDLE_ERR_IO, "%s: not connected to Redis", what);
        return NULL;
    }
    redisReply *r = NULL;
    if (redisGetReply(s->rc, (void **)&r) != REDIS_OK)
        return fail_io(s, what);
    return r;
}

/* Builds EVALSHA sha nkeys <cmd…> into out. */
static void build_eval(spindle_cmd *out, const char *sha, int nkeys, const spindle_cmd *cmd)
{
    spindle_cmd_str(out, "EVALSHA");
    spindle_cmd_push(out, sha, 40);
    spindle_cmd_long(out, nkeys);
    for (int i = 0; i < cmd->argc; i++)
        spindle_cmd_push(out, cmd->argv[i], cmd->lens[i]);
}

redisReply *spindle_store_eval(spindle_store *s, enum spindle_script script, int nkeys,
                               const spindle_cmd *cmd)
{
    const char *what = spindle_script_name(script);
    if (ensure(s) != SPINDLE_OK)
        return NULL;
    spindle_cmd *full = &s->evalcmd;
    redisReply *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        spindle_cmd_reset(full);
        build_eval(full, s->sha[script], nkeys, cmd);
        if (spindle_cmd_failed(full) || spindle_cmd_failed(cmd)) {
            spindle_error_set(s->err, SPINDLE_ERR_NOMEM, "%s: out of memory", what);
            break;
        }
        if (s->cl) { /* the cluster reloads scripts on a NOSCRIPT itself */
            r = check(s, what, cluster_argv(s, what, full->argc, full->argv, full->lens));
            break;
        }
        r = redisCommandArgv(s->rc, full->argc, full->argv, full->lens);
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
            attempt == 0) {
            freeReplyObject(r);
            r = NULL;
            if (load_scripts(s) != SPINDLE_OK)
                break;
            continue;
        }
        r = check(s, what, r);
        break;
    }
    return r;
}

void spindle_store_block_timeout(spindle_store *s, long ms)
{
    if (s->cl)
        spindle_cluster_block_timeout(s, ms);
    else if (s->rc)
        redisSetTimeout(s->rc, ms_to_tv(ms + s->command_timeout_ms));
}

int spindle_store_bad_reply(spindle_store *s, const char *what, redisReply *r)
{
    static const char *const types[] = {"?",   "string", "array", "integer",
                                        "nil", "status", "error"};
    int t = r ? r->type : 0;
    spindle_error_set(s->err, SPINDLE_ERR_PROTOCOL,
                      "%s: unexpected reply of type %s from Redis at %s", what,
                      t >= 0 && t <= 6 ? types[t] : "?", s->url_text);
    if (r)
        freeReplyObject(r);
    return SPINDLE_ERR_PROTOCOL;
}

int spindle_store_sadd(spindle_store *s, const char *what, const char *key,
                       const char *const *members, size_t n)
{
    if (n == 0)
        return SPINDLE_OK;
    spindle_cmd *cmd = spindle_store_scratch(s);
    spindle_cmd_str(cmd, "SADD");
    spindle_cmd_str(cmd, key);
    for (size_t i = 0; i < n; i++)
        spindle_cmd_str(cmd, members[i]);
    redisReply *r = spindle_store_call(s, what, cmd);
    if (r == NULL && s->err->code == SPINDLE_ERR_REDIS)
        return spindle_error_wrap(s->err, "key %s: ", key); /* WRONGTYPE: say which key */
    if (r == NULL)
        return s->err->code;
    freeReplyObject(r);
    return SPINDLE_OK;
}

const redisReply *spindle_reply_xread_entries(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
        r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return r->element[0]->element[1];
}

long long spindle_reply_ll(const redisReply *r, long long dflt)
{
    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20)
        return dflt;
    char buf[24];
    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return dflt;
    char *end = NULL;
    long long x = strtoll(buf, &end, 10);
    return *end == '\0' && x != LLONG_MIN && x != LLONG_MAX ? x : dflt;
}

int spindle_store_refused_for_now(const spindle_store *s, int rc)
{
    return rc == SPINDLE_ERR_REDIS && s->refused_for_now;
}
