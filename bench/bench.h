/* What the scenario files of spindle-bench share: the settings from the command line, one raw
 * hiredis connection for INFO and checks, and the helpers that start workers and print a
 * result line. A benchmark stops at its first failure (die()): a figure from a broken run
 * would be worse than none. */
#ifndef SPINDLE_BENCH_H
#define SPINDLE_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "spindle.h"

extern const char *bench_url, *bench_build, *bench_prefetch, *bench_concurrency;
extern long bench_n;
extern redisContext *bench_raw;

void bench_die(const char *what, const char *why) __attribute__((noreturn));
/* The decimal value of field in INFO section, -1 if absent. */
long long bench_info(const char *section, const char *field);
void bench_command(const char *cmd);
long long bench_llen(const char *key);
/* Prints the table row on stderr and one JSON object on stdout; extra: more JSON members. */
void bench_emit(const char *scenario, long tasks, double seconds, const char *extra);
/* A spindle-worker with the example and bench task libraries, --concurrency and --prefetch
 * as given; stopped (SIGTERM, then reaped) by bench_stop_worker(). */
pid_t bench_start_worker(void);
void bench_stop_worker(pid_t pid);
/* Packs add(i, 1)'s args into buf (32 bytes); returns the length. */
size_t bench_pack_add(char *buf, long i);
int bench_cmp_i64(const void *a, const void *b);

/* What redis-server has spent so far: CPU seconds (user + system) and commands run, counting
 * those run by scripts (the sum of INFO commandstats calls). Two readings around a scenario
 * give its cost per task on the Redis side, which other processes on the machine disturb far
 * less than they disturb wall-clock rates. */
typedef struct bench_redis_usage {
    double cpu_s;
    long long calls;
} bench_redis_usage;
bench_redis_usage bench_redis_usage_now(void);
/* Writes into out the JSON members redis_cmds_per_task and redis_cpu_us_per_task for the
 * tasks run since `since`. */
void bench_redis_cost(bench_redis_usage since, long tasks, char *out, size_t len);

void bench_latency_pickup(spindle_client *c);
void bench_latency_wait(spindle_client *c);
void bench_idle_commands(void);

#endif
