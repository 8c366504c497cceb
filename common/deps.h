/* Dependencies between tasks, the part producer and worker share (docs/PROTOCOL.md,
 * "Dependencies"): parsing task refs (msgpack ext SPINDLE_EXT_TASK_REF) out of a task's
 * args, and building the args a function receives, each ref replaced by its dependency's
 * outcome. Pure functions over msgpack objects, tested without a server. */
#ifndef SPINDLE_COMMON_DEPS_H
#define SPINDLE_COMMON_DEPS_H

#include <stddef.h>

#include <msgpack.h>

#include "common/error.h"
#include "common/names.h"
#include "spindle/args.h"

/* One dependency named in a task's args. */
typedef struct spindle_dep_ref {
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
} spindle_dep_ref;

/* A dependency's outcome as stored in its dependent's hash (field `dep:ID`): tag 's'
 * (succeeded: data is the result, msgpack), 'f' (failed) or 'c' (cancelled) (data is the
 * error text), or 0 when there is none (the dependency has not ended). data is borrowed. */
typedef struct spindle_dep_outcome {
    char tag;
    const char *data;
    size_t len;
} spindle_dep_outcome;

/* Collects the distinct refs found anywhere in o (arrays and maps, keys included) into
 * *refs (malloc'd, caller frees; NULL when *n is 0), in order of first appearance.
 * SPINDLE_OK, SPINDLE_ERR_INVALID for a malformed ref or more than SPINDLE_MAX_DEPS (err
 * says which), SPINDLE_ERR_NOMEM. */
int spindle_deps_collect(const msgpack_object *o, spindle_dep_ref **refs, size_t *n,
                         spindle_error *err);

/* Builds in *out a copy of in with every ref replaced by its outcome (outs[i] is the outcome
 * of refs[i]): the result value for 's'; with anyway, an ext SPINDLE_EXT_DEP_ERROR holding
 * the text for 'f' and 'c'. New nodes are allocated in zone; unchanged leaves are shared
 * with in. Returns SPINDLE_OK, or SPINDLE_ERR_TASK_FAILED with the message in err (a
 * dependency that failed without anyway, one not ended, a result that is not one msgpack
 * value), or SPINDLE_ERR_NOMEM. */
int spindle_deps_substitute(const msgpack_object *in, const spindle_dep_ref *refs,
                            const spindle_dep_outcome *outs, size_t n, int anyway,
                            msgpack_zone *zone, msgpack_object *out, spindle_error *err);

/* 1 if a handle was appended to a (spindle_args_handle()). */
int spindle_args_has_refs(const spindle_args *a);

#endif
