/* Command builder (see cmd.h). */
#include "store/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 4 KiB chunks: a bulk enqueue of 1000 tasks writes ~3 numbers each, a few chunks. */
#define CHUNK_SIZE 4096

struct spindle_cmd_chunk {
    spindle_cmd_chunk *next;
    size_t used, cap;
    char data[];
};

void spindle_cmd_init(spindle_cmd *c)
{
    memset(c, 0, sizeof(*c));
}

void spindle_cmd_reset(spindle_cmd *c)
{
    c->argc = 0;
    c->oom = 0;
    for (spindle_cmd_chunk *k = c->chunks; k; k = k->next)
        k->used = 0;
}

void spindle_cmd_free(spindle_cmd *c)
{
    free(c->argv);
    free(c->lens);
    spindle_cmd_chunk *k = c->chunks;
    while (k) {
        spindle_cmd_chunk *next = k->next;
        free(k);
        k = next;
    }
    memset(c, 0, sizeof(*c));
}

void spindle_cmd_push(spindle_cmd *c, const void *p, size_t len)
{
    if (c->oom)
        return;
    if (c->argc == c->cap) {
        int ncap = c->cap ? c->cap * 2 : 16;
        const char **argv = realloc(c->argv, (size_t)ncap * sizeof(*argv));
        if (argv == NULL) {
            c->oom = 1;
            return;
        }
        c->argv = argv;
        size_t *lens = realloc(c->lens, (size_t)ncap * sizeof(*lens));
        if (lens == NULL) {
            c->oom = 1;
            return;
        }
        c->lens = lens;
        c->cap = ncap;
    }
    c->argv[c->argc] = p;
    c->lens[c->argc] = len;
    c->argc++;
}

void spindle_cmd_str(spindle_cmd *c, const char *s)
{
    spindle_cmd_push(c, s, strlen(s));
}

/* Room for len bytes in a chunk with space left, or a new chunk. */
static char *arena_alloc(spindle_cmd *c, size_t len)
{
    for (spindle_cmd_chunk *k = c->chunks; k; k = k->next)
        if (k->cap - k->used >= len) {
            char *p = k->data + k->used;
            k->used += len;
            return p;
        }
    size_t cap = len > CHUNK_SIZE ? len : CHUNK_SIZE;
    spindle_cmd_chunk *k = malloc(sizeof(*k) + cap);
    if (k == NULL) {
        c->oom = 1;
        return NULL;
    }
    k->cap = cap;
    k->used = len;
    k->next = c->chunks;
    c->chunks = k;
    return k->data;
}

void spindle_cmd_copy(spindle_cmd *c, const void *p, size_t len)
{
    char *dst = arena_alloc(c, len ? len : 1);
    if (dst == NULL)
        return;
    if (len)
        memcpy(dst, p, len);
    spindle_cmd_push(c, dst, len);
}

void spindle_cmd_long(spindle_cmd *c, long long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    spindle_cmd_copy(c, buf, (size_t)n);
}

int spindle_cmd_failed(const spindle_cmd *c)
{
    return c->oom;
}
