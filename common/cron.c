/* Cron expressions (cron.h): parsing, the next tick after a time, the ticks due now. */
#include "common/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spindle/status.h"

/* How far ahead spindle_cron_next() searches: two leap cycles, so that Feb 29 is found
 * from any date, and a spec that matches no real day is told apart. */
#define SEARCH_YEARS 8
/* Bound on the ticks spindle_cron_due() walks in one call, whatever the spec: a safety net
 * (the search window is sized so that a call walks about (catch_up + 1) * 4 ticks). */
#define DUE_MAX_STEPS 200000

typedef struct field_def {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] is value lo + i, or NULL */
} field_def;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static const field_def fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, day_names},
};

static const struct {
    const char *name, *expansion;
} shortcuts[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* Reads one value (a number or, where the field has them, a name) at *p; advances *p. */
static int read_value(const field_def *f, const char **p, int *v, char *why, size_t len)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long n = 0;
        while (isdigit((unsigned char)*s) && n < 1000)
            n = n * 10 + (*s++ - '0');
        if (isdigit((unsigned char)*s) || n < f->lo || n > f->hi) {
            while (isdigit((unsigned char)*s))
                s++;
            snprintf(why, len, "%.*s is out of range %d-%d", (int)(s - *p), *p, f->lo, f->hi);
            return -1;
        }
        *v = (int)n;
        *p = s;
        return 0;
    }
    if (f->names && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
        isalpha((unsigned char)s[2]) && !isalpha((unsigned char)s[3])) {
        for (int i = 0; i <= f->hi - f->lo; i++) {
            if (f->names[i] && strncasecmp(s, f->names[i], 3) == 0) {
                *v = f->lo + i;
                *p = s + 3;
                return 0;
            }
        }
        snprintf(why, len, "'%.3s' is not a %s name", s, f->name);
        return -1;
    }
    snprintf(why, len, "expected a number%s at '%s'", f->names ? " or a name" : "", s);
    return -1;
}

/* Parses one item "*", "N", "N-M", each optionally "/S", at *p, into bits. */
static int parse_item(const field_def *f, const char **p, uint64_t *bits, char *why, size_t len)
{
    int lo = f->lo, hi = f->hi, step = 1;
    const char *s = *p;
    if (*s == '*') {
        s++;
    } else {
        if (read_value(f, &s, &lo, why, len) != 0)
            return -1;
        hi = lo;
        if (*s == '-') {
            s++;
            if (read_value(f, &s, &hi, why, len) != 0)
                return -1;
            if (hi < lo) {
                snprintf(why, len, "range %d-%d is backwards", lo, hi);
                return -1;
            }
        } else if (*s == '/') {
            hi = f->hi; /* "N/S": from N to the end */
        }
    }
    if (*s == '/') {
        s++;
        long n = 0;
        const char *d = s;
        while (isdigit((unsigned char)*s) && n < 1000)
            n = n * 10 + (*s++ - '0');
        if (s == d || n < 1 || n > f->hi || isdigit((unsigned char)*s)) {
            while (isdigit((unsigned char)*s))
                s++;
            snprintf(why, len, "step '%.*s' is not a number in 1-%d", (int)(s - d), d, f->hi);
            return -1;
        }
        step = (int)n;
    }
    if (*s != ',' && *s != '\0') {
        snprintf(why, len, "unexpected '%c'", *s);
        return -1;
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= 1ULL << v;
    *p = s;
    return 0;
}

static int parse_field(const field_def *f, const char *text, uint64_t *bits, char *why, size_t len)
{
    *bits = 0;
    const char *p = text;
    for (;;) {
        if (*p == ',' || *p == '\0') {
            snprintf(why, len, "empty item in list");
            return -1;
        }
        if (parse_item(f, &p, bits, why, len) != 0)
            return -1;
        if (*p == '\0')
            return 0;
        p++; /* ',' */
    }
}

/* Parses "NUMBER UNIT..." of @every into ms. */
static int parse_every(const char *text, int64_t *ms, char *why, size_t len)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    int64_t total = 0;
    const char *p = text;
    if (*p == '\0') {
        snprintf(why, len, "no interval after @every (e.g. @every 30s)");
        return -1;
    }
    while (*p) {
        int64_t n = 0;
        const char *d = p;
        while (isdigit((unsigned char)*p) && n <= SPINDLE_CRON_EVERY_MAX_MS)
            n = n * 10 + (*p++ - '0');
        if (p == d) {
            snprintf(why, len, "interval '%s': expected a number at '%s'", text, p);
            return -1;
        }
        size_t u = 0, nu = sizeof(units) / sizeof(units[0]), ulen = 0;
        while (isalpha((unsigned char)p[ulen]))
            ulen++;
        while (u < nu && (strlen(units[u].unit) != ulen || strncmp(p, units[u].unit, ulen) != 0))
            u++;
        if (u == nu) {
            snprintf(why, len, "interval '%s': unit '%.*s' is not ms, s, m, h or d", text,
                     (int)ulen, p);
            return -1;
        }
        p += ulen;
        if (n > SPINDLE_CRON_EVERY_MAX_MS ||
            (total += n * units[u].ms) > SPINDLE_CRON_EVERY_MAX_MS) {
            snprintf(why, len, "interval '%s' is longer than 366 days", text);
            return -1;
        }
    }
    if (total < SPINDLE_CRON_EVERY_MIN_MS) {
        snprintf(why, len, "interval '%s' is shorter than 1 s", text);
        return -1;
    }
    *ms = total;
    return 0;
}

