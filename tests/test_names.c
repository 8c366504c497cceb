/* Name and id validation (common/names.h), without a server: queue, function and namespace
 * names of 1-128 bytes of [A-Za-z0-9_.:-] (128 accepted, 129 refused, braces, spaces, empty
 * and NULL refused, the kind and the name in the message), task ids as lowercase UUIDs, and
 * the ids spindle_id_new() makes: version 4, distinct across its pool refills, and distinct
 * between a parent and the child it forks with bytes left in its pool. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "spindle/status.h"
#include "suites.h"

static int check(const char *name)
{
    spindle_error err = {0};
    return spindle_name_check(name, "queue", &err);
}

static void test_valid_names(void)
{
    CU_ASSERT_EQUAL(check("default"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check("a"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check("Z"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check("0"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check("emails.high-priority_v2:eu"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-"),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(check("..."), SPINDLE_OK);
    CU_ASSERT_EQUAL(check("spx-test"), SPINDLE_OK);
}

static void test_length_limit(void)
{
    char name[200];
    memset(name, 'q', sizeof(name));
    name[128] = '\0';
    CU_ASSERT_EQUAL(strlen(name), 128);
    CU_ASSERT_EQUAL(check(name), SPINDLE_OK);
    name[128] = 'q';
    name[129] = '\0';
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_name_check(name, "queue", &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than 128 bytes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "queue name"));
    /* Far longer than the limit. */
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    CU_ASSERT_EQUAL(check(name), SPINDLE_ERR_INVALID);
}

static void test_invalid_characters(void)
{
    static const char *const bad[] = {
        "{default}",   "a{b",         "b}",      "{",     "}",    "with space", " lead",   "trail ",
        "tab\tx",      "new\nline",   "slash/x", "star*", "q?",   "comma,q",    "quote'q", "dq\"q",
        "back\\slash", "caf\xc3\xa9", "\x7f",    "pct%",  "at@q", "hash#q",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spindle_error err = {0};
        int rc = spindle_name_check(bad[i], "function", &err);
        CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "function name"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "[A-Za-z0-9_.:-]"));
        if (rc != SPINDLE_ERR_INVALID)
            fprintf(stderr, "\n  accepted bad name '%s'\n", bad[i]);
    }
}

static void test_message_names_the_input(void)
{
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_name_check("bad queue", "queue", &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(err.code, SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'bad queue'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 3"));
    CU_ASSERT_EQUAL(spindle_name_check("x{", "namespace", &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "namespace name 'x{'"));
}

static void test_empty_and_null(void)
{
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_name_check("", "queue", &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "queue name is empty"));
    err = (spindle_error){0};
    CU_ASSERT_EQUAL(spindle_name_check(NULL, "function", &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "function name is empty"));
}

static int check_id(const char *id)
{
    spindle_error err = {0};
    return spindle_id_check(id, &err);
}

static void test_task_ids(void)
{
    CU_ASSERT_EQUAL(check_id("0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check_id("00000000-0000-0000-0000-000000000000"), SPINDLE_OK);
    CU_ASSERT_EQUAL(check_id("ffffffff-ffff-ffff-ffff-ffffffffffff"), SPINDLE_OK);

    CU_ASSERT_EQUAL(check_id("0B8F3A4E-6D7C-4B21-9F55-3C1E2D0A9B87"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b8"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b870"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("0b8f3a4e6d7c-4b21-9f55-3c1e2d0a9b87a"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("0b8f3a4e-6d7c-4b21-9f55_3c1e2d0a9b87"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("0b8f3a4g-6d7c-4b21-9f55-3c1e2d0a9b87"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b8 "), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("------------------------------------"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id(""), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id(NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(check_id("../../etc/passwd"), SPINDLE_ERR_INVALID);

    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_id_check("not-an-id", &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'not-an-id'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lowercase UUID"));
}

static void test_new_ids(void)
{
    char a[SPINDLE_ID_LEN + 1], b[SPINDLE_ID_LEN + 1];
    spindle_id_new(a);
    spindle_id_new(b);
    CU_ASSERT_EQUAL(strlen(a), SPINDLE_ID_LEN);
    CU_ASSERT_EQUAL(check_id(a), SPINDLE_OK);
    CU_ASSERT_EQUAL(check_id(b), SPINDLE_OK);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static int cmp_ids(const void *a, const void *b)
{
    return memcmp(a, b, SPINDLE_ID_LEN);
}

/* 5,000 ids (many pool refills): each a version 4, variant 1 UUID, no two alike. */
static void test_many_ids(void)
{
    enum { N = 5000 };
    char(*ids)[SPINDLE_ID_LEN + 1] = calloc(N, SPINDLE_ID_LEN + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        spindle_id_new(ids[i]);
        bad += check_id(ids[i]) != SPINDLE_OK || ids[i][14] != '4' ||
               strchr("89ab", ids[i][19]) == NULL;
    }
    CU_ASSERT_EQUAL(bad, 0);
    qsort(ids, N, SPINDLE_ID_LEN + 1, cmp_ids);
    int dup = 0;
    for (int i = 1; i < N; i++)
        dup += memcmp(ids[i - 1], ids[i], SPINDLE_ID_LEN) == 0;
    CU_ASSERT_EQUAL(dup, 0);
    free(ids);
}

/* A child forked while the parent's pool still holds bytes must not make the parent's next
 * ids: both make 3 after the fork; the child sends its own through a pipe. */
static void test_ids_after_fork(void)
{
    char first[SPINDLE_ID_LEN + 1];
    spindle_id_new(first); /* the pool now holds 63 more */
    int fd[2];
    CU_ASSERT_EQUAL_FATAL(pipe(fd), 0);
    pid_t pid = fork();
    CU_ASSERT_TRUE_FATAL(pid >= 0);
    if (pid == 0) {
        char buf[3 * SPINDLE_ID_LEN + 3];
        for (int i = 0; i < 3; i++)
            spindle_id_new(buf + (size_t)i * (SPINDLE_ID_LEN + 1));
        _exit(write(fd[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf) ? 0 : 1);
    }
    close(fd[1]);
    char mine[3][SPINDLE_ID_LEN + 1], theirs[3][SPINDLE_ID_LEN + 1];
    for (int i = 0; i < 3; i++)
        spindle_id_new(mine[i]);
    ssize_t got = read(fd[0], theirs, sizeof(theirs));
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT_EQUAL_FATAL(got, (ssize_t)sizeof(theirs));
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int same = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            same += memcmp(mine[i], theirs[j], SPINDLE_ID_LEN) == 0;
    CU_ASSERT_EQUAL(same, 0);
    CU_ASSERT_EQUAL(check_id(theirs[0]), SPINDLE_OK);
}

int register_names_tests(void)
{
    static const test_case tests[] = {
        {"valid names", test_valid_names},
        {"128 bytes accepted, 129 refused", test_length_limit},
        {"braces, spaces and other characters refused", test_invalid_characters},
        {"message names the kind and the input", test_message_names_the_input},
        {"empty and NULL refused", test_empty_and_null},
        {"task id check", test_task_ids},
        {"new ids are valid and distinct", test_new_ids},
        {"5,000 new ids: version 4, no two alike", test_many_ids},
        {"ids made after a fork differ from the parent's", test_ids_after_fork},
        {NULL, NULL},
    };
    return add_suite("names (pure)", NULL, NULL, tests);
}
