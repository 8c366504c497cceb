/* Fuzz target "msgpack": args and results as bytes read from Redis.
 *
 * Input is one payload as stored in a task hash (`args`, `result`, an item, a `dep:ID`
 * outcome): any bytes, typically msgpack that is deeply nested, declares huge lengths or is
 * cut short. It goes through what reads such bytes: the bounds check every reader runs first
 * (common/msgpack_check.c), then, when the check accepts it, msgpack-c's decoder (which must
 * then succeed and consume every byte: the check's promise), the CLI's msgpack-to-JSON
 * conversion of results (cli/json.c), the dependency refs collected from args and replaced by
 * outcomes (common/deps.c), and spindle_arg_dep_error() on each argument. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "cli/json.h"
#include "common/deps.h"
#include "common/msgpack_check.h"
#include "spindle/deps.h"
#include "spindle/status.h"

/* A dependency's result: [1, 2, 3]. */
static const char dep_result[] = "\x93\x01\x02\x03";

static void deps(const msgpack_object *o, int anyway)
{
    spindle_dep_ref *refs = NULL;
    size_t n = 0;
    spindle_error err = {0};
    if (spindle_deps_collect(o, &refs, &n, &err) != SPINDLE_OK || n == 0) {
        free(refs);
        return;
    }
    spindle_dep_outcome *outs = calloc(n, sizeof(*outs));
    if (outs == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 0)
            outs[i] = (spindle_dep_outcome){'s', dep_result, sizeof(dep_result) - 1};
        else if (i % 3 == 1)
            outs[i] = (spindle_dep_outcome){'f', "boom", 4};
        /* every third has not ended: tag 0 */
    }
    msgpack_zone zone;
    msgpack_zone_init(&zone, 1024);
    msgpack_object sub;
    if (spindle_deps_substitute(o, refs, outs, n, anyway, &zone, &sub, &err) == SPINDLE_OK) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_object(&pk, sub);
        msgpack_sbuffer_destroy(&sb);
    }
    msgpack_zone_destroy(&zone);
    free(outs);
    free(refs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    int refs = -1;
    const char *bad = spindle_msgpack_check_refs(buf, size, SPINDLE_MSGPACK_MAX_DEPTH, &refs);
    if (bad != NULL || size == 0)
        return 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&u, buf, size, &off);
    /* What the check accepts, the decoder must decode whole. */
    if (r != MSGPACK_UNPACK_SUCCESS || off != size)
        abort();
    json_t *j = spindle_msgpack_to_json(&u.data);
    if (j) {
        char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        free(text);
        json_decref(j);
    }
    deps(&u.data, (int)(size & 1));
    if (u.data.type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < u.data.via.array.size; i++) {
            const char *msg;
            size_t len;
            spindle_arg_dep_error(&u.data.via.array.ptr[i], &msg, &len);
        }
    msgpack_unpacked_destroy(&u);
    return 0;
}
