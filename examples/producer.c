/* The example producer (build/bin/spindle-example-producer), used by `make demo`:
 * enqueues N add(i, 1) tasks through the C API — half one by one, half in one bulk call —
 * plus a couple of tasks that fail on purpose, waits for every result, checks each one and
 * prints a summary.
 *
 *   spindle-example-producer [--redis URL] [N]      (N defaults to 300) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "spindle.h"

/* Says what failed and exits 1 (the system frees what main allocated). */
static _Noreturn void die(spindle_client *c, const char *what)
{
    fprintf(stderr, "producer: %s: %s\n", what, spindle_errstr(c));
    exit(1);
}

/* Packs add(i, 1)'s args into a builder. */
static spindle_args *add_args(long i)
{
    spindle_args *a = spindle_args_new();
    if (a) {
        spindle_args_int(a, i);
        spindle_args_int(a, 1);
    }
    return a;
}

/* The batched example: 64 infer_double requests enqueued at once, served by the workers in
 * batches of up to 32 (examples/tasks.c). Returns how many results were wrong, -1 on error. */
static long batched(spindle_client *c)
{
    enum { N = 64 };
    spindle_task_spec specs[N];
    spindle_args *a[N];
    spindle_handle *h[N] = {0};
    for (int i = 0; i < N; i++) {
        const char *data;
        size_t len;
        a[i] = spindle_args_new();
        if (a[i] == NULL || spindle_args_int(a[i], i) != SPINDLE_OK ||
            spindle_args_data(a[i], &data, &len) != SPINDLE_OK)
            return -1;
        specs[i] = (spindle_task_spec){.func = "infer_double", .args = data, .args_len = len};
    }
    long wrong = spindle_enqueue_bulk(c, specs, N, NULL, h) == SPINDLE_OK ? 0 : -1;
    for (int i = 0; i < N && wrong >= 0; i++) {
        spindle_result *r = NULL;
        if (spindle_wait(c, h[i], 30000, &r) != SPINDLE_OK)
            wrong = -1;
        else if (spindle_result_value(r)->via.i64 != 2 * (int64_t)i)
            wrong++;
        spindle_result_free(r);
    }
    for (int i = 0; i < N; i++) {
        spindle_handle_free(h[i]);
        spindle_args_free(a[i]);
    }
    if (wrong >= 0)
        printf("  infer_double: %d requests served in batches, %ld wrong\n", N, wrong);
    return wrong;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long n = 300;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
            url = argv[++i];
        else
            n = strtol(argv[i], NULL, 10);
    }
    if (n < 2 || n > 10000000) {
        fprintf(stderr, "usage: spindle-example-producer [--redis URL] [N >= 2]\n");
        return 2;
    }
    spindle_client *c = spindle_client_new();
    spindle_client_options o;
    spindle_client_options_init(&o);
    o.url = url;
    if (c == NULL || spindle_client_connect(c, &o) != SPINDLE_OK) {
        if (c)
            die(c, "connect");
        return 1;
    }

    spindle_handle **h = calloc((size_t)n, sizeof(*h));
    spindle_task_spec *specs = calloc((size_t)n, sizeof(*specs));
    spindle_args **built = calloc((size_t)n, sizeof(*built));
    if (!h || !specs || !built) {
        free(h);
        free(specs);
        free(built);
        spindle_client_free(c);
        return 1;
    }
    int64_t t0 = spindle_mono_us();
    long half = n / 2;
    for (long i = 0; i < half; i++) {
        built[i] = add_args(i);
        if (spindle_enqueue(c, "add", built[i], NULL, &h[i]) != SPINDLE_OK)
            die(c, "enqueue");
    }
    for (long i = half; i < n; i++) {
        built[i] = add_args(i);
        const char *data;
        size_t len;
        if (built[i] == NULL || spindle_args_data(built[i], &data, &len) != SPINDLE_OK)
            die(c, "packing args");
        specs[i - half] = (spindle_task_spec){.func = "add", .args = data, .args_len = len};
    }
    if (spindle_enqueue_bulk(c, specs, (size_t)(n - half), NULL, h + half) != SPINDLE_OK)
        die(c, "bulk enqueue");
    int64_t t1 = spindle_mono_us();

    spindle_args *fa = spindle_args_new();
    spindle_args_str(fa, "this task fails on purpose");
    spindle_handle *fail = NULL;
    if (spindle_enqueue(c, "fail", fa, NULL, &fail) != SPINDLE_OK)
        die(c, "enqueue fail");

    long ok = 0, wrong = 0;
    for (long i = 0; i < n; i++) {
        spindle_result *r = NULL;
        int rc = spindle_wait(c, h[i], 30000, &r);
        if (rc != SPINDLE_OK)
            die(c, "wait");
        const msgpack_object *v = spindle_result_value(r);
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == (uint64_t)i + 1)
            ok++;
        else
            wrong++;
        if (i < 3 || i == n - 1)
            printf("  add(%ld, 1) = %llu   task %s\n", i, (unsigned long long)v->via.u64,
                   spindle_handle_id(h[i]));
        spindle_result_free(r);
        spindle_handle_free(h[i]);
        spindle_args_free(built[i]);
    }
    int64_t t2 = spindle_mono_us();
    spindle_result *fr = NULL;
    int frc = spindle_wait(c, fail, 30000, &fr);
    printf("  fail(...) -> %s: %s\n", spindle_status_name(frc),
           fr && spindle_result_error(fr) ? spindle_result_error(fr) : "?");
    printf("demo: %ld tasks enqueued in %.1f ms (%ld single, %ld bulk), all results in %.1f ms "
           "(%.0f tasks/s end to end); %ld correct, %ld wrong\n",
           n, (double)(t1 - t0) / 1000.0, half, n - half, (double)(t2 - t0) / 1000.0,
           (double)n * 1e6 / (double)(t2 - t0), ok, wrong);
    long bwrong = batched(c);
    if (bwrong < 0)
        die(c, "infer_double");
    spindle_result_free(fr);
    spindle_handle_free(fail);
    spindle_args_free(fa);
    free(h);
    free(specs);
    free(built);
    spindle_client_free(c);
    return wrong == 0 && bwrong == 0 && frc == SPINDLE_ERR_TASK_FAILED ? 0 : 1;
}
