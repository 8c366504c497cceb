/* The route table (include/spindle/routing.h): entries PATTERN -> QUEUE, their text format
 * and the lookup.
 *
 * Why a plain array: a table has tens of lines, and a lookup runs once per enqueue; a scan of
 * the exact entries (strcmp) and then of the patterns (fnmatch) costs well under a
 * microsecond at that size, and keeps "first pattern added wins" obvious. Nothing here talks
 * to Redis, so the table and its parser are tested without a server. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "spindle/routing.h"

struct route {
    char *pattern;
    char *queue;
    int glob; /* 0: an exact function name */
};

struct spindle_routes {
    struct route *v;
    size_t n, cap;
    spindle_error err;
};

spindle_routes *spindle_routes_new(void)
{
    return calloc(1, sizeof(spindle_routes));
}

/* Drops the entries from index keep on. */
static void truncate_to(spindle_routes *t, size_t keep)
{
    for (size_t i = keep; i < t->n; i++) {
        free(t->v[i].pattern);
        free(t->v[i].queue);
    }
    t->n = keep;
}

void spindle_routes_free(spindle_routes *t)
{
    if (t == NULL)
        return;
    truncate_to(t, 0);
    free(t->v);
    free(t);
}

const char *spindle_routes_errstr(const spindle_routes *t)
{
    return t->err.msg;
}

size_t spindle_routes_count(const spindle_routes *t)
{
    return t->n;
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == ':' || ch == '-';
}

/* Checks a pattern; *glob is set to 1 if it has any glob syntax. */
static int check_pattern(spindle_routes *t, const char *p, int *glob)
{
    size_t len = strlen(p);
    if (len == 0 || len > SPINDLE_ROUTE_PATTERN_MAX)
        return spindle_error_set(&t->err, SPINDLE_ERR_INVALID,
                                 "pattern '%.64s' must be 1 to %d bytes long", p,
                                 SPINDLE_ROUTE_PATTERN_MAX);
    *glob = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (ch == '*' || ch == '?') {
            *glob = 1;
        } else if (ch == '[') {
            size_t j = i + 1;
            if (p[j] == '!' || p[j] == '^')
                j++;
            size_t first = j;
            while (p[j] && p[j] != ']' && name_char(p[j]))
                j++;
            if (p[j] != ']' || j == first)
                return spindle_error_set(&t->err, SPINDLE_ERR_INVALID,
                                         "pattern '%s': the set opened at byte %zu is %s", p, i + 1,
                                         p[j] == ']' ? "empty" : "not closed by ']'");
            *glob = 1;
            i = j;
        } else if (!name_char(ch)) {
            return spindle_error_set(&t->err, SPINDLE_ERR_INVALID,
                                     "pattern '%s': character 0x%02x at byte %zu is not allowed "
                                     "(names are [A-Za-z0-9_.:-], globs add * ? [...])",
                                     p, (unsigned char)ch, i + 1);
        }
    }
    return SPINDLE_OK;
}

int spindle_routes_add(spindle_routes *t, const char *pattern, const char *queue)
{
    int glob = 0;
    if (pattern == NULL || queue == NULL)
        return spindle_error_set(&t->err, SPINDLE_ERR_INVALID, "route: %s is NULL",
                                 pattern ? "queue" : "pattern");
    int rc = check_pattern(t, pattern, &glob);
    if (rc == SPINDLE_OK && (rc = spindle_name_check(queue, "queue", &t->err)) != SPINDLE_OK)
        spindle_error_wrap(&t->err, "route '%s': ", pattern);
    if (rc != SPINDLE_OK)
        return rc;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].pattern, pattern) == 0)
            return spindle_error_set(&t->err, SPINDLE_ERR_INVALID,
                                     "pattern '%s' is already routed (to queue '%s')", pattern,
                                     t->v[i].queue);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct route *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            return spindle_error_set(&t->err, SPINDLE_ERR_NOMEM, "route '%s': out of memory",
                                     pattern);
        t->v = v;
        t->cap = cap;
    }
    struct route *r = &t->v[t->n];
    r->pattern = strdup(pattern);
    r->queue = strdup(queue);
    r->glob = glob;
    if (r->pattern == NULL || r->queue == NULL) {
        free(r->pattern);
        free(r->queue);
        return spindle_error_set(&t->err, SPINDLE_ERR_NOMEM, "route '%s': out of memory", pattern);
    }
    t->n++;
    return SPINDLE_OK;
}

