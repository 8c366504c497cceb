/* The error record every Spindle object keeps: a status code and a message that names what
 * failed and with which input. Setting it returns the code, so a failing path is one line:
 *     return spindle_error_set(err, SPINDLE_ERR_INVALID, "queue name '%s' ...", name); */
#ifndef SPINDLE_COMMON_ERROR_H
#define SPINDLE_COMMON_ERROR_H

#include <stdarg.h>

/* 512 bytes: room for a message quoting a 128-byte name and a Redis error line. */
#define SPINDLE_ERROR_MAX 512

typedef struct spindle_error {
    int code;
    char msg[SPINDLE_ERROR_MAX];
} spindle_error;

/* Records code and the printf-style message (truncated to fit) and returns code. */
int spindle_error_set(spindle_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spindle_error_vset(spindle_error *e, int code, const char *fmt, va_list ap);
/* Prefixes the current message with more context ("enqueue 'add': " + msg); returns code. */
int spindle_error_wrap(spindle_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void spindle_error_clear(spindle_error *e);

#endif
