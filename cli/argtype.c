/* Typing of command-line task arguments (see argtype.h). Integers are parsed by hand rather
 * than with strtoll(), which would accept leading spaces and report overflow through errno;
 * floats go through strtod() only after a character check, which keeps out the words and hex
 * forms strtod() also accepts ("nan", "infinity", "0x1e"). */
#include "cli/argtype.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parses an optionally signed run of decimal digits. Returns 1 and sets *neg and *mag (the
 * magnitude) if text is exactly that and the magnitude fits in 64 bits, 0 otherwise. */
static int parse_decimal(const char *text, int *neg, uint64_t *mag)
{
    const char *p = text;
    *neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (*p == '\0')
        return 0;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *mag = v;
    return 1;
}

/* Appends an integer of the given sign and magnitude, or returns 0 (appending nothing) if it
 * fits neither int64 nor uint64. *rc receives the append's status. */
static int append_integer(spindle_args *a, int neg, uint64_t mag, int *rc)
{
    if (!neg) {
        *rc = mag <= INT64_MAX ? spindle_args_int(a, (int64_t)mag) : spindle_args_uint(a, mag);
        return 1;
    }
    /* The most negative int64 has magnitude INT64_MAX + 1, which has no positive int64. */
    if (mag > (uint64_t)INT64_MAX + 1)
        return 0;
    *rc = spindle_args_int(a, mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag);
    return 1;
}

/* Returns 1 and sets *out if text is a float as argtype.h defines it. */
static int parse_float(const char *text, double *out)
{
    if (text[0] == '\0' || text[strspn(text, "0123456789+-.eE")] != '\0' ||
        strpbrk(text, ".eE") == NULL)
        return 0;
    /* strtod() sets errno on underflow; put it back so this stays free of side effects. */
    int saved_errno = errno;
    char *end = NULL;
    double v = strtod(text, &end);
    errno = saved_errno;
    if (end == text || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int spindle_cli_type_arg(spindle_args *a, const char *text)
{
    int neg, rc;
    uint64_t mag;
    double d;
    if (parse_decimal(text, &neg, &mag) && append_integer(a, neg, mag, &rc))
        return rc;
    if (parse_float(text, &d))
        return spindle_args_double(a, d);
    if (strcmp(text, "true") == 0)
        return spindle_args_bool(a, 1);
    if (strcmp(text, "false") == 0)
        return spindle_args_bool(a, 0);
    if (strcmp(text, "null") == 0)
        return spindle_args_nil(a);
    return spindle_args_str(a, text);
}
