/* Plain-text tables for the listing commands of `spindle` (queues, dead, workers): a header
 * row, then one row per entry, columns two spaces apart and padded to their widest cell,
 * each left- or right-aligned. The last column is never padded on the right, so lines carry
 * no trailing blanks. Cells are copied; control characters in them (a newline in an error
 * text, an escape sequence in a name written by hand) become spaces, so one entry is always
 * one line and nothing from Redis reaches the terminal as a control code. */
#ifndef SPINDLE_CLI_TABLE_H
#define SPINDLE_CLI_TABLE_H

#include <stddef.h>

typedef struct spindle_cli_table spindle_cli_table;

/* A table of ncols columns with the given headers (borrowed during the call). align holds one
 * 'l' or 'r' per column and is borrowed for the life of the table. NULL if out of memory.
 * Caller frees with spindle_cli_table_free(). */
spindle_cli_table *spindle_cli_table_new(size_t ncols, const char *const *headers,
                                         const char *align);

/* Adds a row of ncols cells (copied). An allocation failure is remembered and reported by
 * spindle_cli_table_print(), so callers need not check each row. */
void spindle_cli_table_add(spindle_cli_table *t, const char *const *cells);

/* Prints the table on stdout. Returns the exit code: SPINDLE_EXIT_OK, or SPINDLE_EXIT_ERROR
 * after reporting that memory ran out while it was built (t may be NULL for that). */
int spindle_cli_table_print(const spindle_cli_table *t);

/* Frees t. NULL is a no-op. */
void spindle_cli_table_free(spindle_cli_table *t);

#endif
