/* Redis URL parsing (see url.h). A pure function over text: it is unit tested and fuzzed
 * without a server, malformed input included. */
#include "common/url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into dst (size cap). 0 on success, -1 if malformed or too long. */
static int decode(const char *src, size_t len, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)src[i];
        if (ch == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval((unsigned char)src[i + 1]), lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (ch == '\0' || o + 1 >= cap)
            return -1;
        dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return 0;
}

/* Parses a decimal in [lo, hi] from s[0..len). 0 on success. */
static int parse_int(const char *s, size_t len, int lo, int hi, int *out)
{
    if (len == 0 || len > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

void spindle_url_redact(const char *text, char *out, size_t cap)
{
    size_t o = 0;
    const char *scheme = strstr(text, "://");
    const char *auth = scheme ? scheme + 3 : text;
    const char *end = auth + strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    const char *pw = NULL; /* start of the userinfo password */
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        pw = colon ? colon + 1 : auth;
    }
    for (const char *p = text; *p && o + 1 < cap;) {
        if (pw && p == pw) {
            for (const char *m = "***"; *m && o + 1 < cap; m++)
                out[o++] = *m;
            p = at;
            pw = NULL;
            continue;
        }
        if ((p == text || p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
            for (const char *m = "password=***"; *m && o + 1 < cap; m++)
                out[o++] = *m;
            p += 9 + strcspn(p + 9, "&");
            continue;
        }
        out[o++] = *p++;
    }
    if (cap)
        out[o] = '\0';
}

static int bad(spindle_error *err, const char *text, const char *why)
{
    char shown[256];
    spindle_url_redact(text, shown, sizeof(shown));
    return spindle_error_set(err, SPINDLE_ERR_INVALID, "bad Redis URL '%s': %s", shown, why);
}

/* Parses "key=value&key=value" options of a unix URL. */
static int parse_query(const char *q, spindle_url *out, const char *text, spindle_error *err)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (eq == NULL)
            return bad(err, text, "query option without '='");
        size_t klen = (size_t)(eq - q), vlen = len - klen - 1;
        if (klen == 2 && memcmp(q, "db", 2) == 0) {
            if (parse_int(eq + 1, vlen, 0, 1 << 20, &out->db) != 0)
                return bad(err, text, "db is not a number");
        } else if (klen == 4 && memcmp(q, "user", 4) == 0) {
            if (decode(eq + 1, vlen, out->user, sizeof(out->user)) != 0)
                return bad(err, text, "malformed user");
        } else if (klen == 8 && memcmp(q, "password", 8) == 0) {
            if (decode(eq + 1, vlen, out->password, sizeof(out->password)) != 0)
                return bad(err, text, "malformed password");
            out->has_password = 1;
        } else {
            return bad(err, text, "unknown query option (db, user, password are known)");
        }
        q += len + (amp ? 1 : 0);
    }
    return SPINDLE_OK;
}

static int parse_unix(const char *text, const char *rest, spindle_url *out, spindle_error *err)
{
    const char *qm = strchr(rest, '?');
    size_t plen = qm ? (size_t)(qm - rest) : strlen(rest);
    if (plen == 0 || rest[0] != '/')
        return bad(err, text, "unix socket path must be absolute (unix:///path)");
    if (plen >= sizeof(out->path))
        return bad(err, text, "unix socket path too long");
    memcpy(out->path, rest, plen);
    out->path[plen] = '\0';
    out->is_unix = 1;
    return qm ? parse_query(qm + 1, out, text, err) : SPINDLE_OK;
}

static int parse_userinfo(const char *s, size_t len, spindle_url *out, const char *text,
                          spindle_error *err)
{
    const char *colon = memchr(s, ':', len);
    if (colon == NULL) {
        /* redis://password@host is the common legacy form: a bare password. */
        if (decode(s, len, out->password, sizeof(out->password)) != 0)
            return bad(err, text, "malformed password");
        out->has_password = 1;
        return SPINDLE_OK;
    }
    size_t ulen = (size_t)(colon - s);
    if (decode(s, ulen, out->user, sizeof(out->user)) != 0)
        return bad(err, text, "malformed user name");
    if (decode(colon + 1, len - ulen - 1, out->password, sizeof(out->password)) != 0)
        return bad(err, text, "malformed password");
    out->has_password = 1;
    return SPINDLE_OK;
}

/* Parses one "host[:port]" (host may be [IPv6]) from s[0..len) into host/port (port left
 * alone when absent). */
