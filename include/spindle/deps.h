/* Dependencies between tasks (docs/PROTOCOL.md, "Dependencies"): a task may take other
 * tasks' handles as arguments (spindle_args_handle() in args.h, anywhere in its arguments,
 * arrays and maps included). It waits in state `waiting` until they have all ended, then
 * runs with each handle replaced by that task's result. If one fails or is cancelled, the
 * dependent ends `failed` (or `cancelled`) with an error naming it, unless it was enqueued
 * with spindle_enqueue_options.run_anyway: then its function receives, in place of that
 * result, a dependency error that spindle_arg_dep_error() reads.
 *
 * In msgpack terms (for producers in other languages, and for spindle_enqueue_msgpack()
 * callers): a handle is an ext value of type SPINDLE_EXT_TASK_REF whose payload is the 36-byte
 * task id followed by the queue name; a dependency error is an ext of type
 * SPINDLE_EXT_DEP_ERROR whose payload is the error text. */
#ifndef SPINDLE_DEPS_H
#define SPINDLE_DEPS_H

#include <stddef.h>

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPINDLE_EXT_TASK_REF 1
#define SPINDLE_EXT_DEP_ERROR 2

/* Most distinct dependencies one task may have: enough for any fan-in, small enough that
 * one enqueue script call stays short. */
#define SPINDLE_MAX_DEPS 1000

/* 1 if arg is a dependency error (the dependency failed or was cancelled and the task was
 * enqueued with run_anyway): *msg and *len (may be NULL) receive its text, not
 * NUL-terminated, borrowed like arg. 0 for any other value (*msg, *len untouched). */
int spindle_arg_dep_error(const msgpack_object *arg, const char **msg, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
