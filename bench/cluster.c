/* spindle-bench-cluster: enqueue and drain throughput over Q queues, for `make bench-cluster`
 * (bench/cluster.sh), which runs it once on a plain redis-server (1 master) and once on a
 * 3-master Redis Cluster with the same queues.
 *
 *   spindle-bench-cluster --redis URL --masters M --build DIR [--n N] [--queues Q]
 *                         [--workers W] [--concurrency C]
 *   spindle-bench-cluster --pick Q        (prints the queue names, comma-separated)
 *
 * Queues: bq-K names whose hash slot (CRC16 of the {tag}) falls in master (i mod 3)'s range as
 * bench/cluster.sh assigns them (0-5460, 5461-10922, 10923-16383), so that Q = 3 puts one
 * queue on each master. The same names are used on the single server.
 *
 * enqueue-bulk: N tasks of add(i, 1) spread evenly over the queues, one producer PROCESS per
 * queue in parallel, each with its own client, spindle_enqueue_bulk 1000 per call; timed from
 * the moment all producers are connected and released until the last one exits.
 * drain: W spindle-worker processes (--queues all --concurrency C, the example tasks), timed
 * from their spawn until every queue's pending, scheduled and running counts
 * (spindle_queue_list, polled every 5 ms) are 0. Then checked through the client API: the
 * succeeded/failed counters of the queues (spindle_queue_throughput_list, last hour) must
 * read N and 0, no dead letter, and a sample of 20 handles per queue must read succeeded.
 * One JSON line per scenario on stdout, with the 1-minute load average read at its end. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/clock.h"
#include "store/crc16.h"

#define MAX_QUEUES 16
#define MAX_WORKERS 16
#define SAMPLES 20

static const char *url, *build = "build", *concurrency = "2";
static long n = 30000;
static int nqueues = 3, nworkers = 3, masters = 1;
static char queues[MAX_QUEUES][32];
static char queue_csv[MAX_QUEUES * 33];

static pid_t workers[MAX_WORKERS]; /* started and not yet reaped, else 0 */

static void stop_workers(void)
{
    for (int i = 0; i < MAX_WORKERS; i++)
        if (workers[i] > 0) {
            kill(workers[i], SIGTERM);
            waitpid(workers[i], NULL, 0);
            workers[i] = 0;
        }
}

/* Stops the workers still running, so that none outlives a failed run. */
static void die(const char *what, const char *why)
{
    fprintf(stderr, "spindle-bench-cluster: %s: %s\n", what, why);
    stop_workers();
    exit(1);
}

static int master_of_slot(int slot)
{
    return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
}

static void pick_queues(void)
{
    int found = 0;
    for (int k = 0; found < nqueues && k < 100000; k++) {
        char q[32];
        snprintf(q, sizeof(q), "bq-%d", k);
        if (master_of_slot(spindle_key_slot(q, strlen(q))) == found % 3)
            snprintf(queues[found++], sizeof(queues[0]), "%s", q);
    }
    size_t len = 0;
    queue_csv[0] = '\0';
    for (int i = 0; i < nqueues; i++)
        len += (size_t)snprintf(queue_csv + len, sizeof(queue_csv) - len, "%s%s", i ? "," : "",
                                queues[i]);
}

static spindle_client *connect_client(void)
{
    spindle_client *c = spindle_client_new();
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    o.command_timeout_ms = 30000;
    if (c == NULL || spindle_client_connect(c, &o) != SPINDLE_OK)
        die("connect", c ? spindle_errstr(c) : "out of memory");
    return c;
}

static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static void emit(const char *scenario, double secs, const char *extra)
{
    double rate = secs > 0 ? (double)n / secs : 0;
    fprintf(stderr, "  %-13s %d master(s) %8ld tasks %8.3f s %9.0f tasks/s %s\n", scenario, masters,
            n, secs, rate, extra);
    printf("{\"scenario\":\"%s\",\"masters\":%d,\"queues\":%d,\"tasks\":%ld,\"seconds\":%.6f,"
           "\"tasks_per_s\":%.1f,\"load1\":%.2f%s%s}\n",
           scenario, masters, nqueues, n, secs, rate, load1(), *extra ? "," : "", extra);
    fflush(stdout);
}