/* Splits text on blanks into at most cap words in buf; returns the count (cap + 1: more). */
static size_t split_words(const char *text, char *buf, size_t buflen, char **words, size_t cap)
{
    snprintf(buf, buflen, "%s", text);
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == cap)
            return cap + 1;
        words[n++] = w;
    }
    return n;
}

static int parse_fields(const char *shown, const char *text, spindle_cron_spec *out,
                        spindle_error *err)
{
    char buf[SPINDLE_CRON_SPEC_MAX + 1], why[160];
    char *words[5];
    size_t n = split_words(text, buf, sizeof(buf), words, 5);
    if (n != 5)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron spec '%s': expected 5 fields (minute hour day-of-month "
                                 "month day-of-week) or @hourly/@daily/@weekly/@monthly/@yearly/"
                                 "@every D, found %s%zu",
                                 shown, n > 5 ? "more than " : "", n > 5 ? (size_t)5 : n);
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(&fields[i], words[i], &bits[i], why, sizeof(why)) != 0)
            return spindle_error_set(err, SPINDLE_ERR_INVALID, "cron spec '%s': %s field '%s': %s",
                                     shown, fields[i].name, words[i], why);
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint32_t)bits[3];
    out->wdays = (uint32_t)(bits[4] & 0x7f) | (uint32_t)((bits[4] >> 7) & 1); /* 7: Sunday */
    out->mday_any = words[2][0] == '*';
    out->wday_any = words[4][0] == '*';
    return SPINDLE_OK;
}

int spindle_cron_parse(const char *text, spindle_cron_spec *out, spindle_error *err)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || strlen(text) > SPINDLE_CRON_SPEC_MAX)
        return spindle_error_set(err, SPINDLE_ERR_INVALID, "cron spec %s",
                                 text ? "is longer than 256 bytes" : "is missing");
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text != '@') {
        int rc = parse_fields(text, text, out, err);
        if (rc == SPINDLE_OK && spindle_cron_next(out, 0) < 0)
            return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                     "cron spec '%s' never fires: no such day", text);
        return rc;
    }
    char buf[SPINDLE_CRON_SPEC_MAX + 1];
    char *words[3];
    size_t n = split_words(text, buf, sizeof(buf), words, 2);
    if (n >= 1 && strcasecmp(words[0], "@every") == 0) {
        char why[160];
        if (n > 2 || parse_every(n == 2 ? words[1] : "", &out->every_ms, why, sizeof(why)) != 0)
            return spindle_error_set(err, SPINDLE_ERR_INVALID, "cron spec '%s': %s", text,
                                     n > 2 ? "@every takes one interval (e.g. @every 1h30m)" : why);
        return SPINDLE_OK;
    }
    for (size_t i = 0; n == 1 && i < sizeof(shortcuts) / sizeof(shortcuts[0]); i++)
        if (strcasecmp(words[0], shortcuts[i].name) == 0)
            return parse_fields(text, shortcuts[i].expansion, out, err);
    return spindle_error_set(err, SPINDLE_ERR_INVALID,
                             "cron spec '%s': unknown shortcut (expected @yearly, @annually, "
                             "@monthly, @weekly, @daily, @midnight, @hourly or @every D)",
                             text);
}

