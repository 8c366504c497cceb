/* The latency scenarios, on one idle worker. Both enqueue clock_us (bench/tasks.c), which
 * returns the worker's CLOCK_MONOTONIC time when it runs; the clock is shared by every process
 * of the machine, so one task gives two intervals: enqueue → start (latency-pickup: how fast
 * an idle worker notices new work) and start → the waiting handle returning (latency-wait:
 * how fast an end reaches a caller blocked in spindle_wait; the task itself takes
 * microseconds). Samples run one after another, each awaited. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/clock.h"

enum { SAMPLES = 2000 };
static int64_t pickup_us[SAMPLES], seen_us[SAMPLES], round_us[SAMPLES];
static int sampled;

/* Runs the samples once; both scenarios report from the same run. */
static void sample(spindle_client *c)
{
    if (sampled)
        return;
    sampled = 1;
    pid_t w = bench_start_worker();
    usleep(300 * 1000);
    static const char no_args[] = {(char)0x90}; /* an empty msgpack array */
    for (int i = 0; i < SAMPLES; i++) {
        spindle_handle *h = NULL;
        spindle_result *r = NULL;
        int64_t t0 = spindle_mono_us();
        if (spindle_enqueue_msgpack(c, "clock_us", no_args, 1, NULL, &h) != SPINDLE_OK ||
            spindle_wait(c, h, 5000, &r) != SPINDLE_OK)
            bench_die("latency", spindle_errstr(c));
        int64_t t1 = spindle_mono_us();
        const msgpack_object *v = spindle_result_value(r);
        if (v == NULL || (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER))
            bench_die("latency", "clock_us returned no time");
        int64_t ran = (int64_t)v->via.u64;
        pickup_us[i] = ran - t0;
        seen_us[i] = t1 - ran;
        round_us[i] = t1 - t0;
        spindle_result_free(r);
        spindle_handle_free(h);
    }
    bench_stop_worker(w);
    qsort(pickup_us, SAMPLES, sizeof(int64_t), bench_cmp_i64);
    qsort(seen_us, SAMPLES, sizeof(int64_t), bench_cmp_i64);
    qsort(round_us, SAMPLES, sizeof(int64_t), bench_cmp_i64);
}

static double ms_at(const int64_t *sorted, int permille)
{
    size_t at = (size_t)SAMPLES * (size_t)permille / 1000;
    return (double)sorted[at] / 1000.0;
}

void bench_latency_pickup(spindle_client *c)
{
    sample(c);
    char extra[96];
    snprintf(extra, sizeof(extra), "\"p50_ms\":%.3f,\"p99_ms\":%.3f", ms_at(pickup_us, 500),
             ms_at(pickup_us, 990));
    bench_emit("latency-pickup", SAMPLES, 0, extra);
}

void bench_latency_wait(spindle_client *c)
{
    sample(c);
    char extra[160];
    snprintf(
        extra, sizeof(extra),
        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"round_trip_p50_ms\":%.3f,\"round_trip_p99_ms\":%.3f",
        ms_at(seen_us, 500), ms_at(seen_us, 990), ms_at(round_us, 500), ms_at(round_us, 990));
    bench_emit("latency-wait", SAMPLES, 0, extra);
}
