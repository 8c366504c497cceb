/* idle-commands: what an idle worker costs. Counted with MONITOR on a connection of its own,
 * which shows each command a client sends and, tagged "lua", each command a script runs
 * inside Redis: commands_per_s is what the worker sends (the figure the target is about),
 * with_lua_per_s adds the commands its scripts run. Also the resident memory of the worker's
 * processes (the supervisor and its slot processes), from /proc. */
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/clock.h"
#include "common/url.h"

/* VmRSS of pid in kB, 0 if unknown. */
static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* The largest RSS among pid and its children, and how many processes that was. */
static long max_rss_kb(pid_t pid, int *procs)
{
    long max = rss_kb(pid);
    *procs = 1;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    int child;
    while (f && fscanf(f, "%d", &child) == 1) {
        long kb = rss_kb(child);
        max = kb > max ? kb : max;
        (*procs)++;
    }
    if (f)
        fclose(f);
    return max;
}

static redisContext *monitor_connect(void)
{
    spindle_url u;
    spindle_error err;
    if (spindle_url_parse(bench_url, &u, &err) != SPINDLE_OK)
        bench_die("url", err.msg);
    redisContext *m = u.is_unix ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
    if (m == NULL || m->err)
        bench_die("monitor connect", m ? m->errstr : "out of memory");
    return m;
}

void bench_idle_commands(void)
{
    pid_t w = bench_start_worker();
    usleep(1000 * 1000); /* past start-up: the first beats, sweep and claims */
    redisContext *m = monitor_connect();
    redisReply *r = redisCommand(m, "MONITOR");
    if (r == NULL)
        bench_die("MONITOR", m->errstr);
    freeReplyObject(r);
    long sent = 0, in_lua = 0;
    int64_t t0 = spindle_mono_us(), end = t0 + 5 * (int64_t)1000000;
    for (;;) {
        redisReply *line = NULL;
        if (redisGetReplyFromReader(m, (void **)&line) != REDIS_OK)
            bench_die("MONITOR", m->errstr);
        if (line != NULL) {
            if (line->type == REDIS_REPLY_STATUS && strstr(line->str, " lua] ") != NULL)
                in_lua++;
            else if (line->type == REDIS_REPLY_STATUS)
                sent++;
            freeReplyObject(line);
            continue;
        }
        int64_t left_ms = (end - spindle_mono_us()) / 1000;
        if (left_ms <= 0)
            break;
        struct pollfd pfd = {.fd = m->fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left_ms) > 0 && redisBufferRead(m) != REDIS_OK)
            bench_die("MONITOR", m->errstr);
    }
    double secs = (double)(spindle_mono_us() - t0) / 1e6;
    int procs = 0;
    long rss = max_rss_kb(w, &procs);
    redisFree(m);
    bench_stop_worker(w);
    char extra[160];
    snprintf(extra, sizeof(extra),
             "\"commands_per_s\":%.2f,\"with_lua_per_s\":%.2f,\"max_rss_kb\":%ld,\"processes\":%d",
             (double)sent / secs, (double)(sent + in_lua) / secs, rss, procs);
    bench_emit("idle-commands", 0, secs, extra);
}
