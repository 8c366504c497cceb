/* Processor pairs: code that runs on the caller's side around a task, so that a caller passes
 * its own inputs and reads its own kind of output while the worker's function sees plain
 * arguments.
 *
 * A pair is registered on a client under a function name:
 *  - the pre-function turns the caller's inputs (a msgpack array) into the task's arguments,
 *    and may keep a little static info (one msgpack value, at most SPINDLE_PINFO_MAX bytes)
 *    that the post-function will need, e.g. the size a picture must be cropped back to;
 *  - the post-function turns the task's raw result, plus that static info, into what the
 *    caller reads.
 * spindle_enqueue_processed() runs the pre-function and enqueues the function (routed like
 * spindle_enqueue(): see routing.h) with the static info and the processor's name stored in
 * the task hash (fields `pinfo` and `proc`, docs/PROTOCOL.md). spindle_wait_processed() waits
 * like spindle_wait() and applies the post-function of the name the task carries. Because the
 * static info travels with the task in Redis, any process that registered the same pair can
 * post-process the result: open the handle by id (spindle_handle_open()) and wait on it.
 * spindle_wait() on such a task returns the raw result, untouched.
 *
 * The functions run on the caller's thread, inside the call, with the caller's client; they
 * must not call the client themselves. */
#ifndef SPINDLE_PROCESSOR_H
#define SPINDLE_PROCESSOR_H

#include <msgpack.h>

#include "spindle/args.h"
#include "spindle/client.h"
#include "spindle/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest static info accepted, in bytes: "a little" info kept in every task's hash; bulky
 * data belongs in the arguments. */
#define SPINDLE_PINFO_MAX (64u << 10)

/* One call of a pre- or post-function: what it may ask and how it fails. */
typedef struct spindle_proc_call spindle_proc_call;

/* Records why the call failed (printf-style) and returns SPINDLE_ERR_INVALID, so that a
 * function fails with `return spindle_proc_fail(call, "width %d is negative", w);`. The caller
 * of enqueue or wait reads "processor 'NAME': pre-function failed: MESSAGE". */
int spindle_proc_fail(spindle_proc_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The processor's name, borrowed for the call. */
const char *spindle_proc_name(const spindle_proc_call *call);

/* Packs the task's arguments into args: exactly one array, or nothing for no arguments. May
 * pack the static info into info: exactly one value, or nothing for none (the post-function
 * then sees nil). inputs is borrowed for the call. Returns SPINDLE_OK, or a failure
 * (spindle_proc_fail() for a message): nothing is enqueued. */
typedef int (*spindle_pre_fn)(spindle_proc_call *call, const msgpack_object *inputs,
                              msgpack_packer *args, msgpack_packer *info, void *userdata);
/* Packs into out what the caller reads, from the task's result and the static info (nil if
 * none), both borrowed for the call: exactly one value, or nothing for nil. Returns
 * SPINDLE_OK or a failure, as above. Runs only for a task that succeeded. */
typedef int (*spindle_post_fn)(spindle_proc_call *call, const msgpack_object *result,
                               const msgpack_object *info, msgpack_packer *out, void *userdata);

/* Registers pre and post under name (a function name) on c; userdata is passed to both and
 * borrowed for the life of c. Either function may be NULL: no pre-function passes the inputs
 * as the arguments with no static info; no post-function returns the raw result.
 * SPINDLE_ERR_INVALID for a bad name, a name already registered on c, or both NULL. */
int spindle_processor_register(spindle_client *c, const char *name, spindle_pre_fn pre,
                               spindle_post_fn post, void *userdata);

/* Runs the pre-function of processor name on inputs (NULL: an empty array), then enqueues the
 * function name with the arguments it made, as spindle_enqueue() does (same options, same
 * routing), recording the processor's name and the static info in the task. On success *out
 * (if not NULL) receives a handle the caller frees with spindle_handle_free().
 * SPINDLE_ERR_INVALID if no processor name is registered on c, or the pre-function failed or
 * packed something other than one array (args) or one value (info): the message names the
 * processor. SPINDLE_ERR_TOO_LARGE for static info over SPINDLE_PINFO_MAX. Nothing is
 * enqueued on any failure before Redis is reached. */
int spindle_enqueue_processed(spindle_client *c, const char *name, spindle_args *inputs,
                              const spindle_enqueue_options *opts, spindle_handle **out);

/* Waits like spindle_wait() (same timeout and returns), then, for a task that succeeded,
 * applies the post-function of the processor the task names, with the task's static info:
 * *out holds what it packed. A failed or cancelled task is returned as spindle_wait() returns
 * it. Before waiting: SPINDLE_ERR_NOT_FOUND for an unknown or expired task,
 * SPINDLE_ERR_INVALID for a task enqueued without a processor or whose processor is not
 * registered on c. After: SPINDLE_ERR_INVALID (and *out NULL) if the post-function failed or
 * packed more than one value; SPINDLE_ERR_PROTOCOL for static info in Redis that is not one
 * msgpack value. The message names the processor and the task. One round trip more than
 * spindle_wait(). Caller frees *out with spindle_result_free(). */
int spindle_wait_processed(spindle_client *c, const spindle_handle *h, long timeout_ms,
                           spindle_result **out);

#ifdef __cplusplus
}
#endif
#endif
