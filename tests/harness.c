/* The test harness (see harness.h): a private redis-server, worker processes, captured runs
 * of other programs, all owned by PID and all bounded in time.
 *
 * Nothing here kills by name or touches a server it did not start. Children get
 * PR_SET_PDEATHSIG so that even a test run killed with SIGKILL leaves no redis-server or
 * worker behind; the watchdog and the atexit handler cover the other ways out. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

extern char **environ;

/* Attempts at starting redis-server: the free port found by binding port 0 can be taken by
 * someone else before redis-server binds it, so a failed start is retried on a new port. */
#define REDIS_START_ATTEMPTS 5
/* How long redis-server may take to answer PING after exec. */
#define REDIS_START_MS 5000
/* Children the harness tracks at once: a suite starts at most a few workers. */
#define MAX_CHILDREN 64
/* Socket timeout of the harness's own connection. */
#define RAW_TIMEOUT_MS 5000

typedef struct child {
    pid_t pid;
    int reaped;
    int status;
    char queues[512]; /* a worker's queues, comma-separated, to wake it at teardown */
} child;

static struct {
    pid_t owner;
    char dir[128];
    int dir_made;
    int is_unix;
    int port;
    char sock[160];
    char url[200];
    pid_t redis_pid;
    int redis_failed;  /* a failed start is not retried by every suite */
    int redis_stopped; /* by harness_redis_stop(): restarted on the same port */
    redisContext *raw;
    child children[MAX_CHILDREN];
    int nchildren;
    unsigned runs;
} H;

/* ---- time ------------------------------------------------------------------------------- */

int64_t harness_ms(void)
{
    return spindle_mono_ms();
}

void harness_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- children --------------------------------------------------------------------------- */

static child *find_child(pid_t pid)
{
    for (int i = 0; i < H.nchildren; i++)
        if (H.children[i].pid == pid)
            return &H.children[i];
    return NULL;
}

static void track(pid_t pid, const char *queues)
{
    if (H.nchildren == MAX_CHILDREN) {
        /* Drop reaped entries to make room. */
        int j = 0;
        for (int i = 0; i < H.nchildren; i++)
            if (!H.children[i].reaped)
                H.children[j++] = H.children[i];
        H.nchildren = j;
    }
    if (H.nchildren < MAX_CHILDREN) {
        child *c = &H.children[H.nchildren++];
        *c = (child){.pid = pid};
        snprintf(c->queues, sizeof(c->queues), "%s", queues ? queues : "default");
    }
}

/* waitpid with a deadline. 1 if pid exited (status in *status), 0 on timeout. */
static int wait_exit(pid_t pid, long timeout_ms, int *status)
{
    int64_t deadline = harness_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            if (status)
                *status = r == pid ? st : 0;
            return 1;
        }
        if (harness_ms() >= deadline)
            return 0;
        harness_sleep_ms(5);
    }
}

/* SIGTERM, a bounded wait, then SIGKILL and another bounded wait. 1 if it exited on its own. */
static int stop_pid(pid_t pid, long timeout_ms, int *status)
{
    kill(pid, SIGTERM);
    if (wait_exit(pid, timeout_ms, status))
        return 1;
    kill(pid, SIGKILL);
    wait_exit(pid, 2000, status);
    return 0;
}

/* In a freshly forked child: die with the test run, detach stdin. */
static void child_prepare(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126); /* the parent died before prctl took effect */
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, 0);
        close(fd);
    }
}

/* Sends fd 1 and 2 of a child to path (appending). */
static void child_log_to(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
}

/* Forks and execs argv (argv[0] looked up in PATH unless it holds a '/'), its output in
 * logfile, or in DIR/spindle-worker-PID.log when logfile is NULL. The child has no
 * SPINDLE_REDIS_URL, so a program that ignores --redis fails instead of reaching another
 * server. Returns the child's PID, or -1. */
