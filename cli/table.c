/* Plain-text tables (see table.h). */
#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"

struct spindle_cli_table {
    size_t ncols, nrows, cap; /* rows include the header */
    const char *align;
    char **cells; /* nrows * ncols, row-major, owned */
    size_t *width;
    int oom;
};

spindle_cli_table *spindle_cli_table_new(size_t ncols, const char *const *headers,
                                         const char *align)
{
    spindle_cli_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->align = align;
    t->width = calloc(ncols, sizeof(*t->width));
    if (t->width == NULL) {
        free(t);
        return NULL;
    }
    spindle_cli_table_add(t, headers);
    if (t->oom) {
        spindle_cli_table_free(t);
        return NULL;
    }
    return t;
}

/* A copy of text with every control character replaced by a space. */
static char *clean_copy(const char *text)
{
    char *c = strdup(text ? text : "");
    for (unsigned char *p = (unsigned char *)c; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return c;
}

void spindle_cli_table_add(spindle_cli_table *t, const char *const *cells)
{
    if (t == NULL || t->oom)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));
        if (grown == NULL) {
            t->oom = 1;
            return;
        }
        t->cells = grown;
        t->cap = cap;
    }
    char **row = &t->cells[t->nrows * t->ncols];
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = clean_copy(cells[i]);
        if (row[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(row[j]);
            t->oom = 1;
            return;
        }
        size_t len = strlen(row[i]);
        if (len > t->width[i])
            t->width[i] = len;
    }
    t->nrows++;
}

int spindle_cli_table_print(const spindle_cli_table *t)
{
    if (t == NULL || t->oom)
        return spindle_cli_error(SPINDLE_EXIT_ERROR, "building the table: out of memory");
    for (size_t r = 0; r < t->nrows; r++) {
        char *const *row = &t->cells[r * t->ncols];
        for (size_t i = 0; i < t->ncols; i++) {
            int w = (int)t->width[i];
            int last = i + 1 == t->ncols;
            if (t->align[i] == 'r')
                printf("%*s", w, row[i]);
            else
                printf("%-*s", last ? 0 : w, row[i]);
            fputs(last ? "\n" : "  ", stdout);
        }
    }
    return SPINDLE_EXIT_OK;
}

void spindle_cli_table_free(spindle_cli_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->width);
    free(t);
}
