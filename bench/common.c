/* Helpers shared by the scenarios of spindle-bench (see bench.h). */
#include "bench/bench.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *bench_url, *bench_build = "build", *bench_prefetch = "128", *bench_concurrency = "2";
long bench_n = 50000;
redisContext *bench_raw;

void bench_die(const char *what, const char *why)
{
    fprintf(stderr, "spindle-bench: %s: %s\n", what, why);
    exit(1);
}

long long bench_info(const char *section, const char *field)
{
    redisReply *r = redisCommand(bench_raw, "INFO %s", section);
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        bench_die("INFO", bench_raw->errstr);
    long long v = -1;
    const char *p = strstr(r->str, field);
    if (p)
        v = strtoll(p + strlen(field) + 1, NULL, 10);
    freeReplyObject(r);
    return v;
}

void bench_command(const char *cmd)
{
    redisReply *r = redisCommand(bench_raw, cmd);
    if (r == NULL)
        bench_die(cmd, bench_raw->errstr);
    freeReplyObject(r);
}

long long bench_llen(const char *key)
{
    redisReply *r = redisCommand(bench_raw, "LLEN %s", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

void bench_emit(const char *scenario, long tasks, double seconds, const char *extra)
{
    double rate = seconds > 0 ? (double)tasks / seconds : 0;
    fprintf(stderr, "%-16s %8ld tasks %9.3f s %12.0f tasks/s %s\n", scenario, tasks, seconds, rate,
            extra ? extra : "");
    printf("{\"scenario\":\"%s\",\"tasks\":%ld,\"seconds\":%.6f,\"tasks_per_s\":%.1f%s%s}\n",
           scenario, tasks, seconds, rate, extra && *extra ? "," : "", extra ? extra : "");
    fflush(stdout);
}

pid_t bench_start_worker(void)
{
    char tasks[512], clock[512], bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", bench_build);
    snprintf(tasks, sizeof(tasks), "%s/lib/spindle-example-tasks.so", bench_build);
    snprintf(clock, sizeof(clock), "%s/lib/spindle-bench-tasks.so", bench_build);
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--redis", bench_url, "--load", tasks, "--load", clock, "--log-level",
              "warn", "--prefetch", bench_prefetch, "--concurrency", bench_concurrency,
              (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        bench_die("fork", "cannot start a worker");
    return pid;
}

void bench_stop_worker(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

size_t bench_pack_add(char *buf, long i)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int64(&pk, i);
    msgpack_pack_int64(&pk, 1);
    memcpy(buf, sb.data, sb.size);
    size_t len = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return len;
}

int bench_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double info_double(const char *text, const char *field)
{
    const char *p = strstr(text, field);
    return p ? strtod(p + strlen(field), NULL) : 0;
}

bench_redis_usage bench_redis_usage_now(void)
{
    bench_redis_usage u = {0, 0};
    redisReply *r = redisCommand(bench_raw, "INFO cpu");
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        bench_die("INFO cpu", bench_raw->errstr);
    u.cpu_s = info_double(r->str, "used_cpu_user:") + info_double(r->str, "used_cpu_sys:");
    freeReplyObject(r);
    r = redisCommand(bench_raw, "INFO commandstats");
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        bench_die("INFO commandstats", bench_raw->errstr);
    for (const char *p = strstr(r->str, "calls="); p; p = strstr(p + 6, "calls="))
        if (p[-1] == ':') /* not rejected_calls= or failed_calls= */
            u.calls += strtoll(p + 6, NULL, 10);
    freeReplyObject(r);
    return u;
}

void bench_redis_cost(bench_redis_usage since, long tasks, char *out, size_t len)
{
    bench_redis_usage now = bench_redis_usage_now();
    double n = tasks > 0 ? (double)tasks : 1;
    snprintf(out, len, "\"redis_cmds_per_task\":%.1f,\"redis_cpu_us_per_task\":%.2f",
             (double)(now.calls - since.calls) / n, (now.cpu_s - since.cpu_s) * 1e6 / n);
}