static pid_t spawn(const char *const *argv, const char *logfile)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    child_prepare(parent);
    char log[200];
    if (logfile == NULL) {
        snprintf(log, sizeof(log), "%s/spindle-worker-%ld.log", H.dir, (long)getpid());
        logfile = log;
    }
    child_log_to(logfile);
    unsetenv("SPINDLE_REDIS_URL");
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int harness_child_alive(pid_t pid)
{
    child *c = find_child(pid);
    if (c == NULL || c->reaped)
        return 0;
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0)
        return 1;
    c->reaped = 1;
    c->status = st;
    return 0;
}

int harness_worker_stop(pid_t pid, long timeout_ms, int *status)
{
    child *c = find_child(pid);
    if (c == NULL || pid <= 0)
        return -1;
    if (c->reaped) {
        if (status)
            *status = c->status;
        return 0;
    }
    int st = 0;
    int ok = stop_pid(pid, timeout_ms, &st);
    c->reaped = 1;
    c->status = st;
    if (status)
        *status = st;
    return ok ? 0 : -1;
}

/* Pushes a token onto each wake list of a worker's queues, so that an idle worker returns
 * from its BRPOP at once instead of at the end of its 1 s poll. */
static void nudge(const child *c)
{
    char list[sizeof(c->queues)], key[512];
    snprintf(list, sizeof(list), "%s", c->queues);
    for (char *save = NULL, *q = strtok_r(list, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
        redisReply *r = harness_cmd("LPUSH %s 1", harness_key(key, sizeof(key), q, "wake"));
        if (r)
            freeReplyObject(r);
    }
}

void harness_stop_workers(void)
{
    /* All at once: SIGTERM to every worker, wake them, then collect them. */
    for (int i = 0; i < H.nchildren; i++)
        if (!H.children[i].reaped)
            kill(H.children[i].pid, SIGTERM);
    if (H.redis_pid > 0)
        for (int i = 0; i < H.nchildren; i++)
            if (!H.children[i].reaped)
                nudge(&H.children[i]);
    for (int i = 0; i < H.nchildren; i++)
        if (!H.children[i].reaped)
            harness_worker_stop(H.children[i].pid, 5000, NULL);
    H.nchildren = 0;
}

/* ---- redis-server ----------------------------------------------------------------------- */

static int make_dir(void)
{
    if (H.dir_made)
        return 0;
    const char *tmp = getenv("TMPDIR");
    /* A unix socket path must fit in sun_path (108 bytes): a long TMPDIR falls back to /tmp. */
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 60)
        tmp = "/tmp";
    snprintf(H.dir, sizeof(H.dir), "%s/spindle-test-XXXXXX", tmp);
    if (mkdtemp(H.dir) == NULL) {
        fprintf(stderr, "harness: mkdtemp(%s): %s\n", H.dir, strerror(errno));
        return -1;
    }
    H.dir_made = 1;
    return 0;
}

/* A loopback port that was free a moment ago: bind port 0 and read back what the kernel
 * chose. */
int harness_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static redisContext *connect_raw(long timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    redisContext *rc = H.is_unix ? redisConnectUnixWithTimeout(H.sock, tv)
                                 : redisConnectWithTimeout("127.0.0.1", H.port, tv);
    if (rc && rc->err) {
        redisFree(rc);
        return NULL;
    }
    if (rc) {
        struct timeval cmd = {.tv_sec = RAW_TIMEOUT_MS / 1000, .tv_usec = 0};
        redisSetTimeout(rc, cmd);
    }
    return rc;
}

/* Polls until the server answers PING, or it died, or REDIS_START_MS passed. */
static int await_ping(pid_t pid)
{
    int64_t deadline = harness_ms() + REDIS_START_MS;
    while (harness_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
        redisContext *rc = connect_raw(200);
        if (rc) {
            redisReply *r = redisCommand(rc, "PING");
            int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
            if (r)
                freeReplyObject(r);
            redisFree(rc);
            if (ok)
                return 0;
        }
        harness_sleep_ms(20);
    }
    return -1;
}

