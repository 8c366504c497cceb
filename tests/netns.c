/* Network-namespace "hosts" for the many-hosts suite (see netns.h): the topology is built and
 * torn down with the `ip` program, so that what the test does is what an operator would type,
 * and processes join a host with setns(2) before exec, so that the test owns their PIDs. */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* How long one `ip` command may take. */
#define IP_TIMEOUT_MS 10000

static const char *const ip_paths[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};

/* The net the atexit handler deletes, and the namespace netns_enter() left. */
static netns_net *live;
static pid_t owner; /* the process that registered at_exit(): a forked child deletes nothing */
static int saved_ns = -1;

static const char *ip_path(void)
{
    for (size_t i = 0; i < sizeof(ip_paths) / sizeof(ip_paths[0]); i++)
        if (access(ip_paths[i], X_OK) == 0)
            return ip_paths[i];
    return NULL;
}

int netns_usable(char *why, size_t cap)
{
    if (geteuid() != 0) {
        snprintf(why, cap, "not root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)");
        return 0;
    }
    if (ip_path() == NULL) {
        snprintf(why, cap, "no `ip` program (iproute2) in /usr/sbin, /sbin, /usr/bin or /bin");
        return 0;
    }
    return 1;
}

/* Runs `ip ARGS...` (NULL-terminated, at most 14). 0 if it exited 0; else -1 with the command
 * and its message in err. */
static int ip(char *err, size_t cap, ...)
{
    const char *argv[16] = {ip_path()};
    int argc = 1;
    va_list ap;
    va_start(ap, cap);
    for (const char *a; argc < 15 && (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    harness_output out = {0};
    int rc = harness_run((char *const *)argv, IP_TIMEOUT_MS, &out);
    if (rc == 0 && out.code == 0) {
        harness_output_free(&out);
        return 0;
    }
    if (err) {
        for (size_t n = out.err ? strlen(out.err) : 0; n > 0 && (out.err[n - 1] == '\n');)
            out.err[--n] = '\0';
        size_t used = (size_t)snprintf(err, cap, "ip");
        for (int i = 1; i < argc && used < cap; i++)
            used += (size_t)snprintf(err + used, cap - used, " %s", argv[i]);
        if (used < cap)
            snprintf(err + used, cap - used, ": %s (exit %d)",
                     out.err && *out.err ? out.err : "no message", out.code);
    }
    harness_output_free(&out);
    return -1;
}

static void at_exit(void)
{
    if (getpid() != owner)
        return;
    netns_leave();
    if (live)
        netns_destroy(live);
}

/* Host i: a namespace, a veth pair from the switch's bridge to its eth0, an address. */
static int add_host(netns_net *net, int i, char *err, size_t cap)
{
    char port[16], cidr[32];
    snprintf(net->host[i], sizeof(net->host[i]), "%s-h%d", net->base, i + 1);
    snprintf(net->addr[i], sizeof(net->addr[i]), "10.77.0.%d", i + 1);
    snprintf(port, sizeof(port), "h%d", i + 1);
    snprintf(cidr, sizeof(cidr), "%s/24", net->addr[i]);
    if (ip(err, cap, "netns", "add", net->host[i], NULL) != 0)
        return -1;
    net->nhosts = i + 1;
    if (ip(err, cap, "-n", net->sw, "link", "add", port, "type", "veth", "peer", "name", "eth0",
           "netns", net->host[i], NULL) != 0 ||
        ip(err, cap, "-n", net->sw, "link", "set", port, "master", "br0", "up", NULL) != 0 ||
        ip(err, cap, "-n", net->host[i], "addr", "add", cidr, "dev", "eth0", NULL) != 0 ||
        ip(err, cap, "-n", net->host[i], "link", "set", "eth0", "up", NULL) != 0 ||
        ip(err, cap, "-n", net->host[i], "link", "set", "lo", "up", NULL) != 0)
        return -1;
    return 0;
}

int netns_create(netns_net *net, int n, int *refused, char *err, size_t cap)
{
    memset(net, 0, sizeof(*net));
    *refused = 0;
    if (n < 1 || n > NETNS_MAX_HOSTS) {
        snprintf(err, cap, "netns_create: %d hosts (1-%d)", n, NETNS_MAX_HOSTS);
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(net->base, sizeof(net->base), "spx%ldx%04lx", (long)getpid(),
             (unsigned long)((ts.tv_nsec ^ ts.tv_sec) & 0xffff));
    snprintf(net->sw, sizeof(net->sw), "%s-s", net->base);
    static int registered;
    if (!registered) {
        owner = getpid();
        atexit(at_exit);
        registered = 1;
    }
    live = net;
    if (ip(err, cap, "netns", "add", net->sw, NULL) != 0) {
        *refused = 1;
        live = NULL;
        return -1;
    }
    net->have_sw = 1;
    if (ip(err, cap, "-n", net->sw, "link", "add", "br0", "type", "bridge", NULL) != 0 ||
        ip(err, cap, "-n", net->sw, "link", "set", "br0", "up", NULL) != 0)
        goto fail;
    for (int i = 0; i < n; i++)
        if (add_host(net, i, err, cap) != 0)
            goto fail;
    return 0;
fail:
    netns_destroy(net);
    return -1;
}

void netns_destroy(netns_net *net)
{
    char err[512];
    for (int i = net->nhosts - 1; i >= 0; i--)
        if (ip(err, sizeof(err), "netns", "delete", net->host[i], NULL) != 0)
            fprintf(stderr, "\n  netns: %s\n", err);
    net->nhosts = 0;
    if (net->have_sw && ip(err, sizeof(err), "netns", "delete", net->sw, NULL) != 0)
        fprintf(stderr, "\n  netns: %s\n", err);
    net->have_sw = 0;
    if (live == net)
        live = NULL;
}

int netns_link(const netns_net *net, int i, int up)
{
    char port[16], err[512];
    snprintf(port, sizeof(port), "h%d", i + 1);
    if (ip(err, sizeof(err), "-n", net->sw, "link", "set", port, up ? "up" : "down", NULL) != 0) {
        fprintf(stderr, "\n  netns: %s\n", err);
        return -1;
    }
    return 0;
}

/* Joins the named namespace: 0, or -1 with errno set. */
static int join(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "/var/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = setns(fd, CLONE_NEWNET);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

pid_t netns_spawn(const netns_net *net, int i, const char *const *argv, const char *logfile)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, 0);
        close(fd);
    }
    fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    if (join(net->host[i]) != 0) {
        fprintf(stderr, "netns: joining %s: %s\n", net->host[i], strerror(errno));
        _exit(125);
    }
    unsetenv("SPINDLE_REDIS_URL");
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "netns: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int netns_stop(pid_t pid, long timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    int64_t deadline = harness_ms() + timeout_ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 0;
        if (harness_ms() >= deadline)
            break;
        harness_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

int netns_enter(const netns_net *net, int i)
{
    if (saved_ns < 0) {
        saved_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (saved_ns < 0)
            return -1;
    }
    return join(net->host[i]);
}

void netns_leave(void)
{
    if (saved_ns < 0)
        return;
    if (setns(saved_ns, CLONE_NEWNET) != 0)
        fprintf(stderr, "\n  netns: back to the first namespace: %s\n", strerror(errno));
    close(saved_ns);
    saved_ns = -1;
}