/* Producer q: tasks q, q + Q, q + 2Q, ... of 0..N-1 to queue q. Connects, says ready on
 * `ready`, waits for a byte on `go`, enqueues, writes SAMPLES "queue id" lines on `ids`. */
static void producer(int q, int ready, int go, int ids)
{
    long mine = (n - q + nqueues - 1) / nqueues;
    spindle_task_spec *specs = calloc((size_t)mine + 1, sizeof(*specs));
    char(*bufs)[32] = calloc((size_t)mine + 1, 32);
    spindle_handle **hs = calloc((size_t)mine + 1, sizeof(*hs));
    if (!specs || !bufs || !hs)
        die("producer", "out of memory");
    for (long k = 0; k < mine; k++) {
        long i = q + k * nqueues;
        specs[k] = (spindle_task_spec){"add", bufs[k], bench_pack_add(bufs[k], i)};
    }
    spindle_client *c = connect_client();
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queues[q];
    char b = 'r';
    if (write(ready, &b, 1) != 1 || read(go, &b, 1) != 1)
        _exit(2);
    for (long k = 0; k < mine; k += 1000) {
        size_t m = (size_t)(mine - k < 1000 ? mine - k : 1000);
        if (spindle_enqueue_bulk(c, specs + k, m, &o, hs + k) != SPINDLE_OK) {
            fprintf(stderr, "spindle-bench-cluster: bulk enqueue on %s: %s\n", queues[q],
                    spindle_errstr(c));
            _exit(3);
        }
    }
    for (int s = 0; s < SAMPLES && mine > 0; s++) {
        char line[128];
        long k = (long)s * mine / SAMPLES;
        int len = snprintf(line, sizeof(line), "%s %s\n", queues[q], spindle_handle_id(hs[k]));
        if (write(ids, line, (size_t)len) != len)
            _exit(4);
    }
    for (long k = 0; k < mine; k++)
        spindle_handle_free(hs[k]);
    spindle_client_free(c);
    _exit(0);
}