static const char *redis_server(void)
{
    const char *server = getenv("SPINDLE_TEST_REDIS_SERVER");
    return server && *server ? server : "redis-server";
}

/* Starts redis-server on H.port (or the unix socket) and waits for its PING. 0 on success,
 * with H.redis_pid set. */
static int launch_redis(void)
{
    char logfile[200], port[16];
    snprintf(logfile, sizeof(logfile), "%s/redis.log", H.dir);
    snprintf(port, sizeof(port), "%d", H.port);
    /* In the foreground (we own its PID), no persistence, files in our dir. A dump.rdb left
     * there by harness_redis_stop(1) is loaded at start. */
    const char *argv[20] = {redis_server(), "--bind",    "127.0.0.1",    "--port",      port,
                            "--save",       "",          "--appendonly", "no",          "--dir",
                            H.dir,          "--logfile", logfile,        "--daemonize", "no"};
    int argc = 15;
    if (H.is_unix) {
        argv[argc++] = "--unixsocket";
        argv[argc++] = H.sock;
        argv[argc++] = "--unixsocketperm";
        argv[argc++] = "700";
    }
    argv[argc] = NULL;
    pid_t pid = spawn(argv, logfile);
    if (pid < 0)
        return -1;
    H.redis_pid = pid;
    if (await_ping(pid) == 0)
        return 0;
    stop_pid(pid, 2000, NULL);
    H.redis_pid = 0;
    return -1;
}

static int start_redis(void)
{
    if (H.redis_pid > 0)
        return 0;
    if (H.redis_stopped)
        return harness_redis_restart();
    if (H.redis_failed || make_dir() != 0)
        return -1;
    H.is_unix = getenv("SPINDLE_TEST_UNIX") && strcmp(getenv("SPINDLE_TEST_UNIX"), "1") == 0;
    snprintf(H.sock, sizeof(H.sock), "%s/redis.sock", H.dir);
    for (int attempt = 0; attempt < REDIS_START_ATTEMPTS; attempt++) {
        H.port = H.is_unix ? 0 : harness_free_port();
        if (H.port < 0)
            continue;
        if (launch_redis() == 0) {
            if (H.is_unix)
                snprintf(H.url, sizeof(H.url), "unix://%s", H.sock);
            else
                snprintf(H.url, sizeof(H.url), "redis://127.0.0.1:%d", H.port);
            return 0;
        }
    }
    fprintf(stderr, "harness: could not start %s (see %s/redis.log)\n", redis_server(), H.dir);
    H.redis_failed = 1;
    return -1;
}

int harness_redis_stop(int keep_data)
{
    if (H.redis_pid <= 0)
        return -1;
    char dump[200];
    snprintf(dump, sizeof(dump), "%s/dump.rdb", H.dir);
    int ok = 1;
    if (keep_data) {
        redisReply *r = harness_cmd("SAVE");
        ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
    } else {
        unlink(dump);
    }
    if (H.raw) {
        redisFree(H.raw);
        H.raw = NULL;
    }
    stop_pid(H.redis_pid, 5000, NULL);
    H.redis_pid = 0;
    H.redis_stopped = 1;
    return ok ? 0 : -1;
}

