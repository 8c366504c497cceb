/* Argument builder: packs a task's positional arguments as one msgpack array without the
 * caller touching msgpack.
 *
 * Values are appended in order. spindle_args_array(a, n) and spindle_args_map(a, n) open a
 * container whose next n values (2n for a map: key, value, key, value…) belong to it.
 * Containers nest. Errors stick: after a failed call every later call returns the same
 * status, and spindle_args_data() reports it, so a chain of appends needs one check at the
 * end. */
#ifndef SPINDLE_ARGS_H
#define SPINDLE_ARGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spindle_args spindle_args;
typedef struct spindle_handle spindle_handle; /* client.h */

/* A new empty argument list. Caller frees with spindle_args_free(). NULL if out of memory. */
spindle_args *spindle_args_new(void);
/* Frees the builder and the buffer spindle_args_data() returned. NULL is a no-op. */
void spindle_args_free(spindle_args *a);

int spindle_args_int(spindle_args *a, int64_t v);
int spindle_args_uint(spindle_args *a, uint64_t v);
int spindle_args_double(spindle_args *a, double v);
int spindle_args_bool(spindle_args *a, int v);
int spindle_args_nil(spindle_args *a);
/* A NUL-terminated UTF-8 string; s is copied. */
int spindle_args_str(spindle_args *a, const char *s);
/* A string of len bytes; s is copied. */
int spindle_args_strn(spindle_args *a, const char *s, size_t len);
/* Raw bytes (msgpack bin); p is copied. */
int spindle_args_bin(spindle_args *a, const void *p, size_t len);
/* Opens an array of n elements, or a map of n key-value pairs. */
int spindle_args_array(spindle_args *a, uint32_t n);
int spindle_args_map(spindle_args *a, uint32_t n);

/* Another task's handle, as a dependency (spindle/deps.h): the task enqueued with these
 * arguments waits until that task has ended and receives its result in this place. h is
 * borrowed during the call (its id and queue are copied). */
int spindle_args_handle(spindle_args *a, const spindle_handle *h);

/* The packed msgpack array. Returns SPINDLE_OK and sets data and len (borrowed until the next
 * append or spindle_args_free()), SPINDLE_ERR_INVALID if a container is still open, or the
 * sticky error of an earlier call. */
int spindle_args_data(spindle_args *a, const char **data, size_t *len);

/* Number of top-level arguments appended so far. */
size_t spindle_args_count(const spindle_args *a);

#ifdef __cplusplus
}
#endif
#endif
