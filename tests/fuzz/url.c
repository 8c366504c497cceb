/* Fuzz target "url": Redis URLs as a user types them (common/url.c).
 *
 * Input is the text of a --redis / SPINDLE_REDIS_URL value: redis://user:pass@host:port/db,
 * [IPv6] hosts, unix:///path?db=&user=&password=, percent-escapes, and anything else. It is
 * parsed, and redacted into buffers of several sizes (messages quote URLs with the password
 * hidden); the parsed fields must be NUL-terminated within their arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/url.h"
#include "spindle/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    spindle_url u;
    spindle_error err = {0};
    if (spindle_url_parse(text, &u, &err) == SPINDLE_OK) {
        if (memchr(u.host, 0, sizeof(u.host)) == NULL ||
            memchr(u.path, 0, sizeof(u.path)) == NULL ||
            memchr(u.user, 0, sizeof(u.user)) == NULL ||
            memchr(u.password, 0, sizeof(u.password)) == NULL || u.port < 0 || u.port > 65535)
            abort();
    } else if (memchr(err.msg, 0, sizeof(err.msg)) == NULL) {
        abort();
    }
    static const size_t caps[] = {1, 7, 64, 4096};
    char out[4096];
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        spindle_url_redact(text, out, caps[i]);
        if (memchr(out, 0, caps[i]) == NULL)
            abort();
    }
    free(text);
    return 0;
}
