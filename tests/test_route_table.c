/* The route table alone (include/spindle/routing.h), without a server: exact and glob
 * entries, the lookup order (exact first, then the first pattern added), refused entries, the
 * text format with its comments and its errors naming the line, and loading a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "spindle/routing.h"
#include "suites.h"

static int routes_to(const spindle_routes *t, const char *func, const char *queue)
{
    const char *q = spindle_routes_lookup(t, func);
    if (queue == NULL)
        return q == NULL;
    return q && strcmp(q, queue) == 0;
}

static void test_exact_and_glob(void)
{
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "resize", "gpu"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "img.*", "images"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "report_?", "reports"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "job[0-9]", "digits"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "job[!0-9]", "others"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "x[^ab]", "not-ab"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_count(t), 6);
    CU_ASSERT(routes_to(t, "resize", "gpu"));
    CU_ASSERT(routes_to(t, "resize2", NULL)); /* exact means exact */
    CU_ASSERT(routes_to(t, "img.crop", "images"));
    CU_ASSERT(routes_to(t, "img.", "images"));
    CU_ASSERT(routes_to(t, "img", NULL));
    CU_ASSERT(routes_to(t, "report_a", "reports"));
    CU_ASSERT(routes_to(t, "report_ab", NULL));
    CU_ASSERT(routes_to(t, "report_", NULL));
    CU_ASSERT(routes_to(t, "job7", "digits"));
    CU_ASSERT(routes_to(t, "jobx", "others"));
    CU_ASSERT(routes_to(t, "xc", "not-ab"));
    CU_ASSERT(routes_to(t, "xa", NULL));
    CU_ASSERT(routes_to(t, "add", NULL));
    CU_ASSERT(routes_to(NULL, "add", NULL)); /* no table: no route */
    spindle_routes_free(t);
}

static void test_precedence(void)
{
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    /* Patterns first, the exact entry last: the exact entry still wins. */
    CU_ASSERT_EQUAL(spindle_routes_add(t, "re*", "first"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "r*", "second"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "*", "catch-all"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "resize", "exact"), SPINDLE_OK);
    CU_ASSERT(routes_to(t, "resize", "exact"));
    CU_ASSERT(routes_to(t, "red", "first")); /* both re* and r* match: the first added */
    CU_ASSERT(routes_to(t, "rx", "second")); /* only r* and * */
    CU_ASSERT(routes_to(t, "add", "catch-all"));
    spindle_routes_free(t);
}

static void test_refused_entries(void)
{
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "add", "bad queue"), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t), "route 'add'"));
    CU_ASSERT_EQUAL(spindle_routes_add(t, "add", "q{x}"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "a/b", "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t), "0x2f"));
    CU_ASSERT_EQUAL(spindle_routes_add(t, "job[0-9", "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t), "not closed"));
    CU_ASSERT_EQUAL(spindle_routes_add(t, "job[]", "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "job]", "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "", "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_routes_add(t, NULL, "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "add", NULL), SPINDLE_ERR_INVALID);
    char longp[SPINDLE_ROUTE_PATTERN_MAX + 2];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    CU_ASSERT_EQUAL(spindle_routes_add(t, longp, "q"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_routes_count(t), 0);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "img.*", "q1"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "img.*", "q2"), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t), "already routed (to queue 'q1')"));
    CU_ASSERT_EQUAL(spindle_routes_count(t), 1);
    spindle_routes_free(t);
}

static void test_parse(void)
{
    static const char text[] = "# routes for the image fleet\n"
                               "\n"
                               "resize   gpu      # exact\n"
                               "\timg.*\timages\r\n"
                               "   # indented comment\n"
                               "report_? reports"; /* no final newline */
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(spindle_routes_parse(t, text, strlen(text), "fleet.routes"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_count(t), 3);
    CU_ASSERT(routes_to(t, "resize", "gpu"));
    CU_ASSERT(routes_to(t, "img.x", "images"));
    CU_ASSERT(routes_to(t, "report_z", "reports"));
    CU_ASSERT_EQUAL(spindle_routes_parse(t, "", 0, NULL), SPINDLE_OK);
    spindle_routes_free(t);
}

/* Parses text into a fresh table; expects failure with a message containing want, and no
 * entry added. */
static void expect_bad(const char *text, const char *want)
{
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(spindle_routes_add(t, "kept", "q"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_routes_parse(t, text, strlen(text), "r.txt"), SPINDLE_ERR_INVALID);
    if (strstr(spindle_routes_errstr(t), want) == NULL)
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", spindle_routes_errstr(t), want);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t), want));
    CU_ASSERT_EQUAL(spindle_routes_count(t), 1); /* the good lines before were dropped too */
    CU_ASSERT(routes_to(t, "kept", "q"));
    CU_ASSERT(routes_to(t, "a", NULL));
    spindle_routes_free(t);
}

static void test_parse_errors_name_the_line(void)
{
    expect_bad("a q1\nb q2\nc\n", "r.txt, line 3: expected 'PATTERN QUEUE', found one word");
    expect_bad("a q1\n\n# c\nb q2 extra\n", "r.txt, line 4: expected 'PATTERN QUEUE', found more");
    expect_bad("a q1\nb{x} q2\n", "r.txt, line 2: pattern 'b{x}'");
    expect_bad("a q1\nb bad/queue\n", "r.txt, line 2: route 'b'");
    expect_bad("a q1\na q2\n", "r.txt, line 2: pattern 'a' is already routed");
    expect_bad("kept other\n", "r.txt, line 1: pattern 'kept' is already routed");
    static const char nul[] = "a q1\nb\0 q2\n";
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(spindle_routes_parse(t, nul, sizeof(nul) - 1, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t), "routes, line 2: a NUL byte"));
    CU_ASSERT_EQUAL(spindle_routes_count(t), 0);
    spindle_routes_free(t);
}

static void test_load_file(void)
{
    char path[512];
    snprintf(path, sizeof(path), "/tmp/spindle-route-test-%d.routes", (int)getpid());
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("add  math   # one line to move add elsewhere\nimg.* images\n", f);
    fclose(f);
    spindle_routes *t = spindle_routes_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(spindle_routes_load(t, path), SPINDLE_OK);
    CU_ASSERT(routes_to(t, "add", "math"));
    CU_ASSERT(routes_to(t, "img.a", "images"));
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("echo e\nbad line here\n", f);
    fclose(f);
    spindle_routes *t2 = spindle_routes_new();
    CU_ASSERT_EQUAL(spindle_routes_load(t2, path), SPINDLE_ERR_INVALID);
    char want[600];
    snprintf(want, sizeof(want), "%s, line 2:", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t2), want));
    unlink(path);
    CU_ASSERT_EQUAL(spindle_routes_load(t2, path), SPINDLE_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_routes_errstr(t2), "cannot open route file"));
    CU_ASSERT_EQUAL(spindle_routes_count(t2), 0);
    spindle_routes_free(t2);
    spindle_routes_free(t);
}

int register_route_table_tests(void)
{
    static const test_case tests[] = {
        {"exact and glob entries", test_exact_and_glob},
        {"exact wins, then the first pattern added", test_precedence},
        {"bad entries are refused", test_refused_entries},
        {"the text format", test_parse},
        {"a bad line is named and nothing is added", test_parse_errors_name_the_line},
        {"loading a file", test_load_file},
        {NULL, NULL},
    };
    return add_suite("route table", NULL, NULL, tests);
}
