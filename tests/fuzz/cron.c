/* Fuzz target "cron": cron specs and worker --cron lines (common/cron.c).
 *
 * Input is a spec as `spindle cron add` or a worker's --cron flag receives it ("*\/15 * * * *",
 * "@every 1h30m", "0 0 L * MON-FRI"...), NUL-terminated. A spec the parser accepts must fire:
 * its next tick after a time taken from the input lies strictly after it, and the ticks due
 * are in order and within the window asked. The same text is also split as a whole
 * "NAME=SPEC FUNC ARGS" line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cron.h"
#include "spindle/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* A time between 1970 and about 2100, from the input's bytes. */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    int64_t after = (int64_t)(h % 4102444800000ULL);
    spindle_cron_spec s;
    spindle_error err = {0};
    if (spindle_cron_parse(text, &s, &err) == SPINDLE_OK) {
        int64_t next = spindle_cron_next(&s, after);
        if (next != -1 && next <= after)
            abort();
        int64_t out[4];
        size_t n = 0;
        int64_t now = after + (int64_t)(h >> 40) * 1000;
        spindle_cron_due(&s, after, now, 60000, 3, out, 4, &n);
        if (n > 4)
            abort();
        for (size_t i = 0; i < n; i++)
            if (out[i] <= after || out[i] > now || (i > 0 && out[i] <= out[i - 1]))
                abort();
    }
    char *name, *func, *args[8];
    char spec_buf[SPINDLE_CRON_SPEC_MAX];
    size_t nargs;
    spindle_cron_split_line(text, &name, spec_buf, &func, args, 8, &nargs, &err);
    free(text);
    return 0;
}
