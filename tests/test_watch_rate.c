/* The live rate of `spindle watch` (cli/watch_rate.c), from two reads of a queue's minute
 * buckets: the first screen, within one minute, across one minute boundary and several,
 * older minutes unchanged, a bucket that went down (by hand, or expired), and the cases that
 * cannot be told (no time elapsed, the clock back, a minute neither read saw). No server: the
 * reads are written here. */
#include <CUnit/CUnit.h>
#include <stddef.h>

#include "cli/watch_rate.h"
#include "suites.h"

#define MINUTE 60000LL
#define T0 (1000 * MINUTE) /* the start of some clock minute, in ms since the epoch */

/* A read at ms that saw count[k] tasks ended in minute floor(ms / 60000) - k, for the n
 * counts given (the older minutes read as 0). */
static spindle_queue_throughput read_at(int64_t ms, const long long *count, size_t n)
{
    spindle_queue_throughput t = {.read_at_ms = ms};
    for (size_t k = 0; k < n; k++)
        t.ended_by_minute[k] = count[k];
    return t;
}

static void test_first_screen(void)
{
    const long long c[] = {40, 7};
    spindle_queue_throughput cur = read_at(T0 + 1000, c, 2);
    CU_ASSERT_TRUE(spindle_watch_rate(NULL, &cur) < 0);
}

static void test_same_minute(void)
{
    const long long a_c[] = {100, 7, 3}, b_c[] = {300, 7, 3};
    spindle_queue_throughput a = read_at(T0 + 1000, a_c, 3);
    spindle_queue_throughput b = read_at(T0 + 3000, b_c, 3);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), 100.0, 1e-9); /* 200 in 2 s */
    spindle_queue_throughput c = read_at(T0 + 3500, b_c, 3);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&b, &c), 0.0, 1e-9); /* nothing more ended */
}

static void test_minute_rollover(void)
{
    /* 50 more end in the old minute after the first read, then 30 in the new one; the
     * minutes before (7, 3 tasks) are read by both, one place further back in the second. */
    const long long a_c[] = {1000, 7, 3}, b_c[] = {30, 1050, 7, 3};
    spindle_queue_throughput a = read_at(T0 + 59500, a_c, 3);
    spindle_queue_throughput b = read_at(T0 + MINUTE + 500, b_c, 4);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), 80.0, 1e-9); /* 80 in 1 s */
}

static void test_several_minutes(void)
{
    /* Reads 150 s apart, three boundaries between them: 20 more in the first read's minute,
     * two whole minutes of 600 and 900, then 45 in the current one. */
    const long long a_c[] = {100, 7}, b_c[] = {45, 900, 600, 120, 7};
    spindle_queue_throughput a = read_at(T0 + 50000, a_c, 2);
    spindle_queue_throughput b = read_at(T0 + 3 * MINUTE + 20000, b_c, 5);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), (20 + 600 + 900 + 45) / 150.0, 1e-9);
    /* 60 boundaries apart (an --interval of an hour): the first read's minute is still read. */
    const long long c_c[61] = {[0] = 10, [60] = 130};
    spindle_queue_throughput c = read_at(T0 + 60 * MINUTE + 10000, c_c, 61);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &c), (30 + 10) / 3560.0, 1e-9);
}

static void test_not_told(void)
{
    const long long a_c[] = {10}, b_c[] = {20};
    spindle_queue_throughput a = read_at(T0, a_c, 1);
    spindle_queue_throughput b = read_at(T0, b_c, 1);
    CU_ASSERT_TRUE(spindle_watch_rate(&a, &b) < 0); /* no time elapsed */
    CU_ASSERT_TRUE(spindle_watch_rate(&b, &a) < 0);
    spindle_queue_throughput back = read_at(T0 - 10000, a_c, 1);
    CU_ASSERT_TRUE(spindle_watch_rate(&a, &back) < 0); /* the clock went back */
    /* 61 boundaries: the first read's own minute is out of the second's window. */
    spindle_queue_throughput late = read_at(T0 + 61 * MINUTE, b_c, 1);
    CU_ASSERT_TRUE(spindle_watch_rate(&a, &late) < 0);
}

static void test_bucket_went_down(void)
{
    const long long a_c[] = {500, 40}, b_c[] = {20, 40};
    spindle_queue_throughput a = read_at(T0 + 1000, a_c, 2);
    spindle_queue_throughput b = read_at(T0 + 2000, b_c, 2); /* rewritten by hand */
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), 0.0, 1e-9);
    /* Across a boundary: the old minute went down (expired), another grew by 5, the new one
     * counts whole. */
    const long long c_c[] = {40, 0, 45};
    spindle_queue_throughput c = read_at(T0 + MINUTE + 1000, c_c, 3);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&b, &c), 45.0 / 59.0, 1e-9);
}

int register_watch_rate_tests(void)
{
    static const test_case tests[] = {
        {"the first screen: not told", test_first_screen},
        {"within one minute", test_same_minute},
        {"across a minute boundary", test_minute_rollover},
        {"across several minute boundaries, up to 60", test_several_minutes},
        {"not told: no time, clock back, 61 boundaries", test_not_told},
        {"a bucket that went down counts 0", test_bucket_went_down},
        {NULL, NULL},
    };
    return add_suite("watch rate (pure)", NULL, NULL, tests);
}
