/* The chaos check's processes: start them, find a supervisor's children, kill and stop them,
 * all by PID.
 *
 * Every process started here is tracked until it is reaped, so that procs_kill_all() (from
 * an exit, a signal or the watchdog) leaves nothing behind; each also gets PR_SET_PDEATHSIG,
 * so that a driver killed with SIGKILL leaves nothing either. A supervisor's children are
 * not ours: they are found through /proc and killed only while they are still its children. */
#ifndef SPINDLE_CHAOS_PROCS_H
#define SPINDLE_CHAOS_PROCS_H

#include <stdint.h>
#include <sys/types.h>

/* Monotonic milliseconds, and a sleep that resumes after signals. */
int64_t procs_ms(void);
void procs_sleep_ms(long ms);

/* A loopback TCP port that was free a moment ago; -1 if none could be found. */
int procs_free_port(void);

/* Forks and execs argv (argv[0] looked up in PATH unless it holds a '/') with stdin from
 * /dev/null and stdout and stderr appended to logfile. Returns its PID (tracked), or -1. */
pid_t procs_spawn(const char *const *argv, const char *logfile);

/* waitpid(pid, WNOHANG) for a tracked child: 1 if it has exited (reaped and untracked, its
 * status in *status), 0 if it still runs. */
int procs_exited(pid_t pid, int *status);

/* SIGKILLs a tracked child and reaps it. */
void procs_kill(pid_t pid);

/* SIGTERM, up to timeout_ms for it to exit, then SIGKILL; reaps it. 1 if it exited on its
 * own before the timeout. */
int procs_stop(pid_t pid, long timeout_ms);

/* Fills out[] with up to max live (not zombie) children of parent, found in /proc; returns
 * how many. */
int procs_children(pid_t parent, pid_t *out, int max);

/* SIGKILLs pid if it is, at the instant of the signal, the same process that is a child of
 * parent (a pidfd guards against the PID being reused in between). 0 if the signal was sent,
 * -1 if the process was gone or is no longer parent's. */
int procs_kill_child(pid_t pid, pid_t parent);

/* SIGKILLs every tracked process without waiting. Async-signal-safe. */
void procs_kill_all(void);

#endif