static int parse_hostport(const char *s, size_t len, char *host, size_t hcap, int *port,
                          const char *text, spindle_error *err)
{
    const char *end = s + len, *pstart = NULL, *hend = end;
    if (len > 0 && *s == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return bad(err, text, "unclosed '[' in IPv6 host");
        if (close + 1 < end && close[1] != ':')
            return bad(err, text, "junk after IPv6 host");
        pstart = close + 1 < end ? close + 2 : NULL;
        s++;
        hend = close;
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon) {
            pstart = colon + 1;
            hend = colon;
        }
    }
    size_t hlen = (size_t)(hend - s);
    if (hlen == 0)
        return bad(err, text, "host is empty");
    if (hlen >= hcap)
        return bad(err, text, "host too long");
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (pstart && parse_int(pstart, (size_t)(end - pstart), 1, 65535, port) != 0)
        return bad(err, text, "port is not a number in 1-65535");
    return SPINDLE_OK;
}

/* The userinfo of rest (up to end), if any: parsed into out; returns where the hosts start. */
static const char *take_userinfo(const char *rest, const char *end, spindle_url *out,
                                 const char *text, spindle_error *err)
{
    const char *at = NULL;
    for (const char *p = rest; p < end; p++)
        if (*p == '@')
            at = p; /* the last '@' ends the userinfo: passwords may contain '@' encoded or not */
    if (at == NULL)
        return rest;
    if (parse_userinfo(rest, (size_t)(at - rest), out, text, err) != SPINDLE_OK)
        return NULL;
    return at + 1;
}

static int parse_tcp(const char *text, const char *rest, spindle_url *out, spindle_error *err)
{
    const char *end = rest + strcspn(rest, "/?");
    const char *host = take_userinfo(rest, end, out, text, err);
    if (host == NULL)
        return err->code;
    if (parse_hostport(host, (size_t)(end - host), out->host, sizeof(out->host), &out->port, text,
                       err) != SPINDLE_OK)
        return err->code;
    if (*end == '/') {
        const char *db = end + 1;
        size_t dlen = strcspn(db, "?");
        if (dlen > 0 && parse_int(db, dlen, 0, 1 << 20, &out->db) != 0)
            return bad(err, text, "database is not a number");
        end = db + dlen;
    }
    if (*end == '?')
        return parse_query(end + 1, out, text, err);
    return SPINDLE_OK;
}

/* cluster://[userinfo@]host[:port][,host[:port]...][/][?user=&password=] */
static int parse_cluster(const char *text, const char *rest, spindle_url *out, spindle_error *err)
{
    out->is_cluster = 1;
    const char *end = rest + strcspn(rest, "/?");
    const char *p = take_userinfo(rest, end, out, text, err);
    if (p == NULL)
        return err->code;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (out->nseeds == SPINDLE_URL_MAX_SEEDS)
            return bad(err, text, "too many cluster nodes (at most 16)");
        spindle_url_seed *seed = &out->seeds[out->nseeds++];
        seed->port = 6379;
        if (parse_hostport(p, (size_t)(stop - p), seed->host, sizeof(seed->host), &seed->port, text,
                           err) != SPINDLE_OK)
            return err->code;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    memcpy(out->host, out->seeds[0].host, sizeof(out->host));
    out->port = out->seeds[0].port;
    if (*end == '/') {
        end++;
        if (*end != '\0' && *end != '?')
            return bad(err, text, "a cluster has no database to select (cluster://host:port/)");
    }
    if (*end == '?' && parse_query(end + 1, out, text, err) != SPINDLE_OK)
        return err->code;
    if (out->db != 0)
        return bad(err, text, "a cluster has no database to select (db= is refused)");
    return SPINDLE_OK;
}

int spindle_url_parse(const char *text, spindle_url *out, spindle_error *err)
{
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (text == NULL || *text == '\0')
        return bad(err, "", "empty");
    if (strncmp(text, "unix://", 7) == 0)
        return parse_unix(text, text + 7, out, err);
    if (strncmp(text, "redis://", 8) == 0)
        return parse_tcp(text, text + 8, out, err);
    if (strncmp(text, "cluster://", 10) == 0)
        return parse_cluster(text, text + 10, out, err);
    return bad(err, text, "scheme must be redis://, unix:// or cluster://");
}

const char *spindle_url_default(void)
{
    const char *env = getenv("SPINDLE_REDIS_URL");
    return env && *env ? env : SPINDLE_URL_DEFAULT;
}