const char *spindle_routes_lookup(const spindle_routes *t, const char *func)
{
    if (t == NULL || func == NULL)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (!t->v[i].glob && strcmp(t->v[i].pattern, func) == 0)
            return t->v[i].queue;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].glob && fnmatch(t->v[i].pattern, func, 0) == 0)
            return t->v[i].queue;
    return NULL;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Splits line[0..len) (comment already cut) into at most 3 words, NUL-terminated in buf (size
 * len + 1). Returns the word count (3 means "3 or more"). */
static int split_words(const char *line, size_t len, char *buf, char *words[3])
{
    memcpy(buf, line, len);
    buf[len] = '\0';
    int n = 0;
    char *p = buf;
    while (n < 3) {
        while (*p && is_space(*p))
            p++;
        if (*p == '\0')
            break;
        words[n++] = p;
        while (*p && !is_space(*p))
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* Adds the entry of one line (without its newline); blank and comment lines add nothing. */
static int parse_line(spindle_routes *t, const char *line, size_t len)
{
    const char *hash = memchr(line, '#', len);
    if (hash)
        len = (size_t)(hash - line);
    if (memchr(line, '\0', len))
        return spindle_error_set(&t->err, SPINDLE_ERR_INVALID, "a NUL byte in the line");
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return spindle_error_set(&t->err, SPINDLE_ERR_NOMEM, "out of memory");
    char *words[3];
    int n = split_words(line, len, buf, words);
    int rc = SPINDLE_OK;
    if (n == 1 || n == 3)
        rc = spindle_error_set(&t->err, SPINDLE_ERR_INVALID, "expected 'PATTERN QUEUE', found %s",
                               n == 1 ? "one word" : "more than two words");
    else if (n == 2)
        rc = spindle_routes_add(t, words[0], words[1]);
    free(buf);
    return rc;
}

int spindle_routes_parse(spindle_routes *t, const char *text, size_t len, const char *source)
{
    if (source == NULL)
        source = "routes";
    size_t keep = t->n, lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        int rc = parse_line(t, p, l);
        if (rc != SPINDLE_OK) {
            truncate_to(t, keep);
            return spindle_error_wrap(&t->err, "%s, line %zu: ", source, lineno);
        }
        p += l + (nl ? 1 : 0);
    }
    return SPINDLE_OK;
}

int spindle_routes_load(spindle_routes *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return spindle_error_set(&t->err, SPINDLE_ERR_IO, "cannot open route file '%s': %s", path,
                                 strerror(errno));
    char *buf = malloc(SPINDLE_ROUTES_FILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, SPINDLE_ROUTES_FILE_MAX + 1, f) : 0;
    int failed = buf && ferror(f);
    int err = errno;
    fclose(f);
    int rc;
    if (buf == NULL)
        rc = spindle_error_set(&t->err, SPINDLE_ERR_NOMEM, "route file '%s': out of memory", path);
    else if (failed)
        rc = spindle_error_set(&t->err, SPINDLE_ERR_IO, "reading route file '%s': %s", path,
                               strerror(err));
    else if (len > SPINDLE_ROUTES_FILE_MAX)
        rc = spindle_error_set(&t->err, SPINDLE_ERR_TOO_LARGE,
                               "route file '%s' is larger than %u bytes", path,
                               SPINDLE_ROUTES_FILE_MAX);
    else
        rc = spindle_routes_parse(t, buf, len, path);
    free(buf);
    return rc;
}
