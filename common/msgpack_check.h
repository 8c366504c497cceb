/* A bounds check for msgpack bytes that arrive from outside (args and results read from
 * Redis), run before msgpack-c decodes them.
 *
 * Why: msgpack-c allocates room for a container's declared element count before it reads
 * the elements, so six bytes declaring a 4-billion-element array make it allocate
 * gigabytes. This walk needs no allocation: it refuses containers that declare more elements
 * than there are bytes left (each element takes at least one), nesting deeper than a limit,
 * truncation, and bytes msgpack does not define. */
#ifndef SPINDLE_COMMON_MSGPACK_CHECK_H
#define SPINDLE_COMMON_MSGPACK_CHECK_H

#include <stddef.h>

#include "spindle/deps.h" /* SPINDLE_EXT_TASK_REF */

#include "spindle/bounds.h" /* SPINDLE_MSGPACK_MAX_DEPTH */

/* Checks that buf[0..len) holds exactly one well-formed msgpack value nested at most
 * max_depth deep. Returns NULL if so, or a static string saying what is wrong. */
const char *spindle_msgpack_check(const char *buf, size_t len, int max_depth);

/* As spindle_msgpack_check(), and *refs (if not NULL) is set to 1 when the value holds an
 * ext of type SPINDLE_EXT_TASK_REF anywhere (a task with dependencies), else 0: the same walk,
 * so finding out costs nothing more. */
const char *spindle_msgpack_check_refs(const char *buf, size_t len, int max_depth, int *refs);

/* As spindle_msgpack_check_refs(), and *deepest (if not NULL) is set to how deep containers
 * are nested (0: a scalar; 1: a flat array; an empty container counts as a level), as far as
 * the walk went: the number a configurable depth bound (max_depth options) is compared with. */
const char *spindle_msgpack_check_depth(const char *buf, size_t len, int max_depth, int *refs,
                                        int *deepest);

#endif
