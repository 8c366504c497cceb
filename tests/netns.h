/* "Hosts" for the many-hosts suite: Linux network namespaces joined by veth links through a
 * bridge in a switch namespace of their own, so that a test can run Redis, workers and a
 * producer on separate network stacks and cut one host's cable, without touching the
 * machine's own namespace. Built with `ip` (iproute2); needs root.
 *
 * Every name carries the test process's PID and a random part, so parallel runs and leftovers
 * of a killed run never clash; everything is deleted again by netns_destroy(), which an
 * atexit handler also runs. Host i (0-based) has address 10.77.0.(i+1)/24 on its eth0. */
#ifndef SPINDLE_TESTS_NETNS_H
#define SPINDLE_TESTS_NETNS_H

#include <stddef.h>
#include <sys/types.h>

#define NETNS_MAX_HOSTS 8

typedef struct netns_net {
    char base[32];                  /* spx<pid>x<random> */
    char sw[48];                    /* the switch namespace: base-s */
    char host[NETNS_MAX_HOSTS][48]; /* base-h1, base-h2, ... */
    char addr[NETNS_MAX_HOSTS][16]; /* 10.77.0.1, ... */
    int nhosts;                     /* hosts created so far */
    int have_sw;                    /* the switch namespace exists */
} netns_net;

/* 1 if namespaces can be built here (root, `ip` found); else 0 with the reason in why. */
int netns_usable(char *why, size_t cap);

/* Creates the switch and n hosts. 0 on success; else -1 with what failed (the ip command and
 * its message) in err, and whatever was created deleted again. refused is set to 1 when the
 * very first `ip netns add` failed (no permission in this container: a reason to skip). */
int netns_create(netns_net *net, int n, int *refused, char *err, size_t cap);
/* Deletes every namespace of net (their processes' sockets and links go with them).
 * Idempotent. */
void netns_destroy(netns_net *net);

/* Cuts (up = 0) or restores (up = 1) host i's cable: its port on the switch goes down, so its
 * packets are silently lost, as with a pulled cable. 0 on success. */
int netns_link(const netns_net *net, int i, int up);

/* Forks a child that joins host i's network namespace and execs argv (argv[0] searched in
 * PATH), with stdout and stderr appended to logfile and SIGKILL when the test process dies.
 * Returns its PID or -1. */
pid_t netns_spawn(const netns_net *net, int i, const char *const *argv, const char *logfile);
/* SIGTERM to a child from netns_spawn(), then SIGKILL after timeout_ms; reaps it. 0 if it
 * exited on its own. */
int netns_stop(pid_t pid, long timeout_ms);

/* Moves the calling thread into host i's network namespace (sockets opened afterwards live
 * there), remembering the one it left. 0 on success. */
int netns_enter(const netns_net *net, int i);
/* Back to the namespace netns_enter() left. Idempotent. */
void netns_leave(void);

#endif
