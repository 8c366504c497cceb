/* Cron expressions (common/cron.h), without a server: parsing (fields, lists, ranges, steps,
 * names, shortcuts, @every) and refusals whose message names the spec and the field; the
 * next tick after a time across minute, hour, day, month and year ends, leap years and the
 * day-of-month/day-of-week OR rule, all in UTC; the ticks due after downtime with and
 * without catch-up; the task ids derived from (entry, tick); the worker's --cron line. */
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "common/cron.h"
#include "common/names.h"
#include "spindle/status.h"
#include "suites.h"

/* ms since the epoch of a UTC date and time. */
static int64_t at(int y, int mon, int d, int h, int min)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = min};
    return (int64_t)timegm(&tm) * 1000;
}

/* The next tick of spec after a time, or -2 if the spec does not parse. */
static int64_t next(const char *spec, int64_t after)
{
    spindle_cron_spec s;
    spindle_error err;
    if (spindle_cron_parse(spec, &s, &err) != SPINDLE_OK)
        return -2;
    return spindle_cron_next(&s, after);
}

/* 1 if spec is refused with a message holding each of the (up to two) needles. */
static int refused(const char *spec, const char *needle, const char *needle2)
{
    spindle_cron_spec s;
    spindle_error err = {0};
    if (spindle_cron_parse(spec, &s, &err) != SPINDLE_ERR_INVALID)
        return 0;
    return strstr(err.msg, needle) != NULL && (needle2 == NULL || strstr(err.msg, needle2));
}

static void test_fields(void)
{
    int64_t t = at(2026, 3, 10, 12, 7); /* a Tuesday */
    CU_ASSERT_EQUAL(next("* * * * *", t), t + 60000);
    CU_ASSERT_EQUAL(next("* * * * *", t + 59999), t + 60000);
    CU_ASSERT_EQUAL(next("*/15 * * * *", t), at(2026, 3, 10, 12, 15));
    CU_ASSERT_EQUAL(next("5,40 * * * *", t), at(2026, 3, 10, 12, 40));
    CU_ASSERT_EQUAL(next("5,40 * * * *", at(2026, 3, 10, 12, 40)), at(2026, 3, 10, 13, 5));
    CU_ASSERT_EQUAL(next("10-20/5 * * * *", t), at(2026, 3, 10, 12, 10));
    CU_ASSERT_EQUAL(next("50/5 * * * *", t), at(2026, 3, 10, 12, 50));
    CU_ASSERT_EQUAL(next("0 9-17/4 * * *", t), at(2026, 3, 10, 13, 0));
    CU_ASSERT_EQUAL(next("30 2 * * *", t), at(2026, 3, 11, 2, 30));
    CU_ASSERT_EQUAL(next("0 0 * JAN,jul *", t), at(2026, 7, 1, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 * * MON-fri", at(2026, 3, 13, 12, 0)), at(2026, 3, 16, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 * * 7", t), at(2026, 3, 15, 0, 0)); /* 7 is Sunday */
    CU_ASSERT_EQUAL(next("0 0 * * SUN", t), at(2026, 3, 15, 0, 0));
}

static void test_shortcuts_and_every(void)
{
    int64_t t = at(2026, 3, 10, 12, 7) + 1234;
    CU_ASSERT_EQUAL(next("@hourly", t), at(2026, 3, 10, 13, 0));
    CU_ASSERT_EQUAL(next("@daily", t), at(2026, 3, 11, 0, 0));
    CU_ASSERT_EQUAL(next("@midnight", t), at(2026, 3, 11, 0, 0));
    CU_ASSERT_EQUAL(next("@weekly", t), at(2026, 3, 15, 0, 0));
    CU_ASSERT_EQUAL(next("@monthly", t), at(2026, 4, 1, 0, 0));
    CU_ASSERT_EQUAL(next("@yearly", t), at(2027, 1, 1, 0, 0));
    CU_ASSERT_EQUAL(next("@annually", t), at(2027, 1, 1, 0, 0));
    CU_ASSERT_EQUAL(next("@every 1s", 1500), 2000);
    CU_ASSERT_EQUAL(next("@every 1s", 2000), 3000);
    CU_ASSERT_EQUAL(next("@every 30s", t), t - 1234 + 30000);
    CU_ASSERT_EQUAL(next("@every 1h", t), at(2026, 3, 10, 13, 0));
    CU_ASSERT_EQUAL(next("@every 1h30m", 0), 5400000);
    CU_ASSERT_EQUAL(next("@every 1500ms", 1000), 1500);
    CU_ASSERT_EQUAL(next("@EVERY 2d", 0), 2 * 86400000LL);
}