/* Returns the sample ids read back from the producers (a malloc'd text). */
static char *enqueue_bulk(void)
{
    int ready[2], go[2], ids[2];
    if (pipe(ready) || pipe(go) || pipe(ids))
        die("pipe", "failed");
    pid_t pids[MAX_QUEUES];
    for (int q = 0; q < nqueues; q++) {
        fflush(stdout);
        pids[q] = fork();
        if (pids[q] < 0)
            die("fork", "producer");
        if (pids[q] == 0) {
            close(ready[0]);
            close(go[1]);
            close(ids[0]);
            producer(q, ready[1], go[0], ids[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(ids[1]);
    char b;
    for (int q = 0; q < nqueues; q++)
        if (read(ready[0], &b, 1) != 1)
            die("producer", "did not start");
    int64_t t0 = spindle_mono_us();
    for (int q = 0; q < nqueues; q++)
        if (write(go[1], "g", 1) != 1)
            die("producer", "cannot release");
    int failed = 0;
    for (int q = 0; q < nqueues; q++) {
        int st;
        waitpid(pids[q], &st, 0);
        failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    if (failed)
        die("enqueue-bulk", "a producer failed");
    size_t cap = (size_t)nqueues * SAMPLES * 128 + 1, len = 0;
    char *text = malloc(cap);
    ssize_t r;
    while (text && len + 1 < cap && (r = read(ids[0], text + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    if (text == NULL)
        die("samples", "out of memory");
    text[len] = '\0';
    close(ready[0]);
    close(go[1]);
    close(ids[0]);
    emit("enqueue-bulk", secs, "\"producers\":\"one process per queue\"");
    return text;
}

static pid_t start_worker(void)
{
    char bin[512], tasks[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", build);
    snprintf(tasks, sizeof(tasks), "%s/lib/spindle-example-tasks.so", build);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--redis", url, "--queues", queue_csv, "--concurrency", concurrency,
              "--load", tasks, "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        die("fork", "worker");
    return pid;
}

/* Sums the counts of our queues; -1 on error. */
static long long outstanding(spindle_client *c, long long *dead)
{
    spindle_queue_stat *list = NULL;
    size_t m = 0;
    if (spindle_queue_list(c, &list, &m) != SPINDLE_OK)
        die("spindle_queue_list", spindle_errstr(c));
    long long left = 0;
    *dead = 0;
    for (size_t i = 0; i < m; i++) {
        left += list[i].pending + list[i].running + list[i].scheduled;
        *dead += list[i].dead;
    }
    spindle_queue_list_free(list);
    return left;
}

static void drain(spindle_client *c, char *samples)
{
    long long dead = 0;
    int64_t t0 = spindle_mono_us();
    for (int i = 0; i < nworkers; i++)
        workers[i] = start_worker();
    int64_t deadline = spindle_mono_ms() + 600000;
    while (outstanding(c, &dead) > 0) {
        for (int i = 0; i < nworkers; i++) {
            int st;
            if (waitpid(workers[i], &st, WNOHANG) == workers[i]) {
                workers[i] = 0;
                die("drain", "a worker exited");
            }
        }
        if (spindle_mono_ms() > deadline)
            die("drain", "not drained after 600 s");
        usleep(5000);
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    stop_workers();
    /* The check: counters of every task, dead letters, then a sample of handles. */
    const char *names[MAX_QUEUES];
    for (int q = 0; q < nqueues; q++)
        names[q] = queues[q];
    spindle_queue_throughput *tp = NULL;
    size_t m = 0;
    if (spindle_queue_throughput_list(c, names, (size_t)nqueues, &tp, &m) != SPINDLE_OK)
        die("spindle_queue_throughput_list", spindle_errstr(c));
    long long ok = 0, failed = 0;
    for (size_t i = 0; i < m; i++) {
        ok += tp[i].ok[1];
        failed += tp[i].failed[1];
    }
    spindle_queue_throughput_free(tp);
    outstanding(c, &dead);
    int sampled = 0, sample_ok = 0;
    for (char *line = strtok(samples, "\n"); line; line = strtok(NULL, "\n")) {
        char q[64], id[64];
        if (sscanf(line, "%63s %63s", q, id) != 2)
            continue;
        spindle_handle *h = NULL;
        spindle_state st;
        sampled++;
        if (spindle_handle_open(c, id, q, &h) == SPINDLE_OK &&
            spindle_status(c, h, &st) == SPINDLE_OK && st == SPINDLE_STATE_SUCCEEDED)
            sample_ok++;
        spindle_handle_free(h);
    }
    int verified = ok == n && failed == 0 && dead == 0 && sample_ok == sampled && sampled > 0;
    char extra[256];
    snprintf(extra, sizeof(extra),
             "\"workers\":%d,\"concurrency\":%s,\"succeeded\":%lld,\"failed\":%lld,"
             "\"dead\":%lld,\"sample_succeeded\":\"%d/%d\",\"verified\":%s",
             nworkers, concurrency, ok, failed, dead, sample_ok, sampled,
             verified ? "true" : "false");
    emit("drain", secs, extra);
    if (!verified)
        die("drain", "not every task succeeded (see the JSON line)");
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--redis") == 0)
            url = v;
        else if (strcmp(a, "--build") == 0)
            build = v;
        else if (strcmp(a, "--n") == 0)
            n = strtol(v, NULL, 10);
        else if (strcmp(a, "--queues") == 0 || strcmp(a, "--pick") == 0)
            nqueues = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--workers") == 0)
            nworkers = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--masters") == 0)
            masters = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--concurrency") == 0)
            concurrency = v;
    }
    if (nqueues < 1 || nqueues > MAX_QUEUES || nworkers < 1 || nworkers > MAX_WORKERS)
        die("usage", "--queues 1..16, --workers 1..16");
    pick_queues();
    if (argc == 3 && strcmp(argv[1], "--pick") == 0) {
        printf("%s\n", queue_csv);
        return 0;
    }
    if (url == NULL || n < nqueues)
        die("usage", "spindle-bench-cluster --redis URL --masters M [--build DIR] [--n N] "
                     "[--queues Q] [--workers W] [--concurrency C]");
    spindle_client *c = connect_client();
    char *samples = enqueue_bulk();
    drain(c, samples);
    free(samples);
    spindle_client_free(c);
    return 0;
}
