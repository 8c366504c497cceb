/* Fuzz target "argtype": the CLI's typing of task arguments (cli/argtype.c).
 *
 * Input is the argument words of `spindle enqueue QUEUE FUNC WORDS...` (or of a worker's
 * --cron line), split at NUL bytes: numbers of every shape, "true"/"null", floats that
 * strtod() half accepts, text that is not UTF-8. Each word is typed and appended; the packed
 * args must be one msgpack array of as many values, which a worker accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "cli/argtype.h"
#include "common/msgpack_check.h"
#include "spindle/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    spindle_args *a = spindle_args_new();
    if (text == NULL || a == NULL) {
        free(text);
        spindle_args_free(a);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    size_t words = 0;
    for (char *w = text; w <= text + size; w += strlen(w) + 1) {
        if (spindle_cli_type_arg(a, w) != SPINDLE_OK)
            abort();
        words++;
    }
    const char *out;
    size_t len;
    if (spindle_args_data(a, &out, &len) != SPINDLE_OK ||
        spindle_msgpack_check(out, len, SPINDLE_MSGPACK_MAX_DEPTH) != NULL)
        abort();
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, out, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
        u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != words)
        abort();
    msgpack_unpacked_destroy(&u);
    spindle_args_free(a);
    free(text);
    return 0;
}
