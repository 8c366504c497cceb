/* One page of a queue's tasks in one state, for `spindle list` (spindle/inspect.h): a window
 * of the list or sorted set that holds their ids, then one pipelined HMGET per id. */
#ifndef SPINDLE_STORE_LIST_PAGE_H
#define SPINDLE_STORE_LIST_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "spindle/inspect.h"
#include "store/conn.h"

/* Reads the rows at positions [offset, offset + limit) of queue's ids in state st into
 * rows (room for limit), *n the count read, *more 1 if a position after them holds an id.
 * Members that are not task ids (written by hand) take their position but are not listed.
 * Errors as spindle_task_page(). */
int spindle_store_list_page(spindle_store *s, const char *queue, spindle_list_state st,
                            uint64_t offset, size_t limit, spindle_task_row *rows, size_t *n,
                            int *more);

#endif
