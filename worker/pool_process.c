/* Process slots (pool.h): fork, and reap with waitpid().
 *
 * A child dies with its supervisor (PR_SET_PDEATHSIG): a supervisor killed with SIGKILL
 * leaves no orphan slot running tasks that nobody can time out; its children's tasks are
 * recovered by the fleet's sweep once their heartbeats expire. Children ignore SIGINT and
 * SIGTERM: a Ctrl-C reaches the whole process group, and the supervisor alone decides how the
 * pool stops (the stop flag in the shared table, then SIGKILL after the shutdown timeout). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "worker/pool.h"

spindle_slot_state *pool_table_new(size_t n, int shared)
{
    size_t bytes = n * sizeof(spindle_slot_state);
    spindle_slot_state *t;
    if (shared) {
        t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED)
            return NULL;
    } else {
        t = malloc(bytes);
        if (t == NULL)
            return NULL;
    }
    for (size_t i = 0; i < n; i++)
        spindle_slot_state_reset(&t[i]);
    return t;
}

void pool_table_free(spindle_slot_state *table, size_t n, int shared)
{
    if (table == NULL)
        return;
    if (shared)
        munmap(table, n * sizeof(spindle_slot_state));
    else
        free(table);
}

int pool_process_start(pool_slot *ps, const spindle_slot_config *cfg, pid_t supervisor,
                       spindle_error *err)
{
    spindle_slot_state_reset(ps->st);
    pid_t pid = fork();
    if (pid < 0)
        return spindle_error_set(err, SPINDLE_ERR_IO, "fork of a worker slot failed: %s",
                                 strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != supervisor)
            _exit(1); /* the supervisor died before the line above took effect */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        if (cfg->supervisor_fd >= 0)
            close(cfg->supervisor_fd);
        if (cfg->metrics_fd >= 0)
            close(cfg->metrics_fd);
        int rc = spindle_slot_run(cfg, ps->st);
        _exit(rc == SPINDLE_OK ? 0 : 1);
    }
    ps->pid = pid;
    ps->alive = 1;
    ps->started_ms = spindle_mono_ms();
    ps->timed_out = 0;
    ps->stalled = 0;
    return SPINDLE_OK;
}

int pool_process_reap(pool_slot *slots, size_t n, int block, int *status)
{
    for (;;) {
        pid_t pid = waitpid(-1, status, block ? 0 : WNOHANG);
        if (pid <= 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (slots[i].alive && slots[i].pid == pid) {
                slots[i].alive = 0;
                return (int)i;
            }
        /* not ours (a library user's child): keep looking */
    }
}
