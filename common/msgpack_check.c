/* msgpack bounds check (see msgpack_check.h). A pure function over bytes, unit tested and
 * fuzzed without a server. Iterative: a stack of "values still owed" per open container. */
#include "common/msgpack_check.h"

#include <stdint.h>

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Decodes the header at p: sets *skip (header + payload bytes) and *children (elements the
 * value contains). Returns 0, or -1 for a byte msgpack does not define, or -2 if the header
 * itself is cut off. */
static int header(const unsigned char *p, size_t left, uint64_t *skip, uint64_t *children)
{
    unsigned b = p[0];
    *children = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        *skip = 1;
        return 0;
    }
    if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) { /* fixmap, fixarray */
        *skip = 1;
        *children = (uint64_t)(b & 0x0f) * ((b & 0xf0) == 0x80 ? 2 : 1);
        return 0;
    }
    if ((b & 0xe0) == 0xa0) { /* fixstr */
        *skip = 1 + (uint64_t)(b & 0x1f);
        return 0;
    }
    static const struct {
        unsigned char byte, lenbytes, fixed, kind; /* kind: 0 scalar, 1 blob, 2 array, 3 map */
    } t[] = {
        {0xc4, 1, 0, 1},  {0xc5, 2, 0, 1}, {0xc6, 4, 0, 1},                  /* bin */
        {0xc7, 1, 1, 1},  {0xc8, 2, 1, 1}, {0xc9, 4, 1, 1},                  /* ext: + type byte */
        {0xca, 0, 4, 0},  {0xcb, 0, 8, 0},                                   /* float */
        {0xcc, 0, 1, 0},  {0xcd, 0, 2, 0}, {0xce, 0, 4, 0}, {0xcf, 0, 8, 0}, /* uint */
        {0xd0, 0, 1, 0},  {0xd1, 0, 2, 0}, {0xd2, 0, 4, 0}, {0xd3, 0, 8, 0}, /* int */
        {0xd4, 0, 2, 0},  {0xd5, 0, 3, 0}, {0xd6, 0, 5, 0}, {0xd7, 0, 9, 0}, /* fixext */
        {0xd8, 0, 17, 0}, {0xd9, 1, 0, 1}, {0xda, 2, 0, 1}, {0xdb, 4, 0, 1}, /* str */
        {0xdc, 2, 0, 2},  {0xdd, 4, 0, 2},                                   /* array */
        {0xde, 2, 0, 3},  {0xdf, 4, 0, 3},                                   /* map */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].byte != b)
            continue;
        if (left < 1u + t[i].lenbytes)
            return -2;
        uint64_t n = be(p + 1, t[i].lenbytes);
        *skip = 1u + t[i].lenbytes + t[i].fixed;
        if (t[i].kind == 1)
            *skip += n;
        else if (t[i].kind == 2)
            *children = n;
        else if (t[i].kind == 3)
            *children = n * 2;
        return 0;
    }
    return -1; /* 0xc1 */
}

const char *spindle_msgpack_check(const char *buf, size_t len, int max_depth)
{
    return spindle_msgpack_check_refs(buf, len, max_depth, NULL);
}

/* 1 if b starts an array or a map (of any size, empty included). */
static int is_container(unsigned char b)
{
    return (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
}

/* The ext type byte of the value at p (its header known to be whole), or -1 if it is no ext. */
static int ext_type(const unsigned char *p)
{
    if (p[0] >= 0xd4 && p[0] <= 0xd8)
        return (signed char)p[1];
    if (p[0] >= 0xc7 && p[0] <= 0xc9)
        return (signed char)p[1 + (1 << (p[0] - 0xc7))];
    return -1;
}

const char *spindle_msgpack_check_depth(const char *buf, size_t len, int max_depth, int *refs,
                                        int *deepest)
{
    const unsigned char *p = (const unsigned char *)buf;
    uint64_t owed[SPINDLE_MSGPACK_MAX_DEPTH + 1];
    int depth = 0;
    size_t off = 0;
    uint64_t values = 1; /* values still owed at the top level */
    if (max_depth > SPINDLE_MSGPACK_MAX_DEPTH)
        max_depth = SPINDLE_MSGPACK_MAX_DEPTH;
    int dummy = 0;
    if (deepest == NULL)
        deepest = &dummy;
    *deepest = 0;
    if (refs)
        *refs = 0;
    if (len == 0)
        return "empty";
    while (values > 0 || depth > 0) {
        if (depth > 0 && owed[depth - 1] == 0) {
            depth--;
            continue;
        }
        if (off >= len)
            return "truncated";
        uint64_t skip, children;
        int rc = header(p + off, len - off, &skip, &children);
        if (rc == -1)
            return "not valid msgpack (byte 0xc1)";
        if (rc == -2 || skip > len - off)
            return "truncated";
        if (refs && ext_type(p + off) == SPINDLE_EXT_TASK_REF)
            *refs = 1;
        /* An empty container takes a level of msgpack-c's decoder stack too (found by
         * tests/fuzz/msgpack.c: an empty map under 32 arrays passed here and failed there). */
        if (is_container(p[off]) && depth + 1 > *deepest)
            *deepest = depth + 1;
        if (depth == max_depth && is_container(p[off]))
            return "nested too deep";
        off += (size_t)skip;
        if (depth > 0)
            owed[depth - 1]--;
        else
            values--;
        if (children > 0) {
            if (children > len - off)
                return "truncated (a container declares more elements than there are bytes)";
            if (depth == max_depth)
                return "nested too deep";
            owed[depth++] = children;
        }
    }
    return off == len ? NULL : "followed by junk bytes";
}

const char *spindle_msgpack_check_refs(const char *buf, size_t len, int max_depth, int *refs)
{
    return spindle_msgpack_check_depth(buf, len, max_depth, refs, NULL);
}