static int day_matches(const spindle_cron_spec *s, const struct tm *tm)
{
    int dom = (int)((s->mdays >> tm->tm_mday) & 1), dow = (int)((s->wdays >> tm->tm_wday) & 1);
    return s->mday_any || s->wday_any ? dom && dow : dom || dow;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t spindle_cron_next(const spindle_cron_spec *s, int64_t after_ms)
{
    if (s->every_ms > 0)
        return (floor_div(after_ms, s->every_ms) + 1) * s->every_ms;
    time_t t = (time_t)((floor_div(after_ms, 60000) + 1) * 60);
    time_t limit = t + (time_t)SEARCH_YEARS * 366 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    while (t <= limit) {
        if (!((s->months >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!day_matches(s, &tm)) {
            tm.tm_mday++;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!((s->hours >> tm.tm_hour) & 1)) {
            tm.tm_hour++;
            tm.tm_min = 0;
        } else if (!((s->minutes >> tm.tm_min) & 1)) {
            tm.tm_min++;
        } else {
            return (int64_t)t * 1000;
        }
        tm.tm_sec = 0;
        t = timegm(&tm); /* normalizes: minute 60, day 32, month 12 roll over */
        gmtime_r(&t, &tm);
    }
    return -1;
}

static void reverse(int64_t *v, size_t from, size_t to)
{
    for (; from + 1 < to; from++, to--) {
        int64_t x = v[from];
        v[from] = v[to - 1];
        v[to - 1] = x;
    }
}

void spindle_cron_due(const spindle_cron_spec *s, int64_t last_ms, int64_t now_ms, int64_t grace_ms,
                      int catch_up, int64_t *out, size_t cap, size_t *n)
{
    *n = 0;
    if (catch_up < 0)
        catch_up = 0;
    size_t want = (size_t)catch_up + 1;
    if (now_ms <= last_ms || cap < want)
        return;
    /* The newest `want` ticks of (last, now]: searched in a window ending at now, doubled
     * until it holds enough of them or reaches back to last. Without catch-up, only a tick
     * within the grace can fire, so the window is the grace. */
    int64_t window =
        catch_up == 0 ? grace_ms : (s->every_ms > 0 ? s->every_ms : 60000) * (int64_t)want;
    long steps = 0;
    size_t count = 0; /* ticks seen in the window; out is a ring of the last `want` */
    for (;;) {
        int64_t start = now_ms - window > last_ms ? now_ms - window : last_ms;
        count = 0;
        for (int64_t t = spindle_cron_next(s, start);
             t >= 0 && t <= now_ms && steps < DUE_MAX_STEPS; t = spindle_cron_next(s, t), steps++)
            out[count++ % want] = t;
        if (count >= want || start == last_ms || catch_up == 0 || steps >= DUE_MAX_STEPS ||
            window > INT64_MAX / 4)
            break;
        window *= 2;
    }
    if (count == 0)
        return;
    size_t have = count < want ? count : want;
    if (count > want) { /* the ring wrapped: rotate it so that the oldest comes first */
        size_t k = count % want;
        reverse(out, 0, k);
        reverse(out, k, want);
        reverse(out, 0, want);
    }
    size_t first = 0;
    if (now_ms - out[have - 1] > grace_ms && have == want)
        first = 1; /* the newest is late too: it counts as missed, so one less older one */
    for (size_t i = first; i < have; i++)
        out[(*n)++] = out[i];
}

int spindle_cron_split_line(char *line, char **name, char *spec_buf, char **func, char **args,
                            size_t cap, size_t *nargs, spindle_error *err)
{
    char *eq = strchr(line, '=');
    if (eq == NULL)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron entry '%s': expected NAME=SPEC FUNC [ARGS...]", line);
    *eq = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    *name = p;
    char *words[5 + 1 + 64];
    size_t n = 0, max = sizeof(words) / sizeof(words[0]);
    for (char *save = NULL, *w = strtok_r(eq + 1, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        if (n == max || n >= 6 + cap)
            return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                     "cron entry '%s': more than %zu arguments", *name, cap);
        words[n++] = w;
    }
    size_t nspec = 5;
    if (n > 0 && words[0][0] == '@')
        nspec = strcasecmp(words[0], "@every") == 0 ? 2 : 1;
    if (n < nspec + 1)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron entry '%s': expected NAME=SPEC FUNC [ARGS...] (SPEC: 5 "
                                 "fields, @daily-style or @every D), found %zu word(s) after '='",
                                 *name, n);
    spec_buf[0] = '\0';
    for (size_t i = 0; i < nspec; i++) {
        size_t used = strlen(spec_buf);
        snprintf(spec_buf + used, SPINDLE_CRON_SPEC_MAX - used, "%s%s", i ? " " : "", words[i]);
    }
    *func = words[nspec];
    *nargs = n - nspec - 1;
    if (*nargs > cap)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "cron entry '%s': more than %zu arguments", *name, cap);
    for (size_t i = 0; i < *nargs; i++)
        args[i] = words[nspec + 1 + i];
    return SPINDLE_OK;
}

/* FNV-1a over bytes, from a given basis (two bases give two independent 64-bit halves). */
static uint64_t fnv1a(uint64_t h, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

/* The finalizer of splitmix64: spreads every input bit over the output. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void spindle_cron_task_id(const char *ns, const char *name, int64_t tick_ms, char *out)
{
    char text[2 * 129 + 32];
    int len = snprintf(text, sizeof(text), "%s%c%s%c%lld", ns, 0, name, 0, (long long)tick_ms);
    size_t n = len < 0 ? 0 : (size_t)len < sizeof(text) ? (size_t)len : sizeof(text) - 1;
    uint64_t hi = mix(fnv1a(0xcbf29ce484222325ULL, text, n));
    uint64_t lo = mix(fnv1a(0x84222325cbf29ce4ULL, text, n) ^ hi);
    hi = (hi & ~0xf000ULL) | 0x8000ULL;                        /* version 8 */
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
    snprintf(out, 37, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
             (unsigned long long)((hi >> 16) & 0xffff), (unsigned long long)(hi & 0xffff),
             (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
}
