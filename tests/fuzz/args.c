/* Fuzz target "args": the argument builder (common/args.c, include/spindle/args.h).
 *
 * Input is a program for the builder, one operation per byte (low 4 bits: which append;
 * high bits and the following bytes: its operand), as a producer's code could call it in any
 * order: values, strings and bins of any length, arrays and maps of any declared size,
 * containers left open or overfilled, nesting as deep as it goes. Whatever the builder
 * hands out from spindle_args_data() must be what a worker accepts: the bounds check with
 * the worker's depth limit passes, and it decodes whole into an array. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/msgpack_check.h"
#include "spindle/args.h"
#include "spindle/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spindle_args *a = spindle_args_new();
    if (a == NULL)
        return 0;
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
        uint32_t arg = op >> 4;
        size_t left = size - i;
        switch (op & 15) {
        case 0:
            spindle_args_int(a, (int64_t)arg - 8);
            break;
        case 1:
            spindle_args_uint(a, UINT64_MAX - arg);
            break;
        case 2:
            spindle_args_double(a, arg / 3.0);
            break;
        case 3:
            spindle_args_bool(a, (int)(arg & 1));
            break;
        case 4:
            spindle_args_nil(a);
            break;
        case 5: /* a string of the next arg bytes (fewer if the input ends) */
            arg = arg < left ? arg : (uint32_t)left;
            spindle_args_strn(a, (const char *)data + i, arg);
            i += arg;
            break;
        case 6:
            arg = arg < left ? arg : (uint32_t)left;
            spindle_args_bin(a, data + i, arg);
            i += arg;
            break;
        case 7:
            spindle_args_array(a, arg);
            break;
        case 8:
            spindle_args_map(a, arg);
            break;
        case 9:
            spindle_args_str(a, "x");
            break;
        case 10: { /* the output so far, mid-way: it must be valid or refused */
            const char *out;
            size_t len;
            if (spindle_args_data(a, &out, &len) == SPINDLE_OK &&
                spindle_msgpack_check(out, len, SPINDLE_MSGPACK_MAX_DEPTH) != NULL)
                abort();
            break;
        }
        default:
            spindle_args_array(a, 1);
            break;
        }
    }
    const char *out;
    size_t len;
    if (spindle_args_data(a, &out, &len) == SPINDLE_OK) {
        if (spindle_msgpack_check(out, len, SPINDLE_MSGPACK_MAX_DEPTH) != NULL)
            abort(); /* the builder made args every worker refuses */
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        if (msgpack_unpack_next(&u, out, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
            u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != spindle_args_count(a))
            abort();
        msgpack_unpacked_destroy(&u);
    }
    spindle_args_free(a);
    return 0;
}
