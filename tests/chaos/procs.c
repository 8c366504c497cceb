/* Processes of the chaos check (procs.h). */
#include "procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
/* The driver starts one redis-server and two supervisors at a time. */
#define MAX_TRACKED 16

static volatile pid_t tracked[MAX_TRACKED];

static void track(pid_t pid)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] == 0) {
            tracked[i] = pid;
            return;
        }
    fprintf(stderr, "chaos: more than %d processes at once\n", MAX_TRACKED);
    kill(pid, SIGKILL);
    exit(3);
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] == pid)
            tracked[i] = 0;
}

int64_t procs_ms(void)
{
    return spindle_mono_ms();
}

void procs_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int procs_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

pid_t procs_spawn(const char *const *argv, const char *logfile)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "chaos: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        track(pid);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);           /* the driver died before prctl took effect */
    signal(SIGPIPE, SIG_DFL); /* the driver ignores it; exec keeps an ignored signal ignored */
    int in = open("/dev/null", O_RDONLY);
    int out = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "chaos: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int procs_exited(pid_t pid, int *status)
{
    if (pid <= 0)
        return 1;
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0)
        return 0;
    untrack(pid);
    if (status)
        *status = st;
    return 1;
}

/* Every function taking a PID refuses 0 and negative ones: kill(0) and kill(-1) would reach
 * the driver's process group or every process it may signal. */
void procs_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    untrack(pid);
}

int procs_stop(pid_t pid, long timeout_ms)
{
    if (pid <= 0)
        return 1;
    kill(pid, SIGTERM);
    int64_t deadline = procs_ms() + timeout_ms;
    while (procs_ms() < deadline) {
        if (procs_exited(pid, NULL))
            return 1;
        procs_sleep_ms(10);
    }
    procs_kill(pid);
    return 0;
}

/* The parent of pid and whether it is a zombie, from /proc/PID/stat; -1 if it is gone. */
static pid_t parent_of(pid_t pid, int *zombie)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so parse from the
     * last ')'. */
    const char *p = strrchr(buf, ')');
    char state;
    long ppid;
    if (p == NULL || sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
        return -1;
    if (zombie)
        *zombie = state == 'Z' || state == 'X';
    return (pid_t)ppid;
}

int procs_children(pid_t parent, pid_t *out, int max)
{
    if (parent <= 0)
        return 0;
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while (n < max && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        int zombie = 0;
        if (parent_of((pid_t)pid, &zombie) == parent && !zombie)
            out[n++] = (pid_t)pid;
    }
    closedir(d);
    return n;
}

int procs_kill_child(pid_t pid, pid_t parent)
{
    if (pid <= 0 || parent <= 0)
        return -1;
#ifdef SYS_pidfd_open
    /* Opened first, checked second: if the pidfd's process were gone and its PID reused,
     * the signal below would fail instead of reaching the newcomer. */
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno != ENOSYS)
        return -1;
#else
    int fd = -1;
#endif
    int rc = -1;
    if (parent_of(pid, NULL) == parent) {
#ifdef SYS_pidfd_send_signal
        if (fd >= 0)
            rc = (int)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
        else
#endif
            rc = kill(pid, SIGKILL); /* a kernel without pidfds (before 5.3) */
    }
    // cppcheck-suppress knownConditionTrueFalse ; always false only without SYS_pidfd_send_signal
    if (fd >= 0)
        close(fd);
    return rc == 0 ? 0 : -1;
}

void procs_kill_all(void)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] > 0)
            kill(tracked[i], SIGKILL);
}