static void test_month_ends_and_leap_years(void)
{
    CU_ASSERT_EQUAL(next("0 0 31 * *", at(2026, 4, 1, 0, 0)), at(2026, 5, 31, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 29 2 *", at(2026, 3, 1, 0, 0)), at(2028, 2, 29, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 29 2 *", at(2096, 3, 1, 0, 0)), at(2104, 2, 29, 0, 0)); /* 2100 */
    CU_ASSERT_EQUAL(next("59 23 31 12 *", at(2026, 12, 31, 23, 59)), at(2027, 12, 31, 23, 59));
    CU_ASSERT_EQUAL(next("* * * * *", at(2026, 12, 31, 23, 59)), at(2027, 1, 1, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 1 * *", at(2026, 1, 31, 12, 0)), at(2026, 2, 1, 0, 0));
    CU_ASSERT_EQUAL(next("0 12 28-31 2 *", at(2028, 2, 28, 12, 0)), at(2028, 2, 29, 12, 0));
    /* UTC: no daylight saving, so 02:30 exists on every day, including European and
     * American change-over nights. */
    CU_ASSERT_EQUAL(next("30 2 * * *", at(2026, 3, 29, 0, 0)), at(2026, 3, 29, 2, 30));
    CU_ASSERT_EQUAL(next("30 2 * * *", at(2026, 3, 8, 0, 0)), at(2026, 3, 8, 2, 30));
}

static void test_day_or_rule(void)
{
    /* Both restricted: the 13th OR a Friday. March 2026: Fri 6th, Fri 13th. */
    CU_ASSERT_EQUAL(next("0 0 13 * FRI", at(2026, 3, 1, 0, 0)), at(2026, 3, 6, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 13 * FRI", at(2026, 3, 6, 0, 0)), at(2026, 3, 13, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 13 * FRI", at(2026, 3, 13, 0, 0)), at(2026, 3, 20, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 1 * MON", at(2026, 3, 1, 0, 0)), at(2026, 3, 2, 0, 0));
    /* One of them '*' (even with a step): both must match. */
    CU_ASSERT_EQUAL(next("0 0 * * FRI", at(2026, 3, 1, 0, 0)), at(2026, 3, 6, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 */2 * MON", at(2026, 3, 1, 0, 0)), at(2026, 3, 9, 0, 0));
    CU_ASSERT_EQUAL(next("0 0 13 * *", at(2026, 3, 1, 0, 0)), at(2026, 3, 13, 0, 0));
}

static void test_refusals_name_the_field(void)
{
    CU_ASSERT_TRUE(refused("61 * * * *", "minute field '61'", "out of range 0-59"));
    CU_ASSERT_TRUE(refused("* 24 * * *", "hour field '24'", "0-23"));
    CU_ASSERT_TRUE(refused("* * 0 * *", "day-of-month field '0'", "1-31"));
    CU_ASSERT_TRUE(refused("* * * 13 *", "month field '13'", "1-12"));
    CU_ASSERT_TRUE(refused("* * * FOO *", "month field 'FOO'", "not a month name"));
    CU_ASSERT_TRUE(refused("* * * * 8", "day-of-week field '8'", "0-7"));
    CU_ASSERT_TRUE(refused("* * * * MON-XYZ", "day-of-week field", "not a day-of-week name"));
    CU_ASSERT_TRUE(refused("5-1 * * * *", "minute field '5-1'", "backwards"));
    CU_ASSERT_TRUE(refused("*/0 * * * *", "minute field", "step"));
    CU_ASSERT_TRUE(refused("*/ * * * *", "minute field", "step"));
    CU_ASSERT_TRUE(refused("1,,2 * * * *", "minute field", "empty item"));
    CU_ASSERT_TRUE(refused("1; * * * *", "minute field", "unexpected ';'"));
    CU_ASSERT_TRUE(refused("99999999999 * * * *", "minute field", "out of range"));
    CU_ASSERT_TRUE(refused("* * * *", "expected 5 fields", "found 4"));
    CU_ASSERT_TRUE(refused("* * * * * *", "expected 5 fields", "more than 5"));
    CU_ASSERT_TRUE(refused("", "expected 5 fields", "found 0"));
    CU_ASSERT_TRUE(refused("0 0 30 2 *", "never fires", NULL));
    CU_ASSERT_TRUE(refused("0 0 31 4,6 *", "never fires", NULL));
    CU_ASSERT_TRUE(refused("@often", "unknown shortcut", NULL));
    CU_ASSERT_TRUE(refused("@every", "no interval", NULL));
    CU_ASSERT_TRUE(refused("@every 10", "unit '' is not", NULL));
    CU_ASSERT_TRUE(refused("@every 5w", "unit 'w' is not", NULL));
    CU_ASSERT_TRUE(refused("@every 500ms", "shorter than 1 s", NULL));
    CU_ASSERT_TRUE(refused("@every 367d", "longer than 366 days", NULL));
    CU_ASSERT_TRUE(refused("@every 1s 2s", "one interval", NULL));
    CU_ASSERT_TRUE(refused(NULL, "missing", NULL));
    char big[400];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_TRUE(refused(big, "longer than 256", NULL));
}

/* The due ticks of spec for last, now, catch_up (grace one minute) into out; returns n. */
static size_t due(const char *spec, int64_t last, int64_t now, int catch_up, int64_t *out)
{
    spindle_cron_spec s;
    spindle_error err;
    size_t n = 99;
    CU_ASSERT_EQUAL_FATAL(spindle_cron_parse(spec, &s, &err), SPINDLE_OK);
    spindle_cron_due(&s, last, now, 60000, catch_up, out, 101, &n);
    return n;
}

static void test_due_after_downtime(void)
{
    int64_t out[101];
    /* On time: the one tick. */
    CU_ASSERT_EQUAL(due("@every 1s", 10000, 11020, 0, out), 1);
    CU_ASSERT_EQUAL(out[0], 11000);
    CU_ASSERT_EQUAL(due("@every 1s", 11000, 11020, 0, out), 0);
    /* Down from 10 s to 15.3 s: without catch-up only the newest (on time) fires. */
    CU_ASSERT_EQUAL(due("@every 1s", 10000, 15300, 0, out), 1);
    CU_ASSERT_EQUAL(out[0], 15000);
    /* With catch-up 3: the three latest missed, then the newest, oldest first. */
    CU_ASSERT_EQUAL(due("@every 1s", 10000, 15300, 3, out), 4);
    CU_ASSERT_EQUAL(out[0], 12000);
    CU_ASSERT_EQUAL(out[3], 15000);
    /* With catch-up 10: all five. */
    CU_ASSERT_EQUAL(due("@every 1s", 10000, 15300, 10, out), 5);
    CU_ASSERT_EQUAL(out[0], 11000);
    CU_ASSERT_EQUAL(out[4], 15000);
    /* A daily tick two hours late is missed: skipped, or fired with catch-up. */
    int64_t day = at(2026, 3, 10, 0, 0);
    CU_ASSERT_EQUAL(due("@daily", day - 86400000, day + 7200000, 0, out), 0);
    CU_ASSERT_EQUAL(due("@daily", day - 86400000, day + 7200000, 1, out), 1);
    CU_ASSERT_EQUAL(out[0], day);
    /* Years of downtime cost a few windows, not a walk over every minute. */
    CU_ASSERT_EQUAL(due("* * * * *", at(2020, 1, 1, 0, 0), at(2026, 3, 10, 0, 0) + 5000, 2, out),
                    3);
    CU_ASSERT_EQUAL(out[0], at(2026, 3, 9, 23, 58));
    CU_ASSERT_EQUAL(out[2], at(2026, 3, 10, 0, 0));
    CU_ASSERT_EQUAL(due("@every 1s", 1000, 1000, 5, out), 0); /* now = last */
}

static void test_task_ids(void)
{
    char a[37], b[37], c[37], d[37];
    spindle_cron_task_id("spindle", "tick", 1000, a);
    spindle_cron_task_id("spindle", "tick", 1000, b);
    spindle_cron_task_id("spindle", "tick", 2000, c);
    spindle_cron_task_id("other", "tick", 1000, d);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    CU_ASSERT_STRING_NOT_EQUAL(a, d);
    spindle_error err;
    CU_ASSERT_EQUAL(spindle_id_check(a, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(a[14], '8'); /* version 8 */
}

static void test_worker_line(void)
{
    char line[] = "nightly = 0 3 * * MON cleanup 7 days";
    char spec[SPINDLE_CRON_SPEC_MAX], *name, *func, *args[4];
    size_t n = 0;
    spindle_error err;
    CU_ASSERT_EQUAL(spindle_cron_split_line(line, &name, spec, &func, args, 4, &n, &err),
                    SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(name, "nightly");
    CU_ASSERT_STRING_EQUAL(spec, "0 3 * * MON");
    CU_ASSERT_STRING_EQUAL(func, "cleanup");
    CU_ASSERT_EQUAL(n, 2);
    char every[] = "tick=@every 30s echo";
    CU_ASSERT_EQUAL(spindle_cron_split_line(every, &name, spec, &func, args, 4, &n, &err),
                    SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(spec, "@every 30s");
    CU_ASSERT_STRING_EQUAL(func, "echo");
    CU_ASSERT_EQUAL(n, 0);
    char daily[] = "d=@daily f a";
    CU_ASSERT_EQUAL(spindle_cron_split_line(daily, &name, spec, &func, args, 4, &n, &err),
                    SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(spec, "@daily");
    CU_ASSERT_EQUAL(n, 1);
    char noeq[] = "tick @daily f";
    CU_ASSERT_EQUAL(spindle_cron_split_line(noeq, &name, spec, &func, args, 4, &n, &err),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "NAME=SPEC FUNC"));
    char nofunc[] = "x=* * * * *";
    CU_ASSERT_EQUAL(spindle_cron_split_line(nofunc, &name, spec, &func, args, 4, &n, &err),
                    SPINDLE_ERR_INVALID);
    char many[] = "x=@daily f 1 2 3 4 5";
    CU_ASSERT_EQUAL(spindle_cron_split_line(many, &name, spec, &func, args, 4, &n, &err),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than 4 arguments"));
}

int register_cron_spec_tests(void)
{
    static const test_case tests[] = {
        {"fields: lists, ranges, steps, names", test_fields},
        {"shortcuts and @every intervals", test_shortcuts_and_every},
        {"month ends, leap years, UTC", test_month_ends_and_leap_years},
        {"day-of-month OR day-of-week", test_day_or_rule},
        {"bad specs refused, naming the field", test_refusals_name_the_field},
        {"due ticks after downtime, with and without catch-up", test_due_after_downtime},
        {"task ids derived from entry and tick", test_task_ids},
        {"worker --cron line", test_worker_line},
        {NULL, NULL},
    };
    return add_suite("cron spec (pure)", NULL, NULL, tests);
}
