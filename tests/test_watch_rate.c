/* The live rate of `spindle watch` (cli/watch_rate.c), from two reads of a queue's current
 * and previous minute buckets: within one minute, across a minute boundary, across two (not
 * told), no time elapsed (not told), and a bucket that went down (by hand, or expired). No
 * server: the reads are written here. */
#include <CUnit/CUnit.h>

#include "cli/watch_rate.h"
#include "suites.h"

/* A read at ms (since the epoch) that saw cur tasks in its minute and before in the one
 * before. */
static spindle_queue_throughput read_at(int64_t ms, long long cur, long long before)
{
    spindle_queue_throughput t = {.read_at_ms = ms};
    t.ended_by_minute[0] = cur;
    t.ended_by_minute[1] = before;
    return t;
}

static void test_same_minute(void)
{
    spindle_queue_throughput a = read_at(600000 + 1000, 100, 7);
    spindle_queue_throughput b = read_at(600000 + 3000, 300, 7);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), 100.0, 1e-9); /* 200 in 2 s */
    spindle_queue_throughput c = read_at(600000 + 3500, 300, 7);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&b, &c), 0.0, 1e-9);
}

static void test_minute_boundary(void)
{
    /* 50 more end in the old minute after the first read, then 30 in the new one. */
    spindle_queue_throughput a = read_at(600000 + 59500, 1000, 0);
    spindle_queue_throughput b = read_at(660000 + 500, 30, 1050);
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), 80.0, 1e-9); /* 80 in 1 s */
}

static void test_not_told(void)
{
    spindle_queue_throughput a = read_at(600000, 10, 0);
    spindle_queue_throughput b = read_at(600000, 20, 0);
    CU_ASSERT_TRUE(spindle_watch_rate(&a, &b) < 0); /* no time elapsed */
    CU_ASSERT_TRUE(spindle_watch_rate(&b, &a) < 0);
    spindle_queue_throughput c = read_at(720000 + 10, 5, 9);
    CU_ASSERT_TRUE(spindle_watch_rate(&a, &c) < 0); /* two boundaries: a minute unseen */
    spindle_queue_throughput back = read_at(590000, 10, 0);
    CU_ASSERT_TRUE(spindle_watch_rate(&a, &back) < 0); /* the clock went back */
}

static void test_bucket_went_down(void)
{
    spindle_queue_throughput a = read_at(600000 + 1000, 500, 0);
    spindle_queue_throughput b = read_at(600000 + 2000, 20, 0); /* rewritten by hand */
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&a, &b), 0.0, 1e-9);
    /* Across a boundary: the old minute went down, the new one still counts. */
    spindle_queue_throughput c = read_at(660000 + 1000, 40, 0); /* the old bucket expired */
    CU_ASSERT_DOUBLE_EQUAL(spindle_watch_rate(&b, &c), 40.0 / 59.0, 1e-9);
}

int register_watch_rate_tests(void)
{
    static const test_case tests[] = {
        {"within one minute", test_same_minute},
        {"across a minute boundary", test_minute_boundary},
        {"not told: no time, two boundaries, clock back", test_not_told},
        {"a bucket that went down counts 0", test_bucket_went_down},
        {NULL, NULL},
    };
    return add_suite("watch rate (pure)", NULL, NULL, tests);
}
