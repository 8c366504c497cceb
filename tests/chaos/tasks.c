/* The chaos check's task library: build/lib/spindle-chaos-tasks.so (see chaos.c).
 *
 *   chaos_step US   appends its task id and a newline to the file named by
 *                   $SPINDLE_CHAOS_LOG, then sleeps US microseconds; returns nil.
 *
 * The log line is written first, before the work, so that every run that started is counted,
 * including one killed in its sleep: the driver counts a task that ran more than once from
 * this file. Each line is one write(2) on an O_APPEND descriptor, so lines from concurrent
 * processes never interleave, and a process killed in the middle of its task leaves either
 * its whole line or none. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spindle/worker.h"

/* The log, opened on first use in each slot process (a slot is forked from its supervisor,
 * which never runs a task). */
static int log_fd = -1;

static int task_chaos_step(spindle_task_ctx *ctx, const msgpack_object *args,
                           msgpack_packer *result)
{
    (void)result;
    if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return spindle_task_fail(ctx, "chaos_step: expects one non-negative integer (us)");
    if (log_fd < 0) {
        const char *path = getenv("SPINDLE_CHAOS_LOG");
        if (path == NULL || *path == '\0')
            return spindle_task_fail(ctx, "chaos_step: SPINDLE_CHAOS_LOG is not set");
        log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (log_fd < 0)
            return spindle_task_fail(ctx, "chaos_step: open %s: %s", path, strerror(errno));
    }
    char line[64];
    int len = snprintf(line, sizeof(line), "%s\n", spindle_task_id(ctx));
    if (len <= 0 || (size_t)len >= sizeof(line) || write(log_fd, line, (size_t)len) != len)
        return spindle_task_fail(ctx, "chaos_step: writing the log: %s", strerror(errno));
    uint64_t us = args->via.array.ptr[0].via.u64;
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return SPINDLE_OK;
}

int spindle_register_tasks(spindle_registry *reg);
int spindle_register_tasks(spindle_registry *reg)
{
    return spindle_registry_add(reg, "chaos_step", task_chaos_step, NULL);
}
