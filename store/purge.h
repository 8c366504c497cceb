/* `spindle purge`: deletes a queue's pending, scheduled or dead tasks a page at a time with
 * the purge script (store/script_purge.c). */
#ifndef SPINDLE_STORE_PURGE_H
#define SPINDLE_STORE_PURGE_H

#include "spindle/inspect.h"
#include "store/conn.h"

/* Runs the purge script on queue's st list (pending, scheduled or dead) until it is empty or
 * as many entries as it held at the start were taken (so producers enqueuing meanwhile do
 * not keep it going). Adds to *deleted and *stale. Errors: SPINDLE_ERR_REDIS (a key of the
 * wrong type: the script refuses before writing), SPINDLE_ERR_IO, SPINDLE_ERR_PROTOCOL. */
int spindle_store_purge(spindle_store *s, const char *queue, spindle_list_state st, size_t *deleted,
                        size_t *stale);

#endif
