/* The sentinel list and master name of a sentinel:// URL (sentinel_url.h). Pure functions
 * over text, unit tested without a server; url.c calls them for the sentinel:// scheme and
 * reuses its own userinfo and query parsing for the rest. */
#include "common/sentinel_url.h"

#include <ctype.h>
#include <string.h>

#include "spindle/status.h"

/* Port of p[0..len): 1-65535 decimal. 0 when malformed. */
static int port_of(const char *p, size_t len)
{
    if (len == 0 || len > 5)
        return 0;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)p[i]))
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    return v <= 65535 ? v : 0;
}

/* One "host[:port]" or "[v6][:port]" of s[0..len) into node i. */
static int one_host(const char *s, size_t len, spindle_sentinel_url *out, int i, const char **why)
{
    const char *end = s + len, *hend = end, *port = NULL;
    if (len > 0 && *s == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return *why = "unclosed '[' in IPv6 sentinel host", -1;
        if (close + 1 < end && close[1] != ':')
            return *why = "junk after IPv6 sentinel host", -1;
        port = close + 1 < end ? close + 2 : NULL;
        s++;
        hend = close;
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon) {
            port = colon + 1;
            hend = colon;
        }
    }
    size_t hlen = (size_t)(hend - s);
    if (hlen == 0)
        return *why = "a sentinel host is empty", -1;
    if (hlen >= sizeof(out->node[i].host))
        return *why = "a sentinel host is too long", -1;
    memcpy(out->node[i].host, s, hlen);
    out->node[i].host[hlen] = '\0';
    out->node[i].port = 26379; /* Sentinel's default port */
    if (port && (out->node[i].port = port_of(port, (size_t)(end - port))) == 0)
        return *why = "a sentinel port is not a number in 1-65535", -1;
    return SPINDLE_OK;
}

int spindle_sentinel_url_hosts(const char *text, size_t len, spindle_sentinel_url *out,
                               const char **why)
{
    out->count = 0;
    const char *p = text, *end = text + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (out->count == SPINDLE_SENTINEL_MAX)
            return *why = "more than 8 sentinels", -1;
        if (one_host(p, (size_t)(stop - p), out, out->count, why) != SPINDLE_OK)
            return -1;
        out->count++;
        if (comma == NULL)
            return SPINDLE_OK;
        p = comma + 1;
    }
}

int spindle_sentinel_url_master(const char *text, size_t len, spindle_sentinel_url *out,
                                const char **why)
{
    if (len == 0)
        return *why = "the master name is missing (sentinel://host:port/master-name)", -1;
    if (len >= sizeof(out->master))
        return *why = "the master name is too long", -1;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)text[i];
        if (!isalnum(ch) && ch != '_' && ch != '.' && ch != ':' && ch != '-')
            return *why = "the master name holds a character outside [A-Za-z0-9_.:-]", -1;
    }
    memcpy(out->master, text, len);
    out->master[len] = '\0';
    return SPINDLE_OK;
}
