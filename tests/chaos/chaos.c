/* spindle-chaos: the chaos check behind `make chaos`.
 *
 *   spindle-chaos [--build DIR] [--n N] [--seed S] [--prefetch P] [--keep]
 *
 * (P: the workers' --prefetch, default theirs; S: the seed of the task durations and of the
 * kills' targets and intervals, printed by every run.)
 *
 * In a temporary directory it starts a redis-server that persists to an append-only file,
 * enqueues N (default 20,000) short tasks, and starts two spindle-workers of two process
 * slots each. Then, every 200-500 ms, it SIGKILLs a random slot process or (one time in
 * five) a whole supervisor, which it restarts at once as systemd would. When 95% of the
 * tasks have been taken it stops killing, and deals its last blow: it SIGKILLs redis-server
 * and restarts it on the same port and directory, so that it reloads the AOF. It waits for
 * every task to reach a final state and checks that every one of them ended `succeeded`
 * (none lost, none failed), counting from the task library's log how many ran more than
 * once. Exit status 0 only if so; the temporary directory (worker and Redis logs, the AOF,
 * the executions log) is kept on failure.
 *
 * Choices, and why:
 *  - Every task is enqueued before the workers start. The enqueue path under a Redis outage
 *    is the producer's concern, and a bulk enqueue whose reply is lost cannot say which
 *    tasks exist; this check is about what workers do with tasks that do.
 *  - Tasks are enqueued with 5 retries. A slot killed in the middle of a task makes that
 *    attempt fail (its supervisor settles it "killed by SIGKILL"), which counts against the
 *    task's retries: with none, every such task would end `failed`. Tasks of a killed
 *    supervisor are recovered by the sweep as `lost`, which is not counted against retries.
 *  - AOF with appendfsync everysec is enough: Redis write(2)s the AOF buffer before it sends
 *    the replies of the commands in it, and a SIGKILL of the process (unlike a crash of the
 *    machine) does not lose what was written, so nothing a worker saw acknowledged is lost.
 *  - Short heartbeats (0.2 s, TTL 0.6 s, sweep every 0.3 s) so that a killed supervisor's
 *    tasks come back within a second, not the default 9 s.
 *  - Redis is restarted after the killing, not in the middle of it. A task stranded by the
 *    restart in the in-flight list of a slot that lives on would otherwise be rescued by
 *    the next kill of that slot (its supervisor puts back what it held), hiding the bug.
 *  - States are read with plain Redis commands (audit.c), not through libspindle. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "procs.h"
#include "spindle.h"

#define WORKERS 2
#define SLOTS_PER_WORKER "2"
#define TASK_RETRIES 5
/* A task sleeps a random 0-2 ms: short, yet long enough that a kill often lands mid-task. */
#define TASK_US_MAX 2000
/* Kills come every KILL_MIN_MS + [0, KILL_SPAN_MS] ms; one in SUPERVISOR_ONE_IN is of a
 * supervisor. */
#define KILL_MIN_MS 200
#define KILL_SPAN_MS 300
#define SUPERVISOR_ONE_IN 5
/* The fraction of the tasks taken off the queue after which the killing stops and Redis is
 * restarted. */
#define STOP_KILLING_AT 0.95
/* Bounds on the run (ms), and the watchdog (s) that stops everything if the driver hangs:
 * `make chaos` must end well within CI's 3 minutes even when something is stuck. */
#define KILL_CAP_MS 60000
#define BUDGET_MS 120000
/* The run also ends when no task became final for this long (ms): longer than any legitimate
 * wait (the longest retry back-off of a task killed 4 times is 16 s). */
#define STALL_MS 30000
#define WATCHDOG_S 170
/* How long redis-server may take to answer PING after a start (loading the AOF included). */
#define REDIS_START_MS 30000
/* How often the driver looks at progress, and prints it (ms). */
#define POLL_MS 250
#define PRINT_MS 2000
/* A worker that exited on its own is restarted after this long (ms), like systemd's
 * RestartSec. */
#define RESTART_SEC_MS 200

