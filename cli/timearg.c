/* Parsing of points in time for the CLI (timearg.h). Only UTC is accepted: the scripts
 * compare against Redis's clock in UTC ms, and guessing a local zone on the producer's host
 * would bring back the clock skew the protocol avoids. */
#include "cli/timearg.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

/* Reads exactly n digits at *p into *v and advances *p. 0, or -1 if they are not digits. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

/* Reads one of the separators in seps at *p and advances. 0, or -1 if there is none. */
static int expect(const char **p, const char *seps)
{
    if (**p == '\0' || strchr(seps, **p) == NULL)
        return -1;
    (*p)++;
    return 0;
}

static int parse_iso(const char *p, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int y, mo, d, h, mi, s;
    if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") ||
        digits(&p, 2, &d) || expect(&p, "T ") || digits(&p, 2, &h) || expect(&p, ":") ||
        digits(&p, 2, &mi) || expect(&p, ":") || digits(&p, 2, &s))
        return -1;
    int frac = 0, scale = 1000;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p) && nd < 3) {
            frac = frac * 10 + (*p++ - '0');
            scale /= 10;
            nd++;
        }
        if (nd == 0)
            return -1;
    }
    if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || s > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    /* timegm() normalizes 31 February into March: refuse dates that do not exist. */
    struct tm back;
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != d)
        return -1;
    *ms = (int64_t)t * 1000 + (int64_t)frac * scale;
    return 0;
}

int spindle_cli_parse_time(const char *text, int64_t *ms)
{
    /* 9999-12-31T23:59:59.999Z, the latest time the protocol accepts. */
    const int64_t max = INT64_C(253402300799999);
    size_t n = strlen(text);
    if (n > 0 && n <= 15 && strspn(text, "0123456789") == n) {
        int64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (text[i] - '0');
        *ms = v;
        return v <= max ? 0 : -1;
    }
    int64_t v;
    if (parse_iso(text, &v) != 0 || v > max)
        return -1;
    *ms = v;
    return 0;
}
