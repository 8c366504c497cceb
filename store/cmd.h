/* A Redis command under construction: an argv/argvlen pair that grows as arguments are
 * pushed, with an arena for the decimal text of numeric arguments. The arena is made of
 * chunks that never move, so pointers already pushed stay valid while more are added. */
#ifndef SPINDLE_STORE_CMD_H
#define SPINDLE_STORE_CMD_H

#include <stddef.h>

typedef struct spindle_cmd_chunk spindle_cmd_chunk;

typedef struct spindle_cmd {
    const char **argv;
    size_t *lens;
    int argc, cap;
    spindle_cmd_chunk *chunks;
    int oom;
} spindle_cmd;

void spindle_cmd_init(spindle_cmd *c);
/* Empties the command for reuse, keeping its memory. */
void spindle_cmd_reset(spindle_cmd *c);
void spindle_cmd_free(spindle_cmd *c);
/* Pushes p[0..len) (borrowed until the command is sent). */
void spindle_cmd_push(spindle_cmd *c, const void *p, size_t len);
/* Pushes a NUL-terminated string (borrowed). */
void spindle_cmd_str(spindle_cmd *c, const char *s);
/* Pushes the decimal text of v (copied into the arena). */
void spindle_cmd_long(spindle_cmd *c, long long v);
/* Pushes a copy of p[0..len) (into the arena). */
void spindle_cmd_copy(spindle_cmd *c, const void *p, size_t len);
/* 1 if an allocation failed since init/reset: the command must not be sent. */
int spindle_cmd_failed(const spindle_cmd *c);

#endif