static struct {
    const char *build, *prefetch;
    long n;
    unsigned seed, rng; /* rng: rand_r() state, from the seed */
    int keep, failed;
    char dir[256], url[64], log[300];
    int port;
    pid_t redis, sup[WORKERS];
    int64_t sup_restart_at[WORKERS];
    long child_kills, sup_kills, redis_restarts, self_exits;
} C = {.build = "build", .n = 20000};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* At exit, whichever way: stop what is still running, then remove or keep the directory. */
static void cleanup(void)
{
    for (int w = 0; w < WORKERS; w++)
        if (C.sup[w] > 0)
            kill(C.sup[w], SIGTERM); /* all at once: each takes up to a second to stop */
    for (int w = 0; w < WORKERS; w++)
        procs_stop(C.sup[w], 5000);
    procs_stop(C.redis, 5000); /* SIGTERM: Redis flushes its AOF and exits */
    if (C.dir[0] == '\0')
        return;
    if (C.failed || C.keep)
        fprintf(stderr, "chaos: files kept in %s\n", C.dir);
    else
        nftw(C.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* SIGINT, SIGTERM, and the watchdog's SIGALRM: async-signal-safe only. */
static void on_signal(int sig)
{
    static const char msg[] = "\nchaos: interrupted or out of time; files kept in ";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    w += write(2, C.dir, strlen(C.dir));
    w += write(2, "\n", 1);
    (void)w;
    procs_kill_all(); // NOLINT(bugprone-signal-handler,cert-sig30-c): it only calls kill()
    _exit(sig == SIGALRM ? 3 : 130);
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "chaos: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    C.failed = 1;
    exit(1);
}

static double secs_since(int64_t t0)
{
    return (double)(procs_ms() - t0) / 1000.0;
}

/* ---- processes -------------------------------------------------------------------------- */

/* Starts redis-server on C.port with its files and AOF in C.dir and waits for PONG (after
 * any AOF loading). Its PID, or -1. */
static pid_t redis_spawn(void)
{
    char port[16], log[300];
    snprintf(port, sizeof(port), "%d", C.port);
    snprintf(log, sizeof(log), "%s/redis.log", C.dir);
    const char *argv[] = {"redis-server",
                          "--port",
                          port,
                          "--bind",
                          "127.0.0.1",
                          "--dir",
                          C.dir,
                          "--save",
                          "",
                          "--appendonly",
                          "yes",
                          "--appendfsync",
                          "everysec",
                          "--daemonize",
                          "no",
                          NULL};
    pid_t pid = procs_spawn(argv, log);
    int64_t deadline = procs_ms() + REDIS_START_MS;
    while (pid > 0 && procs_ms() < deadline) {
        if (procs_exited(pid, NULL))
            return -1;
        redisContext *c = audit_connect(C.port);
        if (c) {
            redisFree(c);
            return pid;
        }
        procs_sleep_ms(20);
    }
    procs_kill(pid);
    return -1;
}

/* A free port can be taken by someone else before redis-server binds it: try a few. */
static void redis_start(void)
{
    for (int attempt = 0; attempt < 5 && C.redis <= 0; attempt++) {
        C.port = procs_free_port();
        C.redis = C.port > 0 ? redis_spawn() : -1;
    }
    if (C.redis <= 0)
        die("could not start redis-server (see %s/redis.log)", C.dir);
    snprintf(C.url, sizeof(C.url), "redis://127.0.0.1:%d", C.port);
}

/* SIGKILL, then the same port and directory: the workers' URL stays valid and Redis
 * reloads the AOF. */
static void redis_restart(void)
{
    int64_t t0 = procs_ms();
    procs_kill(C.redis);
    C.redis = -1;
    for (int attempt = 0; attempt < 5 && C.redis <= 0; attempt++) {
        if (attempt)
            procs_sleep_ms(200);
        C.redis = redis_spawn();
    }
    if (C.redis <= 0)
        die("could not restart redis-server (see %s/redis.log)", C.dir);
    C.redis_restarts++;
    fprintf(stderr, "chaos: redis-server SIGKILLed and restarted from its AOF in %.2f s\n",
            secs_since(t0));
}

static pid_t worker_spawn(int w)
{
    char bin[300], lib[300], log[300];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", C.build);
    snprintf(lib, sizeof(lib), "%s/lib/spindle-chaos-tasks.so", C.build);
    snprintf(log, sizeof(log), "%s/worker-%d.log", C.dir, w + 1);
    const char *argv[] = {bin,
                          "--redis",
                          C.url,
                          "--load",
                          lib,
                          "--concurrency",
                          SLOTS_PER_WORKER,
                          "--heartbeat-interval",
                          "0.2",
                          "--heartbeat-ttl",
                          "0.6",
                          "--sweep-interval",
                          "0.3",
                          "--shutdown-timeout",
                          "1",
                          C.prefetch ? "--prefetch" : NULL,
                          C.prefetch,
                          NULL};
    pid_t pid = procs_spawn(argv, log);
    if (pid <= 0)
        die("could not start %s", bin);
    return pid;
}

/* SIGKILLs one random slot process, or a supervisor (then restarted at once). */
static void kill_one(void)
{
    pid_t kids[64], parents[64];
    int nk = 0;
    for (int w = 0; w < WORKERS; w++) {
        int m = procs_children(C.sup[w], kids + nk, 32);
        for (int j = 0; j < m; j++)
            parents[nk + j] = C.sup[w];
        nk += m;
    }
    if (nk == 0 || rand_r(&C.rng) % SUPERVISOR_ONE_IN == 0) {
        int w = (int)(rand_r(&C.rng) % WORKERS);
        if (C.sup[w] <= 0)
            return;
        procs_kill(C.sup[w]);
        C.sup_kills++;
        C.sup[w] = worker_spawn(w);
        return;
    }
    int k = (int)(rand_r(&C.rng) % (unsigned)nk);
    if (procs_kill_child(kids[k], parents[k]) == 0)
        C.child_kills++;
}

/* A supervisor that exited by itself (it may, if Redis is away at its start) is restarted
 * after RESTART_SEC_MS; redis-server exiting by itself ends the run. */
static void watch_exits(void)
{
    int64_t now = procs_ms();
    int st = 0;
    for (int w = 0; w < WORKERS; w++) {
        if (C.sup[w] > 0 && procs_exited(C.sup[w], &st)) {
            fprintf(stderr, "chaos: worker %d exited on its own (%s %d); restarting it\n", w + 1,
                    WIFEXITED(st) ? "status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            C.self_exits++;
            C.sup[w] = 0;
            C.sup_restart_at[w] = now + RESTART_SEC_MS;
        }
        if (C.sup[w] == 0 && now >= C.sup_restart_at[w])
            C.sup[w] = worker_spawn(w);
    }
    if (procs_exited(C.redis, NULL)) {
        C.redis = 0;
        die("redis-server exited on its own (see %s/redis.log)", C.dir);
    }
}

/* ---- the run ---------------------------------------------------------------------------- */

/* Enqueues n chaos_step(random 0-2000 us) tasks in one bulk call; their ids go to t[]. */
static void enqueue_all(audit_task *t)
{
    spindle_client *c = spindle_client_new();
    spindle_client_options co;
    spindle_client_options_init(&co);
    co.url = C.url;
    if (c == NULL || spindle_client_connect(c, &co) != SPINDLE_OK)
        die("connecting the producer: %s", c ? spindle_errstr(c) : "out of memory");
    spindle_task_spec *specs = calloc((size_t)C.n, sizeof(*specs));
    char(*args)[8] = calloc((size_t)C.n, sizeof(*args));
    spindle_handle **h = calloc((size_t)C.n, sizeof(*h));
    if (specs == NULL || args == NULL || h == NULL)
        die("%s", "out of memory");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (long i = 0; i < C.n; i++) {
        msgpack_sbuffer_clear(&sb);
        msgpack_pack_array(&pk, 1);
        msgpack_pack_uint32(&pk, (uint32_t)(rand_r(&C.rng) % (TASK_US_MAX + 1)));
        memcpy(args[i], sb.data, sb.size); /* at most 1 + 3 bytes */
        specs[i] = (spindle_task_spec){.func = "chaos_step", .args = args[i], .args_len = sb.size};
    }
    msgpack_sbuffer_destroy(&sb);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.max_retries = TASK_RETRIES;
    if (spindle_enqueue_bulk(c, specs, (size_t)C.n, &o, h) != SPINDLE_OK)
        die("enqueueing: %s", spindle_errstr(c));
    for (long i = 0; i < C.n; i++) {
        snprintf(t[i].id, sizeof(t[i].id), "%s", spindle_handle_id(h[i]));
        spindle_handle_free(h[i]);
    }
    free(h);
    free(args);
    free(specs);
    spindle_client_free(c);
}

/* Kills until STOP_KILLING_AT of the tasks were taken, restarts Redis, then waits for all
 * of them to be final. 1 if they all are, 0 if BUDGET_MS ran out or they stopped moving. */
static int run(audit_task *t)
{
    int64_t t0 = procs_ms(), next_kill = t0 + KILL_MIN_MS, next_poll = t0, next_print = t0;
    int64_t moved = t0;
    redisContext *rc = NULL;
    long left = C.n, final = 0;
    while (procs_ms() - t0 < BUDGET_MS && procs_ms() - moved < STALL_MS) {
        watch_exits();
        int64_t now = procs_ms();
        if (now >= next_poll) {
            if (rc == NULL)
                rc = audit_connect(C.port);
            long l = rc ? audit_left(rc) : -1, f = final;
            if (l == 0)
                f = audit_read(rc, t, (size_t)C.n, 0);
            if (l < 0 || f < 0) {
                redisFree(rc);
                rc = NULL;
            } else {
                moved = l != left || f != final ? now : moved;
                left = l;
                final = f;
            }
            if (final == C.n)
                break;
            next_poll = now + POLL_MS;
        }
        long taken = C.n - left;
        if (now >= next_print) {
            fprintf(stderr,
                    "chaos: %5.1f s  %6ld of %ld taken  kills: %ld slot(s), %ld supervisor(s)\n",
                    secs_since(t0), taken, C.n, C.child_kills, C.sup_kills);
            next_print = now + PRINT_MS;
        }
        if (C.redis_restarts == 0 &&
            (taken >= (long)(STOP_KILLING_AT * (double)C.n) || now - t0 > KILL_CAP_MS)) {
            fprintf(stderr, "chaos: %5.1f s  stopped killing; restarting redis-server\n",
                    secs_since(t0));
            redisFree(rc);
            rc = NULL;
            redis_restart();
        }
        if (C.redis_restarts == 0 && now >= next_kill) {
            kill_one();
            next_kill = now + KILL_MIN_MS + (int64_t)(rand_r(&C.rng) % (KILL_SPAN_MS + 1));
        }
        procs_sleep_ms(10);
    }
    redisFree(rc);
    return final == C.n;
}

/* Reads every task's final record and the executions log, prints the report. 0 if every
 * task succeeded, ran at least once and nothing is amiss. */
static int report(audit_task *t, int64_t t0)
{
    redisContext *rc = NULL;
    for (int i = 0; i < 50 && rc == NULL; i++) {
        if (i)
            procs_sleep_ms(100);
        rc = audit_connect(C.port);
    }
    if (rc == NULL || audit_read(rc, t, (size_t)C.n, 1) < 0)
        die("reading the tasks back from redis-server at %s failed", C.url);
    audit_sort(t, (size_t)C.n);
    long executions = 0, unknown = 0;
    if (audit_count_runs(C.log, t, (size_t)C.n, &executions, &unknown) != 0)
        die("cannot read the executions log %s", C.log);
    long ok = 0, failed = 0, lost = 0, again = 0, extra = 0, most = 0, unrun = 0;
    long retried = 0, recovered = 0;
    for (long i = 0; i < C.n; i++) {
        const audit_task *x = &t[i];
        ok += strcmp(x->state, "succeeded") == 0;
        failed += strcmp(x->state, "failed") == 0;
        lost += !audit_is_final(x);
        again += x->runs > 1;
        extra += x->runs > 1 ? x->runs - 1 : 0;
        most = x->runs > most ? x->runs : most;
        unrun += strcmp(x->state, "succeeded") == 0 && x->runs == 0;
        retried += x->retried > 0;
        recovered += x->lost > 0;
    }
    long kills = C.child_kills + C.sup_kills + C.redis_restarts;
    printf("chaos: tasks                 %ld (%d workers x %s slots, prefetch %s, %d retries "
           "each)\n",
           C.n, WORKERS, SLOTS_PER_WORKER, C.prefetch ? C.prefetch : "default", TASK_RETRIES);
    printf("chaos: succeeded             %ld\n", ok);
    printf("chaos: failed                %ld\n", failed);
    printf("chaos: lost                  %ld (hash missing, or never final)\n", lost);
    printf("chaos: executions            %ld (log lines; %ld naming no task)\n", executions,
           unknown);
    printf("chaos: ran more than once    %ld tasks, %ld extra runs (%.1f per kill), at most %ld "
           "runs of one\n",
           again, extra, kills ? (double)extra / (double)kills : 0.0, most);
    printf("chaos: succeeded, never ran  %ld\n", unrun);
    printf("chaos: retried / recovered   %ld tasks retried after a failed attempt, %ld put back "
           "after a lost worker\n",
           retried, recovered);
    printf("chaos: kills                 %ld slots, %ld supervisors, %ld redis-server restarts; "
           "%ld worker exits on their own\n",
           C.child_kills, C.sup_kills, C.redis_restarts, C.self_exits);
    printf("chaos: elapsed               %.1f s (seed %u)\n", secs_since(t0), C.seed);
    int shown = 0;
    for (long i = 0; i < C.n && shown < 5; i++)
        if (strcmp(t[i].state, "succeeded") != 0 || t[i].runs == 0) {
            if (shown++ == 0)
                fprintf(stderr, "chaos: tasks that did not end right (first 5):\n");
            audit_show(rc, &t[i]);
        }
    redisFree(rc);
    int good = ok == C.n && failed == 0 && lost == 0 && unrun == 0 && unknown == 0 &&
               C.redis_restarts == 1;
    printf("chaos: %s\n", good ? "OK" : "FAILED");
    return good ? 0 : 1;
}

static void usage(FILE *out, int code)
{
    fprintf(out, "usage: spindle-chaos [--build DIR] [--n N] [--seed S] [--prefetch P] [--keep]\n"
                 "  --build DIR     where spindle-worker and the chaos task library are (build)\n"
                 "  --n N           tasks (20000)\n"
                 "  --seed S        task durations, kill targets and intervals (from the clock)\n"
                 "  --prefetch P    the workers' --prefetch (theirs)\n"
                 "  --keep          keep the temporary directory (kept anyway on failure)\n");
    exit(code);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"build", required_argument, 0, 'b'},
                                             {"n", required_argument, 0, 'n'},
                                             {"seed", required_argument, 0, 's'},
                                             {"prefetch", required_argument, 0, 'p'},
                                             {"keep", no_argument, 0, 'k'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    C.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    for (int ch; (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        switch (ch) {
        case 'b':
            C.build = optarg;
            break;
        case 'n':
            C.n = strtol(optarg, NULL, 10);
            if (C.n < 1 || C.n > 1000000)
                usage(stderr, 2);
            break;
        case 's':
            C.seed = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'p':
            C.prefetch = optarg;
            break;
        case 'k':
            C.keep = 1;
            break;
        case 'h':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc)
        usage(stderr, 2);
    C.rng = C.seed;
    int64_t t0 = procs_ms();
    const char *tmp = getenv("TMPDIR");
    snprintf(C.dir, sizeof(C.dir), "%s/spindle-chaos-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(C.dir) == NULL) {
        C.dir[0] = '\0';
        die("%s", "cannot make a temporary directory");
    }
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    alarm(WATCHDOG_S);
    /* Inherited by the workers: where chaos_step logs its runs. */
    snprintf(C.log, sizeof(C.log), "%s/executions.log", C.dir);
    setenv("SPINDLE_CHAOS_LOG", C.log, 1);

    redis_start();
    fprintf(stderr, "chaos: redis-server (AOF, appendfsync everysec) at %s in %s, seed %u\n", C.url,
            C.dir, C.seed);
    audit_task *t = calloc((size_t)C.n, sizeof(*t));
    if (t == NULL)
        die("%s", "out of memory");
    enqueue_all(t);
    fprintf(stderr, "chaos: %ld tasks enqueued; starting %d workers of %s slots\n", C.n, WORKERS,
            SLOTS_PER_WORKER);
    for (int w = 0; w < WORKERS; w++)
        C.sup[w] = worker_spawn(w);
    if (!run(t))
        fprintf(stderr, "chaos: gave up waiting: not every task is final\n");
    int code = report(t, t0);
    free(t);
    C.failed = code != 0;
    return code;
}