int harness_redis_restart(void)
{
    if (H.redis_pid > 0)
        return 0;
    if (!H.redis_stopped)
        return -1;
    /* The same port: a server that took it meanwhile makes this fail, not move. */
    for (int attempt = 0; attempt < REDIS_START_ATTEMPTS; attempt++) {
        if (launch_redis() == 0) {
            H.redis_stopped = 0;
            return 0;
        }
        harness_sleep_ms(100);
    }
    fprintf(stderr, "harness: could not restart %s (see %s/redis.log)\n", redis_server(), H.dir);
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void harness_teardown(int keep_files)
{
    if (H.owner != getpid())
        return; /* a forked child: the run belongs to its parent */
    harness_stop_workers();
    if (H.raw) {
        redisFree(H.raw);
        H.raw = NULL;
    }
    if (H.redis_pid > 0) {
        stop_pid(H.redis_pid, 5000, NULL);
        H.redis_pid = 0;
    }
    if (H.dir_made) {
        if (keep_files)
            fprintf(stderr, "harness: logs kept in %s\n", H.dir);
        else
            nftw(H.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        H.dir_made = 0;
    }
}

static void at_exit(void)
{
    harness_teardown(0);
}

/* The watchdog: async-signal-safe only. Kills what the run started, then exits. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "\nharness: the test run exceeded its time limit; aborting"
                              " (logs in ";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    w += write(2, H.dir, strlen(H.dir));
    w += write(2, ")\n", 2);
    (void)w;
    for (int i = 0; i < H.nchildren; i++)
        if (!H.children[i].reaped)
            kill(H.children[i].pid, SIGKILL);
    if (H.redis_pid > 0)
        kill(H.redis_pid, SIGKILL);
    _exit(3);
}

void harness_init(void)
{
    H.owner = getpid();
    atexit(at_exit);
    /* A whole run takes about 2.5 minutes on 2 busy cores; under valgrind the test binary's
     * own code runs some 20 times slower. The limit only catches a hang. */
    const char *vg = getenv("SPINDLE_TEST_VALGRIND");
    long limit = vg && *vg ? 1800 : 600;
    const char *env = getenv("SPINDLE_TEST_TIMEOUT");
    if (env && atol(env) > 0)
        limit = atol(env);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm((unsigned)limit);
    /* A worker stopped while the harness writes to it must not kill the run. */
    signal(SIGPIPE, SIG_IGN);
}

int harness_suite_init(void)
{
    if (start_redis() != 0)
        return -1;
    harness_stop_workers();
    return harness_flushall();
}

int harness_suite_cleanup(void)
{
    harness_stop_workers();
    return 0;
}

const char *harness_url(void)
{
    return H.url;
}

const char *harness_ns(void)
{
    const char *ns = getenv("SPINDLE_TEST_NS");
    return ns && *ns ? ns : "spindle";
}

const char *harness_build(void)
{
    const char *b = getenv("SPINDLE_TEST_BUILD");
    return b && *b ? b : "build";
}

const char *harness_dir(void)
{
    return H.dir;
}

/* ---- raw Redis -------------------------------------------------------------------------- */

static redisContext *raw(void)
{
    if (H.raw == NULL && H.redis_pid > 0)
        H.raw = connect_raw(2000);
    return H.raw;
}

redisContext *harness_redis(void)
{
    return raw();
}

static redisReply *checked(redisReply *r)
{
    if (r == NULL && H.raw) {
        fprintf(stderr, "harness: Redis command failed: %s\n", H.raw->errstr);
        redisFree(H.raw);
        H.raw = NULL;
    }
    return r;
}

redisReply *harness_cmd(const char *fmt, ...)
{
    redisContext *rc = raw();
    if (rc == NULL)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    return checked(r);
}

redisReply *harness_cmdargv(int argc, const char **argv, const size_t *lens)
{
    redisContext *rc = raw();
    if (rc == NULL)
        return NULL;
    return checked(redisCommandArgv(rc, argc, argv, lens));
}

long long harness_int(const char *fmt, ...)
{
    redisContext *rc = raw();
    if (rc == NULL)
        return LLONG_MIN;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = checked(redisvCommand(rc, fmt, ap));
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : LLONG_MIN;
    if (r)
        freeReplyObject(r);
    return v;
}

char *harness_hget(const char *key, const char *field, size_t *len)
{
    redisReply *r = harness_cmd("HGET %s %s", key, field);
    char *out = NULL;
    if (r && r->type == REDIS_REPLY_STRING) {
        out = malloc(r->len + 1);
        if (out) {
            memcpy(out, r->str, r->len);
            out[r->len] = '\0';
            if (len)
                *len = r->len;
        }
    }
    if (r)
        freeReplyObject(r);
    return out;
}

int harness_flushall(void)
{
    redisReply *r = harness_cmd("FLUSHALL");
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

char *harness_key(char *buf, size_t cap, const char *queue, const char *suffix)
{
    if (queue)
        snprintf(buf, cap, "%s:{%s}:%s", harness_ns(), queue, suffix);
    else
        snprintf(buf, cap, "%s:%s", harness_ns(), suffix);
    return buf;
}

char *harness_task_key(char *buf, size_t cap, const spindle_handle *h)
{
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", spindle_handle_id(h));
    return harness_key(buf, cap, spindle_handle_queue(h), suffix);
}

const redisReply *harness_field(const redisReply *hash, const char *field)
{
    if (hash == NULL || hash->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < hash->elements; i += 2)
        if (hash->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(hash->element[i]->str, field) == 0)
            return hash->element[i + 1];
    return NULL;
}

int harness_wait_idle_workers(int n, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    do {
        redisReply *r = harness_cmd("CLIENT LIST");
        int blocked = 0;
        if (r && r->type == REDIS_REPLY_STRING) {
            for (const char *p = r->str; (p = strstr(p, "cmd=brpop")) != NULL; p++)
                blocked++;
        }
        if (r)
            freeReplyObject(r);
        if (blocked >= n)
            return 0;
        harness_sleep_ms(10);
    } while (harness_ms() < deadline);
    return -1;
}

/* ---- clients ---------------------------------------------------------------------------- */

spindle_client *harness_client(void)
{
    if (start_redis() != 0)
        return NULL;
    spindle_client *c = spindle_client_new();
    if (c == NULL)
        return NULL;
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = harness_url();
    o.ns = harness_ns();
    if (spindle_client_connect(c, &o) != SPINDLE_OK) {
        fprintf(stderr, "harness: client connect to %s failed: %s\n", harness_url(),
                spindle_errstr(c));
        spindle_client_free(c);
        return NULL;
    }
    return c;
}

/* ---- workers ---------------------------------------------------------------------------- */

#define MAX_WORKER_QUEUES 8

/* The body of a forked worker: serves with a registry filled by fill and the options in o
 * (url and ns default to the harness's). Never returns. */
static void run_forked_worker(harness_registry_fn fill, const spindle_worker_options *o)
{
    char log[200];
    snprintf(log, sizeof(log), "%s/worker-%ld.log", H.dir, (long)getpid());
    child_log_to(log);
    spindle_registry *reg = spindle_registry_new();
    if (reg == NULL || fill(reg) != SPINDLE_OK)
        _exit(120);
    spindle_worker_options opts = *o;
    if (opts.url == NULL)
        opts.url = harness_url();
    if (opts.ns == NULL)
        opts.ns = harness_ns();
    int code = spindle_worker_main(&opts, reg);
    spindle_registry_free(reg);
    /* _exit: the parent's atexit handlers and stdio buffers are not this process's. */
    _exit(code);
}

pid_t harness_worker_fork(const char *queues, int prefetch)
{
    return harness_worker_fork_with(fixture_register_tasks, queues, prefetch);
}

/* Default options serving the comma-separated queues (NULL: "default"), split in place into
 * list (512 bytes) and names (MAX_WORKER_QUEUES), which must outlive o. */
static void queue_options(const char *queues, char *list, const char **names,
                          spindle_worker_options *o)
{
    snprintf(list, 512, "%s", queues ? queues : "default");
    size_t n = 0;
    for (char *save = NULL, *q = strtok_r(list, ",", &save); q && n < MAX_WORKER_QUEUES;
         q = strtok_r(NULL, ",", &save))
        names[n++] = q;
    spindle_worker_options_init(o);
    o->queues = names;
    o->nqueues = n;
}

pid_t harness_worker_fork_with(harness_registry_fn fill, const char *queues, int prefetch)
{
    char list[512];
    const char *names[MAX_WORKER_QUEUES];
    spindle_worker_options o;
    queue_options(queues, list, names, &o);
    if (prefetch > 0)
        o.prefetch = prefetch;
    return harness_worker_fork_opts(fill, &o);
}

pid_t harness_worker_fork_opts(harness_registry_fn fill, const spindle_worker_options *opts)
{
    if (start_redis() != 0)
        return -1;
    /* The queues as a list, for nudge(). */
    char queues[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < opts->nqueues && off < sizeof(queues); i++) {
        int w = snprintf(queues + off, sizeof(queues) - off, "%s%s", i ? "," : "", opts->queues[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        child_prepare(parent);
        run_forked_worker(fill ? fill : fixture_register_tasks, opts);
    }
    track(pid, queues[0] ? queues : NULL);
    return pid;
}

pid_t harness_worker_exec(const char *queues)
{
    return harness_worker_exec_args(queues, NULL);
}

/* Extra arguments harness_worker_exec_args() takes. */
#define MAX_EXTRA_ARGS 16

pid_t harness_worker_exec_args(const char *queues, const char *const *extra)
{
    if (start_redis() != 0)
        return -1;
    char bin[PATH_MAX], lib[PATH_MAX];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", harness_build());
    if (access(bin, X_OK) != 0 || access(lib, R_OK) != 0) {
        fprintf(stderr, "harness: %s or %s is missing: build them first\n", bin, lib);
        return -1;
    }
    const char *argv[12 + MAX_EXTRA_ARGS] = {bin,           "--redis",     harness_url(),
                                             "--namespace", harness_ns(),  "--load",
                                             lib,           "--log-level", "info"};
    int argc = 9;
    if (queues) {
        argv[argc++] = "--queues";
        argv[argc++] = queues;
    }
    for (int i = 0; extra && extra[i]; i++) {
        if (i == MAX_EXTRA_ARGS) {
            fprintf(stderr, "harness: more than %d extra worker arguments\n", MAX_EXTRA_ARGS);
            return -1;
        }
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    pid_t pid = spawn(argv, NULL);
    if (pid < 0)
        return -1;
    track(pid, queues);
    return pid;
}

int harness_worker_signal(pid_t pid, int sig)
{
    child *c = find_child(pid);
    if (c == NULL || c->reaped || pid <= 0)
        return -1;
    return kill(pid, sig);
}

/* The parent pid and state letter of pid from /proc; 0 if it does not exist. */
static int proc_stat(pid_t pid, pid_t *ppid, char *state)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "PID (COMM) S PPID …": COMM may hold spaces and parentheses, so parse from the last ')'. */
    const char *p = strrchr(buf, ')');
    long pp = 0;
    if (p == NULL || sscanf(p + 1, " %c %ld", state, &pp) != 2)
        return 0;
    *ppid = (pid_t)pp;
    return 1;
}

int harness_pid_running(pid_t pid)
{
    pid_t ppid;
    char state;
    if (pid <= 0 || !proc_stat(pid, &ppid, &state))
        return 0;
    return state != 'Z' && state != 'X' && state != 'x';
}

int harness_slot_signal(pid_t pid, int sig)
{
    pid_t ppid;
    char state;
    if (pid <= 0 || !proc_stat(pid, &ppid, &state))
        return -1;
    child *c = find_child(ppid);
    if (c == NULL || c->reaped)
        return -1; /* not a slot of one of our workers: never signal a stranger */
    return kill(pid, sig);
}

pid_t harness_worker_id_pid(const char *id)
{
    /* HOST:PID:RANDOM, where HOST has no ':' (a hostname). */
    const char *p = id ? strrchr(id, ':') : NULL;
    if (p == NULL || p == id)
        return -1;
    const char *q = p - 1;
    while (q > id && *q != ':')
        q--;
    if (*q != ':')
        return -1;
    char *end = NULL;
    long v = strtol(q + 1, &end, 10);
    return end == p && v > 0 ? (pid_t)v : -1;
}

/* ---- other processes -------------------------------------------------------------------- */

/* Reads a whole file into a malloc'd NUL-terminated string ("" if unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        if (f)
            fclose(f);
        return NULL;
    }
    if (f) {
        size_t n;
        while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
            len += n;
            if (cap - len - 1 == 0) {
                char *nb = realloc(buf, cap * 2);
                if (nb == NULL)
                    break;
                buf = nb;
                cap *= 2;
            }
        }
        fclose(f);
    }
    buf[len] = '\0';
    return buf;
}

int harness_run(char *const argv[], long timeout_ms, harness_output *res)
{
    memset(res, 0, sizeof(*res));
    res->code = -1;
    if (make_dir() != 0)
        return -1;
    char outp[200], errp[200];
    unsigned n = H.runs++;
    snprintf(outp, sizeof(outp), "%s/run-%u.out", H.dir, n);
    snprintf(errp, sizeof(errp), "%s/run-%u.err", H.dir, n);

    /* The environment minus SPINDLE_REDIS_URL. */
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 1, sizeof(char *));
    if (env == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "SPINDLE_REDIS_URL=", 18) != 0)
            env[k++] = environ[i];

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fflush(NULL);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    if (rc != 0) {
        fprintf(stderr, "harness: spawn %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    int st = 0;
    if (!wait_exit(pid, timeout_ms, &st)) {
        fprintf(stderr, "harness: %s did not finish within %ld ms; killed\n", argv[0], timeout_ms);
        kill(pid, SIGKILL);
        wait_exit(pid, 2000, &st);
        res->code = -1;
    } else {
        res->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    res->out = slurp(outp);
    res->err = slurp(errp);
    unlink(outp);
    unlink(errp);
    return res->out && res->err ? 0 : -1;
}

void harness_output_free(harness_output *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

int harness_suite_init_client(spindle_client **client)
{
    if (harness_suite_init() != 0)
        return -1;
    *client = harness_client();
    return *client ? 0 : -1;
}

int harness_suite_init_with_worker(spindle_client **client)
{
    if (harness_suite_init_client(client) != 0)
        return -1;
    return harness_worker_fork(NULL, 0) > 0 ? 0 : -1;
}

int harness_suite_cleanup_client(spindle_client **client)
{
    spindle_client_free(*client);
    *client = NULL;
    return harness_suite_cleanup();
}

char *harness_worker_log(pid_t pid)
{
    char path[200];
    snprintf(path, sizeof(path), "%s/worker-%ld.log", H.dir, (long)pid);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof(path), "%s/spindle-worker-%ld.log", H.dir, (long)pid);
    return slurp(path);
}

int harness_wait_hfield(const char *key, const char *field, const char *value, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    for (;;) {
        char *v = harness_hget(key, field, NULL);
        int same = v && strcmp(v, value) == 0;
        free(v);
        if (same)
            return 0;
        if (harness_ms() >= deadline)
            return -1;
        harness_sleep_ms(5);
    }
}

int harness_slowdown(void)
{
    const char *env = getenv("SPINDLE_TEST_SLOW");
    if (env && atoi(env) > 0)
        return atoi(env);
    env = getenv("SPINDLE_TEST_VALGRIND");
    /* Forked workers run on valgrind's emulated CPU too. The suites pass under valgrind
     * with 1 on an idle developer machine; 4 is headroom for a loaded CI host. */
    return env && strcmp(env, "1") == 0 ? 4 : 1;
}

long harness_scaled_ms(long ms)
{
    return ms * harness_slowdown();
}

pid_t harness_worker_fork_beating(const char *queues, long interval_ms, long ttl_ms, long sweep_ms)
{
    char list[512];
    const char *names[MAX_WORKER_QUEUES];
    spindle_worker_options o;
    queue_options(queues, list, names, &o);
    o.heartbeat_interval_ms = interval_ms;
    o.heartbeat_ttl_ms = ttl_ms;
    o.sweep_interval_ms = sweep_ms;
    return harness_worker_fork_opts(NULL, &o);
}
